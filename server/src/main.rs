//! `wxcs`: the server side of wx-cloud-storage (see `cli/` for the subcommands).

mod cli;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WXCS_LOG").unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .init();
    match cli::Cli::parse().run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The message as written (it says what to do), not its Debug form.
            eprintln!("wxcs: {error}");
            std::process::ExitCode::from(2)
        }
    }
}
