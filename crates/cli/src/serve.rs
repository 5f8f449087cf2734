//! `rekisteri serve SERVICE`: one service on its own, as it runs in Kubernetes.

use std::path::PathBuf;

use clap::Args;
use rekisteri_cli::services::{self, ServiceEntry};
use rekisteri_platform::CancellationToken;
use rekisteri_platform::config::{ServiceConfig, Sources};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The service to run (see `rekisteri up --help` for the list).
    #[arg(value_parser = services::parse)]
    service: &'static ServiceEntry,
    /// A TOML, YAML or JSON configuration file; REKISTERI_* variables override it.
    #[arg(long, env = "REKISTERI_CONFIG")]
    config: Option<PathBuf>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let service = args.service;
    let config = ServiceConfig::load(Sources {
        defaults: service.spec.defaults,
        file: args.config.as_deref(),
        env: std::env::vars().collect(),
    })?;
    let _telemetry = rekisteri_platform::telemetry::init(
        &format!("rekisteri-{}", service.name()),
        &config.telemetry,
    )?;
    let cancel = CancellationToken::new();
    tokio::spawn({
        let cancel = cancel.clone();
        async move {
            rekisteri_platform::grpc::shutdown_signal().await;
            cancel.cancel();
        }
    });
    let app = (service.build)(&config).await?;
    app.run_until_stopped(cancel).await
}
