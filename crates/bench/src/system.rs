//! The system under measurement: a NATS server of the harness's own, and every service as its own
//! `rekisteri serve` process on a fresh database, so that each one's CPU time and memory can be
//! read from /proc.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use rekisteri_cli::services::{self, Local};
use rekisteri_platform::auth::{BearerToken, hash_token};
use rekisteri_test_support::{Backend, NatsServer, TestDb};
use tokio::process::{Child, Command};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// The admin token every service of the harness accepts.
pub const TOKEN: &str = "rekisteri-bench-admin-token";

pub type Authed = InterceptedService<Channel, BearerToken>;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One running service.
#[derive(Debug)]
pub struct RunningService {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub child: Child,
    /// The service's database; its drop removes it.
    pub database: TestDb,
    pub log: PathBuf,
}

impl RunningService {
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn channel(&self) -> anyhow::Result<Channel> {
        Ok(tonic::transport::Endpoint::from_shared(self.endpoint())?
            .tcp_nodelay(true)
            .connect()
            .await?)
    }

    pub async fn authed(&self) -> anyhow::Result<Authed> {
        Ok(InterceptedService::new(
            self.channel().await?,
            BearerToken::new(TOKEN)?,
        ))
    }
}

/// NATS and every service on one backend.
#[derive(Debug)]
pub struct System {
    pub backend: Backend,
    pub nats: NatsServer,
    pub services: Vec<RunningService>,
    pub rekisteri: PathBuf,
    /// Configuration files, keys and logs; removed on drop.
    pub _work: tempfile::TempDir,
}

impl System {
    /// `prh` is the address of the PRH stand-in the enrichment service asks.
    pub async fn start(backend: Backend, rekisteri: &Path, prh: &str) -> anyhow::Result<Self> {
        let nats = NatsServer::start().await;
        let work = tempfile::tempdir()?;
        let mut services = Vec::new();
        let mut started: Vec<(&'static str, SocketAddr)> = Vec::new();
        for entry in services::ALL {
            let database = TestDb::fresh(backend).await;
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse()?;
            let own = match entry.local {
                Some(local) => local(&Local {
                    data_dir: work.path(),
                    admin_token: TOKEN,
                    started: &started,
                })?,
                None => String::new(),
            };
            // The enrichment service asks the stand-in, with no rate limit of its own: the
            // harness measures the service, not PRH's allowance of 300 a minute.
            let own = if entry.name() == "enrichment" {
                format!(
                    "{own}\n[enrichment.prh]\nbase_url = \"{prh}\"\nrate_per_minute = 100000000\n"
                )
            } else {
                own
            };
            let config = format!(
                "[grpc]\nlisten = \"{addr}\"\n[database]\nurl = \"{url}\"\n[nats]\nurl = \"{nats}\"\n\
                 [telemetry]\nlog_level = \"warn\"\n[[auth.static_tokens]]\nname = \"bench\"\n\
                 sha256 = \"{hash}\"\nroles = [\"admin\"]\n{own}",
                url = database.url,
                nats = nats.url(),
                hash = hash_token(TOKEN),
            );
            let file = work.path().join(format!("{}.toml", entry.name()));
            std::fs::write(&file, config)?;
            let log = work.path().join(format!("{}.log", entry.name()));
            let child = Command::new(rekisteri)
                .args(["serve", entry.name(), "--config"])
                .arg(&file)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log)?)
                .kill_on_drop(true)
                .spawn()
                .with_context(|| {
                    format!("starting {} serve {}", rekisteri.display(), entry.name())
                })?;
            let mut service = RunningService {
                name: entry.name(),
                addr,
                child,
                database,
                log,
            };
            wait_serving(&mut service).await?;
            started.push((entry.name(), addr));
            services.push(service);
        }
        Ok(Self {
            backend,
            nats,
            services,
            rekisteri: rekisteri.to_owned(),
            _work: work,
        })
    }

    /// When PostgreSQL runs with autovacuum off (CI servers often do), vacuums and analyses
    /// every service database every 30 seconds, as autovacuum would: without it, dead rows from
    /// updates and stale planner statistics slow a fill of 100,000 persons tenfold (measured: 48
    /// creates/s before a VACUUM ANALYZE, 563/s after), which is the server's setting, not the
    /// service. Returns whether it does.
    pub async fn vacuum_like_autovacuum(
        &self,
    ) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
        use sea_orm::ConnectionTrait as _;
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let first = sea_orm::Database::connect(&self.services[0].database.url).await?;
        let setting = first
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SHOW autovacuum",
            ))
            .await?
            .and_then(|row| row.try_get::<String>("", "autovacuum").ok())
            .unwrap_or_default();
        first.close().await?;
        if setting == "on" {
            return Ok(None);
        }
        let urls: Vec<String> = self
            .services
            .iter()
            .map(|s| s.database.url.clone())
            .collect();
        Ok(Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(30)).await;
                for url in &urls {
                    if let Ok(db) = sea_orm::Database::connect(url).await {
                        let _ = db.execute_unprepared("VACUUM (ANALYZE)").await;
                        let _ = db.close().await;
                    }
                }
            }
        })))
    }

    pub fn service(&self, name: &str) -> &RunningService {
        self.services
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no service {name}"))
    }

    /// Creates and publishes the example register through the CLI, as a user would; returns
    /// its id.
    pub async fn publish_example_register(&self, file: &Path) -> anyhow::Result<String> {
        let endpoint = self.service("catalogue").endpoint();
        let run = |args: Vec<String>| {
            let rekisteri = self.rekisteri.clone();
            let endpoint = endpoint.clone();
            async move {
                let out = Command::new(rekisteri)
                    .args([
                        "catalogue",
                        "--endpoint",
                        &endpoint,
                        "--token",
                        TOKEN,
                        "--json",
                    ])
                    .args(args)
                    .output()
                    .await?;
                anyhow::ensure!(
                    out.status.success(),
                    "rekisteri catalogue: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                anyhow::Ok(serde_json::from_slice::<serde_json::Value>(&out.stdout)?)
            }
        };
        let created = run(vec![
            "create".into(),
            "--file".into(),
            file.display().to_string(),
        ])
        .await?;
        let id = created["register"]["register_id"]
            .as_str()
            .context("the created register's id")?
            .to_owned();
        run(vec!["publish".into(), "--force".into(), id.clone()]).await?;
        Ok(id)
    }

    /// Stops every service with SIGINT, as an operator would, and waits for each.
    pub async fn stop(mut self) {
        for s in &mut self.services {
            if let Some(pid) = s.child.id() {
                let _ = Command::new("kill")
                    .args(["-INT", &pid.to_string()])
                    .status()
                    .await;
            }
            let _ = tokio::time::timeout(Duration::from_secs(30), s.child.wait()).await;
        }
    }
}

async fn wait_serving(service: &mut RunningService) -> anyhow::Result<()> {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = service.child.try_wait()? {
            anyhow::bail!(
                "the {} stopped at start ({status}):\n{}",
                service.name,
                std::fs::read_to_string(&service.log).unwrap_or_default()
            );
        }
        if let Ok(channel) = service.channel().await {
            let status = HealthClient::new(channel)
                .check(HealthCheckRequest::default())
                .await
                .map(|r| r.into_inner().status());
            if matches!(status, Ok(ServingStatus::Serving)) {
                return Ok(());
            }
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the {} did not become SERVING in 60 s; its log: {}",
            service.name,
            service.log.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A process's CPU time and memory, from /proc.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcStats {
    /// User + system CPU, seconds.
    pub cpu_seconds: f64,
    /// Resident memory now, MiB.
    pub rss_mib: f64,
    /// The anonymous part of it (heap, stacks), MiB: what the process holds of its own; the
    /// rest is mapped files, mostly the binary's code, shared by every process that runs it.
    pub anonymous_mib: f64,
    /// Peak resident memory since start (or the last reset), MiB.
    pub peak_rss_mib: f64,
}

impl ProcStats {
    pub fn read(pid: u32) -> Self {
        let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                // Fields after the command name, which may hold spaces: utime is the 12th.
                let rest = &stat[stat.rfind(')')? + 2..];
                let fields: Vec<&str> = rest.split_whitespace().collect();
                Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        Self {
            cpu_seconds: ticks as f64 / clock_ticks_per_second(),
            rss_mib: kib("VmRSS:") / 1024.0,
            anonymous_mib: kib("RssAnon:") / 1024.0,
            peak_rss_mib: kib("VmHWM:") / 1024.0,
        }
    }

    /// Starts a new peak (Linux: writing 5 to clear_refs resets VmHWM to the current RSS).
    pub fn reset_peak(pid: u32) {
        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    }
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    // USER_HZ is 100 on every Linux architecture this runs on; getconf says so where it can.
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
            .unwrap_or(100.0)
    })
}
