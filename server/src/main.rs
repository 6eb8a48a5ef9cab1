//! `wxcs`: the server side of wx-cloud-storage.

use std::{net::IpAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand};
use wx_cloud_storage_server::emulator;

/// wx-cloud-storage server: a local emulator of WeChat cloud storage and COS (and, soon,
/// the credential backend).
#[derive(Debug, Parser)]
#[command(name = "wxcs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the local emulator of the WeChat storage open API (tokens, tcb/uploadfile,
    /// tcb/batchdownloadfile, tcb/batchdeletefile) and of COS (POST Object, GET).
    Emulate(EmulateArgs),
}

/// Every flag can also be set by the environment variable named beside it.
#[derive(Debug, Args)]
struct EmulateArgs {
    /// AppID that token calls must present.
    #[arg(long, env = "WXCS_APPID", default_value = "wx0000000000emulator")]
    appid: String,
    /// AppSecret that token calls must present.
    #[arg(long, env = "WXCS_SECRET", default_value = "emulator-app-secret", hide_env_values = true)]
    secret: String,
    /// Cloud environment ID.
    #[arg(long, env = "WXCS_ENV", default_value = "dev-emulator")]
    env: String,
    /// Address to listen on.
    #[arg(long, env = "WXCS_BIND", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port of the WeChat open API (api.weixin.qq.com).
    #[arg(long, env = "WXCS_WX_PORT", default_value_t = 8788)]
    wx_port: u16,
    /// Port of COS.
    #[arg(long, env = "WXCS_COS_PORT", default_value_t = 8789)]
    cos_port: u16,
    /// Where objects and their metadata persist (kept across restarts).
    #[arg(long, env = "WXCS_DATA_DIR", default_value = ".wxcs-data")]
    data_dir: PathBuf,
    /// Lifetime of upload links, in seconds.
    #[arg(long, env = "WXCS_LINK_TTL", default_value_t = 900)]
    link_ttl: u64,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "WXCS_TOKEN_TTL", default_value_t = 7200)]
    token_ttl: u64,
    /// Origin allowed to call COS from a browser; repeat for several; `*` for any.
    #[arg(long = "allow-origin", env = "WXCS_ALLOW_ORIGINS", value_delimiter = ',', default_value = "*")]
    allow_origins: Vec<String>,
    /// Largest object accepted, in bytes (COS: 5 GB).
    #[arg(long, env = "WXCS_MAX_OBJECT_SIZE", default_value_t = 5 * 1024 * 1024 * 1024)]
    max_object_size: u64,
    /// 开放接口服务 mode: accept tcb/* calls that carry no token.
    #[arg(long, env = "WXCS_OPEN_API")]
    open_api: bool,
}

impl From<EmulateArgs> for emulator::Config {
    fn from(a: EmulateArgs) -> Self {
        emulator::Config {
            appid: a.appid,
            secret: a.secret,
            env: a.env,
            bind: a.bind,
            wx_port: a.wx_port,
            cos_port: a.cos_port,
            data_dir: a.data_dir,
            link_ttl: a.link_ttl,
            token_ttl: a.token_ttl,
            allow_origins: a.allow_origins,
            max_object_size: a.max_object_size,
            open_api: a.open_api,
            ..emulator::Config::default()
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WXCS_LOG").unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .init();
    match Cli::parse().command {
        Command::Emulate(args) => run_emulator(args.into()).await,
    }
}

async fn run_emulator(config: emulator::Config) -> std::io::Result<()> {
    let summary = format!(
        "env {} · appid {} · bucket {} · data {} · links {} s · tokens {} s · CORS {}{}",
        config.env,
        config.appid,
        config.bucket(),
        config.data_dir.display(),
        config.link_ttl,
        config.token_ttl,
        config.allow_origins.join(", "),
        if config.open_api { " · 开放接口服务 mode" } else { "" },
    );
    let running = emulator::start(config).await?;
    println!("wxcs emulate: WeChat API on {} · COS on {}", running.wx_url(), running.cos_url());
    println!("  {summary}");
    println!("  control: {}/__emulator/stats, POST {}/__emulator/faults", running.wx_url(), running.wx_url());
    tokio::signal::ctrl_c().await?;
    running.shutdown().await;
    Ok(())
}
