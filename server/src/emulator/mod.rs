//! `wxcs emulate`: a local stand-in for the WeChat storage open API and COS.
//!
//! Two listeners, like the two real services: the WeChat port speaks `api.weixin.qq.com`
//! (tokens, `tcb/uploadfile`, `tcb/batchdownloadfile`, `tcb/batchdeletefile`, plus the
//! `/__emulator/*` control endpoints), the COS port speaks POST Object and object GET. It is
//! strict where the real services are strict (see wechat-storage-facts.md), so code that
//! passes against it works against WeChat; where the facts are silent it guesses like the
//! real service and the guesses are marked "guess" in the code.

mod config;
mod control;
mod cos;
mod links;
mod multipart;
mod sidecar;
mod store;
mod temp_keys;
mod tokens;
mod wechat;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use config::{Config, DEFAULT_SECRET};
pub use control::{CrcHeader, Faults, Stats, StatsSnapshot};
pub(crate) use links::{download_sign, Link, Links};
use store::Store;
use tokens::Tokens;

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
    /// Temporary COS keys from `/_/cos/getauth`.
    pub(crate) temp_keys: temp_keys::TempKeys,
    /// Multipart uploads in progress.
    pub(crate) uploads: multipart::Uploads,
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
    let hosts = crate::http::AllowedHosts::new(&config.allowed_hosts);
    let state = Arc::new(State {
        bucket: config.bucket(),
        cos_origin: format!("http://{cos_addr}"),
        tokens: Tokens::default(),
        store,
        stats: Stats::default(),
        faults: Mutex::new(Faults::default()),
        links: Mutex::default(),
        temp_keys: Default::default(),
        uploads: Default::default(),
        config,
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let stopped = futures_util::FutureExt::shared(async { stopped.await.ok() });
    let mut tasks = Vec::new();
    for (listener, router) in
        [(wx_listener, wechat::router(state.clone())), (cos_listener, cos::router(state.clone()))]
    {
        let router = hosts.guard(router);
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
    /// The COS port's `host:port`, as a request's `Host` names it.
    pub(crate) fn cos_host(&self) -> &str {
        self.cos_origin.trim_start_matches("http://")
    }

    /// Forgets upload links and tokens that expired before `now`.
    pub(crate) fn prune(&self, now: u64) {
        self.links.lock().unwrap().prune(now);
        self.tokens.prune(now);
        self.temp_keys.prune(now);
    }
}

/// Sleeps for the configured latency fault, if any.
pub(crate) async fn injected_latency(state: &State) {
    let ms = state.faults.lock().unwrap().latency_ms;
    if ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}
