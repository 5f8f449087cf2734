//! `rekisteri disclosures ...`: record and list disclosures, and audit the log from outside.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use rekisteri_disclosures::audit::{self, AuditClient, SavedCheckpoint};
use rekisteri_disclosures::log::flag_name;
use rekisteri_proto::catalogue::v1::LegalBasis;
use rekisteri_proto::common::v1::PageRequest;
use rekisteri_proto::disclosures::v1 as pb;
use rekisteri_proto::disclosures::v1::disclosure_service_client::DisclosureServiceClient;
use serde_json::json;

#[derive(Debug, Args)]
pub struct DisclosuresArgs {
    /// The disclosure service's gRPC endpoint.
    #[arg(
        long,
        global = true,
        env = "REKISTERI_DISCLOSURES_ENDPOINT",
        default_value = "http://127.0.0.1:50054"
    )]
    endpoint: String,
    /// Bearer token; without one, the admin token `rekisteri up` left in --data-dir is used.
    #[arg(long, global = true, env = "REKISTERI_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[arg(long, global = true, default_value = crate::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Print machine-readable JSON instead of text for people.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Basis {
    Consent,
    Contract,
    #[value(alias = "legal_obligation")]
    LegalObligation,
    #[value(alias = "vital_interests")]
    VitalInterests,
    #[value(alias = "public_task")]
    PublicTask,
    #[value(alias = "legitimate_interests")]
    LegitimateInterests,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ChannelArg {
    Api,
    #[value(alias = "file_transfer")]
    FileTransfer,
    Email,
    Paper,
    Oral,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FlagArg {
    #[value(alias = "irregular_disclosure")]
    IrregularDisclosure,
    #[value(alias = "transfer_without_safeguard")]
    TransferWithoutSafeguard,
    #[value(alias = "undeclared_category")]
    UndeclaredCategory,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record one disclosure.
    Record {
        /// Who received the data.
        #[arg(long)]
        recipient: String,
        /// The recipient's business ID (checked when the country is FI).
        #[arg(long)]
        business_id: Option<String>,
        /// The recipient's country, ISO 3166-1 alpha-2.
        #[arg(long, default_value = "FI")]
        country: String,
        /// A customer subject id whose data was disclosed (repeatable).
        #[arg(long = "subject", required = true)]
        subjects: Vec<String>,
        /// The register the data was disclosed from (its id in the catalogue).
        #[arg(long)]
        register: String,
        /// The published register version the disclosure was made under.
        #[arg(long)]
        version: u32,
        /// A data category key disclosed (repeatable).
        #[arg(long = "category", required = true)]
        categories: Vec<String>,
        /// Why the data was disclosed, e.g. "Saatavien perintä".
        #[arg(long)]
        purpose: String,
        /// The legal basis of the disclosure.
        #[arg(long, value_enum)]
        basis: Basis,
        /// How the data left.
        #[arg(long, value_enum, default_value = "api")]
        channel: ChannelArg,
    },
    /// List disclosures, oldest first (subjects by pseudonym).
    List {
        /// Only disclosures to this recipient (its name exactly as recorded).
        #[arg(long)]
        recipient: Option<String>,
        /// Only disclosures from this register.
        #[arg(long)]
        register: Option<String>,
        /// Only disclosures with this flag.
        #[arg(long, value_enum)]
        flag: Option<FlagArg>,
        #[arg(long, default_value_t = 50)]
        page_size: i32,
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// Counts per recipient, register, purpose, month and flag.
    Summary,
    /// One customer's disclosures with their inclusion proofs (an access request).
    Subject { subject_id: String },
    /// Sign a checkpoint of the log now and print it; --save keeps it for a later verify.
    Checkpoint {
        /// A file to keep it in, for `verify --checkpoint FILE` later.
        #[arg(long, value_name = "FILE")]
        save: Option<PathBuf>,
    },
    /// Follow the analysts' stream of recorded disclosures (subjects by pseudonym), from now, a
    /// time or a stream sequence; reads NATS directly, with no token of the service.
    Tail {
        /// NATS to read REKISTERI_DISCLOSURES from [default: the NATS `rekisteri up` uses for
        /// --data-dir, else nats://127.0.0.1:4222].
        #[arg(long, env = "REKISTERI_NATS_URL")]
        nats_url: Option<String>,
        #[arg(long, env = "REKISTERI_NATS_TOKEN", hide_env_values = true)]
        nats_token: Option<String>,
        /// Replay from this time on: RFC 3339 (2026-12-01T00:00:00Z) or an age (30m, 12h, 7d).
        #[arg(long, conflicts_with = "from_sequence")]
        since: Option<String>,
        /// Replay from this stream sequence on.
        #[arg(long)]
        from_sequence: Option<u64>,
        /// Stop after this many disclosures (default: follow until Ctrl-C).
        #[arg(long)]
        count: Option<u64>,
    },
    /// Verify the running log from outside against a checkpoint saved earlier: the signature,
    /// that the log only grew, and every entry. The newest verified checkpoint is saved back.
    Verify {
        /// The auditor's own file of the last verified checkpoint and the service's public key
        /// (made by the first run with --trust-first-use, updated by each run after).
        #[arg(long, value_name = "FILE")]
        checkpoint: PathBuf,
        /// The first audit, when there is no saved checkpoint yet: take the service's key and
        /// checkpoint on trust and save them (without this flag a missing file is an error, so
        /// a mistyped path never weakens the check).
        #[arg(long)]
        trust_first_use: bool,
    },
}

fn print_entry(e: &pb::LogEntry) {
    let recipient = e.recipient.clone().unwrap_or_default();
    let classification = e.classification.clone().unwrap_or_default();
    let when = e
        .disclosed_time
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let flags: Vec<String> = classification.flags.iter().map(|f| flag_name(*f)).collect();
    println!(
        "#{:<6} {when}  {} ({}) {}  register {} v{}  {} subject(s)  {}{}",
        e.sequence,
        recipient.name,
        recipient.country_code,
        e.purpose,
        e.register_id,
        e.register_version,
        e.subject_pseudonyms.len(),
        if classification.regular {
            "regular"
        } else {
            "IRREGULAR"
        },
        if flags.is_empty() {
            String::new()
        } else {
            format!("  flags: {}", flags.join(", "))
        }
    );
}

/// `--since`: an RFC 3339 time, or an age such as 30m, 12h or 7d.
fn parse_since(since: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(since) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    let (number, unit) = since.split_at(since.len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| {
        anyhow::anyhow!("--since `{since}`: an RFC 3339 time or an age like 30m, 12h, 7d")
    })?;
    let age = match unit {
        "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => anyhow::bail!("--since `{since}`: an age ends in s, m, h or d"),
    };
    Ok(chrono::Utc::now() - age)
}

async fn tail(
    nats_url: &str,
    nats_token: Option<&str>,
    since: Option<String>,
    from_sequence: Option<u64>,
    count: Option<u64>,
    json: bool,
) -> anyhow::Result<()> {
    use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
    use futures::StreamExt as _;
    use prost::Message as _;
    use rekisteri_proto::events::v1::{EventEnvelope, event_envelope::Payload};

    let deliver_policy = match (since, from_sequence) {
        (Some(since), _) => {
            let at = parse_since(&since)?;
            let nanos = i128::from(at.timestamp()) * 1_000_000_000
                + i128::from(at.timestamp_subsec_nanos());
            DeliverPolicy::ByStartTime {
                start_time: time::OffsetDateTime::from_unix_timestamp_nanos(nanos)?,
            }
        }
        (None, Some(sequence)) => DeliverPolicy::ByStartSequence {
            start_sequence: sequence,
        },
        (None, None) => DeliverPolicy::New,
    };
    let mut options = async_nats::ConnectOptions::new().name("rekisteri-disclosures-tail");
    if let Some(token) = nats_token {
        options = options.token(token.to_owned());
    }
    let client = options
        .connect(nats_url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach NATS at {nats_url}: {e}"))?;
    let js = async_nats::jetstream::new(client);
    let stream = js
        .get_stream(rekisteri_disclosures::events::STREAM.name)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "no stream {} at {nats_url}: {e}",
                rekisteri_disclosures::events::STREAM.name
            )
        })?;
    // An ordered consumer: no state on the server, gone when this command ends.
    let consumer = stream
        .create_consumer(OrderedConfig {
            filter_subject: rekisteri_disclosures::events::RECORDED.into(),
            deliver_policy,
            ..Default::default()
        })
        .await?;
    let mut messages = consumer.messages().await?;
    let mut seen = 0u64;
    while count.is_none_or(|c| seen < c) {
        let Some(message) = messages.next().await else {
            break;
        };
        let message = message?;
        let stream_sequence = message
            .info()
            .map(|i| i.stream_sequence)
            .unwrap_or_default();
        let envelope = EventEnvelope::decode(message.payload.clone())?;
        let Some(Payload::DisclosureRecorded(d)) = envelope.payload else {
            continue;
        };
        seen += 1;
        let when = d
            .disclosed_time
            .as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        if json {
            println!(
                "{}",
                json!({
                    "stream_sequence": stream_sequence,
                    "event_id": envelope.event_id,
                    "sequence": d.sequence,
                    "disclosure_id": d.disclosure_id,
                    "disclosed_time": when,
                    "recipient": d.recipient_name,
                    "recipient_business_id": d.recipient_business_id,
                    "country": d.recipient_country_code,
                    "subject_pseudonyms": d.subject_pseudonyms,
                    "register_id": d.register_id,
                    "register_version": d.register_version,
                    "data_categories": d.data_categories,
                    "purpose": d.purpose,
                    "legal_basis": d.legal_basis,
                    "channel": d.channel,
                    "regular": d.regular,
                    "transfer": d.transfer,
                    "flags": d.flags,
                })
            );
        } else {
            println!(
                "#{:<6} {when}  {} ({})  {}  register {} v{}  {} subject(s){}{}",
                d.sequence,
                d.recipient_name,
                d.recipient_country_code,
                d.purpose,
                d.register_id,
                d.register_version,
                d.subject_pseudonyms.len(),
                if d.regular { "" } else { "  IRREGULAR" },
                if d.flags.is_empty() {
                    String::new()
                } else {
                    format!("  flags: {}", d.flags.join(", "))
                }
            );
        }
    }
    Ok(())
}

pub async fn run(args: DisclosuresArgs) -> anyhow::Result<()> {
    if let Command::Tail {
        nats_url,
        nats_token,
        since,
        from_sequence,
        count,
    } = args.command
    {
        let nats_url = nats_url
            .or_else(|| rekisteri_cli::services::local_nats_url(&args.data_dir))
            .unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned());
        return tail(
            &nats_url,
            nats_token.as_deref(),
            since,
            from_sequence,
            count,
            args.json,
        )
        .await;
    }
    let bearer = crate::connect::bearer(args.token.as_deref(), &args.data_dir)?;
    let channel = crate::connect::channel(&args.endpoint, "disclosure service").await?;
    let mut client: AuditClient = DisclosureServiceClient::with_interceptor(channel, bearer);
    let json = args.json;
    match args.command {
        Command::Record {
            recipient,
            business_id,
            country,
            subjects,
            register,
            version,
            categories,
            purpose,
            basis,
            channel,
        } => {
            let legal_basis = match basis {
                Basis::Consent => LegalBasis::Consent,
                Basis::Contract => LegalBasis::Contract,
                Basis::LegalObligation => LegalBasis::LegalObligation,
                Basis::VitalInterests => LegalBasis::VitalInterests,
                Basis::PublicTask => LegalBasis::PublicTask,
                Basis::LegitimateInterests => LegalBasis::LegitimateInterests,
            };
            let channel = match channel {
                ChannelArg::Api => pb::Channel::Api,
                ChannelArg::FileTransfer => pb::Channel::FileTransfer,
                ChannelArg::Email => pb::Channel::Email,
                ChannelArg::Paper => pb::Channel::Paper,
                ChannelArg::Oral => pb::Channel::Oral,
            };
            let subject_count = subjects.len();
            let entries = client
                .record_disclosures(pb::RecordDisclosuresRequest {
                    disclosures: vec![pb::Disclosure {
                        recipient: Some(pb::Recipient {
                            name: recipient,
                            business_id: business_id.unwrap_or_default(),
                            country_code: country,
                        }),
                        subject_ids: subjects,
                        register_id: register,
                        register_version: version,
                        data_categories: categories,
                        purpose,
                        legal_basis: legal_basis as i32,
                        channel: channel as i32,
                        disclosed_time: None,
                        disclosure_id: String::new(),
                    }],
                })
                .await?
                .into_inner()
                .entries;
            for e in &entries {
                if json {
                    let c = e.classification.clone().unwrap_or_default();
                    println!(
                        "{}",
                        json!({
                            "sequence": e.sequence,
                            "disclosure_id": e.disclosure_id,
                            "regular": c.regular,
                            "flags": c.flags.iter().map(|f| flag_name(*f)).collect::<Vec<_>>(),
                            "subject_pseudonyms": e.subject_pseudonyms,
                            "leaf_hash": hex::encode(&e.leaf_hash),
                        })
                    );
                } else {
                    // The answer leaves the pseudonyms out (the recorder must not hold the
                    // link); the count is what was sent.
                    let mut shown = e.clone();
                    shown.subject_pseudonyms = vec![String::new(); subject_count];
                    print!("Recorded ");
                    print_entry(&shown);
                }
            }
        }
        Command::List {
            recipient,
            register,
            flag,
            page_size,
            page_token,
        } => {
            let flag = flag.map_or(pb::Flag::Unspecified, |f| match f {
                FlagArg::IrregularDisclosure => pb::Flag::IrregularDisclosure,
                FlagArg::TransferWithoutSafeguard => pb::Flag::TransferWithoutSafeguard,
                FlagArg::UndeclaredCategory => pb::Flag::UndeclaredCategory,
            });
            let answer = client
                .list_disclosures(pb::ListDisclosuresRequest {
                    recipient_name: recipient.unwrap_or_default(),
                    register_id: register.unwrap_or_default(),
                    flag: flag as i32,
                    page: Some(PageRequest {
                        page_size,
                        page_token,
                    }),
                    ..Default::default()
                })
                .await?
                .into_inner();
            let page = answer.page.unwrap_or_default();
            if json {
                let entries: Vec<_> = answer
                    .entries
                    .iter()
                    .map(|e| {
                        let r = e.recipient.clone().unwrap_or_default();
                        let c = e.classification.clone().unwrap_or_default();
                        json!({
                            "sequence": e.sequence,
                            "disclosure_id": e.disclosure_id,
                            "recipient": r.name,
                            "country": r.country_code,
                            "register_id": e.register_id,
                            "register_version": e.register_version,
                            "purpose": e.purpose,
                            "subject_pseudonyms": e.subject_pseudonyms,
                            "regular": c.regular,
                            "flags": c.flags.iter().map(|f| flag_name(*f)).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "entries": entries,
                        "total_size": page.total_size,
                        "next_page_token": page.next_page_token,
                    }))?
                );
            } else {
                for e in &answer.entries {
                    print_entry(e);
                }
                println!(
                    "{} of {} disclosures",
                    answer.entries.len(),
                    page.total_size
                );
                if !page.next_page_token.is_empty() {
                    println!("more: --page-token {}", page.next_page_token);
                }
            }
        }
        Command::Summary => {
            let s = client
                .summarize_disclosures(pb::SummarizeDisclosuresRequest::default())
                .await?
                .into_inner();
            let table = |counts: &[pb::Count]| -> Vec<serde_json::Value> {
                counts
                    .iter()
                    .map(|c| json!({"key": c.key, "disclosures": c.disclosures}))
                    .collect()
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "total": s.total,
                        "by_recipient": table(&s.by_recipient),
                        "by_register": table(&s.by_register),
                        "by_purpose": table(&s.by_purpose),
                        "by_month": table(&s.by_month),
                        "by_flag": table(&s.by_flag),
                    }))?
                );
            } else {
                println!("{} disclosures", s.total);
                for (title, counts) in [
                    ("recipient", &s.by_recipient),
                    ("register", &s.by_register),
                    ("purpose", &s.by_purpose),
                    ("month", &s.by_month),
                    ("flag", &s.by_flag),
                ] {
                    println!("by {title}:");
                    for c in counts {
                        println!("  {:>8}  {}", c.disclosures, c.key);
                    }
                }
            }
        }
        Command::Subject { subject_id } => {
            let answer = client
                .get_subject_disclosures(pb::GetSubjectDisclosuresRequest { subject_id })
                .await?
                .into_inner();
            if json {
                let items: Vec<_> = answer
                    .disclosures
                    .iter()
                    .map(|d| {
                        let e = d.entry.clone().unwrap_or_default();
                        json!({
                            "sequence": e.sequence,
                            "recipient": e.recipient.unwrap_or_default().name,
                            "purpose": e.purpose,
                            "proof": d.proof.as_ref().map(|p| p.hashes.iter().map(hex::encode).collect::<Vec<_>>()),
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "subject_pseudonym": answer.subject_pseudonym,
                        "checkpoint_tree_size": answer.checkpoint.map(|c| c.tree_size),
                        "disclosures": items,
                    }))?
                );
            } else if answer.subject_pseudonym.is_empty() {
                println!("No disclosures name this subject (or it was erased).");
            } else {
                println!("Pseudonym {}", answer.subject_pseudonym);
                if let Some(c) = &answer.checkpoint {
                    // Base64, as `disclosures checkpoint` and the saved checkpoint file show it.
                    println!(
                        "Proofs against the checkpoint of {} entries, root {}",
                        c.tree_size,
                        SavedCheckpoint::of(c).root_hash
                    );
                }
                for d in &answer.disclosures {
                    if let Some(e) = &d.entry {
                        print_entry(e);
                        match &d.proof {
                            Some(p) => println!(
                                "        inclusion proof: {} hash{} ({})",
                                p.hashes.len(),
                                if p.hashes.len() == 1 { "" } else { "es" },
                                p.hashes
                                    .iter()
                                    .map(hex::encode)
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            ),
                            None => println!("        no proof yet (after the latest checkpoint)"),
                        }
                    }
                }
            }
        }
        Command::Checkpoint { save } => {
            let c = client
                .create_checkpoint(pb::CreateCheckpointRequest {})
                .await?
                .into_inner()
                .checkpoint
                .unwrap_or_default();
            let saved = SavedCheckpoint::of(&c);
            if let Some(path) = save {
                std::fs::write(&path, serde_json::to_string_pretty(&saved)? + "\n")?;
                eprintln!("saved to {}", path.display());
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&saved)?);
            } else {
                let at = chrono::DateTime::from_timestamp(saved.signed_at, 0)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default();
                println!(
                    "Checkpoint: {} entries, root {}, signed {at} by key {}",
                    saved.tree_size, saved.root_hash, saved.public_key
                );
            }
        }
        Command::Tail { .. } => unreachable!("handled above: it needs no token"),
        Command::Verify {
            checkpoint,
            trust_first_use,
        } => {
            let trusted: Option<SavedCheckpoint> = match std::fs::read_to_string(&checkpoint) {
                Ok(text) => Some(serde_json::from_str(&text).map_err(|e| {
                    anyhow::anyhow!("{}: not a saved checkpoint: {e}", checkpoint.display())
                })?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && trust_first_use => None,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
                    "{}: no saved checkpoint there; for the first audit add --trust-first-use",
                    checkpoint.display()
                ),
                Err(e) => anyhow::bail!("reading {}: {e}", checkpoint.display()),
            };
            let report = audit::audit(&mut client, trusted.as_ref(), |done, all| {
                if !json && all >= 10_000 {
                    eprintln!("verified {done} of {all} entries");
                }
            })
            .await?;
            if let Some((sequence, problem)) = &report.problem {
                if json {
                    println!(
                        "{}",
                        json!({"ok": false, "first_bad_sequence": sequence, "problem": problem})
                    );
                }
                anyhow::bail!("the disclosure log does not verify: {problem}");
            }
            // The newest verified state becomes the one to hold the service to next time.
            std::fs::write(
                &checkpoint,
                serde_json::to_string_pretty(&report.latest)? + "\n",
            )?;
            if json {
                println!(
                    "{}",
                    json!({"ok": true, "entries_checked": report.entries_checked, "tree_size": report.latest.tree_size})
                );
            } else {
                match &trusted {
                    Some(t) => println!(
                        "Verified: {} entries; the log extends your checkpoint of {} entries and is signed by its key. {} now holds the checkpoint of {} entries.",
                        report.entries_checked,
                        t.tree_size,
                        checkpoint.display(),
                        report.latest.tree_size
                    ),
                    None => println!(
                        "Verified: {} entries against the service's own checkpoint. No earlier checkpoint was saved, so its key ({}) is taken on trust from now on: {} holds it.",
                        report.entries_checked,
                        report.latest.public_key,
                        checkpoint.display()
                    ),
                }
            }
        }
    }
    Ok(())
}
