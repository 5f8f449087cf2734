//! Connecting to NATS with the configured credentials and TLS. Connecting never waits for the
//! server: writes are accepted while it is away (they wait in the outbox), and the client keeps
//! reconnecting in the background.

use std::time::Duration;

use async_nats::{ConnectOptions, Event};

use crate::config::NatsConfig;

/// A client named `rekisteri-<service>`, connecting in the background.
pub async fn connect(service: &str, config: &NatsConfig) -> anyhow::Result<async_nats::Client> {
    let mut options = ConnectOptions::new()
        .name(format!("rekisteri-{service}"))
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .event_callback(|event| async move {
            match event {
                Event::Connected => tracing::info!("NATS connected"),
                Event::Disconnected => tracing::warn!("NATS disconnected; reconnecting"),
                // Every failed reconnection attempt says so; the disconnection was logged above.
                Event::ClientError(err) => tracing::debug!(error = %err, "NATS"),
                Event::Closed => tracing::info!("NATS connection closed"),
                // These errors name the server and the failure, never the credentials.
                other => tracing::warn!(event = %other, "NATS"),
            }
        });
    if let (Some(user), Some(password)) = (&config.user, &config.password) {
        options = options.user_and_password(user.clone(), password.expose().to_owned());
    }
    if let Some(token) = &config.token {
        options = options.token(token.expose().to_owned());
    }
    if let Some(seed) = &config.nkey_seed {
        options = options.nkey(seed.expose().to_owned());
    }
    if let Some(path) = &config.credentials_file {
        options = options
            .credentials_file(path)
            .await
            .map_err(|e| anyhow::anyhow!("nats.credentials_file {}: {e}", path.display()))?;
    }
    if let Some(tls) = &config.tls {
        options = options.require_tls(tls.required);
        if let Some(ca) = &tls.ca_file {
            options = options.add_root_certificates(ca.clone());
        }
        if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
    }
    let urls: Vec<async_nats::ServerAddr> = config
        .url
        .split(',')
        .map(|u| u.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("nats.url: {e}"))?;
    Ok(options.connect(urls).await?)
}

/// "connected", "disconnected" or "pending".
pub fn state(client: &async_nats::Client) -> &'static str {
    match client.connection_state() {
        async_nats::connection::State::Connected => "connected",
        async_nats::connection::State::Disconnected => "disconnected",
        async_nats::connection::State::Pending => "pending",
    }
}
