//! `wxcs`: the server side of wx-cloud-storage.

use clap::{Parser, Subcommand};

/// wx-cloud-storage server: credential backend and local emulator.
#[derive(Debug, Parser)]
#[command(name = "wxcs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the local emulator of the WeChat storage open API and COS.
    Emulate,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Emulate => eprintln!("wxcs emulate: not built yet"),
    }
}
