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
        let mut server = NatsServer {
            port: free_port(),
            store: TempDir::new().expect("temp dir"),
            child: None,
        };
        server.restart().await;
        server
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
pub async fn stream_messages(
    client: &async_nats::Client,
    stream: &str,
) -> Vec<async_nats::jetstream::message::StreamMessage> {
    let js = async_nats::jetstream::new(client.clone());
    let Ok(mut stream) = js.get_stream(stream).await else {
        return Vec::new();
    };
    let Ok(info) = stream.info().await else {
        return Vec::new();
    };
    let (first, last) = (info.state.first_sequence, info.state.last_sequence);
    let mut messages = Vec::new();
    for seq in first.max(1)..=last {
        if let Ok(message) = stream.get_raw_message(seq).await {
            messages.push(message);
        }
    }
    messages
}

/// Waits up to `timeout` for `stream` to hold at least `count` messages, then returns them all.
pub async fn wait_for_messages(
    client: &async_nats::Client,
    stream: &str,
    count: usize,
    timeout: Duration,
) -> Vec<async_nats::jetstream::message::StreamMessage> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let messages = stream_messages(client, stream).await;
        if messages.len() >= count || tokio::time::Instant::now() >= deadline {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
