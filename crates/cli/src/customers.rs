//! `rekisteri customers ...`: the customer service's command-line client, for the common calls.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use rekisteri_platform::auth::BearerToken;
use rekisteri_proto::common::v1::{BusinessId, PageRequest, PostalAddress};
use rekisteri_proto::customers::v1 as pb;
use rekisteri_proto::customers::v1::customer_service_client::CustomerServiceClient;
use rekisteri_proto::customers::v1::find_subjects_request::By;
use serde_json::{Value, json};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

#[derive(Debug, Args)]
pub struct CustomersArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Connection {
    /// The customer service's gRPC endpoint.
    #[arg(
        long,
        global = true,
        env = "REKISTERI_CUSTOMERS_ENDPOINT",
        default_value = "http://127.0.0.1:50052"
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
}

/// Where a new subject is held.
#[derive(Debug, Args)]
struct Membership {
    /// A published register of the catalogue that holds the subject (repeatable).
    #[arg(long = "register", required = true)]
    registers: Vec<String>,
    /// Why the register holds the subject, e.g. "asiakassuhde".
    #[arg(long, default_value = "asiakassuhde")]
    basis: String,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a person customer.
    CreatePerson {
        #[command(flatten)]
        membership: Membership,
        #[arg(long)]
        given_names: Option<String>,
        #[arg(long)]
        family_name: String,
        /// The personal identity code (henkilötunnus); `-` reads it from standard input, so that
        /// it stays out of the shell history and the process list.
        #[arg(long)]
        hetu: Option<String>,
        /// YYYY-MM-DD.
        #[arg(long)]
        date_of_birth: Option<String>,
        #[arg(long = "email")]
        emails: Vec<String>,
        /// Any common form, e.g. "044 596 2025"; stored as +358….
        #[arg(long = "phone")]
        phones: Vec<String>,
        /// fi, sv or en.
        #[arg(long)]
        language: Option<String>,
    },
    /// Create an organisation customer.
    CreateOrganisation {
        #[command(flatten)]
        membership: Membership,
        #[arg(long)]
        name: String,
        /// Y-tunnus, e.g. 2135102-9.
        #[arg(long)]
        business_id: Option<String>,
        /// Street address line of the postal address, with --postal-code and --post-office.
        #[arg(long, requires_all = ["postal_code", "post_office"])]
        street: Option<String>,
        #[arg(long)]
        postal_code: Option<String>,
        #[arg(long)]
        post_office: Option<String>,
    },
    /// Link a person as a contact person of an organisation.
    Link {
        organisation_id: String,
        person_id: String,
        #[arg(long, value_enum)]
        role: Role,
    },
    /// Show everything held about a subject (not its identity code).
    Get { subject_id: String },
    /// Find subjects by one of: identity code, business ID, email, phone, name prefix.
    Find {
        /// `-` reads it from standard input.
        #[arg(long, group = "by")]
        hetu: Option<String>,
        #[arg(long, group = "by")]
        business_id: Option<String>,
        #[arg(long, group = "by")]
        email: Option<String>,
        #[arg(long, group = "by")]
        phone: Option<String>,
        /// Prefix of a family name or an organisation's name.
        #[arg(long, group = "by")]
        name: Option<String>,
    },
    /// Set direct-marketing prohibitions and consents, channel by channel.
    Marketing {
        subject_id: String,
        #[arg(long, value_enum)]
        prohibit: Vec<ChannelArg>,
        #[arg(long, value_enum)]
        consent: Vec<ChannelArg>,
        /// How the subject said so, e.g. "phone call to customer service".
        #[arg(long, default_value = "")]
        how: String,
        /// When the subject said so (RFC 3339, e.g. 2026-03-14T09:26:53Z); default: now.
        #[arg(long, value_parser = chrono::DateTime::parse_from_rfc3339)]
        given_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
    /// Add a note of a contact with customer service.
    Note { subject_id: String, text: String },
    /// Everything held about a subject, identity code included (recorded in the access log).
    Export {
        subject_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Print a person's identity code (recorded in the access log with the reason).
    Reveal {
        subject_id: String,
        /// Why it is needed, e.g. "credit check for order 1234".
        #[arg(long)]
        reason: String,
    },
    /// Erase a subject's personal data for good (recorded in the access log).
    Erase {
        subject_id: String,
        #[arg(long)]
        reason: String,
        /// The etag `get` printed: fails (ABORTED) if anyone changed the subject since.
        #[arg(long, required_unless_present = "force")]
        etag: Option<String>,
        #[arg(long, conflicts_with = "etag")]
        force: bool,
    },
    /// Who revealed, exported or erased what, newest first.
    AccessLog {
        subject_id: Option<String>,
        #[arg(long, default_value_t = 50)]
        page_size: i32,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Role {
    DecisionMaker,
    Administration,
    Billing,
    Technical,
    ReportedUser,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ChannelArg {
    Email,
    Phone,
    Sms,
    Post,
}

type Client = CustomerServiceClient<InterceptedService<Channel, BearerToken>>;

fn secret_argument(value: String) -> anyhow::Result<String> {
    if value != "-" {
        return Ok(value);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

pub async fn run(args: CustomersArgs) -> anyhow::Result<()> {
    let json = args.connection.json;
    let bearer =
        crate::connect::bearer(args.connection.token.as_deref(), &args.connection.data_dir)?;
    let channel = crate::connect::channel(&args.connection.endpoint, "customer service").await?;
    let mut client: Client = CustomerServiceClient::with_interceptor(channel, bearer);
    let memberships = |m: Membership| -> Vec<pb::RegisterMembership> {
        m.registers
            .into_iter()
            .map(|register_id| pb::RegisterMembership {
                register_id,
                basis: m.basis.clone(),
                start_date: String::new(),
                end_date: String::new(),
            })
            .collect()
    };
    match args.command {
        Command::CreatePerson {
            membership,
            given_names,
            family_name,
            hetu,
            date_of_birth,
            emails,
            phones,
            language,
        } => {
            let person = pb::Person {
                given_names: given_names.unwrap_or_default(),
                family_name,
                personal_identity_code: hetu.map(secret_argument).transpose()?.unwrap_or_default(),
                date_of_birth: date_of_birth.unwrap_or_default(),
                emails,
                phones,
                language: language.unwrap_or_default(),
                ..Default::default()
            };
            let s = client
                .create_person(pb::CreatePersonRequest {
                    person: Some(person),
                    memberships: memberships(membership),
                    billing: None,
                })
                .await?
                .into_inner()
                .subject
                .unwrap_or_default();
            print_subject(json, "Created", &s);
        }
        Command::CreateOrganisation {
            membership,
            name,
            business_id,
            street,
            postal_code,
            post_office,
        } => {
            let addresses = street
                .map(|street| PostalAddress {
                    lines: vec![street],
                    postal_code: postal_code.unwrap_or_default(),
                    post_office: post_office.unwrap_or_default(),
                    country_code: String::new(),
                })
                .into_iter()
                .collect();
            let s = client
                .create_organisation(pb::CreateOrganisationRequest {
                    organisation: Some(pb::Organisation {
                        name,
                        business_id: business_id.map(|value| BusinessId { value }),
                        association_number: String::new(),
                        addresses,
                    }),
                    memberships: memberships(membership),
                    billing: None,
                })
                .await?
                .into_inner()
                .subject
                .unwrap_or_default();
            print_subject(json, "Created", &s);
        }
        Command::Link {
            organisation_id,
            person_id,
            role,
        } => {
            let role = match role {
                Role::DecisionMaker => pb::ContactRole::DecisionMaker,
                Role::Administration => pb::ContactRole::Administration,
                Role::Billing => pb::ContactRole::Billing,
                Role::Technical => pb::ContactRole::Technical,
                Role::ReportedUser => pb::ContactRole::ReportedUser,
            };
            let s = client
                .link_contact_person(pb::LinkContactPersonRequest {
                    organisation_id,
                    person_id,
                    role: role as i32,
                })
                .await?
                .into_inner()
                .organisation
                .unwrap_or_default();
            print_subject(json, "Linked", &s);
        }
        Command::Get { subject_id } => {
            let s = client
                .get_subject(pb::GetSubjectRequest { subject_id })
                .await?
                .into_inner()
                .subject
                .unwrap_or_default();
            print_subject(json, "", &s);
        }
        Command::Find {
            hetu,
            business_id,
            email,
            phone,
            name,
        } => {
            let by = if let Some(code) = hetu {
                By::PersonalIdentityCode(secret_argument(code)?)
            } else if let Some(value) = business_id {
                By::BusinessId(BusinessId { value })
            } else if let Some(email) = email {
                By::Email(email)
            } else if let Some(phone) = phone {
                By::Phone(phone)
            } else if let Some(name) = name {
                By::NamePrefix(name)
            } else {
                anyhow::bail!("give one of --hetu, --business-id, --email, --phone, --name");
            };
            let r = client
                .find_subjects(pb::FindSubjectsRequest {
                    by: Some(by),
                    page: None,
                })
                .await?
                .into_inner();
            if json {
                let list: Vec<Value> = r.subjects.iter().map(subject_json).collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &json!({"subjects": list, "total_size": r.page.map(|p| p.total_size)})
                    )?
                );
            } else if r.subjects.is_empty() {
                println!("No subject found.");
            } else {
                for s in &r.subjects {
                    println!("{}  {}  {}", s.subject_id, kind(s), display_name(s));
                }
            }
        }
        Command::Marketing {
            subject_id,
            prohibit,
            consent,
            how,
            given_at,
        } => {
            let given_time = given_at.map(|t| prost_types::Timestamp {
                seconds: t.timestamp(),
                nanos: t.timestamp_subsec_nanos() as i32,
            });
            let channel = |c: ChannelArg| match c {
                ChannelArg::Email => pb::Channel::Email,
                ChannelArg::Phone => pb::Channel::Phone,
                ChannelArg::Sms => pb::Channel::Sms,
                ChannelArg::Post => pb::Channel::Post,
            };
            let preferences = prohibit
                .iter()
                .map(|c| (c, pb::Preference::Prohibited))
                .chain(consent.iter().map(|c| (c, pb::Preference::Consented)))
                .map(|(c, p)| pb::MarketingPreference {
                    channel: channel(*c) as i32,
                    preference: p as i32,
                    given_time,
                    given_how: how.clone(),
                })
                .collect();
            let s = client
                .set_marketing_preferences(pb::SetMarketingPreferencesRequest {
                    subject_id,
                    etag: String::new(),
                    preferences,
                    interests: vec![],
                    replace_interests: false,
                })
                .await?
                .into_inner()
                .subject
                .unwrap_or_default();
            print_subject(json, "Updated", &s);
        }
        Command::Note { subject_id, text } => {
            let s = client
                .add_note(pb::AddNoteRequest { subject_id, text })
                .await?
                .into_inner()
                .subject
                .unwrap_or_default();
            print_subject(json, "Noted", &s);
        }
        Command::Export { subject_id, reason } => {
            let r = client
                .export_subject(pb::ExportSubjectRequest { subject_id, reason })
                .await?
                .into_inner();
            // An export is for handing over: always the whole record, as JSON.
            let mut value = subject_json(&r.subject.unwrap_or_default());
            if let Some(t) = r.export_time {
                value["export_time"] =
                    json!(chrono::DateTime::from_timestamp(t.seconds, 0).map(|t| t.to_rfc3339()));
            }
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        Command::Reveal { subject_id, reason } => {
            let code = client
                .reveal_personal_identity_code(pb::RevealPersonalIdentityCodeRequest {
                    subject_id,
                    reason,
                })
                .await?
                .into_inner()
                .personal_identity_code;
            if json {
                println!("{}", json!({ "personal_identity_code": code }));
            } else {
                println!("{code}");
            }
        }
        Command::Erase {
            subject_id,
            reason,
            etag,
            force: _,
        } => {
            client
                .erase_subject(pb::EraseSubjectRequest {
                    subject_id: subject_id.clone(),
                    etag: etag.unwrap_or_default(),
                    reason,
                })
                .await?;
            if json {
                println!("{}", json!({"erased": subject_id}));
            } else {
                println!(
                    "Erased {subject_id}: its personal data is gone; the access log keeps who did it and why."
                );
            }
        }
        Command::AccessLog {
            subject_id,
            page_size,
        } => {
            let r = client
                .list_access_log(pb::ListAccessLogRequest {
                    subject_id: subject_id.unwrap_or_default(),
                    page: Some(PageRequest {
                        page_size,
                        page_token: String::new(),
                    }),
                })
                .await?
                .into_inner();
            let rows: Vec<Value> = r
                .entries
                .iter()
                .map(|e| {
                    json!({
                        "time": e.time.as_ref().and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0)).map(|t| t.to_rfc3339()),
                        "kind": e.kind().as_str_name().trim_start_matches("ACCESS_KIND_").to_ascii_lowercase(),
                        "subject_id": e.subject_id,
                        "actor": e.actor.as_ref().map(|a| a.subject.clone()),
                        "reason": e.reason,
                    })
                })
                .collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                println!("The access log is empty.");
            } else {
                for row in &rows {
                    println!(
                        "{}  {:<22} {}  by {}: {}",
                        row["time"].as_str().unwrap_or(""),
                        row["kind"].as_str().unwrap_or(""),
                        row["subject_id"].as_str().unwrap_or(""),
                        row["actor"].as_str().unwrap_or(""),
                        row["reason"].as_str().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(())
}

fn kind(s: &pb::Subject) -> &'static str {
    if s.organisation.is_some() {
        "organisation"
    } else {
        "person"
    }
}

fn display_name(s: &pb::Subject) -> String {
    match (&s.person, &s.organisation) {
        (Some(p), _) => format!("{} {}", p.given_names, p.family_name)
            .trim()
            .to_owned(),
        (_, Some(o)) => match &o.business_id {
            Some(b) => format!("{} ({})", o.name, b.value),
            None => o.name.clone(),
        },
        _ => String::new(),
    }
}

fn print_subject(json: bool, verb: &str, s: &pb::Subject) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&subject_json(s)).expect("JSON")
        );
        return;
    }
    let heading = format!("{verb} {} {}", kind(s), s.subject_id);
    println!("{}", heading.trim());
    println!("  name:         {}", display_name(s));
    if let Some(p) = &s.person {
        if p.has_personal_identity_code {
            println!("  id code:      held, encrypted (`export` shows it and is logged)");
        }
        for e in &p.emails {
            println!("  email:        {e}");
        }
        for n in &p.phones {
            println!("  phone:        {n}");
        }
    }
    for m in &s.memberships {
        println!(
            "  register:     {} ({}, from {})",
            m.register_id, m.basis, m.start_date
        );
    }
    for c in &s.contacts {
        let role = c
            .role()
            .as_str_name()
            .trim_start_matches("CONTACT_ROLE_")
            .to_ascii_lowercase()
            .replace('_', "-");
        // An organisation lists its contact persons; a person, the organisations it is one for.
        if c.person_id == s.subject_id {
            println!(
                "  contact for:  {} {} ({role})",
                c.organisation_id, c.organisation_name
            );
        } else {
            println!("  contact:      {} {} ({role})", c.person_id, c.person_name);
        }
    }
    for m in &s.marketing {
        // When and how the subject said so: what shows the choice was theirs.
        let given = m
            .given_time
            .as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
            .map(|t| format!(", given {}", t.format("%Y-%m-%d")))
            .unwrap_or_default();
        let how = if m.given_how.is_empty() {
            String::new()
        } else {
            format!(" ({})", m.given_how)
        };
        println!(
            "  marketing:    {} {}{given}{how}",
            m.channel()
                .as_str_name()
                .trim_start_matches("CHANNEL_")
                .to_ascii_lowercase(),
            m.preference()
                .as_str_name()
                .trim_start_matches("PREFERENCE_")
                .to_ascii_lowercase()
        );
    }
    if let Some(o) = &s.organisation {
        for a in &o.addresses {
            println!(
                "  address:      {}, {} {}",
                a.lines.join(", "),
                a.postal_code,
                a.post_office
            );
        }
    }
    for f in &s.field_sources {
        println!(
            "  source:       {} from {} (register {}, fetched {})",
            f.field,
            f.source,
            f.register_id,
            f.fetched_time
                .as_ref()
                .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default()
        );
    }
    println!("  etag:         {}", s.etag);
}

fn subject_json(s: &pb::Subject) -> Value {
    let address = |a: &PostalAddress| json!({"lines": a.lines, "postal_code": a.postal_code, "post_office": a.post_office, "country_code": a.country_code});
    json!({
        "subject_id": s.subject_id,
        "kind": kind(s),
        "person": s.person.as_ref().map(|p| json!({
            "given_names": p.given_names,
            "family_name": p.family_name,
            "personal_identity_code": (!p.personal_identity_code.is_empty()).then(|| p.personal_identity_code.clone()),
            "has_personal_identity_code": p.has_personal_identity_code,
            "date_of_birth": p.date_of_birth,
            "emails": p.emails,
            "phones": p.phones,
            "addresses": p.addresses.iter().map(address).collect::<Vec<_>>(),
            "language": p.language,
            "user_accounts": p.user_accounts,
        })),
        "organisation": s.organisation.as_ref().map(|o| json!({
            "name": o.name,
            "business_id": o.business_id.as_ref().map(|b| b.value.clone()),
            "association_number": o.association_number,
            "addresses": o.addresses.iter().map(address).collect::<Vec<_>>(),
        })),
        "memberships": s.memberships.iter().map(|m| json!({"register_id": m.register_id, "basis": m.basis, "start_date": m.start_date, "end_date": m.end_date})).collect::<Vec<_>>(),
        "relationship": s.relationship.as_ref().map(|r| json!({"start_date": r.start_date, "end_date": r.end_date})),
        "services": s.services.iter().map(|x| json!({"service_key": x.service_key, "description": x.description, "start_date": x.start_date, "end_date": x.end_date, "active": x.active})).collect::<Vec<_>>(),
        "marketing": s.marketing.iter().map(|m| json!({
            "channel": m.channel().as_str_name().trim_start_matches("CHANNEL_").to_ascii_lowercase(),
            "preference": m.preference().as_str_name().trim_start_matches("PREFERENCE_").to_ascii_lowercase(),
            "given_how": m.given_how,
            "given_time": m.given_time.as_ref().and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)).map(|t| t.to_rfc3339()),
        })).collect::<Vec<_>>(),
        "interests": s.interests,
        "notes": s.notes.iter().map(|n| json!({
            "text": n.text,
            "author": n.author.as_ref().map(|a| a.subject.clone()),
            "time": n.time.as_ref().and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0)).map(|t| t.to_rfc3339()),
        })).collect::<Vec<_>>(),
        "contacts": s.contacts.iter().map(|c| json!({
            "organisation_id": c.organisation_id, "person_id": c.person_id,
            "role": c.role().as_str_name().trim_start_matches("CONTACT_ROLE_").to_ascii_lowercase(),
            "organisation_name": c.organisation_name, "person_name": c.person_name,
        })).collect::<Vec<_>>(),
        "field_sources": s.field_sources.iter().map(|f| json!({
            "field": f.field,
            "source": f.source,
            "provenance_id": f.provenance_id,
            "register_id": f.register_id,
            "fetched_time": f.fetched_time.as_ref().and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0)).map(|t| t.to_rfc3339()),
            "applied_time": f.applied_time.as_ref().and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0)).map(|t| t.to_rfc3339()),
        })).collect::<Vec<_>>(),
        "etag": s.etag,
    })
}
