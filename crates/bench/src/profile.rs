//! `--perf`: a service workload recorded with `perf record -g` on the service's process, and the
//! functions that took the most samples written beside it, so that a missed target comes with
//! its cause.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tokio::process::{Child, Command};

pub struct Profile {
    recorder: Child,
    data: PathBuf,
}

/// A file name from a workload's name: letters, digits and dashes.
fn file_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// Starts recording `pid` (99 samples a second per thread would miss short runs: 999).
pub fn start(dir: &Path, name: &str, pid: u32) -> anyhow::Result<Profile> {
    std::fs::create_dir_all(dir)?;
    let data = dir.join(format!("{}.data", file_name(name)));
    let recorder = Command::new("perf")
        .args(["record", "-F", "999", "-g", "-p", &pid.to_string(), "-o"])
        .arg(&data)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("--perf needs perf (Debian: linux-perf)")?;
    Ok(Profile { recorder, data })
}

impl Profile {
    /// Stops recording (SIGINT, as perf expects) and writes the summary: the hottest functions
    /// by their own samples, and by samples including what they call.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.recorder.id() {
            Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status()
                .await?;
        }
        self.recorder.wait().await?;
        let mut summary = String::new();
        for (title, children) in [
            ("own samples", "--no-children"),
            ("with callees", "--children"),
        ] {
            let out = Command::new("perf")
                .args([
                    "report",
                    "--stdio",
                    "-g",
                    "none",
                    "--percent-limit",
                    "0.7",
                    children,
                    "--sort",
                    "comm,dso,symbol",
                    "-i",
                ])
                .arg(&self.data)
                .output()
                .await?;
            summary += &format!("## {title}\n\n");
            summary += &String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .take(40)
                .collect::<Vec<_>>()
                .join("\n");
            summary += "\n\n";
        }
        std::fs::write(self.data.with_extension("txt"), summary)?;
        Ok(())
    }
}
