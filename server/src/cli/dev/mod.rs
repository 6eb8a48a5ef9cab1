//! `wxcs dev`: the demo. The emulator, the backend (with the library's defaults and the
//! demo's changes: its own login (`login.rs`, JWTs verified from its JWKS URL) beside two
//! fixed demo tokens, its folder rules (`rules.toml`: each user's folder and a shared
//! `products/`), the example pages' processing endpoint, CORS for any page, a generous
//! rate) and the built example pages, in one process.

mod login;
mod pages;

use std::{path::PathBuf, time::Duration};

use clap::Args;
use wx_cloud_storage_server::{
    backend::{
        state::{Location, Store},
        Backend, BearerTokens, Jwks, JwtConfig, JwtLogin, KeySource, Logins, Policy, Rules,
    },
    client::{Auth, StorageClient},
    emulator,
    http::{self, Limits},
};

use super::{invalid, shutdown_signal};

/// The demo's folder rules.
const RULES: &str = include_str!("rules.toml");

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
    /// A name to answer to besides localhost, *.localhost and IP addresses (a DNS-rebinding
    /// guard); `.example.com` for a domain and its subdomains, `*` for any; repeat for several.
    #[arg(long = "allowed-host", env = "WXCS_ALLOWED_HOSTS", value_delimiter = ',')]
    allowed_hosts: Vec<String>,
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
        allowed_hosts: args.allowed_hosts.clone(),
        ..emulator::Config::default()
    };
    let (appid, secret, env) = (config.appid.clone(), config.secret.clone(), config.env.clone());
    let running = emulator::start(config).await?;
    let client = StorageClient::new(running.wx_url(), env, Auth::AppSecret { appid, secret });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    let here = listener.local_addr()?;
    let mut backend = Backend::new(client, Box::new(demo_logins(&format!("http://{here}"))?), demo_policy()?);
    backend.allow_origins = vec!["*".into()];
    backend.demo_endpoints = true;
    // The record beside the emulator's objects, so the consoles list what was uploaded.
    let record = Location::Sqlite(data_dir.join("wxcs.sqlite"));
    backend.store = std::sync::Arc::new(Store::open(&record).await.map_err(|e| invalid(e.to_string()))?);
    let www = args
        .www
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www-example/dist")));
    let api = backend.router().merge(login::Issuer::new().routes());
    let router = pages::with_pages(api, &www);
    println!("wxcs dev: http://{here}/");
    println!(
        "  backend     http://{here}/api/storage  (Authorization: Bearer {DEMO_TOKEN} or {DEMO_TOKEN_2},"
    );
    println!("              or a JWT from POST /api/demo/login {{\"user\": \"demo\" or \"admin\", \"password\": the same}})");
    println!("  emulator    WeChat API {} · COS {}", running.wx_url(), running.cos_url());
    println!("  data        {}", data_dir.display());
    println!("  pages       {}", www.display());
    println!(
        "  mini program  open miniprogram-example/ in the WeChat developer tools, run npm install there and 工具 → 构建 npm,\n                tick 详情 → 本地设置 → 不校验合法域名; its config.js calls http://{}/api/storage",
        here
    );
    let router = http::AllowedHosts::new(&args.allowed_hosts).guard(router);
    http::serve(listener, router, Limits::default(), shutdown_signal()).await;
    running.shutdown().await;
    Ok(())
}

/// The demo's ways of logging in: the two fixed tokens, then its own JWTs (verified from the
/// JWKS it serves at `origin`).
fn demo_logins(origin: &str) -> std::io::Result<Logins> {
    // A second user, to see that folders are kept apart (each uploads under its own).
    let users = BearerTokens::parse(&format!("{DEMO_TOKEN}=demo,{DEMO_TOKEN_2}=demo2")).map_err(invalid)?;
    let jwks = Jwks::new(format!("{origin}/.well-known/jwks.json"), Duration::from_secs(5));
    let mut jwt = JwtConfig::new(KeySource::Jwks(jwks));
    jwt.issuer = Some(login::ISSUER.into());
    jwt.audience = Some(login::ISSUER.into());
    Ok(Logins(vec![Box::new(users), Box::new(JwtLogin(jwt))]))
}

/// The demo's policy: its rules, and a generous rate (the pages upload many files while
/// you try them).
fn demo_policy() -> std::io::Result<Policy> {
    let rules = Rules::parse("the demo's rules.toml", RULES).map_err(|e| invalid(e.to_string()))?;
    Ok(Policy { rules, rate_per_minute: 6000, ..Policy::default() })
}
