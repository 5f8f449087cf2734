//! `rekisteri serve SERVICE`: one service on its own, as it runs in Kubernetes.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use rekisteri_platform::CancellationToken;
use rekisteri_platform::config::{ServiceConfig, Sources};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Service {
    Catalogue,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    service: Service,
    /// A TOML, YAML or JSON configuration file; REKISTERI_* variables override it.
    #[arg(long, env = "REKISTERI_CONFIG")]
    config: Option<PathBuf>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let (name, defaults) = match args.service {
        Service::Catalogue => ("rekisteri-catalogue", rekisteri_catalogue::app::DEFAULTS),
    };
    let config = ServiceConfig::load(Sources {
        defaults,
        file: args.config.as_deref(),
        env: std::env::vars().collect(),
    })?;
    let _telemetry = rekisteri_platform::telemetry::init(name, &config.telemetry)?;
    let cancel = CancellationToken::new();
    tokio::spawn({
        let cancel = cancel.clone();
        async move {
            rekisteri_platform::grpc::shutdown_signal().await;
            cancel.cancel();
        }
    });
    match args.service {
        Service::Catalogue => {
            let app = rekisteri_catalogue::Application::build(&config).await?;
            app.run_until_stopped(cancel).await
        }
    }
}
