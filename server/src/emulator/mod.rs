//! `wxcs emulate`: a local stand-in for the WeChat storage open API and COS.
//!
//! Two listeners, like the two real services: the WeChat port speaks `api.weixin.qq.com`
//! (tokens, `tcb/uploadfile`, `tcb/batchdownloadfile`, `tcb/batchdeletefile`, plus the
//! `/__emulator/*` control endpoints), the COS port speaks POST Object and object GET. It is
//! strict where the real services are strict (see wechat-storage-facts.md), so code that
//! passes against it works against WeChat; where the facts are silent it guesses like the
//! real service and the guesses are marked "guess" in the code.

mod control;
mod cos;
mod store;
mod tokens;
mod wechat;

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use control::{CrcHeader, Faults, Stats, StatsSnapshot};
use store::Store;
use tokens::Tokens;

/// The emulator's settings; every field has a documented default ([`Config::default`]).
#[derive(Clone)]
pub struct Config {
    /// The mini program's AppID that token calls must present.
    pub appid: String,
    /// The AppSecret that token calls must present.
    pub secret: String,
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
    pub cos_secret_key: String,
    /// Largest object POST accepts (COS: 5 GB).
    pub max_object_size: u64,
    /// 开放接口服务 mode: `tcb/*` calls without any token are accepted, as the Cloud Run
    /// sidecar relays them.
    pub open_api: bool,
    /// Browser origins allowed to call the control routes (`/__emulator/*`). None by
    /// default: tools that send no `Origin` (tests, curl) can always call them.
    pub control_origins: Vec<String>,
    /// Connection cap and header timeout of both listeners.
    pub limits: crate::http::Limits,
    /// How often expired links and tokens are forgotten. Default 60 s.
    pub prune_every: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The AppSecret and the COS key are secrets even in an emulator: never printed.
        f.debug_struct("Config")
            .field("appid", &self.appid)
            .field("secret", &"<redacted>")
            .field("env", &self.env)
            .field("bind", &self.bind)
            .field("wx_port", &self.wx_port)
            .field("cos_port", &self.cos_port)
            .field("data_dir", &self.data_dir)
            .field("link_ttl", &self.link_ttl)
            .field("token_ttl", &self.token_ttl)
            .field("allow_origins", &self.allow_origins)
            .field("cos_secret_id", &self.cos_secret_id)
            .field("cos_secret_key", &"<redacted>")
            .field("max_object_size", &self.max_object_size)
            .field("open_api", &self.open_api)
            .field("control_origins", &self.control_origins)
            .field("limits", &self.limits)
            .field("prune_every", &self.prune_every)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            appid: "wx0000000000emulator".into(),
            secret: "emulator-app-secret".into(),
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
            cos_secret_key: random_hex(20),
            max_object_size: 5 * 1024 * 1024 * 1024,
            open_api: false,
            control_origins: Vec::new(),
            limits: crate::http::Limits { max_connections: 1024, header_timeout: Duration::from_secs(30) },
            prune_every: Duration::from_secs(60),
        }
    }
}

impl Config {
    /// The COS bucket of the environment, shaped like WeChat's:
    /// `<hex of the env ID's first two bytes>-<env>-<COS APPID>` (a guess from public
    /// examples; the real naming is undocumented).
    pub fn bucket(&self) -> String {
        let prefix: String = self.env.bytes().take(2).map(|b| format!("{b:02x}")).collect();
        format!("{prefix}-{}-1300000000", self.env)
    }
}

/// State shared by both listeners.
pub(crate) struct State {
    pub(crate) config: Config,
    pub(crate) bucket: String,
    pub(crate) cos_origin: String,
    pub(crate) tokens: Tokens,
    pub(crate) store: Store,
    pub(crate) stats: Stats,
    pub(crate) faults: Mutex<Faults>,
    /// Issued upload links by security token.
    pub(crate) links: Mutex<Links>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens and link tokens are credentials: only counts are shown.
        f.debug_struct("State")
            .field("config", &self.config)
            .field("bucket", &self.bucket)
            .field("objects", &self.store.len())
            .field("live_links", &self.links.lock().unwrap().len())
            .finish_non_exhaustive()
    }
}

/// Unix time in seconds.
pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `n` random bytes as lowercase hex.
pub(crate) fn random_hex(n: usize) -> String {
    hex::encode((0..n).map(|_| rand::random::<u8>()).collect::<Vec<u8>>())
}

/// A running emulator. Dropping it does not stop it; call [`Running::shutdown`].
#[derive(Debug)]
pub struct Running {
    /// Where the WeChat open API listens.
    pub wx_addr: SocketAddr,
    /// Where COS listens.
    pub cos_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// `http://<wx_addr>`, the base URL to use instead of `https://api.weixin.qq.com`.
    pub fn wx_url(&self) -> String {
        format!("http://{}", self.wx_addr)
    }

    /// `http://<cos_addr>`.
    pub fn cos_url(&self) -> String {
        format!("http://{}", self.cos_addr)
    }

    /// Stops both listeners and waits for them.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

/// Binds both ports, loads the data directory and starts serving.
pub async fn start(config: Config) -> std::io::Result<Running> {
    let wx_listener = TcpListener::bind((config.bind, config.wx_port)).await?;
    let cos_listener = TcpListener::bind((config.bind, config.cos_port)).await?;
    let (wx_addr, cos_addr) = (wx_listener.local_addr()?, cos_listener.local_addr()?);
    let store = Store::open(&config.data_dir).await?;
    let limits = config.limits;
    let state = Arc::new(State {
        bucket: config.bucket(),
        cos_origin: format!("http://{cos_addr}"),
        tokens: Tokens::default(),
        store,
        stats: Stats::default(),
        faults: Mutex::new(Faults::default()),
        links: Mutex::default(),
        config,
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let stopped = futures_util::FutureExt::shared(async { stopped.await.ok() });
    let mut tasks = Vec::new();
    for (listener, router) in
        [(wx_listener, wechat::router(state.clone())), (cos_listener, cos::router(state.clone()))]
    {
        let stopped = stopped.clone();
        tasks.push(tokio::spawn(crate::http::serve(listener, router, limits, async move {
            stopped.await;
        })));
    }
    // Expired links and tokens are forgotten once a minute: memory stays bounded however
    // many links a long-running emulator issues.
    let every = state.config.prune_every;
    let pruned = state.clone();
    let stopped_pruning = stopped.clone();
    tasks.push(tokio::spawn(async move {
        let prune = async {
            loop {
                tokio::time::sleep(every).await;
                pruned.prune(now());
            }
        };
        tokio::select! { () = prune => {}, _ = stopped_pruning => {} }
    }));
    Ok(Running { wx_addr, cos_addr, stop: Some(stop), tasks })
}

impl State {
    /// Forgets upload links and tokens that expired before `now`.
    pub(crate) fn prune(&self, now: u64) {
        self.links.lock().unwrap().prune(now);
        self.tokens.prune(now);
    }
}

/// The upload links the emulator issued, by security token.
#[derive(Default)]
pub(crate) struct Links {
    by_token: HashMap<String, Link>,
    /// The size at which the next insert first forgets expired links.
    prune_at: usize,
}

impl Links {
    /// Remembers `link`. Between the timed prunes, a burst of links also prunes (each time
    /// the map has doubled), so memory follows the links alive, not the links ever issued.
    pub(crate) fn insert(&mut self, token: String, link: Link) {
        if self.by_token.len() >= self.prune_at {
            self.prune(now());
            self.prune_at = (self.by_token.len() * 2).max(1024);
        }
        self.by_token.insert(token, link);
    }

    pub(crate) fn get(&self, token: &str) -> Option<&Link> {
        self.by_token.get(token)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_token.len()
    }

    fn prune(&mut self, now: u64) {
        self.by_token.retain(|_, link| link.expires_at >= now);
    }
}

/// An upload link the emulator issued, looked up by its security token.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub(crate) key: String,
    pub(crate) expires_at: u64,
}

/// Sleeps for the configured latency fault, if any.
pub(crate) async fn injected_latency(state: &State) {
    let ms = state.faults.lock().unwrap().latency_ms;
    if ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// The `sign` of a download URL for `key` expiring at `t`: 32 hex characters, like the
/// real `*.tcb.qcloud.la` links (how WeChat computes its own is undocumented).
pub(crate) fn download_sign(state: &State, key: &str, t: u64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(state.config.cos_secret_key.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(format!("{}/{key}\n{t}", state.bucket).as_bytes());
    hex::encode(mac.finalize().into_bytes())[..32].to_owned()
}
