//! What the client prints: short text for people, or JSON with `--json`.

use std::process::ExitCode;

use rekisteri_catalogue::convert;
use rekisteri_proto::catalogue::v1 as pb;
use rekisteri_register::RegisterContent;
use serde_json::{Value, json};

fn time(t: Option<&prost_types::Timestamp>) -> Value {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32))
        .map_or(Value::Null, |t| {
            Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        })
}

/// `REGISTER_STATUS_PUBLISHED` -> `published`.
fn enum_name(full: &str, prefix: &str) -> String {
    full.strip_prefix(prefix)
        .unwrap_or(full)
        .to_ascii_lowercase()
}

fn register_json(r: &pb::Register) -> Value {
    json!({
        "register_id": r.register_id,
        "status": enum_name(r.status().as_str_name(), "REGISTER_STATUS_"),
        "name": r.name,
        "controller_name": r.controller_name,
        "controller_business_id": r.controller_business_id.as_ref().map(|b| b.value.clone()),
        "latest_version": r.latest_version,
        "published_version": (r.published_version > 0).then_some(r.published_version),
        "create_time": time(r.create_time.as_ref()),
        "update_time": time(r.update_time.as_ref()),
        "retire_reason": (!r.retire_reason.is_empty()).then(|| r.retire_reason.clone()),
        "etag": r.etag,
    })
}

fn content(v: &pb::RegisterVersion) -> Option<RegisterContent> {
    convert::content_of("content", v.content.as_ref()).ok()
}

fn version_json(v: &pb::RegisterVersion, with_content: bool) -> Value {
    let mut value = json!({
        "register_id": v.register_id,
        "version": v.version,
        "state": enum_name(v.state().as_str_name(), "VERSION_STATE_"),
        "created_by": v.created_by.as_ref().map(|a| a.subject.clone()),
        "create_time": time(v.create_time.as_ref()),
        "updated_by": v.updated_by.as_ref().map(|a| a.subject.clone()),
        "update_time": time(v.update_time.as_ref()),
        "published_by": v.published_by.as_ref().map(|a| a.subject.clone()),
        "publish_time": time(v.publish_time.as_ref()),
    });
    if with_content {
        value["content"] = serde_json::to_value(content(v)).unwrap_or(Value::Null);
        if let Some(report) = &v.import_report {
            let report = convert::report_of(report);
            value["import_report"] = serde_json::to_value(report).unwrap_or(Value::Null);
        }
    }
    value
}

fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values serialise")
    );
}

/// After a change: one line saying what happened.
pub fn versioned(
    json: bool,
    verb: &str,
    register: Option<&pb::Register>,
    version: Option<&pb::RegisterVersion>,
) {
    let Some(register) = register else { return };
    if json {
        print_json(&json!({
            "register": register_json(register),
            "version": version.map(|v| version_json(v, false)),
        }));
        return;
    }
    let status = enum_name(register.status().as_str_name(), "REGISTER_STATUS_");
    match version {
        Some(v) => println!(
            "{verb} register {} \"{}\": version {} is {} (register {status})",
            register.register_id,
            register.name,
            v.version,
            enum_name(v.state().as_str_name(), "VERSION_STATE_"),
        ),
        None => println!(
            "{verb} register {} \"{}\" (register {status})",
            register.register_id, register.name
        ),
    }
    // What the next change of this register must send back (--etag).
    println!("Etag       {}", register.etag);
}

/// One version in full.
pub fn full(json: bool, register: Option<&pb::Register>, version: Option<&pb::RegisterVersion>) {
    let (Some(register), Some(version)) = (register, version) else {
        return;
    };
    if json {
        print_json(
            &json!({ "register": register_json(register), "version": version_json(version, true) }),
        );
        return;
    }
    let published = match register.published_version {
        0 => "never published".to_string(),
        n => format!("published version {n}"),
    };
    println!("Register   {}", register.register_id);
    println!(
        "Status     {} ({published}, latest version {})",
        enum_name(register.status().as_str_name(), "REGISTER_STATUS_"),
        register.latest_version
    );
    if !register.retire_reason.is_empty() {
        println!("Retired    {}", register.retire_reason);
    }
    println!("Etag       {}", register.etag);
    let who = |a: &Option<rekisteri_proto::common::v1::Actor>| {
        a.as_ref().map_or(String::new(), |a| a.subject.clone())
    };
    println!(
        "Version    {} ({}), created by {} {}",
        version.version,
        enum_name(version.state().as_str_name(), "VERSION_STATE_"),
        who(&version.created_by),
        time(version.create_time.as_ref()).as_str().unwrap_or(""),
    );
    if let Some(report) = &version.import_report {
        println!(
            "Imported   from {} ({} fields, {} lines not mapped; --json shows the report)",
            report.source_name,
            report
                .mapped_fields
                .iter()
                .filter(|m| !m.field.starts_with('('))
                .count(),
            report.unmapped_lines.len()
        );
    }
    if version.published_by.is_some() {
        println!(
            "Published  by {} {}",
            who(&version.published_by),
            time(version.publish_time.as_ref()).as_str().unwrap_or("")
        );
    }
    println!();
    match content(version).and_then(|c| serde_json::to_value(c).ok()) {
        Some(mut c) => {
            prune(&mut c);
            print!("{}", serde_yaml::to_string(&c).unwrap_or_default());
        }
        None => println!("{:#?}", version.content),
    }
}

/// Drops empty strings, lists, objects, nulls and false flags, so people see what a register says.
fn prune(value: &mut Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => {
            items.retain_mut(prune);
            !items.is_empty()
        }
        Value::Object(map) => {
            map.retain(|_, v| prune(v));
            !map.is_empty()
        }
        _ => true,
    }
}

pub fn register_list(json: bool, registers: &[pb::Register], total: i64, next_page_token: &str) {
    if json {
        print_json(&json!({
            "registers": registers.iter().map(register_json).collect::<Vec<_>>(),
            "total_size": total,
            "next_page_token": (!next_page_token.is_empty()).then_some(next_page_token),
        }));
        return;
    }
    if registers.is_empty() {
        println!("No registers.");
        return;
    }
    println!(
        "{:<36}  {:<9}  {:>7}  {:<9}  NAME / CONTROLLER",
        "REGISTER ID", "STATUS", "VERSION", "BUSINESS"
    );
    for r in registers {
        let version = match r.published_version {
            0 => format!("{}", r.latest_version),
            p if p == r.latest_version => format!("{p}"),
            p => format!("{p}+{}", r.latest_version - p),
        };
        println!(
            "{:<36}  {:<9}  {:>7}  {:<9}  {} / {}",
            r.register_id,
            enum_name(r.status().as_str_name(), "REGISTER_STATUS_"),
            version,
            r.controller_business_id
                .as_ref()
                .map_or("", |b| b.value.as_str()),
            r.name,
            r.controller_name,
        );
    }
    println!("{} of {total} registers", registers.len());
    if !next_page_token.is_empty() {
        println!("more: --page-token {next_page_token} (or --all)");
    }
}

pub fn version_list(json: bool, versions: &[pb::RegisterVersion]) {
    if json {
        print_json(&Value::Array(
            versions.iter().map(|v| version_json(v, true)).collect(),
        ));
        return;
    }
    println!(
        "{:>7}  {:<10}  {:<20}  {:<20}  PUBLISHED",
        "VERSION", "STATE", "UPDATED", "BY"
    );
    for v in versions {
        println!(
            "{:>7}  {:<10}  {:<20}  {:<20}  {}",
            v.version,
            enum_name(v.state().as_str_name(), "VERSION_STATE_"),
            time(v.update_time.as_ref()).as_str().unwrap_or(""),
            v.updated_by.as_ref().map_or("", |a| a.subject.as_str()),
            match (&v.published_by, time(v.publish_time.as_ref())) {
                (Some(a), Value::String(t)) => format!("{t} by {}", a.subject),
                _ => String::new(),
            }
        );
    }
}

/// After an import: what became of the document.
pub fn imported(json: bool, r: &pb::ImportRegisterResponse) {
    let report = r.report.clone().unwrap_or_default();
    if json {
        let content = convert::content_of("content", r.content.as_ref()).ok();
        print_json(&json!({
            "register": r.register.as_ref().map(register_json),
            "version": r.version.as_ref().map(|v| version_json(v, false)),
            "content": content,
            "report": convert::report_of(&report),
        }));
        return;
    }
    let translation = report
        .mapped_fields
        .iter()
        .any(|m| m.field.starts_with("translations."));
    match (&r.register, &r.version) {
        (Some(register), Some(version)) if translation => println!(
            "Imported {} ({}) into register {} \"{}\" as its `{}` texts: draft version {}.",
            report.source_name,
            report.language,
            register.register_id,
            register.name,
            report.language,
            version.version
        ),
        (Some(register), _) => println!(
            "Imported {} ({}) as draft register {} \"{}\", version 1.",
            report.source_name, report.language, register.register_id, register.name
        ),
        (None, _) => println!(
            "Dry run: {} ({}) would import as follows; nothing was created.",
            report.source_name, report.language
        ),
    }
    let sections: Vec<String> = report
        .sections
        .iter()
        .filter(|s| !s.heading.is_empty())
        .map(|s| format!("{} ({})", s.heading, s.kind))
        .collect();
    println!("\nSections ({}): {}", sections.len(), sections.join("; "));
    let fields: Vec<&pb::MappedField> = report
        .mapped_fields
        .iter()
        .filter(|m| !m.field.starts_with('('))
        .collect();
    println!("\nFields ({}):", fields.len());
    for m in fields {
        let value: String = m.value.chars().take(70).collect();
        let more = if m.value.chars().count() > 70 {
            "…"
        } else {
            ""
        };
        println!(
            "  {:<32} {value}{more}\n  {:<32} from {}",
            m.field, "", m.evidence
        );
    }
    // What the fields add up to, as the register will say it, and what publishing still needs.
    if let Some(c) = r
        .content
        .as_ref()
        .and_then(|c| convert::content_of("content", Some(c)).ok())
    {
        let lang = match report.language.as_str() {
            "sv" => rekisteri_register::notice::Lang::Sv,
            "en" => rekisteri_register::notice::Lang::En,
            _ => rekisteri_register::notice::Lang::Fi,
        };
        println!("\nRead as:");
        match &c.retention {
            Some(rule) => println!("  retention: {}", lang.phrases().retention(rule)),
            None => println!("  retention: not stated"),
        }
        let transfers: Vec<String> = c
            .transfers
            .iter()
            .map(|t| {
                format!(
                    "{} ({})",
                    t.country_code,
                    lang.phrases().safeguard(t.safeguard)
                )
            })
            .collect();
        match c.transfers_outside_eea {
            None => println!("  transfers outside the EU/EEA: not stated"),
            Some(rekisteri_register::content::TransfersOutsideEea::None) => {
                println!("  transfers outside the EU/EEA: none")
            }
            Some(_) if transfers.is_empty() => {
                println!("  transfers outside the EU/EEA: some, no country named")
            }
            Some(_) => println!("  transfers outside the EU/EEA: {}", transfers.join(", ")),
        }
        let sensitive: Vec<&str> = c
            .data_categories
            .iter()
            .filter(|d| d.national_identity_code || d.special_category)
            .map(|d| d.description.as_str())
            .collect();
        if !sensitive.is_empty() {
            println!(
                "  identity codes or special categories in: {}",
                sensitive.join("; ")
            );
        }
        let gaps = c.completeness();
        if !gaps.is_empty() {
            println!("\nBefore publishing, fill in:");
            for v in gaps.iter() {
                println!("  {}: {}", v.field, v.description);
            }
        }
    }
    if report.unmapped_lines.is_empty() {
        println!("\nEvery line was mapped.");
    } else {
        println!(
            "\nNot mapped ({} lines); review these by hand:",
            report.unmapped_lines.len()
        );
        for u in &report.unmapped_lines {
            println!(
                "  line {:>4} [{}] {}\n            {}",
                u.line, u.section, u.text, u.reason
            );
        }
    }
}

/// Prints an error for people, with every field violation, and picks the exit code.
pub fn report_error(err: &anyhow::Error) -> ExitCode {
    if let Some(status) = err.downcast_ref::<tonic::Status>() {
        let violations = rekisteri_platform::error::field_violations(status);
        let preconditions = rekisteri_platform::error::precondition_violations(status);
        if !preconditions.is_empty() {
            eprintln!("error: {:?}:", status.code());
            for (_, subject, description) in preconditions {
                eprintln!("  - {subject}: {description}");
            }
        } else if violations.is_empty() {
            eprintln!("error: {:?}: {}", status.code(), status.message());
        } else {
            // The message repeats the violations on one line; the list says it once, readably.
            eprintln!("error: {:?}:", status.code());
            for (field, description) in violations {
                eprintln!("  - {field}: {description}");
            }
        }
        return ExitCode::from(exit_code(status.code()));
    }
    if err.downcast_ref::<MissingToken>().is_some() {
        eprintln!("error: {err}");
        return ExitCode::from(4);
    }
    eprintln!("error: {err:#}");
    ExitCode::FAILURE
}

/// The exit code for a refusal, as the README lists them.
pub fn exit_code(code: tonic::Code) -> u8 {
    match code {
        tonic::Code::InvalidArgument => 3,
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => 4,
        tonic::Code::NotFound => 5,
        tonic::Code::FailedPrecondition => 6,
        tonic::Code::Aborted | tonic::Code::AlreadyExists => 7,
        tonic::Code::Unavailable => 8,
        _ => 1,
    }
}

/// No token was given and `rekisteri up` left none: an authentication problem (exit code 4).
#[derive(Debug)]
pub struct MissingToken(pub String);

impl std::fmt::Display for MissingToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MissingToken {}
