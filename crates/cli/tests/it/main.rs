//! The `rekisteri` binary as people use it: `up` in one process, client commands in others.

mod crash;
mod host;
mod metrics;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use prost::Message as _;
use rekisteri_proto::events::v1::{EventEnvelope, event_envelope::Payload};
use serde_json::Value;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_rekisteri");

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/registers/mainostakomo.yaml")
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A free port for every service `up` starts, from the table of services, so that none is left on
/// its default port (which the machine running the tests may have taken): `--port NAME=PORT`
/// arguments and the ports by service name.
pub(crate) fn service_ports() -> (Vec<String>, std::collections::BTreeMap<&'static str, u16>) {
    let ports: std::collections::BTreeMap<&'static str, u16> = rekisteri_cli::services::ALL
        .iter()
        .map(|s| (s.name(), free_port()))
        .collect();
    let args = ports
        .iter()
        .flat_map(|(name, port)| ["--port".to_owned(), format!("{name}={port}")])
        .collect();
    (args, ports)
}

pub(crate) fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

pub(crate) fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kills the child if the test fails before stopping it.
pub(crate) struct Guard(pub(crate) Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Prints a log file when the test fails, so that a failure in CI says what the process saw.
pub(crate) struct ShowLogOnFailure(pub(crate) PathBuf);

impl Drop for ShowLogOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.0).unwrap_or_default();
            eprintln!("--- {} ---\n{log}--- end of log ---", self.0.display());
        }
    }
}

/// Ctrl-C, then waits until the process has stopped by itself, and checks it stopped cleanly
/// (so that it also stopped whatever it started, such as `up`'s NATS server).
pub(crate) fn stop_gracefully(guard: &mut Guard) {
    interrupt(&guard.0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = guard.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "it did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "stopped with {status}");
}

pub(crate) fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn client(data_dir: &Path, port: u16, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("catalogue")
        .args([
            "--endpoint",
            &format!("http://127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .args(args)
        .env_remove("REKISTERI_TOKEN")
        .output()
        .unwrap()
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

#[test]
fn up_runs_the_system_and_the_client_drives_it() {
    let data = tempfile::tempdir().unwrap();
    let nats_port = free_port();
    let (port_args, ports) = service_ports();
    let (catalogue_port, customers_port, disclosures_port) =
        (ports["catalogue"], ports["customers"], ports["disclosures"]);
    let log = data.path().join("up.log");
    let up = Command::new(BIN)
        .arg("up")
        .arg("--data-dir")
        .arg(data.path())
        .args(["--nats-url", &format!("nats://127.0.0.1:{nats_port}")])
        .args(&port_args)
        // A setting of the platform's goes to every service, one of a service's own section to
        // that service only (the catalogue would refuse `[customers]`).
        .args(["--set", "read_cache.ttl_ms=500"])
        .args(["--set", "customers.accept_temporary_identity_codes=true"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // Dropped after the guard: the log is printed once `up` has been stopped.
    let _show_log = ShowLogOnFailure(log);
    let mut up = Guard(up);
    wait_for("the catalogue to listen", Duration::from_secs(60), || {
        listening(catalogue_port)
    });
    assert!(listening(nats_port), "up started its own NATS server");

    // Create and publish from other processes, with the admin token `up` left in the data dir.
    let created = json_of(&client(
        data.path(),
        catalogue_port,
        &["--json", "create", "--file", example().to_str().unwrap()],
    ));
    let id = created["register"]["register_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(created["version"]["state"], "draft");
    let published = json_of(&client(
        data.path(),
        catalogue_port,
        &["--json", "publish", "--force", &id],
    ));
    assert_eq!(published["register"]["status"], "published");
    let read = json_of(&client(
        data.path(),
        catalogue_port,
        &["--json", "get", &id],
    ));
    assert_eq!(
        read["version"]["content"]["controller"]["business_id"],
        "2135102-9"
    );
    assert_eq!(
        read["version"]["content"]["purposes"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(read["version"]["published_by"], "local-admin");

    // A customer in the published register: the identity code goes in on standard input, comes
    // back only through the logged reveal.
    let customers = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(BIN)
            .arg("customers")
            .args([
                "--endpoint",
                &format!("http://127.0.0.1:{customers_port}"),
                "--data-dir",
            ])
            .arg(data.path())
            .args(args)
            .env_remove("REKISTERI_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    };
    wait_for(
        "the customer service to listen",
        Duration::from_secs(60),
        || listening(customers_port),
    );
    let person = json_of(&customers(
        &[
            "--json",
            "create-person",
            "--register",
            &id,
            "--given-names",
            "Matti",
            "--family-name",
            "Meikäläinen",
            "--hetu",
            "-",
        ],
        Some("131052-308T\n"),
    ));
    let person_id = person["subject_id"].as_str().unwrap().to_owned();
    assert!(
        !person.to_string().contains("131052"),
        "the code is write-only: {person}"
    );
    let revealed = customers(
        &["reveal", &person_id, "--reason", "credit check, order 1234"],
        None,
    );
    assert!(revealed.status.success(), "{revealed:?}");
    assert_eq!(
        String::from_utf8_lossy(&revealed.stdout).trim(),
        "131052-308T"
    );
    let log = customers(&["access-log", &person_id], None);
    assert!(
        String::from_utf8_lossy(&log.stdout).contains("credit check, order 1234"),
        "{log:?}"
    );
    let twice = customers(
        &[
            "create-person",
            "--register",
            &id,
            "--family-name",
            "Toinen",
            "--hetu",
            "-",
        ],
        Some("131052-308T\n"),
    );
    assert_eq!(twice.status.code(), Some(7), "a conflict: {twice:?}");
    // A prohibition given by letter on a day of its own: the day is kept and shown.
    let marketing = json_of(&customers(
        &[
            "--json",
            "marketing",
            &person_id,
            "--prohibit",
            "post",
            "--how",
            "letter",
            "--given-at",
            "2026-03-14T11:26:53+02:00",
        ],
        None,
    ));
    assert_eq!(
        marketing["marketing"][0]["given_time"], "2026-03-14T09:26:53+00:00",
        "{marketing}"
    );
    let ancient = customers(
        &[
            "marketing",
            &person_id,
            "--prohibit",
            "post",
            "--given-at",
            "1874-01-01T00:00:00Z",
        ],
        None,
    );
    assert_eq!(ancient.status.code(), Some(3), "{ancient:?}");
    assert!(
        String::from_utf8_lossy(&ancient.stderr).contains("before 1900"),
        "{ancient:?}"
    );

    // A disclosure under the published register, followed on the analysts' stream, and the log
    // audited from outside.
    let disclosures = |args: &[&str]| {
        Command::new(BIN)
            .arg("disclosures")
            .args([
                "--endpoint",
                &format!("http://127.0.0.1:{disclosures_port}"),
                "--data-dir",
            ])
            .arg(data.path())
            .args(args)
            .env_remove("REKISTERI_TOKEN")
            .output()
            .unwrap()
    };
    wait_for(
        "the disclosure service to listen",
        Duration::from_secs(60),
        || listening(disclosures_port),
    );
    let subject = uuid::Uuid::now_v7().to_string();
    let recorded = disclosures(&[
        "--json",
        "record",
        "--recipient",
        "Viranomaiset",
        "--subject",
        &subject,
        "--register",
        &id,
        "--version",
        "1",
        "--category",
        "contact_details",
        "--purpose",
        "Viranomaisen tietopyyntö",
        "--basis",
        "legal-obligation",
    ]);
    let recorded = json_of(&recorded);
    assert_eq!(recorded["sequence"], 0);
    assert_eq!(
        recorded["regular"], true,
        "Viranomaiset is a declared recipient"
    );
    let tailed = Command::new(BIN)
        .args([
            "disclosures",
            "--json",
            "tail",
            "--since",
            "1h",
            "--count",
            "1",
        ])
        // No --nats-url: tail finds the NATS `up` uses through the data directory.
        .arg("--data-dir")
        .arg(data.path())
        .env_remove("REKISTERI_NATS_URL")
        .output()
        .unwrap();
    let line: Value = serde_json::from_slice(&tailed.stdout)
        .unwrap_or_else(|_| panic!("tail printed: {}", String::from_utf8_lossy(&tailed.stderr)));
    assert_eq!(line["recipient"], "Viranomaiset");
    assert_eq!(line["sequence"], 0);
    assert!(
        !line.to_string().contains(&subject),
        "pseudonyms only: {line}"
    );
    let audit = data.path().join("audit.json");
    let untrusted = disclosures(&["verify", "--checkpoint", audit.to_str().unwrap()]);
    assert_eq!(untrusted.status.code(), Some(1), "{untrusted:?}");
    assert!(String::from_utf8_lossy(&untrusted.stderr).contains("--trust-first-use"));
    for first in [true, false] {
        let mut args = vec!["verify", "--checkpoint", audit.to_str().unwrap()];
        if first {
            args.push("--trust-first-use");
        }
        let verified = disclosures(&args);
        assert!(verified.status.success(), "{verified:?}");
        assert!(
            String::from_utf8_lossy(&verified.stdout).starts_with("Verified: 1 entries"),
            "{verified:?}"
        );
    }
    // The data protection officer's view names the same root as the signed checkpoint.
    let checkpoint = String::from_utf8_lossy(&disclosures(&["checkpoint"]).stdout).into_owned();
    let root = checkpoint
        .split("root ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .unwrap_or_else(|| panic!("a root in: {checkpoint}"))
        .to_owned();
    let mine = String::from_utf8_lossy(&disclosures(&["subject", &subject]).stdout).into_owned();
    assert!(
        mine.contains(&format!("1 entries, root {root}")),
        "{mine} / {checkpoint}"
    );
    assert!(mine.contains("inclusion proof: 0 hashes"), "{mine}");

    // Text output for people.
    let listed = client(data.path(), catalogue_port, &["list"]);
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(
        text.contains(&id) && text.contains("published") && text.contains("1 of 1 registers"),
        "{text}"
    );

    // Bad input: every violation on stderr, a distinct exit code, nothing created.
    let bad = data.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "name: X\ncontroller:\n  email: not-an-email\nretention:\n  trigger: relationship_end\n",
    )
    .unwrap();
    let refused = client(
        data.path(),
        catalogue_port,
        &["create", "--file", bad.to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(3));
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert!(
        stderr.contains("content.controller.contact.email")
            && stderr.contains("content.retention.period"),
        "{stderr}"
    );
    let listed = json_of(&client(data.path(), catalogue_port, &["--json", "list"]));
    assert_eq!(
        listed["total_size"], 1,
        "the refused create changed nothing"
    );

    // A wrong token is refused.
    let denied = Command::new(BIN)
        .args([
            "catalogue",
            "--endpoint",
            &format!("http://127.0.0.1:{catalogue_port}"),
            "--token",
            "wrong",
            "list",
        ])
        .output()
        .unwrap();
    assert_eq!(denied.status.code(), Some(4));
    // No token at all (an empty REKISTERI_TOKEN counts as none, and this data directory has no
    // admin token): an authentication problem, said plainly.
    let elsewhere = tempfile::tempdir().unwrap();
    let tokenless = Command::new(BIN)
        .args([
            "catalogue",
            "--endpoint",
            &format!("http://127.0.0.1:{catalogue_port}"),
            "list",
        ])
        .arg("--data-dir")
        .arg(elsewhere.path())
        .env("REKISTERI_TOKEN", "")
        .output()
        .unwrap();
    assert_eq!(tokenless.status.code(), Some(4), "{tokenless:?}");
    let said = String::from_utf8_lossy(&tokenless.stderr);
    assert!(said.contains("no --token or REKISTERI_TOKEN"), "{said}");
    assert!(!said.contains("os error"), "{said}");

    // An existing rekisteriseloste becomes a draft; the published register renders as a notice.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/rekisteriseloste/mdo-group.txt");
    let imported = json_of(&client(
        data.path(),
        catalogue_port,
        &["--json", "import", fixture.to_str().unwrap()],
    ));
    assert_eq!(imported["register"]["status"], "draft");
    assert_eq!(
        imported["content"]["controller"]["business_id"],
        "2477525-7"
    );
    assert_eq!(imported["report"]["language"], "fi");
    let draft_id = imported["register"]["register_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let draft = json_of(&client(
        data.path(),
        catalogue_port,
        &["--json", "get", &draft_id, "--draft"],
    ));
    let sections = draft["version"]["import_report"]["sections"]
        .as_array()
        .unwrap();
    assert!(
        sections.iter().any(|s| s["original_text"]
            .as_str()
            .unwrap()
            .contains("Sepänkatu 14 C 16")),
        "the original text is kept"
    );
    let text = client(
        data.path(),
        catalogue_port,
        &["import", "--dry-run", fixture.to_str().unwrap()],
    );
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("Dry run")
            && text.contains("controller.business_id")
            && text.contains("Not mapped"),
        "{text}"
    );
    let notice = client(
        data.path(),
        catalogue_port,
        &["notice", &id, "--lang", "sv", "--format", "text"],
    );
    let notice = String::from_utf8(notice.stdout).unwrap();
    assert!(
        notice.starts_with("DATASKYDDSBESKRIVNING\n")
            && notice.contains("1. PERSONUPPGIFTSANSVARIG"),
        "{notice}"
    );
    let html_file = data.path().join("notice.html");
    let wrote = client(
        data.path(),
        catalogue_port,
        &["notice", &id, "-o", html_file.to_str().unwrap()],
    );
    assert!(wrote.status.success());
    assert!(
        std::fs::read_to_string(&html_file)
            .unwrap()
            .contains("<html lang=\"fi\">")
    );
    let huge = data.path().join("huge.txt");
    std::fs::write(&huge, vec![b'x'; 10 * 1024 * 1024]).unwrap();
    let refused = client(
        data.path(),
        catalogue_port,
        &["import", huge.to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("10.0 MiB"),
        "{refused:?}"
    );

    // The publication is on the stream, once.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let messages = runtime.block_on(async {
        let nats = async_nats::connect(format!("nats://127.0.0.1:{nats_port}"))
            .await
            .unwrap();
        let found = rekisteri_test_support::wait_for_messages(
            &nats,
            "REKISTERI_CATALOGUE",
            1,
            Duration::from_secs(20),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(found.len(), 1);
        rekisteri_test_support::stream_messages(&nats, "REKISTERI_CATALOGUE")
            .await
            .expect("the stream can be read")
    });
    assert_eq!(messages.len(), 1);
    let event = EventEnvelope::decode(messages[0].payload.clone()).unwrap();
    assert!(matches!(event.payload, Some(Payload::RegisterPublished(p)) if p.register_id == id));

    // Ctrl-C stops everything, including the NATS server `up` started.
    interrupt(&up.0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = up.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "up did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    let mut banner = String::new();
    std::io::Read::read_to_string(up.0.stdout.as_mut().unwrap(), &mut banner).unwrap();
    assert!(
        banner.contains("Rekisteri is up.") && banner.contains("admin token"),
        "{banner}"
    );
    wait_for("NATS to stop", Duration::from_secs(10), || {
        !listening(nats_port)
    });
}

#[test]
fn serve_reads_configuration_and_names_the_bad_key() {
    let out = Command::new(BIN)
        .args(["serve", "catalogue"])
        .env("REKISTERI_GRPC__LISTEN", "nowhere")
        .env("REKISTERI_AUTH__JWT__HS256_SECRET", "s")
        .env("REKISTERI_AUTH__JWT__ISSUER", "i")
        .env("REKISTERI_AUTH__JWT__AUDIENCE", "a")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("grpc.listen"), "{stderr}");
}

#[test]
fn serve_runs_one_service_from_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let nats_port = free_port();
    let token = "serve-test-token";
    let config = dir.path().join("catalogue.toml");
    std::fs::write(
        &config,
        format!(
            "[grpc]\nlisten = \"127.0.0.1:{port}\"\n[database]\nurl = \"sqlite://{}?mode=rwc\"\n\
             [[auth.static_tokens]]\nname = \"crm\"\nsha256 = \"{}\"\nroles = [\"catalogue.reader\"]\n",
            dir.path().join("c.db").display(),
            rekisteri_platform::auth::hash_token(token),
        ),
    )
    .unwrap();
    // NATS is not running at all: the service still starts and serves reads.
    let serve = Command::new(BIN)
        .args(["serve", "catalogue", "--config"])
        .arg(&config)
        .env(
            "REKISTERI_NATS__URL",
            format!("nats://127.0.0.1:{nats_port}"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let serve = Guard(serve);
    wait_for("the catalogue to listen", Duration::from_secs(60), || {
        listening(port)
    });
    let out = Command::new(BIN)
        .args([
            "catalogue",
            "--json",
            "--endpoint",
            &format!("http://127.0.0.1:{port}"),
            "--token",
            token,
            "list",
        ])
        .output()
        .unwrap();
    assert_eq!(json_of(&out)["total_size"], 0);
    let out = Command::new(BIN)
        .args([
            "catalogue",
            "--endpoint",
            &format!("http://127.0.0.1:{port}"),
            "--token",
            token,
        ])
        .args(["create", "--file", example().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "a reader may not create");
    let mut serve = serve;
    stop_gracefully(&mut serve);
}

#[test]
fn the_kubernetes_configuration_loads_with_its_secrets_from_the_environment() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kubernetes/base/catalogue.toml");
    let env = [
        (
            "REKISTERI_DATABASE__URL",
            "postgres://rekisteri:pw@postgres:5432/catalogue",
        ),
        // Where the Deployment mounts the `rekisteri-jwks` ConfigMap; here the local overlay's.
        (
            "REKISTERI_AUTH__JWT__JWKS_FILE",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../deploy/kubernetes/overlays/local/jwks.json"
            ),
        ),
        (
            "REKISTERI_AUTH__STATIC_TOKENS",
            r#"[{"name":"crm","sha256":"a0e3f356f484b9958a6952f804a1c47e0f57f130bd5849b53ee5678a09260859","roles":["catalogue.reader"]}]"#,
        ),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into();
    let config =
        rekisteri_platform::config::ServiceConfig::load(rekisteri_platform::config::Sources {
            defaults: rekisteri_catalogue::app::DEFAULTS,
            file: Some(&file),
            env,
        })
        .expect("the manifest's configuration is valid");
    assert_eq!(config.grpc.listen, "0.0.0.0:50051");
    assert_eq!(config.nats.url, "nats://nats:4222");
    assert!(config.database.url.expose().starts_with("postgres://"));
    assert_eq!(config.auth.static_tokens[0].name, "crm");
    let jwt = config.auth.jwt.unwrap();
    assert_eq!(jwt.audience, "rekisteri");
    assert!(
        jwt.hs256_secret.is_none(),
        "production verifies asymmetric keys only"
    );
    // The services start with it: the JWKS parses.
    rekisteri_platform::auth::Authenticator::new(
        &rekisteri_platform::config::ServiceConfig::load(rekisteri_platform::config::Sources {
            defaults: rekisteri_catalogue::app::DEFAULTS,
            file: Some(&file),
            env: [(
                "REKISTERI_AUTH__JWT__JWKS_FILE".to_string(),
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../deploy/kubernetes/overlays/local/jwks.json"
                )
                .to_string(),
            )]
            .into(),
        })
        .unwrap()
        .auth,
    )
    .expect("the JWKS loads");
}

#[test]
fn the_customer_services_kubernetes_configuration_loads_its_keys_from_the_environment() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kubernetes/base/customers.toml");
    // As the Deployment sets them from `customers-secrets`.
    let env = [
        (
            "REKISTERI_DATABASE__URL",
            "postgres://rekisteri:pw@postgres:5432/customers",
        ),
        (
            "REKISTERI_AUTH__JWT__JWKS_FILE",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../deploy/kubernetes/overlays/local/jwks.json"
            ),
        ),
        (
            "REKISTERI_CUSTOMERS__IDENTITY_CODE_KEYS__K1",
            "bG9jYWwtb25seS1pZGVudGl0eS1jb2RlLWtleS0wMDE=",
        ),
        (
            "REKISTERI_CUSTOMERS__BLIND_INDEX_KEY",
            "bG9jYWwtb25seS1ibGluZC1pbmRleC1rZXktMDAwMDE=",
        ),
        ("REKISTERI_CUSTOMERS__CATALOGUE_TOKEN", "a-token"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into();
    let config =
        rekisteri_platform::config::ServiceConfig::load(rekisteri_platform::config::Sources {
            defaults: rekisteri_customers::app::DEFAULTS,
            file: Some(&file),
            env,
        })
        .expect("the manifest's configuration is valid");
    assert_eq!(config.grpc.listen, "0.0.0.0:50052");
    let own: rekisteri_customers::config::CustomersConfig = config
        .section("customers")
        .expect("the [customers] section");
    assert_eq!(own.catalogue_endpoint, "http://catalogue:50051");
    assert_eq!(own.catalogue_token.as_ref().unwrap().expose(), "a-token");
    own.vault()
        .expect("the key named by identity_code_key_id is the one the Secret provides");
    assert!(
        !format!("{config:?}").contains("bG9jYWwt"),
        "keys stay out of Debug"
    );
}

#[test]
fn the_enrichment_services_kubernetes_configuration_loads_with_its_sources() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kubernetes/base/enrichment.toml");
    // As the Deployment sets them from `enrichment-secrets`.
    let env = [
        (
            "REKISTERI_DATABASE__URL",
            "postgres://rekisteri:pw@postgres:5432/enrichment",
        ),
        (
            "REKISTERI_AUTH__JWT__JWKS_FILE",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../deploy/kubernetes/overlays/local/jwks.json"
            ),
        ),
        ("REKISTERI_ENRICHMENT__CATALOGUE_TOKEN", "a-token"),
        ("REKISTERI_ENRICHMENT__CUSTOMERS_TOKEN", "b-token"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into();
    let config =
        rekisteri_platform::config::ServiceConfig::load(rekisteri_platform::config::Sources {
            defaults: rekisteri_enrichment::app::DEFAULTS,
            file: Some(&file),
            env,
        })
        .expect("the manifest's configuration is valid");
    assert_eq!(config.grpc.listen, "0.0.0.0:50053");
    let own: rekisteri_enrichment::config::EnrichmentConfig = config
        .section("enrichment")
        .expect("the [enrichment] section");
    assert_eq!(own.customers_endpoint, "http://customers:50052");
    assert_eq!(own.customers_token.as_ref().unwrap().expose(), "b-token");
    // The file names PRH's rate; its address and how registers name it are the built-in ones.
    assert!(own.prh.enabled);
    assert_eq!(own.prh.base_url, "https://avoindata.prh.fi");
    assert!(own.prh.declared_as.iter().any(|d| d == "PRH"));
    let sources = rekisteri_enrichment::sources::Sources::from_config(&own)
        .expect("the sources start from this configuration");
    let names: Vec<&str> = sources.all().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["prh"]);
    assert!(
        !format!("{config:?}").contains("b-token"),
        "tokens stay out of Debug"
    );
}
