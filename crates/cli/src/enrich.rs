//! `rekisteri enrich ...`: look up businesses, credit, company contacts and the opt-out list
//! through the enrichment service; enrich a subject; list the sources and where a subject's
//! outside data came from.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use rekisteri_proto::common::v1::{BusinessId, PageRequest, PostalAddress};
use rekisteri_proto::enrichment::v1 as pb;
use rekisteri_proto::enrichment::v1::enrichment_service_client::EnrichmentServiceClient;
use serde_json::{Value, json};

#[derive(Debug, Args)]
pub struct EnrichArgs {
    /// The enrichment service's gRPC endpoint.
    #[arg(
        long,
        global = true,
        env = "REKISTERI_ENRICHMENT_ENDPOINT",
        default_value = "http://127.0.0.1:50053"
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

/// Why and for whom: every lookup is made for a register that declares the source.
#[derive(Debug, Args)]
struct ContextArgs {
    /// The register the data is fetched for (its id in the catalogue); it must declare the
    /// source as a regular source.
    #[arg(long)]
    register: String,
    /// The customer subject the data is for (must be held in the register).
    #[arg(long)]
    subject: Option<String>,
    /// Your reference, kept with the provenance, e.g. "order 1234".
    #[arg(long, default_value = "")]
    reference: String,
}

impl ContextArgs {
    fn to_pb(&self) -> pb::LookupContext {
        pb::LookupContext {
            register_id: self.register.clone(),
            subject_id: self.subject.clone().unwrap_or_default(),
            reference: self.reference.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PurposeArg {
    #[value(alias = "credit_granting")]
    CreditGranting,
    #[value(alias = "credit_monitoring")]
    CreditMonitoring,
    #[value(alias = "debt_collection")]
    DebtCollection,
    #[value(alias = "customer_due_diligence")]
    CustomerDueDiligence,
    Tenancy,
    #[value(alias = "employment_security_clearance")]
    EmploymentSecurityClearance,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A business's public data from the business register (PRH/YTJ) by Y-tunnus: current name,
    /// addresses, business line, company form and status.
    Business {
        /// The Y-tunnus, e.g. 0112038-9.
        business_id: String,
        #[command(flatten)]
        context: ContextArgs,
    },
    /// Credit information of a person or a company, for a purpose the Credit Information Act
    /// permits.
    Credit {
        /// A Y-tunnus, or `-` to read a personal identity code from standard input (so that it
        /// stays out of the shell's history); a person's check needs --subject.
        target: String,
        #[arg(long, value_enum)]
        purpose: PurposeArg,
        #[command(flatten)]
        context: ContextArgs,
    },
    /// A company's decision-makers, industry, revenue and offices.
    Contacts {
        business_id: String,
        #[command(flatten)]
        context: ContextArgs,
    },
    /// Whether a phone number or a postal address is on the direct-marketing opt-out list.
    OptOut {
        #[arg(long, conflicts_with_all = ["street", "postal_code", "post_office"], required_unless_present = "street")]
        phone: Option<String>,
        #[arg(long, requires = "postal_code")]
        street: Option<String>,
        #[arg(long)]
        postal_code: Option<String>,
        #[arg(long, default_value = "")]
        post_office: String,
        #[command(flatten)]
        context: ContextArgs,
    },
    /// Ask an adapter plugged in over the adapter protocol: --query KEY=VALUE (repeatable).
    External {
        /// The adapter's configured name.
        source: String,
        #[arg(long = "query", value_name = "KEY=VALUE", required = true)]
        query: Vec<String>,
        #[command(flatten)]
        context: ContextArgs,
    },
    /// Enrich a customer subject now from the sources its registers declare; the proposed
    /// values are published for the customer service to apply.
    Subject {
        subject_id: String,
        #[arg(long, default_value = "")]
        reference: String,
    },
    /// The configured sources, what each supplies, and the state of each one's circuit breaker.
    Sources,
    /// Where a subject's outside data came from, newest first.
    Provenance {
        subject_id: String,
        #[arg(long, default_value_t = 50)]
        page_size: i32,
        #[arg(long, default_value = "")]
        page_token: String,
    },
}

fn time(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn address_json(a: &PostalAddress) -> Value {
    json!({"lines": a.lines, "postal_code": a.postal_code, "post_office": a.post_office})
}

fn address_text(a: &PostalAddress) -> String {
    format!(
        "{}, {} {}",
        a.lines.join(", "),
        a.postal_code,
        a.post_office
    )
    .trim_matches([',', ' '])
    .to_owned()
}

fn provenance_json(p: &pb::Provenance) -> Value {
    json!({
        "provenance_id": p.provenance_id,
        "source": p.source,
        "fetched_time": time(p.fetched_time.as_ref()),
        "cached": p.cached,
        "register_id": p.register_id,
        "subject_id": p.subject_id,
        "reference": p.reference,
        "requested_by": p.requested_by,
        "fields": p.fields,
    })
}

fn provenance_line(p: &pb::Provenance) -> String {
    format!(
        "source {} at {}{} for register {}{} (provenance {})",
        p.source,
        time(p.fetched_time.as_ref()),
        if p.cached { ", from the cache" } else { "" },
        p.register_id,
        if p.subject_id.is_empty() {
            String::new()
        } else {
            format!(", subject {}", p.subject_id)
        },
        p.provenance_id
    )
}

fn status_name(s: i32) -> &'static str {
    match pb::BusinessStatus::try_from(s).unwrap_or_default() {
        pb::BusinessStatus::Unspecified => "not stated",
        pb::BusinessStatus::Active => "active",
        pb::BusinessStatus::Liquidation => "in liquidation",
        pb::BusinessStatus::Bankruptcy => "bankrupt",
        pb::BusinessStatus::Restructuring => "in restructuring",
        pb::BusinessStatus::Ceased => "ceased",
    }
}

fn localised(texts: &[pb::LocalisedText]) -> String {
    ["fi", "en", "sv"]
        .iter()
        .find_map(|l| texts.iter().find(|t| t.language == *l))
        .or(texts.first())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

fn circuit_name(c: i32) -> &'static str {
    match pb::CircuitState::try_from(c).unwrap_or_default() {
        pb::CircuitState::Closed => "closed",
        pb::CircuitState::Open => "OPEN",
        pb::CircuitState::HalfOpen => "half-open",
        pb::CircuitState::Unspecified => "unknown",
    }
}

pub async fn run(args: EnrichArgs) -> anyhow::Result<()> {
    let bearer = crate::connect::bearer(args.token.as_deref(), &args.data_dir)?;
    let channel = crate::connect::channel(&args.endpoint, "enrichment service").await?;
    let mut client = EnrichmentServiceClient::with_interceptor(channel, bearer);
    let json = args.json;
    match args.command {
        Command::Business {
            business_id,
            context,
        } => {
            let r = client
                .lookup_business(pb::LookupBusinessRequest {
                    business_id: Some(BusinessId {
                        value: business_id.clone(),
                    }),
                    context: Some(context.to_pb()),
                })
                .await?
                .into_inner();
            let provenance = r.provenance.unwrap_or_default();
            let Some(b) = r.business else {
                if json {
                    println!(
                        "{}",
                        json!({"found": false, "business_id": business_id, "provenance": provenance_json(&provenance)})
                    );
                } else {
                    println!("{business_id} is not in the business register.");
                    println!("  {}", provenance_line(&provenance));
                }
                return Ok(());
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "found": true,
                        "business_id": b.business_id.as_ref().map(|b| b.value.clone()).unwrap_or_default(),
                        "name": b.name,
                        "other_names": b.other_names,
                        "addresses": b.addresses.iter().map(|a| {
                            let mut v = address_json(&a.address.clone().unwrap_or_default());
                            v["kind"] = json!(if a.kind == pb::business_address::Kind::Postal as i32 { "postal" } else { "visiting" });
                            v
                        }).collect::<Vec<_>>(),
                        "business_line_code": b.business_line_code,
                        "business_line": localised(&b.business_line),
                        "company_form": localised(&b.company_form),
                        "status": status_name(b.status),
                        "situations": b.situations,
                        "registration_date": b.registration_date,
                        "end_date": b.end_date,
                        "last_modified_time": time(b.last_modified_time.as_ref()),
                        "provenance": provenance_json(&provenance),
                    }))?
                );
            } else {
                println!(
                    "{}  {}",
                    b.business_id.map(|b| b.value).unwrap_or_default(),
                    b.name
                );
                println!("  status         {}", status_name(b.status));
                for s in &b.situations {
                    println!("  situation      {s}");
                }
                println!("  company form   {}", localised(&b.company_form));
                println!(
                    "  business line  {} {}",
                    b.business_line_code,
                    localised(&b.business_line)
                );
                for a in &b.addresses {
                    let kind = if a.kind == pb::business_address::Kind::Postal as i32 {
                        "postal address "
                    } else {
                        "visiting       "
                    };
                    println!(
                        "  {kind}{}",
                        address_text(&a.address.clone().unwrap_or_default())
                    );
                }
                if !b.other_names.is_empty() {
                    println!("  other names    {}", b.other_names.join("; "));
                }
                println!("  registered     {}", b.registration_date);
                println!("  {}", provenance_line(&provenance));
            }
        }
        Command::Credit {
            target,
            purpose,
            context,
        } => {
            let target = if target == "-" {
                let mut code = String::new();
                std::io::stdin().read_line(&mut code)?;
                pb::check_credit_request::Target::PersonalIdentityCode(code.trim().to_owned())
            } else if target.trim().len() == 9 && target.trim().as_bytes()[7] == b'-' {
                // The shape of a Y-tunnus (1234567-8); an identity code is 11 characters.
                pb::check_credit_request::Target::BusinessId(BusinessId { value: target })
            } else {
                pb::check_credit_request::Target::PersonalIdentityCode(target)
            };
            let purpose = match purpose {
                PurposeArg::CreditGranting => pb::CreditPurpose::CreditGranting,
                PurposeArg::CreditMonitoring => pb::CreditPurpose::CreditMonitoring,
                PurposeArg::DebtCollection => pb::CreditPurpose::DebtCollection,
                PurposeArg::CustomerDueDiligence => pb::CreditPurpose::CustomerDueDiligence,
                PurposeArg::Tenancy => pb::CreditPurpose::Tenancy,
                PurposeArg::EmploymentSecurityClearance => {
                    pb::CreditPurpose::EmploymentSecurityClearance
                }
            };
            let r = client
                .check_credit(pb::CheckCreditRequest {
                    target: Some(target),
                    purpose: purpose as i32,
                    context: Some(context.to_pb()),
                })
                .await?
                .into_inner();
            let provenance = r.provenance.unwrap_or_default();
            if json {
                println!(
                    "{}",
                    json!({"found": r.found, "credit_class": r.credit_class, "score": r.score, "payment_defaults": r.payment_defaults, "provenance": provenance_json(&provenance)})
                );
            } else if !r.found {
                println!("The bureau has no credit information on it.");
                println!("  {}", provenance_line(&provenance));
            } else {
                let or_none = |v: Option<u32>| v.map_or("not given".to_owned(), |v| v.to_string());
                println!(
                    "credit class {} (1 to 5), score {} (0 to 100)",
                    or_none(r.credit_class),
                    or_none(r.score)
                );
                if r.payment_defaults.is_empty() {
                    println!("  no payment defaults");
                }
                for d in &r.payment_defaults {
                    println!("  payment default  {d}");
                }
                println!("  {}", provenance_line(&provenance));
            }
        }
        Command::Contacts {
            business_id,
            context,
        } => {
            let r = client
                .lookup_company_contacts(pb::LookupCompanyContactsRequest {
                    business_id: Some(BusinessId {
                        value: business_id.clone(),
                    }),
                    context: Some(context.to_pb()),
                })
                .await?
                .into_inner();
            let provenance = r.provenance.unwrap_or_default();
            let c = r.contacts.unwrap_or_default();
            if json {
                println!(
                    "{}",
                    json!({
                        "found": r.found,
                        "decision_makers": c.decision_makers.iter().map(|d| json!({"name": d.name, "title": d.title})).collect::<Vec<_>>(),
                        "industry": c.industry,
                        "revenue_eur": c.revenue_eur,
                        "offices": c.offices.iter().map(address_json).collect::<Vec<_>>(),
                        "provenance": provenance_json(&provenance),
                    })
                );
            } else if !r.found {
                println!("{business_id}: the contact data source does not know it.");
                println!("  {}", provenance_line(&provenance));
            } else {
                for d in &c.decision_makers {
                    println!("  {}  {}", d.name, d.title);
                }
                println!("  industry  {}", c.industry);
                if c.revenue_eur != 0 {
                    println!("  revenue   {} EUR", c.revenue_eur);
                }
                for o in &c.offices {
                    println!("  office    {}", address_text(o));
                }
                println!("  {}", provenance_line(&provenance));
            }
        }
        Command::OptOut {
            phone,
            street,
            postal_code,
            post_office,
            context,
        } => {
            let target = match phone {
                Some(phone) => pb::check_opt_out_request::Target::Phone(phone),
                None => pb::check_opt_out_request::Target::Address(PostalAddress {
                    lines: street.into_iter().collect(),
                    postal_code: postal_code.unwrap_or_default(),
                    post_office,
                    country_code: String::new(),
                }),
            };
            let r = client
                .check_opt_out(pb::CheckOptOutRequest {
                    target: Some(target),
                    context: Some(context.to_pb()),
                })
                .await?
                .into_inner();
            let provenance = r.provenance.unwrap_or_default();
            if json {
                println!(
                    "{}",
                    json!({"listed": r.listed, "list_loaded_time": time(r.list_loaded_time.as_ref()), "provenance": provenance_json(&provenance)})
                );
            } else {
                println!(
                    "{} (list loaded {})",
                    if r.listed {
                        "ON the opt-out list: no direct marketing"
                    } else {
                        "not on the opt-out list"
                    },
                    time(r.list_loaded_time.as_ref())
                );
                println!("  {}", provenance_line(&provenance));
            }
        }
        Command::External {
            source,
            query,
            context,
        } => {
            let mut pairs = std::collections::HashMap::new();
            for q in query {
                let (k, v) = q
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("--query `{q}`: KEY=VALUE"))?;
                pairs.insert(k.trim().to_owned(), v.trim().to_owned());
            }
            let r = client
                .lookup_external(pb::LookupExternalRequest {
                    source,
                    query: pairs,
                    context: Some(context.to_pb()),
                })
                .await?
                .into_inner();
            let provenance = r.provenance.unwrap_or_default();
            let fields: std::collections::BTreeMap<_, _> = r.fields.into_iter().collect();
            if json {
                println!(
                    "{}",
                    json!({"found": r.found, "fields": fields, "provenance": provenance_json(&provenance)})
                );
            } else {
                if !r.found {
                    println!("not found");
                }
                for (k, v) in &fields {
                    println!("  {k}  {v}");
                }
                println!("  {}", provenance_line(&provenance));
            }
        }
        Command::Subject {
            subject_id,
            reference,
        } => {
            let r = client
                .enrich_subject(pb::EnrichSubjectRequest {
                    subject_id,
                    reference,
                })
                .await?
                .into_inner();
            if json {
                println!(
                    "{}",
                    json!({
                        "proposed": r.proposed.iter().map(|p| json!({
                            "field": p.field,
                            "text": p.text,
                            "addresses": p.addresses.iter().map(address_json).collect::<Vec<_>>(),
                            "source": p.source,
                            "provenance_id": p.provenance_id,
                            "fetched_time": time(p.fetched_time.as_ref()),
                        })).collect::<Vec<_>>(),
                        "notes": r.notes,
                    })
                );
            } else {
                if r.proposed.is_empty() {
                    println!("Nothing to propose.");
                }
                for p in &r.proposed {
                    let value = if p.addresses.is_empty() {
                        p.text.clone()
                    } else {
                        p.addresses
                            .iter()
                            .map(address_text)
                            .collect::<Vec<_>>()
                            .join(" | ")
                    };
                    println!("  {:<24} {value}  (from {})", p.field, p.source);
                }
                for n in &r.notes {
                    println!("  note: {n}");
                }
                if !r.proposed.is_empty() {
                    println!("Published for the customer service to apply.");
                }
            }
        }
        Command::Sources => {
            let r = client
                .list_sources(pb::ListSourcesRequest {})
                .await?
                .into_inner();
            if json {
                println!(
                    "{}",
                    json!(
                        r.sources
                            .iter()
                            .map(|s| json!({
                                "name": s.name,
                                "kind": s.kind,
                                "supplies": s.supplies,
                                "declared_as": s.declared_as,
                                "circuit": circuit_name(s.circuit),
                                "last_error": s.last_error,
                                "rate_per_minute": s.rate_per_minute,
                                "cache_seconds": s.cache_seconds,
                            }))
                            .collect::<Vec<_>>()
                    )
                );
            } else {
                if r.sources.is_empty() {
                    println!("No sources are enabled.");
                } else {
                    println!(
                        "{:<10} {:<9} {:<17} {:<9} {:<11} supplies",
                        "SOURCE", "KIND", "CIRCUIT", "RATE", "CACHE"
                    );
                }
                for s in &r.sources {
                    println!(
                        "{:<10} {:<9} circuit {:<9} {:<9} {:<11} {}",
                        s.name,
                        s.kind,
                        circuit_name(s.circuit),
                        format!("{}/min", s.rate_per_minute),
                        format!("{} s", s.cache_seconds),
                        s.supplies
                    );
                    println!("           declared as: {}", s.declared_as.join(", "));
                    if !s.last_error.is_empty() {
                        println!("           last error: {}", s.last_error);
                    }
                }
            }
        }
        Command::Provenance {
            subject_id,
            page_size,
            page_token,
        } => {
            let r = client
                .list_provenance(pb::ListProvenanceRequest {
                    subject_id,
                    page: Some(PageRequest {
                        page_size,
                        page_token,
                    }),
                })
                .await?
                .into_inner();
            let page = r.page.unwrap_or_default();
            if json {
                println!(
                    "{}",
                    json!({
                        "records": r.records.iter().map(provenance_json).collect::<Vec<_>>(),
                        "total_size": page.total_size,
                        "next_page_token": page.next_page_token,
                    })
                );
            } else {
                if r.records.is_empty() {
                    println!("No outside data was fetched for this subject.");
                }
                for p in &r.records {
                    println!(
                        "{}  {}{}: {}",
                        time(p.fetched_time.as_ref()),
                        p.source,
                        if p.cached { " (from the cache)" } else { "" },
                        if p.fields.is_empty() {
                            "nothing found".to_owned()
                        } else {
                            p.fields.join(", ")
                        }
                    );
                    println!(
                        "    for register {}, asked by {}{}",
                        p.register_id,
                        p.requested_by,
                        if p.reference.is_empty() {
                            String::new()
                        } else {
                            format!(", reference {}", p.reference)
                        }
                    );
                }
                if !page.next_page_token.is_empty() {
                    println!("More: --page-token {}", page.next_page_token);
                }
            }
        }
    }
    Ok(())
}
