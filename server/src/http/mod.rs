//! Serving HTTP/1 with the limits every listener of `wxcs` needs.
//!
//! `axum::serve` has no header timeout and no connection cap: 300 connections that never
//! finish their headers used to starve a backend for good. Here each listener gets
//!
//! - a cap on open connections (past it, new ones wait in the kernel's backlog), and a
//!   share of it per client address ([`per_address`]);
//! - a header read timeout, which also closes idle keep-alive connections, a write
//!   timeout, and a cap on each connection's requests and age ([`connection`]);
//! - the peer's address as [`axum::extract::ConnectInfo`], for per-address limits;
//! - a [`DropConnection`] handle in every request, with which a handler closes its
//!   connection abruptly (the emulator's "dropped connection" fault) without a panic.

mod connection;
mod hosts;
mod per_address;

use std::{future::Future, sync::Arc, time::Duration};

use axum::Router;
use tokio::{
    net::TcpListener,
    sync::{watch, Notify, Semaphore},
    task::JoinSet,
};

pub use hosts::AllowedHosts;

use connection::{serve_connection, Held};
use per_address::PerAddress;

/// The limits of one listener. Every field has a documented default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once; past this, new ones wait to be accepted. Default 1024.
    pub max_connections: usize,
    /// Connections one client address (an IPv6 /64) may hold; past it, a new one is
    /// answered 429 and closed. `None` (the default): a quarter of `max_connections`.
    pub max_connections_per_address: Option<usize>,
    /// Time a client has to send a request's headers, and the longest an idle keep-alive
    /// connection stays open. Default 10 s.
    pub header_timeout: Duration,
    /// The longest a write to a client may wait for the client to read. Default 30 s.
    pub write_timeout: Duration,
    /// Requests served on one connection before it is closed (gracefully). Default 1000.
    pub max_requests_per_connection: usize,
    /// How long a connection may stay open before it is closed (gracefully). Default 10 min.
    pub max_connection_age: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            max_connections_per_address: None,
            header_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            max_requests_per_connection: 1000,
            max_connection_age: Duration::from_secs(600),
        }
    }
}

impl Limits {
    /// The connections one address may hold: the set share, else a quarter of the cap;
    /// at least one, at most the cap.
    pub fn per_address(&self) -> usize {
        let cap = self.max_connections.max(1);
        self.max_connections_per_address.unwrap_or(cap / 4).clamp(1, cap)
    }
}

/// Closes the connection a request came on, at once, with no answer: what a network
/// failure looks like to the client. Every request carries one (as an extension).
#[derive(Debug, Clone)]
pub struct DropConnection(Arc<Notify>);

impl DropConnection {
    /// Drops the connection. The handler should then wait forever (it is cancelled).
    pub async fn now(&self) -> ! {
        self.0.notify_one();
        std::future::pending().await
    }
}

/// Serves `app` on `listener` with `limits` until `shutdown` resolves; then stops
/// accepting, lets the requests in flight finish (at most 5 s) and returns.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, shutdown: impl Future<Output = ()>) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let addresses = Arc::new(PerAddress::default());
    let refusals = Arc::new(Semaphore::new(64));
    let (stop, stopped) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or the peer left before accept: wait a
                    // little rather than spin, and keep serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        match addresses.take(peer.ip(), limits.per_address()) {
            Some(slot) => {
                let held = Held { _permit: permit, _slot: slot };
                connections.spawn(serve_connection(stream, peer, app.clone(), limits, stopped.clone(), held));
            }
            None => {
                // The refusal holds no slot under the cap; at most 64 are answered at
                // once, and past that a connection is closed with no answer.
                drop(permit);
                if let Ok(refusing) = refusals.clone().try_acquire_owned() {
                    connections.spawn(async move {
                        per_address::refuse(stream).await;
                        drop(refusing);
                    });
                }
            }
        }
    }
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}
