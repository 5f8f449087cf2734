//! Bearer-token authentication and role-based authorisation.
//!
//! Every RPC but health and reflection carries `authorization: Bearer <token>`. A token resolves to
//! a [`Principal`]: either a static token, stored in configuration only as its SHA-256 hash (for
//! local use), or a JWT signed with HS256 or RS256 whose issuer, audience and expiry are checked
//! (for production). The principal travels in the request's extensions; services call
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
    pub static_tokens: Vec<StaticToken>,
    pub jwt: Option<JwtConfig>,
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
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// The claim holding the roles, as an array of strings or a space-separated string.
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
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
            if jwt.hs256_secret.is_none() && jwt.rs256_public_key_pem.is_none() {
                return Err((
                    "auth.jwt",
                    "set hs256_secret, rs256_public_key_pem or both".into(),
                ));
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

    /// The principal the auth interceptor attached to `request`, and that it holds `role`.
    pub fn from_request<T>(request: &Request<T>, role: &str) -> Result<Principal, Status> {
        let principal = request
            .extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no authenticated principal"))?;
        principal.require(role)?;
        Ok(principal)
    }
}

struct Jwt {
    keys: Vec<(DecodingKey, Validation)>,
    roles_claim: String,
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
                Some(Arc::new(Jwt {
                    keys,
                    roles_claim: jwt.roles_claim.clone(),
                }))
            }
        };
        Ok(Self {
            static_tokens: Arc::new(static_tokens),
            jwt,
        })
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
        for (key, validation) in self
            .keys
            .iter()
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
            Some(jsonwebtoken::errors::ErrorKind::InvalidIssuer) => {
                "the JWT's issuer is not accepted"
            }
            Some(jsonwebtoken::errors::ErrorKind::InvalidAudience) => {
                "the JWT's audience is not accepted"
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

impl tonic::service::Interceptor for Authenticator {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let header = request.metadata().get("authorization").ok_or_else(|| {
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
        let principal = self.authenticate(token)?;
        tracing::Span::current().record("principal", principal.subject.as_str());
        request.extensions_mut().insert(principal);
        Ok(request)
    }
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
