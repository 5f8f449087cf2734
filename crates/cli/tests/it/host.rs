//! `rekisteri up --host`: names and IPv6 addresses work, a bad one is named by its flag; the
//! admin token file is its owner's alone; the operator commands answer.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::{BIN, Guard, ShowLogOnFailure, free_port, service_ports, stop_gracefully};

/// Starts `up` with `host` and returns it with the catalogue URL it printed, and its log (shown
/// if the test fails). Every service gets a free port: a default port may be taken on the
/// machine that runs the tests.
fn up(data: &std::path::Path, host: &str) -> (Guard, String, ShowLogOnFailure) {
    let log = data.join("up.log");
    let mut child = Command::new(BIN)
        .arg("up")
        .arg("--data-dir")
        .arg(data)
        .args(["--host", host])
        .args(["--nats-url", &format!("nats://127.0.0.1:{}", free_port())])
        .args(service_ports().0)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let show_log = ShowLogOnFailure(log);
    let stdout = child.stdout.take().unwrap();
    let guard = Guard(child);
    let mut url = None;
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.trim().strip_prefix("catalogue") {
            url = rest.split_whitespace().next().map(String::from);
        }
        if line.starts_with("Ctrl-C") {
            break;
        }
    }
    // Keep reading: a closed pipe would end `up` at its next line of output.
    std::thread::spawn(move || lines.for_each(drop));
    let Some(url) = url else {
        drop(guard);
        panic!("up printed no catalogue endpoint");
    };
    (guard, url, show_log)
}

fn rekisteri(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("REKISTERI_TOKEN")
        .output()
        .unwrap()
}

#[test]
fn up_listens_on_a_host_name_and_on_ipv6() {
    for (host, expect) in [("localhost", "http://127.0.0.1:"), ("::1", "http://[::1]:")] {
        let data = tempfile::tempdir().unwrap();
        let (mut up, url, _show_log) = up(data.path(), host);
        assert!(url.starts_with(expect), "--host {host}: {url}");
        let out = rekisteri(data.path(), &["catalogue", "--endpoint", &url, "list"]);
        assert!(
            out.status.success(),
            "--host {host}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let status = rekisteri(data.path(), &["status", "--endpoint", &url]);
        let text = String::from_utf8_lossy(&status.stdout);
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        assert!(text.contains("Database     reachable"), "{text}");
        let parked = rekisteri(data.path(), &["outbox", "--endpoint", &url, "parked"]);
        assert!(
            String::from_utf8_lossy(&parked.stdout).contains("No parked events"),
            "{parked:?}"
        );
        let retry = rekisteri(data.path(), &["outbox", "--endpoint", &url, "retry"]);
        assert!(!retry.status.success(), "retry needs ids or --all");
        assert!(String::from_utf8_lossy(&retry.stderr).contains("--all"));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data.path().join("admin-token"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "the admin token is its owner's alone");
        }
        stop_gracefully(&mut up);
    }
}

#[test]
fn a_bad_host_is_named_by_its_flag() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("up")
        .arg("--data-dir")
        .arg(data.path())
        .args(["--host", "no-such-host.invalid"])
        .args(["--nats-url", &format!("nats://127.0.0.1:{}", free_port())])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--host no-such-host.invalid"), "{stderr}");
}
