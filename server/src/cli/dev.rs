//! `wxcs dev`: the demo. The emulator, the backend (with the library's defaults and the
//! demo's few changes: two demo users, the example pages' processing endpoint, CORS for
//! any page, a generous rate) and the built example pages, in one process.

use std::path::PathBuf;

use clap::Args;
use wx_cloud_storage_server::{
    backend::{Backend, BearerTokens, Policy},
    client::{Auth, StorageClient},
    emulator,
    http::{self, Limits},
};

use super::{invalid, shutdown_signal};

#[derive(Debug, Args)]
pub(crate) struct DevArgs {
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
/// The demo user's bearer token, printed at start and used by the example pages.
const DEMO_TOKEN: &str = "demo-token";
/// A second demo user's token.
const DEMO_TOKEN_2: &str = "demo2-token";

pub(crate) async fn run(args: DevArgs) -> std::io::Result<()> {
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
    // A second user, to see that folders are kept apart (each uploads under its own).
    let users = BearerTokens::parse(&format!("{DEMO_TOKEN}=demo,{DEMO_TOKEN_2}=demo2")).map_err(invalid)?;
    // The demo pages upload many files while you try them: a generous rate.
    let policy = Policy { rate_per_minute: 6000, ..Policy::default() };
    let mut backend = Backend::new(client, Box::new(users), policy);
    backend.allow_origins = vec!["*".into()];
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
