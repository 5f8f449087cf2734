//! `rekisteri up`: the whole system on one machine, for trying it out and for development.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use rekisteri_cli::services::{self, ServiceEntry};
use rekisteri_platform::CancellationToken;
use rekisteri_platform::auth::hash_token;
use rekisteri_platform::config::{ServiceConfig, Sources};
use tokio::process::{Child, Command};

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Where the SQLite databases, the NATS store and the admin token live.
    #[arg(long, default_value = crate::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// NATS to use; when nothing answers there (and it is on this machine), `up` starts
    /// `nats-server -js` on that port itself.
    #[arg(
        long,
        env = "REKISTERI_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats_url: String,
    /// The address the services listen on: an IP address (IPv4 or IPv6) or a host name such as
    /// `localhost`.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// A service's gRPC port, as NAME=PORT (repeatable), e.g. `--port catalogue=6051`. The
    /// defaults: catalogue=50051, customers=50052, enrichment=50053, disclosures=50054.
    #[arg(long = "port", value_name = "NAME=PORT", value_parser = parse_port)]
    ports: Vec<(&'static ServiceEntry, u16)>,
    /// Log filter, e.g. `info` or `debug,h2=info`.
    #[arg(long, default_value = "info")]
    log_level: String,
    /// A configuration setting for every service, as SECTION.KEY=VALUE (repeatable), e.g.
    /// `--set read_cache.ttl_ms=0`; the same keys as REKISTERI_SECTION__KEY for `serve`.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE", value_parser = parse_setting)]
    settings: Vec<(String, String)>,
}

/// The `--set` settings one service gets: the platform's sections go to every service, a
/// service's own section (`customers.…`) only to that service.
fn settings_for(service: &ServiceEntry, settings: &[(String, String)]) -> Vec<(String, String)> {
    settings
        .iter()
        .filter(|(key, _)| {
            let section = key
                .trim_start_matches("REKISTERI_")
                .split("__")
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let owner = services::ALL.iter().find(|s| s.name() == section);
            owner.is_none_or(|owner| owner.name() == service.name())
        })
        .cloned()
        .collect()
}

/// `section.key=value` as the environment variable `serve` would read.
fn parse_setting(value: &str) -> Result<(String, String), String> {
    let (key, setting) = value
        .split_once('=')
        .ok_or_else(|| format!("`{value}` is not SECTION.KEY=VALUE, e.g. read_cache.ttl_ms=0"))?;
    let path: Vec<&str> = key.trim().split('.').collect();
    if path.len() < 2
        || path
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        return Err(format!(
            "`{key}` is not SECTION.KEY, e.g. read_cache.ttl_ms"
        ));
    }
    Ok((
        format!("REKISTERI_{}", path.join("__").to_ascii_uppercase()),
        setting.to_owned(),
    ))
}

fn parse_port(value: &str) -> Result<(&'static ServiceEntry, u16), String> {
    let (name, port) = value
        .split_once('=')
        .ok_or_else(|| format!("`{value}` is not NAME=PORT, e.g. catalogue=50051"))?;
    let service = services::parse(name)?;
    let port = port
        .parse()
        .map_err(|_| format!("`{port}` is not a port number"))?;
    Ok((service, port))
}

/// The IP address `--host` names: parsed as one, or the first address the name resolves to.
async fn resolve_host(host: &str) -> anyhow::Result<IpAddr> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ip);
    }
    let mut addrs = tokio::net::lookup_host((bare, 0)).await.with_context(|| {
        format!("--host {host}: not an IP address, and the name does not resolve")
    })?;
    addrs
        .next()
        .map(|a| a.ip())
        .with_context(|| format!("--host {host}: the name resolves to no address"))
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    // `up` is configured by its flags alone; a variable meant for `serve` would otherwise be
    // ignored without a word.
    // `vars_os`: `vars` panics on a variable that is not UTF-8, and any user may have one.
    let ignored: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("REKISTERI_") && k.contains("__"))
        .collect();
    if !ignored.is_empty() {
        eprintln!(
            "warning: up ignores {} (those are for `serve`); give settings as --set SECTION.KEY=VALUE, the log level as --log-level",
            ignored.join(", ")
        );
    }
    let created = !args.data_dir.exists();
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data directory {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize()?;
    #[cfg(unix)]
    if created {
        // The databases hold personal data: a directory `up` creates is its owner's alone (one
        // the user named and already had is left as it is).
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", data_dir.display()))?;
    }
    let ip = resolve_host(&args.host).await?;
    let token = admin_token(&data_dir)?;
    let nats = LocalNats::ensure(&args.nats_url, &data_dir).await?;
    std::fs::write(
        data_dir.join(services::NATS_URL_FILE),
        format!("{}\n", args.nats_url),
    )
    .with_context(|| {
        format!(
            "writing {}",
            data_dir.join(services::NATS_URL_FILE).display()
        )
    })?;

    let cancel = CancellationToken::new();
    let mut running = Vec::new();
    let mut started = Vec::new();
    let mut telemetry = None;
    for service in services::ALL {
        let port = args
            .ports
            .iter()
            .rev()
            .find(|(s, _)| s.name() == service.name())
            .map_or(service.default_port, |(_, p)| *p);
        let listen = SocketAddr::new(ip, port);
        let defaults = format!(
            r#"
[grpc]
listen = "{listen}"
[database]
url = "sqlite://{db}?mode=rwc"
[nats]
url = "{nats_url}"
[telemetry]
log_level = "{log_level}"
[[auth.static_tokens]]
name = "local-admin"
sha256 = "{hash}"
roles = ["admin"]
{own}
"#,
            own = match service.local {
                Some(local) => local(&services::Local {
                    data_dir: &data_dir,
                    admin_token: &token,
                    started: &started,
                })?,
                None => String::new(),
            },
            db = data_dir.join(format!("{}.db", service.name())).display(),
            nats_url = args.nats_url,
            log_level = args.log_level,
            hash = hash_token(&token),
        );
        // `up` is configured by its flags alone: REKISTERI_* variables are for `serve`.
        let mut config = ServiceConfig::load(Sources {
            defaults: &defaults,
            file: None,
            env: settings_for(service, &args.settings).into_iter().collect(),
        })
        .with_context(|| format!("configuring the {}", service.name()))?;
        // The service's own built-in settings, under everything above (as `serve` has them).
        config
            .add_defaults(service.spec.defaults)
            .with_context(|| format!("configuring the {}", service.name()))?;
        if telemetry.is_none() {
            telemetry = Some(rekisteri_platform::telemetry::init(
                "rekisteri",
                &config.telemetry,
            )?);
        }
        let app = (service.build)(&config).await.with_context(|| {
            if port != 0 {
                format!(
                    "starting the {} on {listen} (another port: --port {}=PORT)",
                    service.name(),
                    service.name()
                )
            } else {
                format!("starting the {}", service.name())
            }
        })?;
        let addr = app.local_addr();
        started.push((service.name(), addr));
        running.push((
            service,
            addr,
            tokio::spawn(app.run_until_stopped(cancel.clone())),
        ));
    }

    println!();
    println!("Rekisteri is up.");
    for (service, addr, _) in &running {
        println!(
            "  {:<12} http://{addr}   {}",
            service.name(),
            service.spec.grpc_service()
        );
    }
    println!("  {:<12} {}   {}", "NATS", args.nats_url, nats.describe());
    println!("  {:<12} {}", "data", data_dir.display());
    println!(
        "  {:<12} {token}   (also in {})",
        "admin token",
        data_dir.join("admin-token").display()
    );
    println!();
    let me = std::env::current_exe().map_or("rekisteri".into(), |p| p.display().to_string());
    let catalogue = running
        .iter()
        .find(|(s, _, _)| s.name() == "catalogue")
        .map(|(_, addr, _)| *addr);
    println!("Try, from another terminal in this directory:");
    if let Some(addr) = catalogue {
        let mut endpoint = if addr.port() == 50051 && addr.ip().is_loopback() && addr.is_ipv4() {
            String::new()
        } else {
            format!(" --endpoint 'http://{addr}'")
        };
        if args.data_dir != Path::new(crate::DEFAULT_DATA_DIR) {
            endpoint += &format!(" --data-dir '{}'", data_dir.display());
        }
        println!("  {me} catalogue{endpoint} create --file examples/registers/mainostakomo.yaml");
        println!("  {me} catalogue{endpoint} list");
        println!("  {me} status{endpoint}");
        println!("  grpcurl -plaintext -H 'authorization: Bearer {token}' {addr} list");
    }
    println!("Ctrl-C stops everything.");
    println!();

    tokio::select! {
        _ = rekisteri_platform::grpc::shutdown_signal() => {}
        _ = cancel.cancelled() => {}
    }
    println!("Stopping...");
    cancel.cancel();
    let mut result = Ok(());
    for (service, _, task) in running {
        let outcome = task
            .await
            .with_context(|| format!("the {} task", service.name()))
            .and_then(|r| r.with_context(|| format!("the {}", service.name())));
        if let Err(err) = outcome
            && result.is_ok()
        {
            result = Err(err);
        }
    }
    nats.stop().await;
    result
}

/// The token `up` prints, kept in the data directory so that it survives restarts and client
/// commands run in the same directory find it. Created readable by its owner only, from the
/// first byte.
fn admin_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("admin-token");
    if let Ok(token) = std::fs::read_to_string(&path)
        && !token.trim().is_empty()
    {
        return Ok(token.trim().to_owned());
    }
    let token = crate::new_token();
    services::write_private(&path, &format!("{token}\n"))?;
    Ok(token)
}

/// A NATS server: someone else's, or one `up` started and stops.
struct LocalNats {
    child: Option<Child>,
    store: PathBuf,
}

impl LocalNats {
    async fn ensure(url: &str, data_dir: &Path) -> anyhow::Result<Self> {
        let address = url
            .strip_prefix("nats://")
            .with_context(|| format!("--nats-url must be nats://HOST:PORT, not {url}"))?
            .trim_end_matches('/');
        let (host, port) = address.rsplit_once(':').unwrap_or((address, "4222"));
        let port: u16 = port.parse().with_context(|| format!("the port in {url}"))?;
        let store = data_dir.join("nats");
        if reachable(host, port).await {
            return Ok(Self { child: None, store });
        }
        if !matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]") {
            anyhow::bail!(
                "no NATS server answers at {url}, and `up` only starts one on this machine"
            );
        }
        let binary = nats_server_binary()
            .context("no NATS server answers and nats-server is not installed: run scripts/setup (or apt-get install nats-server)")?;
        std::fs::create_dir_all(&store)?;
        let child = Command::new(&binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(&store)
            .arg("-l")
            .arg(store.join("nats-server.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let nats = Self {
            child: Some(child),
            store,
        };
        for _ in 0..100 {
            if reachable(host, port).await {
                return Ok(nats);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!(
            "nats-server did not start on port {port}; see {}",
            nats.store.join("nats-server.log").display()
        )
    }

    fn describe(&self) -> String {
        match self.child {
            Some(_) => format!("(started here; JetStream data in {})", self.store.display()),
            None => "(already running)".into(),
        }
    }

    /// Stops a server we started with SIGTERM, so that it flushes its JetStream store.
    async fn stop(mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id() {
            terminate(pid);
            if tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .is_ok()
            {
                return;
            }
        }
        let _ = child.kill().await;
    }
}

#[allow(unsafe_code)] // kill(2) is the one way to send SIGTERM; the pid is our own child's.
fn terminate(pid: u32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
}

async fn reachable(host: &str, port: u16) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    matches!(
        tokio::time::timeout(
            Duration::from_secs(1),
            tokio::net::TcpStream::connect((host, port))
        )
        .await,
        Ok(Ok(_))
    )
}

fn nats_server_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/bin".into()])
        .map(|dir| dir.join("nats-server"))
        .find(|candidate| candidate.is_file())
}
