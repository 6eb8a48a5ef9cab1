//! The emulator's settings.

use std::{
    net::{IpAddr, Ipv4Addr},
    path::PathBuf,
    time::Duration,
};

use secrecy::{ExposeSecret, SecretString};

use super::random_hex;

/// The AppSecret the emulator expects by default. Public: an emulator holds no real secret,
/// which is why it listens on loopback and checks `Host` (DNS rebinding).
pub const DEFAULT_SECRET: &str = "emulator-app-secret";

/// The emulator's settings; every field has a documented default ([`Config::default`]).
/// `Debug` shows every field but the two secrets, which it prints redacted.
#[derive(Debug, Clone)]
pub struct Config {
    /// The mini program's AppID that token calls must present.
    pub appid: String,
    /// The AppSecret that token calls must present.
    pub secret: SecretString,
    /// The cloud environment ID the `tcb/*` calls must name.
    pub env: String,
    /// Address to listen on (loopback by default).
    pub bind: IpAddr,
    /// WeChat open-API port (0 picks a free one).
    pub wx_port: u16,
    /// COS port (0 picks a free one).
    pub cos_port: u16,
    /// Where objects and their metadata persist.
    pub data_dir: PathBuf,
    /// Lifetime of upload links, seconds (WeChat's example spans 900).
    pub link_ttl: u64,
    /// Lifetime of access tokens, seconds (WeChat: 7200).
    pub token_ttl: u64,
    /// How long a superseded `/cgi-bin/token` token keeps working, seconds (WeChat: ~300).
    pub token_grace: u64,
    /// Origins allowed to call the COS port from a browser (`*` allows any).
    pub allow_origins: Vec<String>,
    /// The COS SecretId the emulator signs upload links with.
    pub cos_secret_id: String,
    /// The COS SecretKey the emulator signs upload and download links with: random for
    /// every start by default, so nobody who can reach an emulator can forge its links.
    pub cos_secret_key: SecretString,
    /// Lifetime of the temporary keys `/_/cos/getauth` gives, in seconds. Default 1800
    /// (Guess: COS STS's default; the sidecar's is undocumented).
    pub temp_key_ttl: u64,
    /// Largest object POST accepts (COS: 5 GB).
    pub max_object_size: u64,
    /// 开放接口服务 mode: `tcb/*` calls without any token are accepted, as the Cloud Run
    /// sidecar relays them.
    pub open_api: bool,
    /// Browser origins allowed to call the control routes (`/__emulator/*`). None by
    /// default: tools that send no `Origin` (tests, curl) can always call them.
    pub control_origins: Vec<String>,
    /// Names both listeners answer to besides loopback names and IP addresses (the
    /// DNS-rebinding guard, [`crate::http::AllowedHosts`]). None by default.
    pub allowed_hosts: Vec<String>,
    /// Connection cap and header timeout of both listeners.
    pub limits: crate::http::Limits,
    /// How often expired links and tokens are forgotten. Default 60 s.
    pub prune_every: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            appid: "wx0000000000emulator".into(),
            secret: DEFAULT_SECRET.into(),
            env: "dev-emulator".into(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            wx_port: 8788,
            cos_port: 8789,
            data_dir: PathBuf::from(".wxcs-data"),
            link_ttl: 900,
            token_ttl: 7200,
            token_grace: 300,
            allow_origins: vec!["*".into()],
            cos_secret_id: "AKIDwxcsEmulatorSecretId".into(),
            cos_secret_key: random_hex(20).into(),
            temp_key_ttl: 1800,
            max_object_size: 5 * 1024 * 1024 * 1024,
            open_api: false,
            control_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            limits: crate::http::Limits::default(),
            prune_every: Duration::from_secs(60),
        }
    }
}

impl Config {
    /// The COS SecretKey, for signing and checking signatures.
    pub(crate) fn cos_secret_key(&self) -> &str {
        self.cos_secret_key.expose_secret()
    }

    /// The COS bucket of the environment, shaped like WeChat's:
    /// `<hex of the env ID's first two bytes>-<env>-<COS APPID>` (a guess from public
    /// examples; the real naming is undocumented).
    pub fn bucket(&self) -> String {
        let prefix: String = self.env.bytes().take(2).map(|b| format!("{b:02x}")).collect();
        format!("{prefix}-{}-1300000000", self.env)
    }
}
