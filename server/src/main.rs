//! `wxcs`: the server side of wx-cloud-storage.

use std::{net::IpAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand};
use wx_cloud_storage_server::{
    backend::{Authenticator, Backend, BearerTokens, Policy, WxOpenId},
    client::{Auth, StorageClient, Timeouts},
    emulator,
    http::{self, Limits},
};

/// wx-cloud-storage server: the credential backend for the browser library, and a local
/// emulator of WeChat cloud storage and COS.
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
    /// Run the credential backend (deploy this on Cloud Run). Talks to the real WeChat API
    /// with WX_APPID/WX_SECRET/WX_ENV, or through 开放接口服务 with WX_OPENAPI=1.
    Serve(ServeArgs),
    /// The demo: emulator + backend + example pages in one process, backend on 8787.
    Dev(DevArgs),
}

/// Policy flags shared by `serve` and `dev`.
#[derive(Debug, Args)]
struct PolicyArgs {
    /// Bearer tokens the demo authenticator accepts, as token=uid pairs, comma-separated.
    /// Real apps implement the `Authenticator` trait instead.
    #[arg(long, env = "WXCS_USERS", default_value = "", hide_env_values = true)]
    users: String,
    /// Each user's folder: must end with '/'; {uid} (a whole segment) is the user ID.
    #[arg(long, env = "WXCS_PATH_PREFIX", default_value = "users/{uid}/")]
    path_prefix: String,
    /// Largest object in bytes [default: no limit but COS's 5 GB]. When set, uploads must
    /// declare their size and every object that lands is checked (and deleted if over).
    #[arg(long, env = "WXCS_MAX_SIZE")]
    max_size: Option<u64>,
    /// Allowed content types (image/png, image/*, *), comma-separated. `image/*` never
    /// admits image/svg+xml unless named. When limited, uploads must declare their type and
    /// every object that lands is checked by its served type and its first bytes.
    #[arg(long, env = "WXCS_ALLOWED_TYPES", value_delimiter = ',', default_value = "*")]
    allowed_types: Vec<String>,
    /// Requests per user per minute.
    #[arg(long, env = "WXCS_RATE_PER_MINUTE", default_value_t = 600)]
    rate_per_minute: u32,
    /// Failed sign-ins per client address per minute before 429.
    #[arg(long, env = "WXCS_FAILED_LOGINS_PER_MINUTE", default_value_t = 30)]
    failed_logins_per_minute: u32,
    /// Origins allowed to call the backend from a browser, comma-separated (`*` for any,
    /// without cookies; named origins may also send cookies; none: same-origin only).
    #[arg(long = "cors-origin", env = "WXCS_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Where the endpoints are mounted.
    #[arg(long, env = "WXCS_PREFIX", default_value = "/api/storage")]
    prefix: String,
    /// Seconds after its link was issued an upload nobody reported is checked anyway
    /// (when sizes or types are limited): the link's 900 s and a minute.
    #[arg(long, env = "WXCS_VERIFY_AFTER", default_value_t = 960)]
    verify_after: u64,
    /// Seconds a client has to send a request body (at most 64 KiB).
    #[arg(long, env = "WXCS_BODY_TIMEOUT", default_value_t = 10)]
    body_timeout: u64,
    /// Authenticate mini program users by the X-WX-OPENID header Cloud Run's gateway sets on
    /// wx.cloud.callContainer calls (folders users/<openid>/). Safe ONLY when the service has
    /// no public ingress: anyone reaching it directly can send that header. Off by default.
    #[arg(long, env = "WXCS_TRUST_WX_OPENID", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    trust_wx_openid: bool,
}

impl PolicyArgs {
    fn backend(self, client: StorageClient) -> Result<Backend, String> {
        let policy = Policy {
            path_prefix: self.path_prefix,
            max_size: self.max_size,
            allowed_types: self.allowed_types,
            rate_per_minute: self.rate_per_minute,
            failed_logins_per_minute: self.failed_logins_per_minute,
            ..Policy::default()
        };
        policy.validate()?;
        let auth: Box<dyn Authenticator> = if self.trust_wx_openid {
            eprintln!("wxcs: trusting X-WX-OPENID: run this only behind Cloud Run's gateway, with public ingress off");
            Box::new(WxOpenId)
        } else {
            Box::new(BearerTokens::parse(&self.users)?)
        };
        let mut backend = Backend::new(client, auth, policy);
        backend.allow_origins = self.cors_origins;
        backend.prefix = self.prefix;
        backend.verify_after = Duration::from_secs(self.verify_after);
        backend.body_timeout = Duration::from_secs(self.body_timeout);
        Ok(backend)
    }
}

/// Limits of a listener.
#[derive(Debug, Args)]
struct ListenArgs {
    /// Connections open at once; past it, new ones wait to be accepted.
    #[arg(long, env = "WXCS_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Seconds a client has to send its request headers; also how long an idle
    /// keep-alive connection stays open.
    #[arg(long, env = "WXCS_HEADER_TIMEOUT", default_value_t = 10)]
    header_timeout: u64,
}

impl ListenArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_connections: self.max_connections,
            header_timeout: Duration::from_secs(self.header_timeout),
        }
    }
}

/// Timeouts of calls to WeChat and COS.
#[derive(Debug, Args)]
struct UpstreamArgs {
    /// Seconds a whole call to the WeChat open API may take, a token fetch included.
    #[arg(long, env = "WXCS_UPSTREAM_TIMEOUT", default_value_t = 10)]
    upstream_timeout: u64,
    /// Seconds connecting to WeChat or COS may take.
    #[arg(long, env = "WXCS_CONNECT_TIMEOUT", default_value_t = 5)]
    connect_timeout: u64,
    /// Seconds a transfer to or from COS may go without a byte.
    #[arg(long, env = "WXCS_TRANSFER_TIMEOUT", default_value_t = 30)]
    transfer_timeout: u64,
}

impl UpstreamArgs {
    fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(self.connect_timeout),
            api: Duration::from_secs(self.upstream_timeout),
            transfer_idle: Duration::from_secs(self.transfer_timeout),
        }
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on (Cloud Run needs 0.0.0.0).
    #[arg(long, env = "WXCS_BIND", default_value = "0.0.0.0")]
    bind: IpAddr,
    /// Port (Cloud Run sets PORT).
    #[arg(long, env = "PORT", default_value_t = 8787)]
    port: u16,
    /// Cloud environment ID.
    #[arg(long, env = "WX_ENV")]
    env: String,
    /// AppID (AppSecret mode).
    #[arg(long, env = "WX_APPID")]
    appid: Option<String>,
    /// AppSecret (AppSecret mode). Never logged.
    #[arg(long, env = "WX_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// 开放接口服务 mode: no token, plain http://api.weixin.qq.com.
    #[arg(long, env = "WX_OPENAPI", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    openapi: bool,
    /// cloudbase_access_token mode: forward the X-WX-CLOUDBASE-ACCESS-TOKEN of each request.
    #[arg(long, env = "WX_CLOUDBASE_TOKEN", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    cloudbase_token: bool,
    /// Base URL of the WeChat open API (point it at `wxcs emulate` for local runs).
    #[arg(long, env = "WX_API_BASE")]
    wx_base: Option<String>,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    listen: ListenArgs,
    #[command(flatten)]
    upstream: UpstreamArgs,
}

#[derive(Debug, Args)]
struct DevArgs {
    /// Where the emulator keeps objects [default: ~/.local/share/wxcs/dev].
    #[arg(long, env = "WXCS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Backend (and example pages) port.
    #[arg(long, env = "PORT", default_value_t = 8787)]
    port: u16,
    /// Emulator: WeChat open-API port.
    #[arg(long, default_value_t = 8788)]
    wx_port: u16,
    /// Emulator: COS port.
    #[arg(long, default_value_t = 8789)]
    cos_port: u16,
    /// The built example pages to serve [default: www-example/dist of this checkout].
    #[arg(long, env = "WXCS_WWW")]
    www: Option<PathBuf>,
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
    /// Browser origin allowed to drive /__emulator/* (faults, stats); repeat for several.
    /// None by default: tools that send no Origin (tests, curl) always can.
    #[arg(long = "control-origin", env = "WXCS_CONTROL_ORIGINS", value_delimiter = ',')]
    control_origins: Vec<String>,
    /// The COS key links are signed with [default: random at every start, so nobody can
    /// forge links]. Set it only for tests that must sign links themselves.
    #[arg(long, env = "WXCS_COS_SECRET_KEY", hide_env_values = true)]
    cos_secret_key: Option<String>,
    #[command(flatten)]
    listen: ListenArgs,
}

impl From<EmulateArgs> for emulator::Config {
    fn from(a: EmulateArgs) -> Self {
        let defaults = emulator::Config::default();
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
            control_origins: a.control_origins,
            limits: a.listen.limits(),
            cos_secret_key: a.cos_secret_key.unwrap_or(defaults.cos_secret_key.clone()),
            ..defaults
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
        Command::Serve(args) => run_serve(args).await,
        Command::Dev(args) => run_dev(args).await,
    }
}

fn invalid(message: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message.into())
}

async fn run_serve(args: ServeArgs) -> std::io::Result<()> {
    let (auth, default_base) = match (args.openapi, args.cloudbase_token, args.appid, args.secret) {
        (true, _, _, _) => (Auth::OpenApi, "http://api.weixin.qq.com"),
        (false, true, _, _) => (Auth::CloudbaseToken, "https://api.weixin.qq.com"),
        (false, false, Some(appid), Some(secret)) => {
            (Auth::AppSecret { appid, secret }, "https://api.weixin.qq.com")
        }
        _ => {
            return Err(invalid(
                "set WX_APPID and WX_SECRET, or WX_OPENAPI=1 inside Cloud Run, or WX_CLOUDBASE_TOKEN=1",
            ))
        }
    };
    let mode = match &auth {
        Auth::OpenApi => "开放接口服务 (no token)",
        Auth::CloudbaseToken => "cloudbase_access_token from each request",
        Auth::AppSecret { .. } => "AppSecret + stable_token",
    };
    let base = args.wx_base.unwrap_or_else(|| default_base.to_owned());
    let client = StorageClient::with_timeouts(base.clone(), args.env.clone(), auth, args.upstream.timeouts());
    let backend = args.policy.backend(client).map_err(invalid)?;
    let listener = tokio::net::TcpListener::bind((args.bind, args.port)).await?;
    println!("wxcs serve: http://{} · env {} · {mode} · WeChat API {base}", listener.local_addr()?, args.env);
    http::serve(listener, backend.router(), args.listen.limits(), shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// The demo user's bearer token, printed at start and used by the example pages.
const DEMO_TOKEN: &str = "demo-token";
/// A second demo user's token.
const DEMO_TOKEN_2: &str = "demo2-token";

async fn run_dev(args: DevArgs) -> std::io::Result<()> {
    let data_dir = args.data_dir.unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
        home.join(".local/share/wxcs/dev")
    });
    let config = emulator::Config {
        data_dir: data_dir.clone(),
        wx_port: args.wx_port,
        cos_port: args.cos_port,
        ..emulator::Config::default()
    };
    let (appid, secret, env) = (config.appid.clone(), config.secret.clone(), config.env.clone());
    let running = emulator::start(config).await?;
    let client = StorageClient::new(running.wx_url(), env, Auth::AppSecret { appid, secret });
    let policy = PolicyArgs {
        // A second user, to see that folders are kept apart (each uploads under its own).
        users: format!("{DEMO_TOKEN}=demo,{DEMO_TOKEN_2}=demo2"),
        path_prefix: "users/{uid}/".into(),
        max_size: None,
        allowed_types: vec!["*".into()],
        rate_per_minute: 6000,
        failed_logins_per_minute: 30,
        cors_origins: vec!["*".into()],
        prefix: "/api/storage".into(),
        verify_after: 960,
        body_timeout: 10,
        trust_wx_openid: false,
    };
    let mut backend = policy.backend(client).map_err(invalid)?;
    backend.demo_endpoints = true;
    let www = args
        .www
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www-example/dist")));
    let router = if www.join("index.html").exists() {
        backend.router().fallback_service(tower_http::services::ServeDir::new(&www))
    } else {
        backend.router().fallback(|| async {
            axum::response::Html("<h1>wxcs dev</h1><p>The emulator and the credential backend are running. No example pages are built yet: once www-example/dist exists, it is served here.</p>")
        })
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!("wxcs dev: http://{}/", listener.local_addr()?);
    println!(
        "  backend     http://{}/api/storage  (demo users: Authorization: Bearer {DEMO_TOKEN} or {DEMO_TOKEN_2})",
        listener.local_addr()?
    );
    println!("  emulator    WeChat API {} · COS {}", running.wx_url(), running.cos_url());
    println!("  data        {}", data_dir.display());
    println!("  pages       {}", www.display());
    println!(
        "  mini program  open miniprogram-example/ in the WeChat developer tools, run npm install there and 工具 → 构建 npm,\n                tick 详情 → 本地设置 → 不校验合法域名; its config.js calls http://{}/api/storage",
        listener.local_addr()?
    );
    http::serve(listener, router, Limits::default(), shutdown_signal()).await;
    running.shutdown().await;
    Ok(())
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
