//! `wxcs serve`: the credential backend, against the real WeChat API (or an emulator).

use std::net::IpAddr;

use clap::Args;
use wx_cloud_storage_server::{
    backend::Backend,
    client::{Auth, StorageClient},
    http,
};

use super::{
    flags::{ListenArgs, UpstreamArgs},
    invalid,
    login::LoginArgs,
    policy::PolicyArgs,
    shutdown_signal,
    state::StateArgs,
};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
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
    login: LoginArgs,
    #[command(flatten)]
    listen: ListenArgs,
    #[command(flatten)]
    upstream: UpstreamArgs,
    #[command(flatten)]
    state: StateArgs,
}

pub(crate) async fn run(args: ServeArgs) -> std::io::Result<()> {
    let (auth, default_base) = match (args.openapi, args.cloudbase_token, args.appid, args.secret) {
        (true, _, _, _) => (Auth::OpenApi, "http://api.weixin.qq.com"),
        (false, true, _, _) => (Auth::CloudbaseToken, "https://api.weixin.qq.com"),
        (false, false, Some(appid), Some(secret)) => {
            (Auth::AppSecret { appid, secret: secret.into() }, "https://api.weixin.qq.com")
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
    let policy = args.policy.policy().map_err(invalid)?;
    let logins = args.login.logins().map_err(invalid)?;
    if logins.0.is_empty() {
        return Err(invalid(
            "no way of logging in: set --jwt-jwks-url, --jwt-public-key-file, --jwt-secret-file (or WXCS_JWT_SECRET), --auth-url, --trust-wx-openid, or --users for a demo",
        ));
    }
    let mut backend = Backend::new(client, Box::new(logins), policy);
    args.policy.apply(&mut backend);
    backend.store = std::sync::Arc::new(args.state.open().await?);
    let listener = tokio::net::TcpListener::bind((args.bind, args.port)).await?;
    println!("wxcs serve: http://{} · env {} · {mode} · WeChat API {base}", listener.local_addr()?, args.env);
    http::serve(listener, backend.router(), args.listen.limits(), shutdown_signal()).await;
    Ok(())
}
