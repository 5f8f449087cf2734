//! Bearer-token authentication and role-based authorisation.
//!
//! Every RPC but health and reflection carries `authorization: Bearer <token>`. A token resolves to
//! a [`Principal`]: either a static token, stored in configuration only as its SHA-256 hash (for
//! local use), or a JWT (RS256 or ES256 from a PEM key or a JWKS file or URL chosen by `kid`;
//! HS256 for development) whose issuer, audience, expiry and not-before are checked. The principal travels in the request's extensions; services call
//! [`Principal::require`] with the role an RPC needs.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tonic::{Request, Status};

/// The role that holds every other role.
pub const ADMIN_ROLE: &str = "admin";

/// A string that must not be logged: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// A list in a file, or in the environment as JSON:
    /// `REKISTERI_AUTH__STATIC_TOKENS='[{"name":"crm","sha256":"…","roles":["catalogue.reader"]}]'`.
    #[serde(deserialize_with = "list_or_json")]
    pub static_tokens: Vec<StaticToken>,
    pub jwt: Option<JwtConfig>,
}

/// A list as such (from a file), or a string holding it as JSON (from an environment variable,
/// where the configuration crate cannot express a list of tables).
fn list_or_json<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<StaticToken>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        List(Vec<StaticToken>),
        Json(String),
    }
    match Form::deserialize(d)? {
        Form::List(list) => Ok(list),
        Form::Json(text) => serde_json::from_str(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "auth.static_tokens: not a JSON list of {{name, sha256, roles}}: {e}"
            ))
        }),
    }
}

/// A token known in advance. Only its hash is configured: `printf %s TOKEN | sha256sum`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticToken {
    /// The principal's subject, recorded on every change it makes.
    pub name: String,
    /// Lower-case hex SHA-256 of the token.
    pub sha256: String,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// Shared secret for HS256 tokens.
    pub hs256_secret: Option<Secret>,
    /// PEM public key for RS256 tokens.
    pub rs256_public_key_pem: Option<String>,
    /// PEM public key for ES256 tokens.
    pub es256_public_key_pem: Option<String>,
    /// A JWKS document (RS256 and ES256 keys, chosen by the token's `kid`). The file is read again
    /// when a token names a `kid` it does not hold, so keys rotate by replacing the file.
    pub jwks_file: Option<std::path::PathBuf>,
    /// A JWKS document served by the identity provider (`https://`, or `http://` to a loopback
    /// address), fetched at start, every `jwks_refresh_secs`, and soon after a token names a `kid`
    /// not held. Verification never waits for it; the keys held stay in use while it is away.
    pub jwks_url: Option<String>,
    /// How often the JWKS URL is fetched again.
    #[serde(default = "default_jwks_refresh_secs")]
    pub jwks_refresh_secs: u64,
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// The claim holding the roles, as an array of strings or a space-separated string.
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
}

fn default_jwks_refresh_secs() -> u64 {
    300
}

fn default_roles_claim() -> String {
    "roles".into()
}

impl AuthConfig {
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.static_tokens.is_empty() && self.jwt.is_none() {
            return Err((
                "auth",
                "configure at least one of auth.static_tokens or auth.jwt".into(),
            ));
        }
        for token in &self.static_tokens {
            let hex_ok =
                token.sha256.len() == 64 && token.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex_ok {
                return Err((
                    "auth.static_tokens.sha256",
                    format!("token `{}`: not a hex SHA-256 digest", token.name),
                ));
            }
            if token.name.trim().is_empty() {
                return Err((
                    "auth.static_tokens.name",
                    "a static token needs a name".into(),
                ));
            }
        }
        if let Some(jwt) = &self.jwt {
            if jwt.hs256_secret.is_none()
                && jwt.rs256_public_key_pem.is_none()
                && jwt.es256_public_key_pem.is_none()
                && jwt.jwks_file.is_none()
                && jwt.jwks_url.is_none()
            {
                return Err((
                    "auth.jwt",
                    "set at least one of jwks_file, jwks_url, rs256_public_key_pem, es256_public_key_pem and hs256_secret".into(),
                ));
            }
            if let Some(pem) = &jwt.es256_public_key_pem
                && DecodingKey::from_ec_pem(pem.as_bytes()).is_err()
            {
                return Err((
                    "auth.jwt.es256_public_key_pem",
                    "not a PEM EC public key".into(),
                ));
            }
            if let Some(path) = &jwt.jwks_file {
                load_jwks(path).map_err(|e| ("auth.jwt.jwks_file", e))?;
            }
            if let Some(url) = &jwt.jwks_url {
                if jwt.jwks_file.is_some() {
                    return Err((
                        "auth.jwt.jwks_url",
                        "set jwks_file or jwks_url, not both".into(),
                    ));
                }
                check_jwks_url(url).map_err(|e| ("auth.jwt.jwks_url", e))?;
                if jwt.jwks_refresh_secs == 0 {
                    return Err(("auth.jwt.jwks_refresh_secs", "must be at least 1".into()));
                }
            }
            if let Some(pem) = &jwt.rs256_public_key_pem
                && DecodingKey::from_rsa_pem(pem.as_bytes()).is_err()
            {
                return Err((
                    "auth.jwt.rs256_public_key_pem",
                    "not a PEM RSA public key".into(),
                ));
            }
            if jwt.issuer.is_empty() || jwt.audience.is_empty() {
                return Err(("auth.jwt", "issuer and audience are required".into()));
            }
        }
        Ok(())
    }
}

/// Hex SHA-256 of a token, the form in which static tokens are configured.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Who is calling, and what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub roles: BTreeSet<String>,
}

impl Principal {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains(role) || self.roles.contains(ADMIN_ROLE)
    }

    /// `PERMISSION_DENIED` unless the principal holds `role` (or `admin`).
    pub fn require(&self, role: &str) -> Result<(), Status> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(Status::permission_denied(format!(
                "this call needs the role `{role}`"
            )))
        }
    }

    /// The principal the server authenticated and authorised for this call (its role was
    /// checked against the service's [`RoleTable`] before the handler ran).
    pub fn of<T>(request: &Request<T>) -> Result<Principal, Status> {
        request
            .extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no authenticated principal"))
    }
}

struct Jwt {
    keys: Vec<(DecodingKey, Validation)>,
    jwks: Option<Arc<Jwks>>,
    template: Validation,
    roles_claim: String,
}

type KeysById = HashMap<String, (DecodingKey, Algorithm)>;

/// How often, at most, an unknown `kid` makes the JWKS file be read again.
const JWKS_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);
/// How often, at most, an unknown `kid` makes the JWKS URL be fetched again: the identity
/// provider is someone else's server, and a token naming a made-up key costs nothing to send.
const JWKS_URL_RECHECK: std::time::Duration = std::time::Duration::from_secs(10);
/// A JWKS document is a few kilobytes; anything much larger is not one.
const JWKS_MAX_BYTES: usize = 1024 * 1024;

/// Where the JWKS document comes from.
enum JwksSource {
    /// Read again (when its modification time changed) if a token names a `kid` not held.
    File(std::path::PathBuf),
    /// Fetched in the background: at start, every `refresh`, and soon after a token names a
    /// `kid` not held. Verification never waits for the network.
    Url {
        url: String,
        client: reqwest::Client,
        refresh: std::time::Duration,
        wake: Arc<tokio::sync::Notify>,
        loaded: tokio::sync::watch::Sender<bool>,
    },
}

/// Keys from a JWKS document by `kid`.
struct Jwks {
    source: JwksSource,
    state: std::sync::RwLock<JwksState>,
}

struct JwksState {
    keys: KeysById,
    /// The file's modification time when it was read.
    modified: Option<std::time::SystemTime>,
    /// When an unknown `kid` last made the source be read again (never, for a URL just set up).
    checked: Option<std::time::Instant>,
}

impl Jwks {
    fn from_file(path: &std::path::Path) -> anyhow::Result<Self> {
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let keys = load_jwks(path).map_err(|e| anyhow::anyhow!(e))?;
        Ok(Self {
            source: JwksSource::File(path.to_owned()),
            state: std::sync::RwLock::new(JwksState {
                keys,
                modified,
                checked: Some(std::time::Instant::now()),
            }),
        })
    }

    /// Starts empty and fetches in a task of its own, which ends when the keys are dropped.
    /// Needs a Tokio runtime.
    fn from_url(url: &str, refresh: std::time::Duration) -> anyhow::Result<Arc<Self>> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            // The configured address is the one checked (https, or loopback http): a redirect
            // could lead anywhere, so none is followed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rekisteri/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let wake = Arc::new(tokio::sync::Notify::new());
        let jwks = Arc::new(Self {
            source: JwksSource::Url {
                url: url.to_owned(),
                client,
                refresh,
                wake: wake.clone(),
                loaded: tokio::sync::watch::Sender::new(false),
            },
            state: std::sync::RwLock::new(JwksState {
                keys: HashMap::new(),
                modified: None,
                checked: None,
            }),
        });
        let weak = Arc::downgrade(&jwks);
        tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                let Some(jwks) = weak.upgrade() else { return };
                let JwksSource::Url {
                    url,
                    client,
                    refresh,
                    loaded,
                    ..
                } = &jwks.source
                else {
                    return;
                };
                let next = match fetch_jwks(client, url).await {
                    Ok(keys) => {
                        failures = 0;
                        let count = keys.len();
                        if let Ok(mut state) = jwks.state.write() {
                            state.keys = keys;
                        }
                        if !*loaded.borrow() {
                            tracing::info!(url = %url, keys = count, "JWKS loaded");
                        }
                        loaded.send_replace(true);
                        *refresh
                    }
                    Err(e) => {
                        // Keep the keys held: an identity provider that is briefly away must not
                        // log everyone out. Retry sooner than the refresh, backing off.
                        failures = failures.saturating_add(1);
                        tracing::warn!(url = %url, error = %e, "cannot fetch the JWKS; keeping the keys held");
                        std::time::Duration::from_secs(1 << failures.min(6)).min(*refresh)
                    }
                };
                drop(jwks);
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(next) => {}
                }
            }
        });
        Ok(jwks)
    }

    /// Waits until the first fetch from a URL has succeeded, at most `limit`; true when the keys
    /// are there (always for a file).
    async fn wait_loaded(&self, limit: std::time::Duration) -> bool {
        match &self.source {
            JwksSource::File(_) => true,
            JwksSource::Url { loaded, .. } => {
                let mut rx = loaded.subscribe();
                tokio::time::timeout(limit, rx.wait_for(|l| *l))
                    .await
                    .is_ok_and(|r| r.is_ok())
            }
        }
    }

    fn key(&self, kid: &str) -> Option<(DecodingKey, Algorithm)> {
        let recheck = match self.source {
            JwksSource::File(_) => JWKS_RECHECK,
            JwksSource::Url { .. } => JWKS_URL_RECHECK,
        };
        {
            let state = self.state.read().ok()?;
            if let Some(found) = state.keys.get(kid) {
                return Some(found.clone());
            }
            // Unknown ids read the source again at most every `recheck`: tokens naming made-up
            // keys (no valid signature needed) must not become a stream of reads and write locks
            // in front of every other check.
            if state.checked.is_some_and(|c| c.elapsed() < recheck) {
                return None;
            }
        }
        let mut state = self.state.write().ok()?;
        if state.checked.is_none_or(|c| c.elapsed() >= recheck) {
            state.checked = Some(std::time::Instant::now());
            match &self.source {
                JwksSource::Url { wake, .. } => wake.notify_one(),
                JwksSource::File(path) => {
                    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
                    if modified.is_some() && modified != state.modified {
                        match load_jwks(path) {
                            Ok(keys) => {
                                state.keys = keys;
                                state.modified = modified;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "cannot read the JWKS file again; keeping the keys held")
                            }
                        }
                    }
                }
            }
        }
        state.keys.get(kid).cloned()
    }
}

/// Keys fetched over plain HTTP could be replaced by anyone on the path, and with them every
/// token: only `https://`, or `http://` to the machine itself (a sidecar, a test).
fn check_jwks_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!(
            "`{url}`: use https (plain http is accepted only to localhost)"
        )),
        _ => Err(format!("`{url}`: not an https URL")),
    }
}

/// Fetches and parses a JWKS document, refusing bodies past [`JWKS_MAX_BYTES`].
async fn fetch_jwks(client: &reqwest::Client, url: &str) -> Result<KeysById, String> {
    let mut response = client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
        if body.len() + chunk.len() > JWKS_MAX_BYTES {
            return Err(format!("{url}: larger than {JWKS_MAX_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body).map_err(|_| format!("{url}: not UTF-8"))?;
    parse_jwks(&text, url)
}

/// The RS256 and ES256 keys of a JWKS file by `kid` (other keys are skipped).
fn load_jwks(path: &std::path::Path) -> Result<KeysById, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_jwks(&text, &path.display().to_string())
}

/// The RS256 and ES256 keys of a JWKS document by `kid` (other keys are skipped); `origin` names
/// the file or URL in errors.
fn parse_jwks(text: &str, origin: &str) -> Result<KeysById, String> {
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(text).map_err(|e| format!("{origin}: not a JWKS document: {e}"))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, KeyAlgorithm};
        // The key's type and, when the JWK names it, its algorithm must agree on RS256 or ES256.
        let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
            (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
            (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                if ec.curve == EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            _ => continue,
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("key `{kid}`: {e}"))?;
        keys.insert(kid, (key, alg));
    }
    if keys.is_empty() {
        return Err(format!("{origin}: no RS256 or ES256 key with a `kid`"));
    }
    Ok(keys)
}

/// Resolves bearer tokens to principals. Cheap to clone; use it as a tonic interceptor.
#[derive(Clone)]
pub struct Authenticator {
    static_tokens: Arc<HashMap<String, Principal>>,
    jwt: Option<Arc<Jwt>>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("static_tokens", &self.static_tokens.len())
            .field("jwt", &self.jwt.is_some())
            .finish()
    }
}

impl Authenticator {
    /// Builds from a validated configuration.
    pub fn new(config: &AuthConfig) -> anyhow::Result<Self> {
        let static_tokens = config
            .static_tokens
            .iter()
            .map(|t| {
                let principal = Principal {
                    subject: t.name.clone(),
                    roles: t.roles.iter().cloned().collect(),
                };
                (t.sha256.to_ascii_lowercase(), principal)
            })
            .collect();
        let jwt = match &config.jwt {
            None => None,
            Some(jwt) => {
                let validation = |alg| {
                    let mut v = Validation::new(alg);
                    v.set_issuer(&[&jwt.issuer]);
                    v.set_audience(&[&jwt.audience]);
                    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
                    v.validate_nbf = true;
                    v.leeway = 30;
                    v
                };
                let mut keys = Vec::new();
                if let Some(secret) = &jwt.hs256_secret {
                    keys.push((
                        DecodingKey::from_secret(secret.expose().as_bytes()),
                        validation(Algorithm::HS256),
                    ));
                }
                if let Some(pem) = &jwt.rs256_public_key_pem {
                    keys.push((
                        DecodingKey::from_rsa_pem(pem.as_bytes())?,
                        validation(Algorithm::RS256),
                    ));
                }
                if let Some(pem) = &jwt.es256_public_key_pem {
                    keys.push((
                        DecodingKey::from_ec_pem(pem.as_bytes())?,
                        validation(Algorithm::ES256),
                    ));
                }
                let jwks = match (&jwt.jwks_file, &jwt.jwks_url) {
                    (Some(path), _) => Some(Arc::new(Jwks::from_file(path)?)),
                    (None, Some(url)) => Some(Jwks::from_url(
                        url,
                        std::time::Duration::from_secs(jwt.jwks_refresh_secs),
                    )?),
                    (None, None) => None,
                };
                Some(Arc::new(Jwt {
                    keys,
                    jwks,
                    template: validation(Algorithm::RS256),
                    roles_claim: jwt.roles_claim.clone(),
                }))
            }
        };
        Ok(Self {
            static_tokens: Arc::new(static_tokens),
            jwt,
        })
    }

    /// Waits, at most `limit`, until keys from a configured JWKS URL have been fetched once; true
    /// when every configured key source is ready.
    pub async fn wait_for_keys(&self, limit: std::time::Duration) -> bool {
        match self.jwt.as_ref().and_then(|j| j.jwks.as_ref()) {
            Some(jwks) => jwks.wait_loaded(limit).await,
            None => true,
        }
    }

    /// Resolves a raw bearer token.
    pub fn authenticate(&self, token: &str) -> Result<Principal, Status> {
        if let Some(principal) = self.static_tokens.get(&hash_token(token)) {
            return Ok(principal.clone());
        }
        if let Some(jwt) = &self.jwt
            && token.split('.').count() == 3
        {
            return jwt.verify(token);
        }
        Err(Status::unauthenticated("the bearer token is not valid"))
    }
}

impl Jwt {
    fn verify(&self, token: &str) -> Result<Principal, Status> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| Status::unauthenticated("the bearer token is not a valid JWT"))?;
        let mut last_error = None;
        let from_jwks = match (&self.jwks, &header.kid) {
            (Some(jwks), Some(kid)) => jwks.key(kid).map(|(key, alg)| {
                let mut validation = self.template.clone();
                validation.algorithms = vec![alg];
                (key, validation)
            }),
            _ => None,
        };
        for (key, validation) in self
            .keys
            .iter()
            .map(|(k, v)| (k, v))
            .chain(from_jwks.as_ref().map(|(k, v)| (k, v)))
            .filter(|(_, v)| v.algorithms.contains(&header.alg))
        {
            match jsonwebtoken::decode::<HashMap<String, serde_json::Value>>(token, key, validation)
            {
                Ok(data) => return self.principal(data.claims),
                Err(e) => last_error = Some(e),
            }
        }
        let reason = match last_error.as_ref().map(|e| e.kind()) {
            Some(jsonwebtoken::errors::ErrorKind::ExpiredSignature) => "the JWT has expired",
            Some(jsonwebtoken::errors::ErrorKind::ImmatureSignature) => {
                "the JWT is not valid yet (nbf)"
            }
            Some(jsonwebtoken::errors::ErrorKind::InvalidIssuer) => {
                "the JWT's issuer is not accepted"
            }
            Some(jsonwebtoken::errors::ErrorKind::InvalidAudience) => {
                "the JWT's audience is not accepted"
            }
            None if header.kid.is_some() && self.jwks.is_some() => {
                "the JWT's key id (kid) is not among the configured keys"
            }
            None => "the JWT's algorithm is not accepted",
            Some(_) => "the JWT is not valid",
        };
        Err(Status::unauthenticated(reason))
    }

    fn principal(&self, claims: HashMap<String, serde_json::Value>) -> Result<Principal, Status> {
        let subject = claims
            .get("sub")
            .and_then(|s| s.as_str())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Status::unauthenticated("the JWT has no subject"))?
            .to_owned();
        let roles = match claims.get(&self.roles_claim) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|r| r.as_str())
                .map(String::from)
                .collect(),
            Some(serde_json::Value::String(s)) => s.split_whitespace().map(String::from).collect(),
            _ => BTreeSet::new(),
        };
        Ok(Principal { subject, roles })
    }
}

impl Authenticator {
    /// The principal behind a request's `authorization: Bearer <token>` header.
    pub fn authenticate_header(
        &self,
        header: Option<&http::HeaderValue>,
    ) -> Result<Principal, Status> {
        let header = header.ok_or_else(|| {
            Status::unauthenticated("missing `authorization: Bearer <token>` metadata")
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Status::unauthenticated("the authorization metadata must be `Bearer <token>`")
            })?;
        self.authenticate(token)
    }
}

/// Which role each RPC of one gRPC service needs: `(method, role)` pairs, e.g.
/// `("CreateRegister", "catalogue.editor")`. The server checks it before a handler runs, and
/// refuses to start when a method of the service has no entry, so a new RPC cannot be left open.
#[derive(Debug, Clone, Copy)]
pub struct RoleTable {
    /// The fully qualified service, e.g. `rekisteri.catalogue.v1.CatalogueService`.
    pub service: &'static str,
    pub methods: &'static [(&'static str, &'static str)],
}

impl RoleTable {
    pub fn role(&self, method: &str) -> Option<&'static str> {
        self.methods
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, role)| *role)
    }

    /// Checks the table against the service's methods in the descriptor set: every method has a
    /// role, and no entry names a method that does not exist.
    pub fn check(&self, descriptor_set: &[u8]) -> anyhow::Result<()> {
        let methods = service_methods(descriptor_set, self.service)?;
        let missing: Vec<_> = methods.iter().filter(|m| self.role(m).is_none()).collect();
        anyhow::ensure!(
            missing.is_empty(),
            "{}: no role declared for {missing:?}",
            self.service
        );
        let unknown: Vec<_> = self
            .methods
            .iter()
            .filter(|(m, _)| !methods.iter().any(|x| x == m))
            .map(|(m, _)| m)
            .collect();
        anyhow::ensure!(
            unknown.is_empty(),
            "{}: roles declared for methods it does not have: {unknown:?}",
            self.service
        );
        Ok(())
    }
}

/// The method names of `service` (fully qualified) in an encoded `FileDescriptorSet`.
pub fn service_methods(descriptor_set: &[u8], service: &str) -> anyhow::Result<Vec<String>> {
    use prost::Message as _;
    let set = prost_types::FileDescriptorSet::decode(descriptor_set)?;
    for file in &set.file {
        for svc in &file.service {
            if format!("{}.{}", file.package(), svc.name()) == service {
                return Ok(svc.method.iter().map(|m| m.name().to_owned()).collect());
            }
        }
    }
    anyhow::bail!("the descriptor set has no service {service}")
}

/// The client side: sends `authorization: Bearer <token>` (and the current `traceparent`) on
/// every call. Used by the `rekisteri` client commands, the tests, and services calling services.
#[derive(Debug, Clone)]
pub struct BearerToken(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl BearerToken {
    /// Fails when the token is not printable ASCII.
    pub fn new(token: &str) -> Result<Self, tonic::metadata::errors::InvalidMetadataValue> {
        Ok(Self(Some(format!("Bearer {token}").parse()?)))
    }

    /// Sends no authorization at all (for health checks, and for testing refusals).
    pub fn none() -> Self {
        Self(None)
    }
}

impl tonic::service::Interceptor for BearerToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        crate::telemetry::inject_metadata(request.metadata_mut());
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    fn config() -> AuthConfig {
        AuthConfig {
            static_tokens: vec![StaticToken {
                name: "ops".into(),
                sha256: hash_token("s3cret"),
                roles: vec!["catalogue.reader".into()],
            }],
            jwt: Some(JwtConfig {
                hs256_secret: Some(Secret::new("jwt-secret")),
                rs256_public_key_pem: None,
                es256_public_key_pem: None,
                jwks_file: None,
                jwks_url: None,
                jwks_refresh_secs: 300,
                issuer: "https://idp.example".into(),
                audience: "rekisteri".into(),
                roles_claim: "roles".into(),
            }),
        }
    }

    fn jwt(claims: serde_json::Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn static_tokens_resolve_by_hash() {
        let auth = Authenticator::new(&config()).unwrap();
        let p = auth.authenticate("s3cret").unwrap();
        assert_eq!(p.subject, "ops");
        assert!(p.has_role("catalogue.reader"));
        assert!(p.require("catalogue.editor").is_err());
        assert_eq!(
            auth.authenticate("wrong").unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
    }

    #[test]
    fn hs256_jwts_are_checked() {
        let auth = Authenticator::new(&config()).unwrap();
        let good = serde_json::json!({"sub": "crm", "iss": "https://idp.example", "aud": "rekisteri",
            "exp": now() + 600, "roles": ["catalogue.editor"]});
        let p = auth.authenticate(&jwt(good.clone(), "jwt-secret")).unwrap();
        assert_eq!(p.subject, "crm");
        assert!(p.has_role("catalogue.editor"));

        let mut expired = good.clone();
        expired["exp"] = (now() - 3600).into();
        let err = auth.authenticate(&jwt(expired, "jwt-secret")).unwrap_err();
        assert!(err.message().contains("expired"), "{err:?}");

        let mut wrong_aud = good.clone();
        wrong_aud["aud"] = "other".into();
        assert!(
            auth.authenticate(&jwt(wrong_aud, "jwt-secret"))
                .unwrap_err()
                .message()
                .contains("audience")
        );

        let mut wrong_iss = good.clone();
        wrong_iss["iss"] = "https://evil".into();
        assert!(
            auth.authenticate(&jwt(wrong_iss, "jwt-secret"))
                .unwrap_err()
                .message()
                .contains("issuer")
        );

        assert!(auth.authenticate(&jwt(good, "other-secret")).is_err());
    }

    #[test]
    fn rs256_jwts_are_checked_against_the_public_key() {
        // A key pair made for these tests only.
        let private = include_str!("testdata/rs256-test-private.pem");
        let public = include_str!("testdata/rs256-test-public.pem");
        let mut config = config();
        let jwt_config = config.jwt.as_mut().unwrap();
        jwt_config.hs256_secret = None;
        jwt_config.rs256_public_key_pem = Some(public.into());
        config.validate().unwrap();
        let auth = Authenticator::new(&config).unwrap();
        let claims = serde_json::json!({"sub": "svc", "iss": "https://idp.example", "aud": "rekisteri",
            "exp": now() + 600, "roles": "catalogue.reader catalogue.editor"});
        let key = EncodingKey::from_rsa_pem(private.as_bytes()).unwrap();
        let token = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap();
        let p = auth.authenticate(&token).unwrap();
        assert!(p.has_role("catalogue.editor") && !p.has_role("catalogue.publisher"));
        // An HS256 token is refused when only RS256 is configured (no algorithm confusion).
        assert!(auth.authenticate(&jwt(claims, "jwt-secret")).is_err());
    }

    /// A P-256 key made for the test: (private PKCS#8 PEM, public PEM, JWK x, JWK y).
    fn ec_key() -> (String, String, String, String) {
        use base64::Engine as _;
        let key = rcgen::KeyPair::generate().unwrap();
        let raw = key.public_key_raw();
        assert_eq!(raw[0], 4, "an uncompressed point");
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        (
            key.serialize_pem(),
            key.public_key_pem(),
            b64(&raw[1..33]),
            b64(&raw[33..65]),
        )
    }

    fn es256(claims: &serde_json::Value, private_pem: &str, kid: Option<&str>) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid.map(String::from);
        let key = EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"sub": "crm", "iss": "https://idp.example", "aud": "rekisteri",
            "exp": now() + 600, "roles": ["catalogue.reader"]})
    }

    fn jwt_only(edit: impl FnOnce(&mut JwtConfig)) -> Authenticator {
        let mut config = config();
        config.static_tokens.clear();
        let jwt = config.jwt.as_mut().unwrap();
        jwt.hs256_secret = None;
        edit(jwt);
        config.validate().unwrap();
        Authenticator::new(&config).unwrap()
    }

    #[test]
    fn es256_jwts_and_not_before() {
        let (private, public, _, _) = ec_key();
        let auth = jwt_only(|j| j.es256_public_key_pem = Some(public));
        assert_eq!(
            auth.authenticate(&es256(&claims(), &private, None))
                .unwrap()
                .subject,
            "crm"
        );
        let mut early = claims();
        early["nbf"] = (now() + 3600).into();
        let err = auth
            .authenticate(&es256(&early, &private, None))
            .unwrap_err();
        assert!(err.message().contains("not valid yet"), "{err:?}");
        let (other, _, _, _) = ec_key();
        assert!(auth.authenticate(&es256(&claims(), &other, None)).is_err());
    }

    #[test]
    fn jwks_keys_are_chosen_by_kid_and_rotate_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        let jwk = |kid: &str, x: &str, y: &str| {
            serde_json::json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
                "kid": kid, "x": x, "y": y})
        };
        let (old_private, _, ox, oy) = ec_key();
        let (new_private, _, nx, ny) = ec_key();
        std::fs::write(
            &path,
            serde_json::json!({"keys": [jwk("2026-11", &ox, &oy)]}).to_string(),
        )
        .unwrap();
        let auth = jwt_only(|j| j.jwks_file = Some(path.clone()));
        assert!(
            auth.authenticate(&es256(&claims(), &old_private, Some("2026-11")))
                .is_ok()
        );
        let err = auth
            .authenticate(&es256(&claims(), &new_private, Some("2026-12")))
            .unwrap_err();
        assert!(err.message().contains("kid"), "{err:?}");
        // The old key signed under the new key's id: refused.
        assert!(
            auth.authenticate(&es256(&claims(), &old_private, Some("2026-12")))
                .is_err()
        );

        // The identity provider rotates: the file gains the new key, the running service takes it.
        // Past the recheck interval, so the unknown id makes the file be read again.
        std::thread::sleep(JWKS_RECHECK + std::time::Duration::from_millis(100));
        std::fs::write(
            &path,
            serde_json::json!({"keys": [jwk("2026-11", &ox, &oy), jwk("2026-12", &nx, &ny)]})
                .to_string(),
        )
        .unwrap();
        assert!(
            auth.authenticate(&es256(&claims(), &new_private, Some("2026-12")))
                .is_ok()
        );
        assert!(
            auth.authenticate(&es256(&claims(), &old_private, Some("2026-11")))
                .is_ok()
        );
    }

    /// An identity provider's JWKS endpoint: serves whatever `body` holds (an empty body answers
    /// 503), over plain HTTP/1.1 on loopback, counting the fetches.
    async fn jwks_endpoint(
        body: Arc<std::sync::Mutex<String>>,
        fetches: Arc<std::sync::atomic::AtomicUsize>,
    ) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.ends_with(b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body = body.lock().unwrap().clone();
                let status = if body.is_empty() {
                    "503 Service Unavailable"
                } else {
                    "200 OK"
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        url
    }

    #[tokio::test]
    async fn jwks_from_a_url_is_fetched_at_start_and_again_on_an_unknown_kid() {
        let jwk = |kid: &str, x: &str, y: &str| {
            serde_json::json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
                "kid": kid, "x": x, "y": y})
        };
        let (old_private, _, ox, oy) = ec_key();
        let (new_private, _, nx, ny) = ec_key();
        let body = Arc::new(std::sync::Mutex::new(
            serde_json::json!({"keys": [jwk("k1", &ox, &oy)]}).to_string(),
        ));
        let fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let url = jwks_endpoint(body.clone(), fetches.clone()).await;
        let auth = jwt_only(|j| j.jwks_url = Some(url.clone()));
        assert!(auth.wait_for_keys(std::time::Duration::from_secs(10)).await);
        assert_eq!(
            auth.authenticate(&es256(&claims(), &old_private, Some("k1")))
                .unwrap()
                .subject,
            "crm"
        );

        // The provider adds a key and signs with it: the first token naming it is refused (no
        // waiting on the network inside a call) and makes the service fetch again soon.
        *body.lock().unwrap() =
            serde_json::json!({"keys": [jwk("k1", &ox, &oy), jwk("k2", &nx, &ny)]}).to_string();
        let token = es256(&claims(), &new_private, Some("k2"));
        let err = auth.authenticate(&token).unwrap_err();
        assert!(err.message().contains("kid"), "{err:?}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while auth.authenticate(&token).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the new key was never fetched"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }

        // Made-up key ids right after do not make the service fetch again.
        let before = fetches.load(std::sync::atomic::Ordering::SeqCst);
        for i in 0..50 {
            let kid = format!("made-up-{i}");
            assert!(
                auth.authenticate(&es256(&claims(), &old_private, Some(&kid)))
                    .is_err()
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), before);
    }

    #[tokio::test]
    async fn jwks_keys_held_stay_in_use_while_the_url_fails() {
        let (private, _, x, y) = ec_key();
        let body = Arc::new(std::sync::Mutex::new(
            serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "x": x, "y": y}]})
                .to_string(),
        ));
        let fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let url = jwks_endpoint(body.clone(), fetches.clone()).await;
        let auth = jwt_only(|j| {
            j.jwks_url = Some(url.clone());
            j.jwks_refresh_secs = 1;
        });
        assert!(auth.wait_for_keys(std::time::Duration::from_secs(10)).await);
        let token = es256(&claims(), &private, Some("k1"));
        assert!(auth.authenticate(&token).is_ok());

        body.lock().unwrap().clear();
        let failed = fetches.load(std::sync::atomic::Ordering::SeqCst) + 2;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while fetches.load(std::sync::atomic::Ordering::SeqCst) < failed {
            assert!(std::time::Instant::now() < deadline, "no refresh was tried");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(auth.authenticate(&token).is_ok());
        let err = fetch_jwks(&reqwest::Client::new(), &url).await.unwrap_err();
        assert!(err.contains("503"), "{err}");
    }

    #[test]
    fn jwks_urls_must_be_https_unless_to_this_machine() {
        for ok in [
            "https://idp.example/jwks",
            "http://127.0.0.1:8080/jwks",
            "http://localhost/jwks",
            "http://[::1]:1/jwks",
        ] {
            assert!(check_jwks_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://idp.example/jwks",
            "ftp://idp.example/jwks",
            "idp.example/jwks",
            "https://",
        ] {
            assert!(check_jwks_url(bad).is_err(), "{bad}");
        }
        let mut both = config();
        let jwt = both.jwt.as_mut().unwrap();
        jwt.jwks_url = Some("http://idp.example/jwks".into());
        assert_eq!(both.validate().unwrap_err().0, "auth.jwt.jwks_url");
    }

    #[test]
    fn admin_holds_every_role() {
        let p = Principal {
            subject: "root".into(),
            roles: [ADMIN_ROLE.to_string()].into(),
        };
        assert!(p.require("catalogue.publisher").is_ok());
    }

    #[test]
    fn config_requires_some_token_source() {
        assert!(AuthConfig::default().validate().is_err());
        let mut bad = config();
        bad.static_tokens[0].sha256 = "abc".into();
        assert_eq!(bad.validate().unwrap_err().0, "auth.static_tokens.sha256");
    }
}
