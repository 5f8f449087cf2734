//! Layered configuration: built-in defaults, then an optional file (TOML or YAML), then environment
//! variables `REKISTERI_<SECTION>__<KEY>` (e.g. `REKISTERI_DATABASE__URL`). The environment is handed
//! in by the binary; library code never reads it. The result is validated before anything starts,
//! and every error names the key that is wrong.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::auth::{AuthConfig, Secret};

/// What every service's configuration holds. A service's own settings go in a section named
/// after it (`[customers]`, `REKISTERI_CUSTOMERS__…`), read with [`ServiceConfig::section`]; the
/// runtime refuses sections no one reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    pub grpc: GrpcConfig,
    pub database: DatabaseConfig,
    pub nats: NatsConfig,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    #[serde(default)]
    pub outbox: OutboxConfig,
    #[serde(default)]
    pub read_cache: ReadCacheConfig,
    /// Every other top-level section, for the service to read as its own.
    #[serde(skip)]
    pub sections: Sections,
}

/// Which value a merge keeps where both have one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wins {
    Old,
    New,
}

/// `over` merged into `into`: tables key by key (recursively); elsewhere `wins` decides.
fn merge(into: &mut config::Value, over: config::Value, wins: Wins) {
    match (&mut into.kind, over.kind) {
        (config::ValueKind::Table(into), config::ValueKind::Table(over)) => {
            for (key, value) in over {
                match into.get_mut(&key) {
                    Some(existing) => merge(existing, value, wins),
                    None => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (_, kind) if wins == Wins::New => into.kind = kind,
        _ => {}
    }
}

/// The platform's own sections; any other top-level key is a service's.
const PLATFORM_SECTIONS: &[&str] = &[
    "grpc",
    "database",
    "nats",
    "auth",
    "telemetry",
    "outbox",
    "read_cache",
];

/// Sections of configuration the platform does not know, kept raw until a service reads them.
/// `Debug` shows only their names: they hold keys and secrets.
#[derive(Clone, Default)]
pub struct Sections(std::collections::BTreeMap<String, config::Value>);

impl fmt::Debug for Sections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Sections {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn insert(&mut self, name: &str, value: config::Value) {
        self.0.insert(name.to_owned(), value);
    }
}

/// For services that serve hot reads from memory (the catalogue's registers): see
/// [`crate::cache::ReadCache`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReadCacheConfig {
    /// How long an answer may be served from memory. A change made through this replica is seen
    /// at once; one made through another replica of the service within this time. 0 turns the
    /// cache off (every read goes to the database).
    pub ttl_ms: u64,
    /// Answers held at most, per kind of read.
    pub max_entries: usize,
}

impl Default for ReadCacheConfig {
    fn default() -> Self {
        Self {
            ttl_ms: 1000,
            max_entries: 1000,
        }
    }
}

impl ReadCacheConfig {
    pub fn cache<K: Eq + std::hash::Hash, V: Clone>(&self) -> crate::cache::ReadCache<K, V> {
        crate::cache::ReadCache::new(
            std::time::Duration::from_millis(self.ttl_ms),
            self.max_entries,
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcConfig {
    /// Where the gRPC server listens, `HOST:PORT` (an IPv6 host in brackets); port 0 picks a free port.
    pub listen: String,
    /// A call still running after this long is answered `DEADLINE_EXCEEDED`.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Calls handled at once across all connections; further calls are answered
    /// `RESOURCE_EXHAUSTED` at once rather than queued without bound.
    #[serde(default = "default_max_concurrent_requests")]
    pub max_concurrent_requests: usize,
    /// Largest request and response message, in bytes.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// TLS for the gRPC server; absent means plaintext (behind a mesh or on loopback).
    pub tls: Option<GrpcTlsConfig>,
}

fn default_request_timeout_ms() -> u64 {
    30_000
}
fn default_max_concurrent_requests() -> usize {
    512
}
fn default_max_message_bytes() -> usize {
    8 * 1024 * 1024
}

/// The server's certificate and key, and for mutual TLS the CA that client certificates must chain to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcTlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// When set, clients must present a certificate signed by this CA (mTLS).
    pub client_ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH?mode=rwc` or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    pub url: Secret,
    /// Pool size. PostgreSQL: the one pool. SQLite: the pool of read-only connections beside the
    /// single writer connection (WAL lets readers run while the writer writes).
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// How often the service checks that its database answers; while it does not, health
    /// reports NOT_SERVING.
    #[serde(default = "default_health_check_interval_ms")]
    pub health_check_interval_ms: u64,
    /// PostgreSQL settings for every session of the pool, as `SET` would give them (sent at
    /// connection start), e.g. `statement_timeout = "30s"`. A name PostgreSQL does not know
    /// stops the service at start with PostgreSQL's own error. Unused on SQLite.
    #[serde(default)]
    pub postgres_settings: std::collections::BTreeMap<String, String>,
}

fn default_health_check_interval_ms() -> u64 {
    2_000
}

fn default_max_connections() -> u32 {
    10
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// One or more comma-separated `nats://` or `tls://` URLs.
    pub url: String,
    /// User and password authentication (the password is a secret).
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Token authentication.
    pub token: Option<Secret>,
    /// NKey authentication: the user's seed (`SU...`).
    pub nkey_seed: Option<Secret>,
    /// A `.creds` file (JWT and NKey seed), as NATS accounts issue them.
    pub credentials_file: Option<PathBuf>,
    pub tls: Option<NatsTlsConfig>,
    /// Replicas of every stream this service declares (1 on a single server; 3 in a cluster).
    #[serde(default = "default_stream_replicas")]
    pub stream_replicas: usize,
}

fn default_stream_replicas() -> usize {
    1
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsTlsConfig {
    /// Refuse to talk to a server without TLS.
    pub required: bool,
    /// The CA that signed the server's certificate, when it is not a public one.
    pub ca_file: Option<PathBuf>,
    /// A client certificate and key, for servers that verify clients.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// An `EnvFilter` directive, e.g. `info` or `info,rekisteri_catalogue=debug`.
    pub log_level: String,
    /// `pretty` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// OTLP/gRPC collector endpoint, e.g. `http://otel-collector:4317`; empty disables export.
    pub otlp_endpoint: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_level: "info".into(),
            log_format: LogFormat::Pretty,
            otlp_endpoint: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// How often the relay looks for unsent events when nothing wakes it.
    pub poll_interval_ms: u64,
    /// How many events the relay publishes per round, all with their acknowledgements in flight.
    pub batch_size: u64,
    /// Failed publications of one event before it is parked for an operator (`rekisteri outbox
    /// parked`), so that it stops holding up the events behind it.
    pub max_attempts: u32,
    /// How long published events stay in the outbox table before they are deleted (events may
    /// describe people; the stream keeps its own retention).
    pub sent_retention_secs: u64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: 1000,
            batch_size: 500,
            max_attempts: 10,
            sent_retention_secs: 3 * 24 * 3600,
        }
    }
}

/// A configuration that could not be loaded or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("configuration section `[{name}]`: {message}")]
    Section { name: String, message: String },
}

/// Where the configuration comes from, in increasing precedence.
pub struct Sources<'a> {
    /// Built-in defaults as TOML text.
    pub defaults: &'a str,
    /// An optional configuration file (`.toml`, `.yaml`, `.yml` or `.json`).
    pub file: Option<&'a Path>,
    /// The process environment, or any map of the same shape.
    pub env: HashMap<String, String>,
}

impl fmt::Debug for Sources<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The environment may hold secrets: show only which variables are ours.
        let ours: Vec<&String> = self
            .env
            .keys()
            .filter(|k| k.starts_with("REKISTERI_"))
            .collect();
        f.debug_struct("Sources")
            .field("file", &self.file)
            .field("env_keys", &ours)
            .finish()
    }
}

impl ServiceConfig {
    /// Loads and validates. `defaults` must provide `grpc.listen`, `database.url` and `nats.url`.
    pub fn load(sources: Sources<'_>) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            sources.defaults,
            config::FileFormat::Toml,
        ));
        if let Some(file) = sources.file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let env: HashMap<String, String> = sources
            .env
            .into_iter()
            // Only REKISTERI_<SECTION>__<KEY> is configuration; other REKISTERI_* variables (the
            // client's REKISTERI_TOKEN, the tests' REKISTERI_TEST_POSTGRES_URL) are not.
            .filter(|(k, _)| k.starts_with("REKISTERI_") && k.contains("__"))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("REKISTERI")
                .prefix_separator("_")
                .separator("__")
                .source(Some(env)),
        );
        let mut root: config::Map<String, config::Value> = builder.build()?.try_deserialize()?;
        let mut sections = Sections::default();
        for name in root
            .keys()
            .filter(|k| !PLATFORM_SECTIONS.contains(&k.as_str()))
            .cloned()
            .collect::<Vec<_>>()
        {
            let value = root.remove(&name).expect("the key was just listed");
            sections.0.insert(name, value);
        }
        let mut config: ServiceConfig =
            config::Value::new(None, config::ValueKind::Table(root)).try_deserialize()?;
        config.sections = sections;
        config.validate()?;
        Ok(config)
    }

    /// Adds the sections of a TOML text that are not the platform's (a service's own settings
    /// made by a program, as `rekisteri up` and the tests do), merged key by key over what is
    /// there: a key given here wins; the built-in defaults, the file and the environment keep
    /// every key it does not name, in nested tables too.
    pub fn add_sections(&mut self, toml: &str) -> Result<(), ConfigError> {
        let root: config::Map<String, config::Value> = config::Config::builder()
            .add_source(config::File::from_str(toml, config::FileFormat::Toml))
            .build()?
            .try_deserialize()?;
        for (name, value) in root {
            if PLATFORM_SECTIONS.contains(&name.as_str()) {
                continue;
            }
            match self.sections.0.get_mut(&name) {
                Some(existing) => merge(existing, value, Wins::New),
                None => {
                    self.sections.0.insert(name, value);
                }
            }
        }
        Ok(())
    }

    /// Adds a service's built-in defaults (its `ServiceSpec::defaults`) under what is there:
    /// only keys nothing else set are taken, in nested tables too. For configurations built by
    /// a program (`rekisteri up`, the end-to-end tests) rather than loaded with the defaults.
    pub fn add_defaults(&mut self, toml: &str) -> Result<(), ConfigError> {
        let root: config::Map<String, config::Value> = config::Config::builder()
            .add_source(config::File::from_str(toml, config::FileFormat::Toml))
            .build()?
            .try_deserialize()?;
        for (name, value) in root {
            if PLATFORM_SECTIONS.contains(&name.as_str()) {
                continue;
            }
            match self.sections.0.get_mut(&name) {
                Some(existing) => merge(existing, value, Wins::Old),
                None => {
                    self.sections.0.insert(name, value);
                }
            }
        }
        Ok(())
    }

    /// The service's own section `[name]`, or `T::default()` when there is none. Errors name the
    /// section; values from the environment (strings) are converted as the platform's own are.
    pub fn section<T: serde::de::DeserializeOwned + Default>(
        &self,
        name: &str,
    ) -> Result<T, ConfigError> {
        match self.sections.0.get(name) {
            None => Ok(T::default()),
            Some(value) => value
                .clone()
                .try_deserialize()
                .map_err(|e| ConfigError::Section {
                    name: name.to_owned(),
                    message: e.to_string(),
                }),
        }
    }

    /// Checks what serde cannot: that addresses parse, URLs have a known scheme, tokens are
    /// well-formed. Stops at the first problem, naming its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: String| Err(ConfigError::Invalid { key, message });
        if let Err(message) = split_host_port(&self.grpc.listen) {
            return invalid("grpc.listen", message);
        }
        if self.grpc.request_timeout_ms == 0 {
            return invalid("grpc.request_timeout_ms", "must be positive".into());
        }
        if self.grpc.max_concurrent_requests == 0 {
            return invalid("grpc.max_concurrent_requests", "must be at least 1".into());
        }
        if self.grpc.max_message_bytes < 1024 {
            return invalid("grpc.max_message_bytes", "must be at least 1024".into());
        }
        if let Some(tls) = &self.grpc.tls {
            for (key, path) in [
                ("grpc.tls.cert_file", Some(&tls.cert_file)),
                ("grpc.tls.key_file", Some(&tls.key_file)),
                ("grpc.tls.client_ca_file", tls.client_ca_file.as_ref()),
            ] {
                if let Some(path) = path
                    && !path.is_file()
                {
                    return invalid(key, format!("{} is not a readable file", path.display()));
                }
            }
        }
        if self.database.health_check_interval_ms == 0 {
            return invalid(
                "database.health_check_interval_ms",
                "must be positive".into(),
            );
        }
        let db = self.database.url.expose();
        if !(db.starts_with("sqlite:")
            || db.starts_with("postgres://")
            || db.starts_with("postgresql://"))
        {
            return invalid(
                "database.url",
                "must start with sqlite: or postgres://".into(),
            );
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be at least 1".into());
        }
        // First, so that no message below can echo credentials.
        if self.nats.url.split(',').any(|u| u.contains('@')) {
            // Credentials in a URL end up in client logs and debug output: configure them apart.
            return invalid(
                "nats.url",
                "put no credentials in the URL; use nats.user and nats.password (or nats.token)"
                    .into(),
            );
        }
        if !self
            .nats
            .url
            .split(',')
            .all(|u| u.starts_with("nats://") || u.starts_with("tls://"))
        {
            return invalid(
                "nats.url",
                format!("`{}` is not a nats:// URL", self.nats.url),
            );
        }
        let nats = &self.nats;
        if nats.user.is_some() != nats.password.is_some() {
            return invalid(
                "nats.user",
                "nats.user and nats.password go together".into(),
            );
        }
        let methods = [
            nats.user.is_some(),
            nats.token.is_some(),
            nats.nkey_seed.is_some(),
            nats.credentials_file.is_some(),
        ];
        if methods.iter().filter(|m| **m).count() > 1 {
            return invalid(
                "nats",
                "choose one of user/password, token, nkey_seed and credentials_file".into(),
            );
        }
        if let Some(seed) = &nats.nkey_seed
            && !seed.expose().starts_with('S')
        {
            // Never echo the seed: say only what shape it should have.
            return invalid("nats.nkey_seed", "an NKey seed starts with `S`".into());
        }
        if let Some(path) = &nats.credentials_file
            && !path.is_file()
        {
            return invalid(
                "nats.credentials_file",
                format!("{} is not a readable file", path.display()),
            );
        }
        if let Some(tls) = &nats.tls {
            if tls.cert_file.is_some() != tls.key_file.is_some() {
                return invalid("nats.tls", "cert_file and key_file go together".into());
            }
            for (key, path) in [
                ("nats.tls.ca_file", &tls.ca_file),
                ("nats.tls.cert_file", &tls.cert_file),
                ("nats.tls.key_file", &tls.key_file),
            ] {
                if let Some(path) = path
                    && !path.is_file()
                {
                    return invalid(key, format!("{} is not a readable file", path.display()));
                }
            }
        }
        if !(1..=5).contains(&nats.stream_replicas) {
            return invalid("nats.stream_replicas", "between 1 and 5".into());
        }
        if self
            .telemetry
            .log_level
            .parse::<tracing_subscriber::EnvFilter>()
            .is_err()
        {
            return invalid(
                "telemetry.log_level",
                format!("`{}` is not a log filter", self.telemetry.log_level),
            );
        }
        let otlp = &self.telemetry.otlp_endpoint;
        if !(otlp.is_empty() || otlp.starts_with("http://") || otlp.starts_with("https://")) {
            return invalid(
                "telemetry.otlp_endpoint",
                "must be an http:// or https:// URL".into(),
            );
        }
        if self.outbox.poll_interval_ms == 0 || self.outbox.batch_size == 0 {
            return invalid(
                "outbox",
                "poll_interval_ms and batch_size must be positive".into(),
            );
        }
        if self.outbox.batch_size > crate::outbox::MAX_BATCH {
            return invalid(
                "outbox.batch_size",
                format!("at most {}", crate::outbox::MAX_BATCH),
            );
        }
        if self.outbox.max_attempts == 0 {
            return invalid("outbox.max_attempts", "must be at least 1".into());
        }
        self.auth
            .validate()
            .map_err(|(key, message)| ConfigError::Invalid { key, message })
    }
}

/// Splits `HOST:PORT` (IPv6 hosts in brackets, `[::1]:50051`) and checks the port; the host may be
/// a name such as `localhost`, resolved when the server binds.
pub fn split_host_port(address: &str) -> Result<(&str, u16), String> {
    let shape = || format!("`{address}` is not HOST:PORT like 0.0.0.0:50051 or [::1]:50051");
    let (host, port) = address.rsplit_once(':').ok_or_else(shape)?;
    let host = if let Some(inner) = host.strip_prefix('[') {
        inner.strip_suffix(']').ok_or_else(shape)?
    } else if host.contains(':') {
        return Err(format!(
            "`{address}`: put an IPv6 address in brackets, e.g. [::1]:50051"
        ));
    } else {
        host
    };
    if host.is_empty() {
        return Err(shape());
    }
    let port = port.parse::<u16>().map_err(|_| shape())?;
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: &str = r#"
        [grpc]
        listen = "127.0.0.1:50051"
        [database]
        url = "sqlite://catalogue.db?mode=rwc"
        [nats]
        url = "nats://127.0.0.1:4222"
        [auth.jwt]
        hs256_secret = "jwt-signing-secret"
        issuer = "https://idp.example"
        audience = "rekisteri"
    "#;

    fn load(env: &[(&str, &str)]) -> Result<ServiceConfig, ConfigError> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ServiceConfig::load(Sources {
            defaults: DEFAULTS,
            file: None,
            env,
        })
    }

    #[test]
    fn environment_overrides_defaults() {
        let config = load(&[
            ("REKISTERI_GRPC__LISTEN", "0.0.0.0:6000"),
            (
                "REKISTERI_DATABASE__URL",
                "postgres://u:hunter2@db/rekisteri",
            ),
            ("REKISTERI_TELEMETRY__LOG_FORMAT", "json"),
            ("UNRELATED", "x"),
            ("REKISTERI_TOKEN", "not configuration"),
            ("REKISTERI_TEST_POSTGRES_URL", "postgres://elsewhere"),
        ])
        .unwrap();
        assert_eq!(config.grpc.listen, "0.0.0.0:6000");
        assert_eq!(
            config.database.url.expose(),
            "postgres://u:hunter2@db/rekisteri"
        );
        assert_eq!(config.telemetry.log_format, LogFormat::Json);
        assert_eq!(config.outbox.batch_size, 500);
    }

    #[test]
    fn a_file_sits_between_defaults_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rekisteri.yaml");
        std::fs::write(
            &file,
            "grpc:\n  listen: 127.0.0.1:7000\nnats:\n  url: nats://file:4222\n",
        )
        .unwrap();
        let env = [(
            "REKISTERI_NATS__URL".to_string(),
            "nats://env:4222".to_string(),
        )]
        .into();
        let config = ServiceConfig::load(Sources {
            defaults: DEFAULTS,
            file: Some(&file),
            env,
        })
        .unwrap();
        assert_eq!(config.grpc.listen, "127.0.0.1:7000");
        assert_eq!(config.nats.url, "nats://env:4222");
    }

    #[test]
    fn added_sections_merge_key_by_key_over_defaults_and_the_environment() {
        #[derive(Debug, Default, Deserialize)]
        #[serde(default)]
        struct Own {
            endpoint: String,
            limit: u64,
            source: Source,
        }
        #[derive(Debug, Default, Deserialize)]
        #[serde(default)]
        struct Source {
            enabled: bool,
            base_url: String,
        }
        let mut config = load(&[("REKISTERI_OWN__LIMIT", "7")]).unwrap();
        config
            .add_sections("[own.source]\nenabled = true\nbase_url = \"https://default\"\n")
            .unwrap();
        config
            .add_sections(
                "[own]\nendpoint = \"http://local\"\n[own.source]\nbase_url = \"http://mock\"\n",
            )
            .unwrap();
        let own: Own = config.section("own").unwrap();
        assert_eq!(own.endpoint, "http://local");
        assert_eq!(own.limit, 7, "the environment's key is kept");
        assert!(own.source.enabled, "a nested key not named is kept");
        assert_eq!(own.source.base_url, "http://mock", "a named one wins");

        // Built-in defaults go under: they fill gaps only.
        config
            .add_defaults("[own]\nendpoint = \"http://default\"\nlimit = 1\n[own.source]\nbase_url = \"https://default\"\n[other]\nkey = 1\n")
            .unwrap();
        let own: Own = config.section("own").unwrap();
        assert_eq!((own.endpoint.as_str(), own.limit), ("http://local", 7));
        assert_eq!(own.source.base_url, "http://mock");
        assert_eq!(config.sections.names().filter(|n| *n == "other").count(), 1);
    }

    #[test]
    fn a_services_own_section_is_read_typed_and_kept_out_of_debug() {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        struct Own {
            accept_temporary: bool,
            cache_entries: u64,
            key: Option<Secret>,
        }
        let config = load(&[
            ("REKISTERI_CUSTOMERS__ACCEPT_TEMPORARY", "true"),
            ("REKISTERI_CUSTOMERS__CACHE_ENTRIES", "42"),
            ("REKISTERI_CUSTOMERS__KEY", "very-secret-key"),
        ])
        .unwrap();
        let own: Own = config.section("customers").unwrap();
        assert!(own.accept_temporary);
        assert_eq!(own.cache_entries, 42);
        assert_eq!(own.key.unwrap().expose(), "very-secret-key");
        assert!(!format!("{config:?}").contains("very-secret-key"));
        assert_eq!(config.sections.names().collect::<Vec<_>>(), ["customers"]);
        // Absent: the defaults. Wrong: an error naming the section.
        assert_eq!(config.section::<Own>("other").unwrap().cache_entries, 0);
        let bad = load(&[("REKISTERI_CUSTOMERS__CACHE_ENTRIES", "many")]).unwrap();
        let err = bad.section::<Own>("customers").unwrap_err().to_string();
        assert!(err.contains("[customers]"), "{err}");
    }

    #[test]
    fn errors_name_the_bad_key() {
        let err = load(&[("REKISTERI_GRPC__LISTEN", "not-an-address")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("grpc.listen"), "{err}");
        let err = load(&[("REKISTERI_DATABASE__URL", "mysql://x")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("database.url"), "{err}");
        let err = load(&[("REKISTERI_TELEMETRY__LOG_FORMAT", "xml")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("log_format"), "{err}");
        let err = load(&[("REKISTERI_AUTH__JWT__ISSUER", "")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("auth.jwt"), "{err}");
    }

    #[test]
    fn listen_addresses_take_names_and_bracketed_ipv6() {
        assert_eq!(split_host_port("localhost:50051"), Ok(("localhost", 50051)));
        assert_eq!(split_host_port("[::1]:50051"), Ok(("::1", 50051)));
        assert_eq!(split_host_port("0.0.0.0:0"), Ok(("0.0.0.0", 0)));
        assert!(
            split_host_port("::1:50051")
                .unwrap_err()
                .contains("brackets")
        );
        assert!(split_host_port("localhost").is_err());
        assert!(split_host_port("localhost:99999").is_err());
        let err = load(&[("REKISTERI_GRPC__LISTEN", "::1:50051")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("grpc.listen") && err.contains("brackets"),
            "{err}"
        );
    }

    #[test]
    fn static_tokens_come_from_the_environment_as_json() {
        let hash = crate::auth::hash_token("crm-token");
        let json = format!(r#"[{{"name":"crm","sha256":"{hash}","roles":["catalogue.reader"]}}]"#);
        let config = load(&[("REKISTERI_AUTH__STATIC_TOKENS", &json)]).unwrap();
        assert_eq!(config.auth.static_tokens.len(), 1);
        assert_eq!(config.auth.static_tokens[0].roles, ["catalogue.reader"]);
        let err = load(&[("REKISTERI_AUTH__STATIC_TOKENS", "[{oops")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("auth.static_tokens"), "{err}");
    }

    #[test]
    fn nats_secrets_are_checked_without_being_echoed() {
        let err = load(&[("REKISTERI_NATS__NKEY_SEED", "not-a-seed-hunter2")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("nats.nkey_seed") && !err.contains("hunter2"),
            "{err}"
        );
        let err = load(&[("REKISTERI_NATS__URL", "http://u:hunter2@nats:4222")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("nats.url") && !err.contains("hunter2"),
            "{err}"
        );
        let err = load(&[("REKISTERI_NATS__USER", "u")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("nats.user"), "{err}");
        let config = load(&[
            ("REKISTERI_NATS__USER", "u"),
            ("REKISTERI_NATS__PASSWORD", "hunter2"),
        ])
        .unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let config = load(&[(
            "REKISTERI_DATABASE__URL",
            "postgres://u:hunter2@db/rekisteri",
        )])
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("jwt-signing-secret"), "{shown}");
    }
}
