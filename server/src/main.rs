//! `wxcs`: the server side of wx-cloud-storage (see `cli/` for the subcommands).

mod cli;

use clap::Parser;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WXCS_LOG").unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .init();
    cli::Cli::parse().run().await
}
