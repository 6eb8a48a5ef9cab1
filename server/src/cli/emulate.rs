//! `wxcs emulate`: the local emulator of the WeChat storage open API and COS.

use std::{net::IpAddr, path::PathBuf};

use clap::Args;
use wx_cloud_storage_server::emulator::{self, Config};

use super::flags::ListenArgs;

#[derive(Debug, Args)]
pub(crate) struct EmulateArgs {
    /// AppID that token calls must present.
    #[arg(long, env = "WXCS_APPID", default_value_t = Config::default().appid)]
    appid: String,
    /// AppSecret that token calls must present.
    #[arg(long, env = "WXCS_SECRET", default_value = emulator::DEFAULT_SECRET, hide_env_values = true)]
    secret: String,
    /// Cloud environment ID.
    #[arg(long, env = "WXCS_ENV", default_value_t = Config::default().env)]
    env: String,
    /// Address to listen on.
    #[arg(long, env = "WXCS_BIND", default_value_t = Config::default().bind)]
    bind: IpAddr,
    /// Port of the WeChat open API (api.weixin.qq.com).
    #[arg(long, env = "WXCS_WX_PORT", default_value_t = Config::default().wx_port)]
    wx_port: u16,
    /// Port of COS.
    #[arg(long, env = "WXCS_COS_PORT", default_value_t = Config::default().cos_port)]
    cos_port: u16,
    /// Where objects and their metadata persist (kept across restarts).
    #[arg(long, env = "WXCS_DATA_DIR", default_value_os_t = Config::default().data_dir)]
    data_dir: PathBuf,
    /// Lifetime of upload links, in seconds.
    #[arg(long, env = "WXCS_LINK_TTL", default_value_t = Config::default().link_ttl)]
    link_ttl: u64,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "WXCS_TOKEN_TTL", default_value_t = Config::default().token_ttl)]
    token_ttl: u64,
    /// Origin allowed to call COS from a browser; repeat for several; `*` for any.
    #[arg(long = "allow-origin", env = "WXCS_ALLOW_ORIGINS", value_delimiter = ',', default_values_t = Config::default().allow_origins)]
    allow_origins: Vec<String>,
    /// Lifetime of the temporary COS keys /_/cos/getauth gives (开放接口服务 mode), in seconds.
    #[arg(long, env = "WXCS_TEMP_KEY_TTL", default_value_t = Config::default().temp_key_ttl)]
    temp_key_ttl: u64,
    /// Largest object accepted, in bytes (COS: 5 GB).
    #[arg(long, env = "WXCS_MAX_OBJECT_SIZE", default_value_t = Config::default().max_object_size)]
    max_object_size: u64,
    /// 开放接口服务 mode: accept tcb/* calls that carry no token.
    #[arg(long, env = "WXCS_OPEN_API")]
    open_api: bool,
    /// Browser origin allowed to drive /__emulator/* (faults, stats); repeat for several.
    /// None by default: tools that send no Origin (tests, curl) always can.
    #[arg(long = "control-origin", env = "WXCS_CONTROL_ORIGINS", value_delimiter = ',')]
    control_origins: Vec<String>,
    /// The COS key links are signed with [default: random at every start, so nobody can
    /// forge links]. Set it only for tests that must sign links themselves.
    #[arg(long, env = "WXCS_COS_SECRET_KEY", hide_env_values = true)]
    cos_secret_key: Option<String>,
    /// A name to answer to besides localhost, *.localhost and IP addresses (a DNS-rebinding
    /// guard); `.example.com` for a domain and its subdomains, `*` for any; repeat for several.
    #[arg(long = "allowed-host", env = "WXCS_ALLOWED_HOSTS", value_delimiter = ',')]
    allowed_hosts: Vec<String>,
    #[command(flatten)]
    listen: ListenArgs,
}

impl From<EmulateArgs> for Config {
    fn from(a: EmulateArgs) -> Self {
        let defaults = Config::default();
        Config {
            appid: a.appid,
            secret: a.secret.into(),
            env: a.env,
            bind: a.bind,
            wx_port: a.wx_port,
            cos_port: a.cos_port,
            data_dir: a.data_dir,
            link_ttl: a.link_ttl,
            token_ttl: a.token_ttl,
            allow_origins: a.allow_origins,
            max_object_size: a.max_object_size,
            temp_key_ttl: a.temp_key_ttl,
            open_api: a.open_api,
            control_origins: a.control_origins,
            limits: a.listen.limits(),
            allowed_hosts: a.allowed_hosts,
            cos_secret_key: a.cos_secret_key.map_or(defaults.cos_secret_key.clone(), Into::into),
            ..defaults
        }
    }
}

pub(crate) async fn run(args: EmulateArgs) -> std::io::Result<()> {
    let config: Config = args.into();
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
