//! `rekisteri status`, `rekisteri outbox ...` and `rekisteri dead-letters ...`: the operations
//! service every service serves, for operators.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rekisteri_cli::services::{self, ServiceEntry};
use rekisteri_platform::auth::BearerToken;
use rekisteri_proto::operations::v1 as pb;
use rekisteri_proto::operations::v1::operations_service_client::OperationsServiceClient;
use serde_json::json;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Client = OperationsServiceClient<InterceptedService<Channel, BearerToken>>;

/// Which service, and how to reach it.
#[derive(Debug, Args)]
pub struct Target {
    /// The service to ask: catalogue, customers, enrichment or disclosures.
    #[arg(long, global = true, value_parser = services::parse, default_value = "catalogue")]
    service: &'static ServiceEntry,
    /// Its gRPC endpoint; by default the port `rekisteri up` gives it on 127.0.0.1.
    #[arg(long, global = true)]
    endpoint: Option<String>,
    /// Bearer token with the `operator` (or `admin`) role; without one, the admin token `rekisteri
    /// up` left in --data-dir is used.
    #[arg(long, global = true, env = "REKISTERI_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[arg(long, global = true, default_value = crate::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
}

impl Target {
    fn endpoint(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("http://127.0.0.1:{}", self.service.default_port))
    }

    async fn client(&self) -> anyhow::Result<Client> {
        let bearer = crate::connect::bearer(self.token.as_deref(), &self.data_dir)?;
        let what = format!("{} service", self.service.name());
        let channel = crate::connect::channel(&self.endpoint(), &what).await?;
        Ok(OperationsServiceClient::with_interceptor(channel, bearer))
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Args)]
pub struct OutboxArgs {
    #[command(flatten)]
    target: Target,
    #[command(subcommand)]
    command: OutboxCommand,
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// List events the relay stopped retrying, with their last error.
    Parked {
        #[arg(long, default_value_t = 100)]
        limit: i32,
    },
    /// Put parked events back in line (after fixing their cause, e.g. declaring the stream).
    #[command(group(clap::ArgGroup::new("which").required(true).args(["event_ids", "all"])))]
    Retry {
        /// Event ids from `outbox parked`.
        event_ids: Vec<String>,
        /// Every parked event.
        #[arg(long, conflicts_with = "event_ids")]
        all: bool,
    },
}

#[derive(Debug, Args)]
pub struct DeadLetterArgs {
    #[command(flatten)]
    target: Target,
    #[command(subcommand)]
    command: DeadLetterCommand,
}

#[derive(Debug, Subcommand)]
enum DeadLetterCommand {
    /// List messages a consumer gave up on, with the error.
    List {
        #[arg(long, default_value_t = 100)]
        limit: i32,
    },
    /// Apply dead letters again through their consumer (after fixing their cause).
    #[command(group(clap::ArgGroup::new("which").required(true).args(["ids", "all"])))]
    Replay {
        /// Dead letter ids from `dead-letters list`.
        ids: Vec<String>,
        /// Every dead letter.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

fn time(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn print_json(value: serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(&value).expect("JSON values serialise")
    );
}

pub async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let target = &args.target;
    let s = target
        .client()
        .await?
        .get_status(pb::GetStatusRequest {})
        .await?
        .into_inner();
    if target.json {
        print_json(json!({
            "service": s.service,
            "database_reachable": s.database_reachable,
            "nats_state": s.nats_state,
            "outbox_pending": s.outbox_pending,
            "oldest_pending_time": (s.oldest_pending_time.is_some()).then(|| time(s.oldest_pending_time.as_ref())),
            "oldest_pending_age_seconds": s.oldest_pending_age_seconds,
            "outbox_parked": s.outbox_parked,
            "dead_letters": s.dead_letters,
            "consumers": s.consumers,
            "dependencies": s.dependencies.iter().map(|d| json!({"name": d.name, "state": d.state, "detail": d.detail})).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    println!("Service      {} at {}", s.service, target.endpoint());
    println!(
        "Database     {}",
        if s.database_reachable {
            "reachable"
        } else {
            "UNREACHABLE"
        }
    );
    println!("NATS         {}", s.nats_state);
    if s.outbox_pending > 0 {
        println!(
            "Outbox       {} waiting, the oldest {:.1} s old",
            s.outbox_pending, s.oldest_pending_age_seconds
        );
    } else {
        println!("Outbox       nothing waiting");
    }
    println!(
        "Parked       {}{}",
        s.outbox_parked,
        if s.outbox_parked > 0 {
            "   (rekisteri outbox parked)"
        } else {
            ""
        }
    );
    println!(
        "Dead letters {}{}",
        s.dead_letters,
        if s.dead_letters > 0 {
            "   (rekisteri dead-letters list)"
        } else {
            ""
        }
    );
    if !s.consumers.is_empty() {
        println!("Consumers    {}", s.consumers.join(", "));
    }
    for d in &s.dependencies {
        println!(
            "Dependency   {}: {}{}",
            d.name,
            d.state,
            if d.detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", d.detail)
            }
        );
    }
    Ok(())
}

pub async fn outbox(args: OutboxArgs) -> anyhow::Result<()> {
    let target = &args.target;
    let mut client = target.client().await?;
    match args.command {
        OutboxCommand::Parked { limit } => {
            let r = client
                .list_parked_events(pb::ListParkedEventsRequest { page_size: limit })
                .await?
                .into_inner();
            if target.json {
                print_json(json!({
                    "total_size": r.total_size,
                    "events": r.events.iter().map(|e| json!({
                        "event_id": e.event_id, "subject": e.subject, "attempts": e.attempts,
                        "last_error": e.last_error, "create_time": time(e.create_time.as_ref()),
                        "park_time": time(e.park_time.as_ref()),
                    })).collect::<Vec<_>>(),
                }));
                return Ok(());
            }
            if r.events.is_empty() {
                println!("No parked events in the {}.", target.service.name());
            }
            for e in &r.events {
                println!(
                    "{}  {}  {} attempts, parked {}\n    {}",
                    e.event_id,
                    e.subject,
                    e.attempts,
                    time(e.park_time.as_ref()),
                    e.last_error
                );
            }
            if r.total_size > r.events.len() as i64 {
                println!("({} of {} shown)", r.events.len(), r.total_size);
            }
        }
        OutboxCommand::Retry { event_ids, all } => {
            if event_ids.is_empty() && !all {
                anyhow::bail!(
                    "name the events to retry (from `rekisteri outbox parked`), or give --all"
                );
            }
            let r = client
                .retry_parked_events(pb::RetryParkedEventsRequest { event_ids, all })
                .await?
                .into_inner();
            if target.json {
                print_json(json!({ "retried": r.retried }));
            } else {
                println!("{} parked events put back in line.", r.retried);
            }
        }
    }
    Ok(())
}

pub async fn dead_letters(args: DeadLetterArgs) -> anyhow::Result<()> {
    let target = &args.target;
    let mut client = target.client().await?;
    match args.command {
        DeadLetterCommand::List { limit } => {
            let r = client
                .list_dead_letters(pb::ListDeadLettersRequest { page_size: limit })
                .await?
                .into_inner();
            if target.json {
                print_json(json!({
                    "total_size": r.total_size,
                    "dead_letters": r.dead_letters.iter().map(|d| json!({
                        "dead_letter_id": d.dead_letter_id, "consumer": d.consumer,
                        "event_id": d.event_id, "subject": d.subject, "error": d.error,
                        "deliveries": d.deliveries, "create_time": time(d.create_time.as_ref()),
                    })).collect::<Vec<_>>(),
                }));
                return Ok(());
            }
            if r.dead_letters.is_empty() {
                println!("No dead letters in the {}.", target.service.name());
            }
            for d in &r.dead_letters {
                println!(
                    "{}  {}  {} (event {}), {} deliveries, {}\n    {}",
                    d.dead_letter_id,
                    d.consumer,
                    d.subject,
                    d.event_id,
                    d.deliveries,
                    time(d.create_time.as_ref()),
                    d.error
                );
            }
        }
        DeadLetterCommand::Replay { ids, all } => {
            if ids.is_empty() && !all {
                anyhow::bail!(
                    "name the dead letters to replay (from `rekisteri dead-letters list`), or give --all"
                );
            }
            let r = client
                .replay_dead_letters(pb::ReplayDeadLettersRequest {
                    dead_letter_ids: ids,
                    all,
                })
                .await?
                .into_inner();
            if target.json {
                print_json(json!({
                    "outcomes": r.outcomes.iter().map(|o| json!({
                        "dead_letter_id": o.dead_letter_id, "applied": o.applied,
                        "error": (!o.error.is_empty()).then(|| o.error.clone()),
                    })).collect::<Vec<_>>(),
                }));
                return Ok(());
            }
            for o in &r.outcomes {
                if o.applied {
                    println!("{}  applied", o.dead_letter_id);
                } else {
                    println!("{}  failed again: {}", o.dead_letter_id, o.error);
                }
            }
            let failed = r.outcomes.iter().filter(|o| !o.applied).count();
            if failed > 0 {
                anyhow::bail!("{failed} of {} dead letters failed again", r.outcomes.len());
            }
        }
    }
    Ok(())
}
