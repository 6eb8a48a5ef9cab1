//! Flag groups shared by the subcommands: the backend's policy (`serve`), a listener's
//! limits (`serve`, `emulate`), and the timeouts of calls upstream (`serve`). Their
//! defaults are the library's own.

use std::time::Duration;

use clap::Args;
use wx_cloud_storage_server::{
    backend::{Authenticator, Backend, BearerTokens, Policy, WxOpenId},
    client::{StorageClient, Timeouts},
    http::Limits,
};

/// Policy flags of `serve`.
#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {
    /// Bearer tokens the demo authenticator accepts, as token=uid pairs, comma-separated.
    /// Real apps implement the `Authenticator` trait instead.
    #[arg(long, env = "WXCS_USERS", default_value = "", hide_env_values = true)]
    users: String,
    /// Each user's folder: must end with '/'; {uid} (a whole segment) is the user ID.
    #[arg(long, env = "WXCS_PATH_PREFIX", default_value_t = Policy::default().path_prefix)]
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
    #[arg(long, env = "WXCS_RATE_PER_MINUTE", default_value_t = Policy::default().rate_per_minute)]
    rate_per_minute: u32,
    /// Failed sign-ins per client address per minute before 429.
    #[arg(long, env = "WXCS_FAILED_LOGINS_PER_MINUTE", default_value_t = Policy::default().failed_logins_per_minute)]
    failed_logins_per_minute: u32,
    /// Origins allowed to call the backend from a browser, comma-separated (`*` for any,
    /// without cookies; named origins may also send cookies; none: same-origin only).
    #[arg(long = "cors-origin", env = "WXCS_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Where the endpoints are mounted.
    #[arg(long, env = "WXCS_PREFIX", default_value = Backend::DEFAULT_PREFIX)]
    prefix: String,
    /// Seconds after its link was issued an upload nobody reported is checked anyway
    /// (when sizes or types are limited): the link's 900 s and a minute.
    #[arg(long, env = "WXCS_VERIFY_AFTER", default_value_t = Backend::DEFAULT_VERIFY_AFTER.as_secs())]
    verify_after: u64,
    /// Seconds a client has to send a request body (at most 64 KiB).
    #[arg(long, env = "WXCS_BODY_TIMEOUT", default_value_t = Backend::DEFAULT_BODY_TIMEOUT.as_secs())]
    body_timeout: u64,
    /// Authenticate mini program users by the X-WX-OPENID header Cloud Run's gateway sets on
    /// wx.cloud.callContainer calls (folders users/<openid>/). Safe ONLY when the service has
    /// no public ingress: anyone reaching it directly can send that header. Off by default.
    #[arg(long, env = "WXCS_TRUST_WX_OPENID", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    trust_wx_openid: bool,
}

impl PolicyArgs {
    /// The backend these flags describe, forwarding with `client`.
    pub(crate) fn backend(self, client: StorageClient) -> Result<Backend, String> {
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
pub(crate) struct ListenArgs {
    /// Connections open at once; past it, new ones wait to be accepted.
    #[arg(long, env = "WXCS_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Seconds a client has to send its request headers; also how long an idle
    /// keep-alive connection stays open.
    #[arg(long, env = "WXCS_HEADER_TIMEOUT", default_value_t = Limits::default().header_timeout.as_secs())]
    header_timeout: u64,
}

impl ListenArgs {
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_connections: self.max_connections,
            header_timeout: Duration::from_secs(self.header_timeout),
        }
    }
}

/// Timeouts of calls to WeChat and COS.
#[derive(Debug, Args)]
pub(crate) struct UpstreamArgs {
    /// Seconds a whole call to the WeChat open API may take, a token fetch included.
    #[arg(long, env = "WXCS_UPSTREAM_TIMEOUT", default_value_t = Timeouts::default().api.as_secs())]
    upstream_timeout: u64,
    /// Seconds connecting to WeChat or COS may take.
    #[arg(long, env = "WXCS_CONNECT_TIMEOUT", default_value_t = Timeouts::default().connect.as_secs())]
    connect_timeout: u64,
    /// Seconds a transfer to or from COS may go without a byte.
    #[arg(long, env = "WXCS_TRANSFER_TIMEOUT", default_value_t = Timeouts::default().transfer_idle.as_secs())]
    transfer_timeout: u64,
}

impl UpstreamArgs {
    pub(crate) fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(self.connect_timeout),
            api: Duration::from_secs(self.upstream_timeout),
            transfer_idle: Duration::from_secs(self.transfer_timeout),
        }
    }
}
