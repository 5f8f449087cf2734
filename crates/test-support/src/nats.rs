use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tempfile::TempDir;
use tokio::process::{Child, Command};

/// A `nats-server -js` of the test's own on a free port, storing JetStream data in a temporary
/// directory that survives [`NatsServer::stop`] / [`NatsServer::start`], like a real restart.
#[derive(Debug)]
pub struct NatsServer {
    port: u16,
    store: TempDir,
    child: Option<Child>,
    /// Extra command-line arguments, e.g. `--user` and `--pass`.
    args: Vec<String>,
}

fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("NATS_SERVER_BIN") {
        return path.into();
    }
    for candidate in [
        "/usr/sbin/nats-server",
        "/usr/local/bin/nats-server",
        "/usr/bin/nats-server",
    ] {
        if std::path::Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    "nats-server".into()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl NatsServer {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A server started with extra arguments, e.g. `["--user", "u", "--pass", "p"]`.
    pub async fn start_with(args: &[&str]) -> Self {
        let mut server = NatsServer {
            port: free_port(),
            store: TempDir::new().expect("temp dir"),
            child: None,
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        server.restart().await;
        server
    }

    /// The server's process id while it runs (the benchmark harness reads its CPU time).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(|c| c.id())
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// A client, for tests that read the streams.
    pub async fn client(&self) -> async_nats::Client {
        async_nats::connect(self.url())
            .await
            .expect("NATS accepts connections")
    }

    /// Kills the server at once, as a crash would.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts (again) on the same port with the same store, and waits until it accepts connections.
    pub async fn restart(&mut self) {
        self.stop().await;
        let child = Command::new(binary())
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.store.path())
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "starting {}: {e} (scripts/test installs nats-server)",
                    binary().display()
                )
            });
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("nats-server did not start on port {}", self.port);
    }
}

/// Every message currently on `stream`, oldest first; empty when the stream does not exist yet.
/// Any other NATS error is an error, never an empty result.
pub async fn stream_messages(
    client: &async_nats::Client,
    stream: &str,
) -> anyhow::Result<Vec<async_nats::jetstream::message::StreamMessage>> {
    use async_nats::jetstream::context::GetStreamErrorKind;
    let js = async_nats::jetstream::new(client.clone());
    let mut stream = match js.get_stream(stream).await {
        Ok(stream) => stream,
        Err(err)
            if matches!(err.kind(), GetStreamErrorKind::JetStream(e)
                if e.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND) =>
        {
            return Ok(Vec::new());
        }
        Err(err) => return Err(anyhow::Error::new(err).context(format!("stream {stream}"))),
    };
    let info = stream.info().await?;
    let (first, last) = (info.state.first_sequence, info.state.last_sequence);
    let mut messages = Vec::new();
    if info.state.messages == 0 {
        return Ok(messages);
    }
    for seq in first.max(1)..=last {
        messages.push(
            stream
                .get_raw_message(seq)
                .await
                .map_err(|e| anyhow::anyhow!("message {seq}: {e}"))?,
        );
    }
    Ok(messages)
}

/// Waits up to `timeout` for `stream` to hold at least `count` messages, then returns them all
/// (fewer when the time ran out). Panics when NATS keeps failing.
pub async fn wait_for_messages(
    client: &async_nats::Client,
    stream: &str,
    count: usize,
    timeout: Duration,
) -> Vec<async_nats::jetstream::message::StreamMessage> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let result = stream_messages(client, stream).await;
        let done = tokio::time::Instant::now() >= deadline;
        match result {
            Ok(messages) if messages.len() >= count || done => return messages,
            Err(err) if done => panic!("reading stream {stream}: {err:#}"),
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
