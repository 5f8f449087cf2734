//! `rekisteri-bench`: how many reads and writes per second each service answers, at what latency,
//! with how much CPU and memory, on SQLite and on PostgreSQL, and how that compares with what this
//! machine allows at all: the gRPC, event-bus and database ceilings measured in the same run.
//!
//! ```sh
//! scripts/bench                 # the full run: builds --release, writes bench-results/
//! scripts/bench --quick         # about a minute: a smoke test
//! ```

mod ceilings;
mod load;
mod prh_mock;
mod profile;
mod report;
mod system;
mod workloads;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use rekisteri_test_support::Backend;

use crate::load::{Limit, Measured};
use crate::report::{DatabaseRun, LoadPoint, Machine, Report, Workload};
use crate::system::{ProcStats, System};
use crate::workloads::Run;

#[derive(Debug, Parser)]
#[command(
    name = "rekisteri-bench",
    about = "Measures every service against this machine's own ceilings"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// About a minute and a half of measuring: 2 s runs, 1,000 subjects, a backlog of 20,000
    /// events for the relay, three offered loads; for CI and a first look.
    #[arg(long)]
    quick: bool,
    /// Databases to run on: sqlite, postgres or both.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    databases: Vec<String>,
    /// Seconds each timed workload runs.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Customer-service sizes to measure reads at (subjects), e.g. 10000,100000,1000000. Each
    /// size is filled through CreatePerson.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    sizes: Vec<u64>,
    /// Concurrent clients for the single-item workloads.
    #[arg(long, default_value_t = 16, value_parser = at_least_one)]
    clients: usize,
    /// Concurrent clients for the batch workloads: RecordDisclosures with 100 a call, and its
    /// database ceiling of 100 a transaction.
    #[arg(long, default_value_t = 4, value_parser = at_least_one)]
    batch_clients: usize,
    /// Where the JSON, Markdown and SVG go.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
    /// The `rekisteri` binary to run the services with (default: beside this one).
    #[arg(long)]
    rekisteri: Option<PathBuf>,
    /// Profile every service workload with `perf record -g` on the service's process: the data
    /// and a summary of the hottest functions go to OUT/perf/.
    #[arg(long)]
    perf: bool,
    /// Only these groups of workloads (the gRPC ceiling is always measured): catalogue,
    /// customers, enrichment, disclosures, relay.
    #[arg(long, value_delimiter = ',', value_parser = ["catalogue", "customers", "enrichment", "disclosures", "relay"])]
    only: Vec<String>,
    /// The register document the services are set up with.
    #[arg(long, default_value = "examples/registers/mainostakomo.yaml")]
    register: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serves the minimal echo service (the gRPC ceiling); the harness starts it itself.
    #[command(hide = true)]
    EchoServer {
        #[arg(long)]
        listen: SocketAddr,
    },
    /// Serves the stand-in for PRH's API (the enrichment workloads' upstream).
    #[command(hide = true)]
    PrhMock {
        #[arg(long)]
        listen: SocketAddr,
    },
}

/// A count of clients: with none, a workload would measure nothing and look like 0/s.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("at least one client is needed".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::EchoServer { listen }) => return ceilings::serve_echo(listen).await,
        Some(Command::PrhMock { listen }) => return prh_mock::serve(listen).await,
        None => {}
    }
    let me = std::env::current_exe()?;
    let rekisteri = cli
        .rekisteri
        .clone()
        .unwrap_or_else(|| me.with_file_name("rekisteri"));
    anyhow::ensure!(
        rekisteri.exists(),
        "{} not found: build it (cargo build --release -p rekisteri-cli) or name it with --rekisteri",
        rekisteri.display()
    );
    let (seconds, mut sizes) = if cli.quick {
        (2.0, vec![1000])
    } else {
        (cli.seconds, cli.sizes.clone())
    };
    sizes.sort_unstable();
    sizes.dedup();
    anyhow::ensure!(
        sizes.first().is_some_and(|s| *s > 0),
        "--sizes: at least one size above 0"
    );
    let mut backends = Vec::new();
    for name in &cli.databases {
        backends.push(match name.as_str() {
            "sqlite" => Backend::Sqlite,
            "postgres" | "postgresql" => Backend::Postgres,
            other => anyhow::bail!("--databases: `{other}` is neither sqlite nor postgres"),
        });
    }
    std::fs::create_dir_all(&cli.out).with_context(|| format!("creating {}", cli.out.display()))?;

    // The echo server: a process of its own, as the services are.
    let echo_addr: SocketAddr = format!("127.0.0.1:{}", system::free_port()).parse()?;
    let mut echo = tokio::process::Command::new(&me)
        .args(["echo-server", "--listen", &echo_addr.to_string()])
        .kill_on_drop(true)
        .spawn()
        .context("starting the echo server")?;
    let echo_endpoint = format!("http://{echo_addr}");
    wait_listening(echo_addr).await?;
    let prh_addr: SocketAddr = format!("127.0.0.1:{}", system::free_port()).parse()?;
    let mut prh = tokio::process::Command::new(&me)
        .args(["prh-mock", "--listen", &prh_addr.to_string()])
        .kill_on_drop(true)
        .spawn()
        .context("starting the PRH stand-in")?;
    wait_listening(prh_addr).await?;

    let mut report = Report {
        started: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        machine: Machine::read(),
        quick: cli.quick,
        profiled: cli.perf,
        seconds_per_workload: seconds,
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        only: cli.only.clone(),
        clients: cli.clients,
        batch_clients: cli.batch_clients,
        databases: Vec::new(),
    };
    for backend in backends {
        let bench = Bench {
            seconds: Duration::from_secs_f64(seconds),
            clients: cli.clients,
            batch_clients: cli.batch_clients,
            quick: cli.quick,
            echo_pid: echo.id().unwrap_or(0),
            echo_endpoint: echo_endpoint.clone(),
            prh_pid: prh.id().unwrap_or(0),
            prh_url: format!("http://{prh_addr}"),
            perf: cli.perf.then(|| cli.out.join("perf")),
            only: Groups::from_names(&cli.only),
        };
        let run = bench
            .run(backend, &rekisteri, &cli.register, &sizes)
            .await
            .with_context(|| format!("the {backend:?} run"))?;
        report.databases.push(run);
    }
    let _ = echo.kill().await;
    let _ = prh.kill().await;

    let json = cli.out.join("bench.json");
    std::fs::write(&json, serde_json::to_string_pretty(&report)?)?;
    let markdown = report.markdown();
    std::fs::write(cli.out.join("bench.md"), &markdown)?;
    // The chart is GetSubject's latency against offered load: only when the customers ran.
    let chart = cli.out.join("latency.svg");
    let charted = report
        .databases
        .iter()
        .any(|run| !run.offered_load.is_empty());
    if charted {
        report.chart(&chart)?;
    } else {
        let _ = std::fs::remove_file(&chart);
    }
    println!("\n{markdown}");
    eprintln!(
        "Written: {}, {}{}",
        json.display(),
        cli.out.join("bench.md").display(),
        if charted {
            format!(", {}", chart.display())
        } else {
            String::new()
        }
    );
    // A smoke test must fail loudly: a workload with errors, or an acknowledged disclosure
    // missing from the stream, is a defect whatever the speed.
    let mut failures = Vec::new();
    for run in &report.databases {
        for w in run.workloads.iter().filter(|w| w.measured.errors > 0) {
            failures.push(format!(
                "{} {}: {} errors, first: {}",
                run.database,
                w.name,
                w.measured.errors,
                w.measured.first_error.as_deref().unwrap_or("")
            ));
        }
        if run.stream_holds_every_acknowledged_disclosure == Some(false) {
            failures.push(format!(
                "{}: acknowledged disclosures missing from the stream",
                run.database
            ));
        }
    }
    anyhow::ensure!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

async fn wait_listening(addr: SocketAddr) -> anyhow::Result<()> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anyhow::bail!("nothing listens on {addr}")
}

struct Bench {
    seconds: Duration,
    clients: usize,
    batch_clients: usize,
    quick: bool,
    echo_pid: u32,
    echo_endpoint: String,
    /// The PRH stand-in: its process and address.
    prh_pid: u32,
    prh_url: String,
    /// Where `perf record` profiles of each service workload go, when asked for.
    perf: Option<PathBuf>,
    only: Groups,
}

/// The groups of workloads a run measures (`--only`; all by default).
#[derive(Debug, Clone, Copy)]
struct Groups {
    catalogue: bool,
    customers: bool,
    enrichment: bool,
    disclosures: bool,
    relay: bool,
}

impl Groups {
    fn from_names(names: &[String]) -> Self {
        let wants = |group: &str| names.is_empty() || names.iter().any(|n| n == group);
        Self {
            catalogue: wants("catalogue"),
            customers: wants("customers"),
            enrichment: wants("enrichment"),
            disclosures: wants("disclosures"),
            relay: wants("relay"),
        }
    }
}

/// The processes whose CPU and memory a workload reports, by name.
fn processes(system: &System, echo_pid: u32, prh_pid: u32) -> Vec<(String, u32)> {
    let mut all: Vec<(String, u32)> = system
        .services
        .iter()
        .map(|s| (s.name.to_owned(), s.pid()))
        .collect();
    if let Some(pid) = system.nats.pid() {
        all.push(("nats-server".into(), pid));
    }
    all.push(("echo".into(), echo_pid));
    all.push(("prh-mock".into(), prh_pid));
    all
}

impl Bench {
    fn time(&self) -> Limit {
        Limit::Time(self.seconds)
    }

    /// Runs `work`, reading every process's CPU time and peak memory around it.
    async fn measure<F>(
        &self,
        system: &System,
        name: &str,
        (kind, process): (&str, &str),
        clients: usize,
        work: F,
    ) -> anyhow::Result<(Workload, Run)>
    where
        F: std::future::Future<Output = anyhow::Result<Run>>,
    {
        eprint!("  {name:<68} ");
        let procs = processes(system, self.echo_pid, self.prh_pid);
        for (_, pid) in &procs {
            ProcStats::reset_peak(*pid);
        }
        let before: Vec<ProcStats> = procs.iter().map(|(_, pid)| ProcStats::read(*pid)).collect();
        let (postgres_before, me_before) =
            (postgres_cpu_seconds(), ProcStats::read(std::process::id()));
        let profile = match (&self.perf, kind) {
            (Some(dir), "service") => {
                let pid = procs
                    .iter()
                    .find(|(p, _)| p == process)
                    .map_or(0, |(_, pid)| *pid);
                Some(profile::start(
                    dir,
                    &format!("{:?}-{name}", system.backend),
                    pid,
                )?)
            }
            _ => None,
        };
        let run = work.await;
        if let Some(profile) = profile {
            profile.finish().await?;
        }
        let run = run?;
        let round = |x: f64| (x * 100.0).round() / 100.0;
        let mut cpu_seconds = BTreeMap::new();
        let mut peak_rss_mib = BTreeMap::new();
        for ((process, pid), before) in procs.iter().zip(before) {
            let after = ProcStats::read(*pid);
            cpu_seconds.insert(
                process.clone(),
                round(after.cpu_seconds - before.cpu_seconds),
            );
            peak_rss_mib.insert(process.clone(), (after.peak_rss_mib * 10.0).round() / 10.0);
        }
        if system.backend == Backend::Postgres {
            cpu_seconds.insert(
                "postgres".into(),
                round(postgres_cpu_seconds() - postgres_before),
            );
        }
        // The harness itself: the load generator, and on SQLite the ceilings' database.
        cpu_seconds.insert(
            "rekisteri-bench".into(),
            round(ProcStats::read(std::process::id()).cpu_seconds - me_before.cpu_seconds),
        );
        let m = &run.measured;
        eprintln!(
            "{:>10.0}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
            m.items_per_second, m.p50_ms, m.p99_ms, m.errors
        );
        if let Some(e) = &m.first_error {
            eprintln!("    first error: {e}");
        }
        Ok((
            Workload {
                name: name.to_owned(),
                kind: kind.to_owned(),
                process: process.to_owned(),
                clients,
                subjects: None,
                measured: run.measured.clone(),
                cpu_seconds,
                peak_rss_mib,
                ratios: BTreeMap::new(),
            },
            run,
        ))
    }

    async fn run(
        &self,
        backend: Backend,
        rekisteri: &std::path::Path,
        register_file: &std::path::Path,
        sizes: &[u64],
    ) -> anyhow::Result<DatabaseRun> {
        let database = match backend {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        };
        eprintln!("{database}: starting NATS and the services");
        let system = System::start(backend, rekisteri, &self.prh_url).await?;
        let register = system.publish_example_register(register_file).await?;
        let vacuum = system.vacuum_like_autovacuum().await?;
        if vacuum.is_some() {
            eprintln!(
                "  PostgreSQL has autovacuum off: the harness vacuums every 30 s as it would"
            );
        }
        // Settle: the services have just started and answered their first calls.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let tenths = |mib: f64| (mib * 10.0).round() / 10.0;
        let idle: Vec<(String, ProcStats)> = processes(&system, self.echo_pid, self.prh_pid)
            .into_iter()
            .map(|(name, pid)| (name, ProcStats::read(pid)))
            .collect();
        let idle_memory_mib = idle
            .iter()
            .map(|(name, stats)| (name.clone(), tenths(stats.rss_mib)))
            .collect();
        let idle_anonymous_mib = idle
            .iter()
            .map(|(name, stats)| (name.clone(), tenths(stats.anonymous_mib)))
            .collect();
        let result = self.workloads(&system, &register, sizes).await;
        if let Some(vacuum) = &vacuum {
            vacuum.abort();
        }
        let (workloads, offered_load, stream_ok) = match result {
            Ok(r) => r,
            Err(e) => {
                for s in &system.services {
                    eprintln!(
                        "--- {} log ---\n{}",
                        s.name,
                        std::fs::read_to_string(&s.log).unwrap_or_default()
                    );
                }
                system.stop().await;
                return Err(e);
            }
        };
        system.stop().await;
        Ok(DatabaseRun {
            database: database.into(),
            idle_memory_mib,
            idle_anonymous_mib,
            workloads,
            offered_load,
            stream_holds_every_acknowledged_disclosure: stream_ok,
            harness_vacuums: vacuum.is_some(),
        })
    }

    async fn workloads(
        &self,
        system: &System,
        register: &str,
        sizes: &[u64],
    ) -> anyhow::Result<(Vec<Workload>, Vec<LoadPoint>, Option<bool>)> {
        let backend = system.backend;
        let c = self.clients;
        let mut out: Vec<Workload> = Vec::new();
        let ratio = |w: &mut Workload, ceiling: &str, of: &Measured| {
            if of.items_per_second > 0.0 {
                w.ratios.insert(
                    ceiling.to_owned(),
                    (w.measured.items_per_second / of.items_per_second * 100.0).round() / 100.0,
                );
            }
        };

        // ----- the gRPC ceilings -----
        let (health, _) = self
            .measure(
                system,
                "Health/Check, customers (gRPC ceiling)",
                ("ceiling", "customers"),
                c,
                workloads::health(system, "customers", c, self.time()),
            )
            .await?;
        let health_m = health.measured.clone();
        out.push(health);

        let mut points = Vec::new();
        let mut stream_ok = None;
        if self.only.catalogue {
            // ----- catalogue reads -----
            for (name, read) in [
                ("catalogue GetRegister", true),
                ("catalogue ListRegisters", false),
            ] {
                let (mut w, run) = self
                    .measure(system, name, ("service", "catalogue"), c, async {
                        if read {
                            workloads::get_register(system, register, c, self.time()).await
                        } else {
                            workloads::list_registers(system, c, self.time()).await
                        }
                    })
                    .await?;
                let (echo, _) = self
                    .measure(
                        system,
                        &format!("echo, sizes of {name} (gRPC ceiling)"),
                        ("ceiling", "echo"),
                        c,
                        self.echo(&run, c),
                    )
                    .await?;
                ratio(&mut w, "Health/Check", &health_m);
                ratio(&mut w, "echo", &echo.measured);
                out.push(w);
                out.push(echo);
            }
        }

        if self.only.customers {
            // ----- customers -----
            let created: workloads::Created = Arc::new(Mutex::new(Vec::new()));
            let customer_db =
                ceilings::DirectDb::fresh::<rekisteri_customers::migration::Migrator>(backend)
                    .await?;
            let (db_create, _) = self
                .measure(
                    system,
                    "customers: direct inserts (database ceiling)",
                    ("ceiling", database_process(system.backend)),
                    c,
                    async {
                        let measured = ceilings::customers_direct(
                            &customer_db,
                            c,
                            self.time(),
                            subject_created_envelope_bytes(),
                        )
                        .await?;
                        Ok(Run::sizeless(measured))
                    },
                )
                .await?;
            drop(customer_db);
            let mut filled = 0u64;
            let mut first_subject = None;
            for (i, &size) in sizes.iter().enumerate() {
                let name = if i == 0 {
                    "customers CreatePerson".to_owned()
                } else {
                    format!("customers CreatePerson (filling to {size})")
                };
                let (mut w, _) = self
                    .measure(
                        system,
                        &name,
                        ("service", "customers"),
                        c,
                        workloads::create_person(
                            system,
                            register,
                            filled,
                            c,
                            Limit::Calls(size - filled),
                            created.clone(),
                        ),
                    )
                    .await?;
                filled = size;
                w.subjects = Some(size);
                ratio(&mut w, "database", &db_create.measured);
                out.push(w);
                if i == 0 {
                    first_subject = created
                        .lock()
                        .expect("not poisoned")
                        .first()
                        .map(|(_, id, _)| id.clone());
                    let (mut w, _) = self
                        .measure(
                            system,
                            "customers UpdatePerson (with etag)",
                            ("service", "customers"),
                            c,
                            workloads::update_person(system, created.clone(), c),
                        )
                        .await?;
                    w.subjects = Some(size);
                    // No ratio: the database ceiling is inserts, an update is not one.

                    out.push(w);
                }
                created.lock().expect("not poisoned").clear();
                let subject = first_subject.clone().context("a person was created")?;
                let (mut w, run) = self
                    .measure(
                        system,
                        "customers GetSubject",
                        ("service", "customers"),
                        c,
                        workloads::get_subject(system, &subject, c, self.time()),
                    )
                    .await?;
                w.subjects = Some(size);
                let (echo, _) = self
                    .measure(
                        system,
                        "echo, sizes of GetSubject (gRPC ceiling)",
                        ("ceiling", "echo"),
                        c,
                        self.echo(&run, c),
                    )
                    .await?;
                ratio(&mut w, "Health/Check", &health_m);
                ratio(&mut w, "echo", &echo.measured);
                out.push(w);
                out.push(echo.clone());
                let known: Arc<Vec<u64>> =
                    Arc::new((0..size).step_by((size / 1000).max(1) as usize).collect());
                let (mut w, _) = self
                    .measure(
                        system,
                        "customers FindSubjects by identity code",
                        ("service", "customers"),
                        c,
                        workloads::find_by_hetu(system, known, c, self.time()),
                    )
                    .await?;
                w.subjects = Some(size);
                ratio(&mut w, "Health/Check", &health_m);
                ratio(&mut w, "echo", &echo.measured);
                out.push(w);
            }
            out.push(db_create);

            // ----- latency against offered load (GetSubject) -----
            let peak = out
                .iter()
                .filter(|w| w.name == "customers GetSubject")
                .map(|w| w.measured.items_per_second)
                .next_back()
                .unwrap_or(1000.0);
            let subject = first_subject.context("a person was created")?;
            let fractions: &[f64] = if self.quick {
                &[0.25, 0.5, 0.9]
            } else {
                &[0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 1.2]
            };
            let point_time = if self.quick {
                Duration::from_secs(1)
            } else {
                Duration::from_secs(4)
            };
            eprintln!("  GetSubject at offered load (peak {peak:.0}/s):");
            for f in fractions {
                let rate = peak * f;
                let measured =
                    workloads::get_subject_at_rate(system, &subject, rate, point_time).await?;
                eprintln!(
                    "    {rate:>8.0}/s offered: p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
                    measured.p50_ms, measured.p99_ms, measured.errors
                );
                points.push(LoadPoint {
                    offered_per_second: rate,
                    measured,
                });
            }
        }

        if self.only.enrichment {
            // ----- enrichment -----
            // Warm: the same business again and again, answered from the cache (each lookup still
            // records its provenance). Cold: a new business each time, fetched from the PRH
            // stand-in, read against the stand-in asked directly over HTTP by as many clients.
            let (mut warm, run) = self
                .measure(
                    system,
                    "enrichment LookupBusiness, warm cache",
                    ("service", "enrichment"),
                    c,
                    workloads::lookup_business_warm(system, register, c, self.time()),
                )
                .await?;
            let (echo, _) = self
                .measure(
                    system,
                    "echo, sizes of LookupBusiness (gRPC ceiling)",
                    ("ceiling", "echo"),
                    c,
                    self.echo(&run, c),
                )
                .await?;
            ratio(&mut warm, "gRPC echo", &echo.measured);
            ratio(&mut warm, "Health/Check", &health_m);
            out.push(warm);
            out.push(echo);
            let (mut cold, _) = self
                .measure(
                    system,
                    "enrichment LookupBusiness, cold (PRH stand-in)",
                    ("service", "enrichment"),
                    c,
                    workloads::lookup_business_cold(system, register, c, self.time()),
                )
                .await?;
            let (source, _) = self
                .measure(
                    system,
                    "PRH stand-in over HTTP (source ceiling)",
                    ("ceiling", "prh-mock"),
                    c,
                    async {
                        let measured = ceilings::http_source(&self.prh_url, c, self.time()).await?;
                        Ok(Run::sizeless(measured))
                    },
                )
                .await?;
            ratio(&mut cold, "source", &source.measured);
            out.push(cold);
            out.push(source);
        }

        // The event-bus ceiling, for the disclosures and the relay.
        let envelope_bytes = disclosure_envelope_bytes();
        let js = if self.only.disclosures || self.only.relay {
            let (js, _) = self
                .measure(
                    system,
                    "JetStream publish, 500 acks in flight (event-bus ceiling)",
                    ("ceiling", "nats-server"),
                    1,
                    async {
                        let measured =
                            ceilings::jetstream(&system.nats, envelope_bytes, 500, self.time())
                                .await?;
                        Ok(Run::sizeless(measured))
                    },
                )
                .await?;
            Some(js)
        } else {
            None
        };

        if self.only.disclosures {
            let js = js.as_ref().context("the JetStream ceiling")?;
            // ----- disclosures -----
            let db_batch = self
                .disclosures_ceiling(system, 100, self.batch_clients, envelope_bytes)
                .await?;
            let db_single = self
                .disclosures_ceiling(system, 1, c, envelope_bytes)
                .await?;
            let stream_before = disclosure_stream_count(system).await?;
            let mut acknowledged = 0u64;
            for (name, batch, clients, db_ceiling) in [
                ("disclosures RecordDisclosures, 1 a call", 1, c, &db_single),
                (
                    "disclosures RecordDisclosures, 100 a call",
                    100,
                    self.batch_clients,
                    &db_batch,
                ),
            ] {
                let (mut w, _) = self
                    .measure(
                        system,
                        name,
                        ("service", "disclosures"),
                        clients,
                        workloads::record_disclosures(
                            system,
                            register,
                            batch,
                            clients,
                            self.time(),
                        ),
                    )
                    .await?;
                acknowledged += w.measured.items;
                ratio(&mut w, "database", &db_ceiling.measured);
                ratio(&mut w, "JetStream", &js.measured);
                out.push(w);
            }
            out.push(db_single);
            out.push(db_batch);
            // Every acknowledged entry must reach the stream: wait for the relay to catch up.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
            let held = loop {
                let on_stream = disclosure_stream_count(system).await? - stream_before;
                if on_stream >= acknowledged {
                    break on_stream == acknowledged;
                }
                if tokio::time::Instant::now() > deadline {
                    eprintln!(
                        "  only {on_stream} of {acknowledged} acknowledged disclosures reached the stream"
                    );
                    break false;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            eprintln!("  every acknowledged disclosure on the stream: {held}");
            stream_ok = Some(held);
        }

        if self.only.relay {
            let js = js.as_ref().context("the JetStream ceiling")?;

            // The relay alone (in this process), draining a backlog written beforehand while it was
            // away, against the same ceiling; after the disclosure service's relay has caught up,
            // so that the two do not share NATS.
            let events = if self.quick { 20_000 } else { 100_000 };
            let backlog = workloads::relay_backlog(&system.nats, backend, events, 500).await?;
            let (mut relay, _) = self
                .measure(
                    system,
                    &format!("outbox relay draining {events} events, 500 a round"),
                    ("platform", "rekisteri-bench"),
                    1,
                    workloads::relay_drain(&system.nats, &backlog),
                )
                .await?;
            drop(backlog);
            ratio(&mut relay, "JetStream", &js.measured);
            out.push(relay);
        }
        out.extend(js);
        Ok((out, points, stream_ok))
    }

    /// The disclosures' database ceiling: their rows inserted directly, `batch` a transaction,
    /// on a fresh database of the service's schema.
    async fn disclosures_ceiling(
        &self,
        system: &System,
        batch: usize,
        clients: usize,
        envelope_bytes: usize,
    ) -> anyhow::Result<Workload> {
        let db =
            ceilings::DirectDb::fresh::<rekisteri_disclosures::migration::Migrator>(system.backend)
                .await?;
        let (ceiling, _) = self
            .measure(
                system,
                &format!("disclosures: direct inserts, {batch} a transaction (database ceiling)"),
                ("ceiling", database_process(system.backend)),
                clients,
                async {
                    let measured = ceilings::disclosures_direct(
                        &db,
                        clients,
                        self.time(),
                        batch,
                        envelope_bytes,
                    )
                    .await?;
                    Ok(Run::sizeless(measured))
                },
            )
            .await?;
        Ok(ceiling)
    }

    async fn echo(&self, like: &Run, clients: usize) -> anyhow::Result<Run> {
        let measured = ceilings::echo(
            &self.echo_endpoint,
            clients,
            self.time(),
            like.request_bytes,
            like.response_bytes,
            1,
        )
        .await?;
        Ok(Run {
            measured,
            request_bytes: like.request_bytes,
            response_bytes: like.response_bytes,
        })
    }
}

/// The size of one SubjectCreated envelope as the customer service writes it for a person.
fn subject_created_envelope_bytes() -> usize {
    use prost::Message as _;
    use rekisteri_proto::events::v1::{SubjectCreated, event_envelope::Payload};
    rekisteri_platform::outbox::envelope(
        "customers",
        "rekisteri.customers.subject_created.v1",
        "bench",
        Payload::SubjectCreated(SubjectCreated {
            subject_id: uuid::Uuid::now_v7().to_string(),
            kind: "person".into(),
            business_id: None,
            register_ids: vec![uuid::Uuid::now_v7().to_string()],
        }),
    )
    .encoded_len()
}

/// The size of one DisclosureRecorded envelope as the disclosure service writes it for the
/// workload's disclosures.
fn disclosure_envelope_bytes() -> usize {
    use prost::Message as _;
    use rekisteri_proto::events::v1::{DisclosureRecorded, event_envelope::Payload};
    rekisteri_platform::outbox::envelope(
        "disclosures",
        "rekisteri.disclosures.disclosure_recorded.v1",
        "bench",
        Payload::DisclosureRecorded(DisclosureRecorded {
            sequence: 123_456,
            disclosure_id: uuid::Uuid::now_v7().to_string(),
            disclosed_time: Some(prost_types::Timestamp::default()),
            recipient_name: "Viranomaiset".into(),
            recipient_business_id: String::new(),
            recipient_country_code: "FI".into(),
            subject_pseudonyms: vec!["0".repeat(32)],
            register_id: uuid::Uuid::now_v7().to_string(),
            register_version: 1,
            data_categories: vec!["contact_details".into()],
            purpose: "Viranomaisen tietopyyntö".into(),
            legal_basis: "LEGAL_BASIS_LEGAL_OBLIGATION".into(),
            channel: "api".into(),
            regular: true,
            transfer: "none".into(),
            flags: vec![],
        }),
    )
    .encoded_len()
}

/// Where the database ceilings' CPU time shows: PostgreSQL's own processes; SQLite runs inside
/// the harness.
fn database_process(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "postgres",
        Backend::Sqlite => "rekisteri-bench",
    }
}

/// CPU seconds of every process named `postgres` (the server and its backends).
fn postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(|e| e.ok()?.file_name().into_string().ok()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(|pid| ProcStats::read(pid).cpu_seconds)
        .sum()
}

/// DisclosureRecorded messages on REKISTERI_DISCLOSURES.
async fn disclosure_stream_count(system: &System) -> anyhow::Result<u64> {
    let js = async_nats::jetstream::new(system.nats.client().await);
    match js.get_stream("REKISTERI_DISCLOSURES").await {
        Ok(mut stream) => Ok(stream.info().await?.state.messages),
        Err(_) => Ok(0),
    }
}
