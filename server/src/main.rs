//! `wxcs`: the server side of wx-cloud-storage (see `cli/` for the subcommands).

mod cli;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    cli.init_logs();
    match cli.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // The message as written (it says what to do), not its Debug form.
            eprintln!("wxcs: {error}");
            std::process::ExitCode::from(2)
        }
    }
}
