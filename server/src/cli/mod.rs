//! The `wxcs` command line: one file per subcommand, and the flag groups they share.
//! Every flag is also an environment variable (named in `--help`), and every default is
//! the library's own (`Default` impls and consts), written once.

mod dev;
mod emulate;
mod flags;
mod login;
mod policy;
mod rules;
mod serve;
mod state;

use clap::{Parser, Subcommand};

/// wx-cloud-storage server: the credential backend for the browser library, and a local
/// emulator of WeChat cloud storage and COS.
#[derive(Debug, Parser)]
#[command(name = "wxcs", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines as text, or as JSON objects (one per line, with the request ID of each
    /// request's lines). What is logged is set by WXCS_LOG (default info).
    #[arg(long, global = true, env = "WXCS_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the local emulator of the WeChat storage open API (tokens, tcb/uploadfile,
    /// tcb/batchdownloadfile, tcb/batchdeletefile) and of COS (POST Object, GET).
    Emulate(emulate::EmulateArgs),
    /// Run the credential backend (deploy this on Cloud Run). Talks to the real WeChat API
    /// with WX_APPID/WX_SECRET/WX_ENV, or through 开放接口服务 with WX_OPENAPI=1.
    Serve(Box<serve::ServeArgs>),
    /// The demo: emulator + backend + example pages in one process, backend on 8787.
    Dev(dev::DevArgs),
    /// Check a rules file, or explain what it decides for one caller and path.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
}

impl Cli {
    /// Starts the log, in the chosen format.
    pub(crate) fn init_logs(&self) {
        let filter =
            tracing_subscriber::EnvFilter::try_from_env("WXCS_LOG").unwrap_or_else(|_| "info".into());
        let logs = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
        match self.log_format {
            LogFormat::Text => logs.init(),
            LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
        }
    }

    /// Runs the subcommand until it is stopped (Ctrl-C) or fails.
    pub(crate) async fn run(self) -> std::io::Result<()> {
        match self.command {
            Command::Emulate(args) => emulate::run(args).await,
            Command::Serve(args) => serve::run(*args).await,
            Command::Dev(args) => dev::run(args).await,
            Command::Rules(command) => rules::run(command),
        }
    }
}

/// An error for a command line that cannot work, with what to do.
fn invalid(message: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message.into())
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
