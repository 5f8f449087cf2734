//! Every service the system runs, in one table: `rekisteri up` starts them all, `rekisteri serve
//! NAME` one of them, the client commands find their default endpoints here, and the end-to-end
//! tests walk them. Adding a service means adding its row.

use std::net::SocketAddr;
use std::path::Path;

use futures::future::BoxFuture;
use rekisteri_platform::config::ServiceConfig;
use rekisteri_platform::runtime::{Service, ServiceSpec};

/// One row: what the service is, where it listens by default, how to build it.
#[derive(Debug, Clone, Copy)]
pub struct ServiceEntry {
    pub spec: &'static ServiceSpec,
    pub default_port: u16,
    pub build: for<'a> fn(&'a ServiceConfig) -> BoxFuture<'a, anyhow::Result<Service>>,
    /// The service's own section for the local system `rekisteri up` runs (keys kept in the data
    /// directory, the other services' addresses), as TOML; `None` when it needs none.
    pub local: Option<fn(&Local<'_>) -> anyhow::Result<String>>,
}

/// What `rekisteri up` knows when it starts a service.
#[derive(Debug)]
pub struct Local<'a> {
    pub data_dir: &'a Path,
    pub admin_token: &'a str,
    /// The services already started, with their addresses.
    pub started: &'a [(&'static str, SocketAddr)],
}

impl ServiceEntry {
    pub fn name(&self) -> &'static str {
        self.spec.name
    }
}

pub const ALL: &[ServiceEntry] = &[
    ServiceEntry {
        spec: &rekisteri_catalogue::app::SPEC,
        default_port: 50051,
        build: |config| Box::pin(rekisteri_catalogue::build(config)),
        local: None,
    },
    ServiceEntry {
        spec: &rekisteri_customers::app::SPEC,
        default_port: 50052,
        build: |config| Box::pin(rekisteri_customers::build(config)),
        local: Some(customers_locally),
    },
    ServiceEntry {
        spec: &rekisteri_enrichment::app::SPEC,
        default_port: 50053,
        build: |config| Box::pin(rekisteri_enrichment::build(config)),
        local: Some(enrichment_locally),
    },
    ServiceEntry {
        spec: &rekisteri_disclosures::app::SPEC,
        default_port: 50054,
        build: |config| Box::pin(rekisteri_disclosures::build(config)),
        local: Some(disclosures_locally),
    },
];

/// The address `rekisteri up` started the catalogue on, for the services that ask it.
fn catalogue_url(local: &Local<'_>) -> String {
    started_url(local, "catalogue")
}

/// The address `rekisteri up` started `name` on, as a URL, or empty.
fn started_url(local: &Local<'_>, name: &str) -> String {
    local
        .started
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, addr)| format!("http://{addr}"))
        .unwrap_or_default()
}

/// The enrichment service asks the catalogue which sources a register declares and the
/// customer service which registers a subject is in. PRH's open data is the default source;
/// `REKISTERI_ENRICHMENT__PRH__BASE_URL` points it elsewhere (a mock, a proxy).
fn enrichment_locally(local: &Local<'_>) -> anyhow::Result<String> {
    Ok(format!(
        r#"
[enrichment]
catalogue_endpoint = "{catalogue}"
catalogue_token = "{token}"
customers_endpoint = "{customers}"
customers_token = "{token}"
"#,
        catalogue = catalogue_url(local),
        customers = started_url(local, "customers"),
        token = local.admin_token,
    ))
}

/// A checkpoint signing key made once and kept in the data directory (mode 0600): a new key
/// would start a new chain of trust for every auditor.
fn disclosures_locally(local: &Local<'_>) -> anyhow::Result<String> {
    use base64::Engine;
    let path = local.data_dir.join("disclosures-signing-key");
    let key = match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
            write_private(&path, &format!("{key}\n"))?;
            key
        }
        Err(e) => anyhow::bail!("reading {}: {e}", path.display()),
    };
    Ok(format!(
        r#"
[disclosures]
catalogue_endpoint = "{catalogue}"
catalogue_token = "{token}"
signing_key = "{key}"
checkpoint_interval_secs = 10
"#,
        catalogue = catalogue_url(local),
        token = local.admin_token,
    ))
}

/// Local keys for identity codes, made once and kept in the data directory (mode 0600): losing
/// them loses every stored identity code.
fn customers_locally(local: &Local<'_>) -> anyhow::Result<String> {
    use base64::Engine;
    let path = local.data_dir.join("customers-keys");
    let keys = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        // Made once: new keys over old ones would leave every stored code unreadable, so any
        // error but "not there" stops here.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let b64 = |bytes: [u8; 32]| base64::engine::general_purpose::STANDARD.encode(bytes);
            let text = format!("{}\n{}\n", b64(rand::random()), b64(rand::random()));
            write_private(&path, &text)?;
            text
        }
        Err(e) => anyhow::bail!("reading {}: {e}", path.display()),
    };
    let mut lines = keys.lines();
    let (Some(identity), Some(index)) = (lines.next(), lines.next()) else {
        anyhow::bail!(
            "{}: expected two lines (identity code key, blind index key)",
            path.display()
        );
    };
    let catalogue = catalogue_url(local);
    Ok(format!(
        r#"
[customers]
catalogue_endpoint = "{catalogue}"
catalogue_token = "{token}"
identity_code_key_id = "local-1"
blind_index_key = "{index}"
[customers.identity_code_keys]
local-1 = "{identity}"
"#,
        token = local.admin_token,
    ))
}

/// The file in a data directory where `rekisteri up` notes the NATS it uses, so that client
/// commands run against that directory (e.g. `disclosures tail`) find it.
pub const NATS_URL_FILE: &str = "nats-url";

/// The NATS `rekisteri up` noted in `data_dir`, if it did.
pub fn local_nats_url(data_dir: &Path) -> Option<String> {
    std::fs::read_to_string(data_dir.join(NATS_URL_FILE))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The row named `name`, or an error listing the names there are.
pub fn find(name: &str) -> anyhow::Result<&'static ServiceEntry> {
    ALL.iter().find(|s| s.name() == name).ok_or_else(|| {
        anyhow::anyhow!(
            "no service `{name}`; the services are: {}",
            ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ")
        )
    })
}

/// clap's parser for a service name.
pub fn parse(name: &str) -> Result<&'static ServiceEntry, String> {
    find(name).map_err(|e| e.to_string())
}

/// Writes a file readable by its owner only, from the first byte (keys, tokens).
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        // A file left by an older version may have other permissions: tighten them too.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
