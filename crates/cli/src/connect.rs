//! What every client command shares: the bearer token and the channel.

use std::path::Path;

use anyhow::Context;
use rekisteri_platform::auth::BearerToken;
use tonic::transport::Channel;

/// `--token`, or else the admin token `rekisteri up` left in the data directory.
pub fn bearer(token: Option<&str>, data_dir: &Path) -> anyhow::Result<BearerToken> {
    // An empty REKISTERI_TOKEN (exported but not set) counts as none.
    let token = match token.map(str::trim).filter(|t| !t.is_empty()) {
        Some(token) => token.to_owned(),
        None => {
            let path = data_dir.join("admin-token");
            std::fs::read_to_string(&path)
                .map(|t| t.trim().to_owned())
                .map_err(|e| {
                    let why = match e.kind() {
                        std::io::ErrorKind::NotFound => "there is no".to_owned(),
                        _ => format!("cannot read ({e}) the"),
                    };
                    crate::output::MissingToken(format!(
                        "no --token or REKISTERI_TOKEN given, and {why} {} that `rekisteri up` \
                         leaves (--data-dir names another directory)",
                        path.display()
                    ))
                })?
        }
    };
    BearerToken::new(&token).context("the token must be printable ASCII")
}

/// A channel to `endpoint`; `what` names the service in the error.
pub async fn channel(endpoint: &str, what: &str) -> anyhow::Result<Channel> {
    tonic::transport::Endpoint::from_shared(endpoint.to_owned())
        .with_context(|| format!("--endpoint {endpoint} is not a URL"))?
        .connect()
        .await
        .with_context(|| format!("cannot reach the {what} at {endpoint}"))
}
