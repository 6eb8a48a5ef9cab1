//! Serving HTTP/1 with the limits every listener of `wxcs` needs.
//!
//! `axum::serve` has no header timeout and no connection cap: 300 connections that never
//! finish their headers used to starve a backend for good. Here each listener gets
//!
//! - a cap on open connections (past it, new ones wait in the kernel's backlog);
//! - a header read timeout, which also closes idle keep-alive connections;
//! - the peer's address as [`axum::extract::ConnectInfo`], for per-address limits;
//! - a [`DropConnection`] handle in every request, with which a handler closes its
//!   connection abruptly (the emulator's "dropped connection" fault) without a panic.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{body::Body, extract::ConnectInfo, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    net::TcpListener,
    sync::{watch, Notify, Semaphore},
    task::JoinSet,
};
use tower::ServiceExt;

/// The limits of one listener. Every field has a documented default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once; past this, new ones wait to be accepted. Default 1024.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, and the longest an idle keep-alive
    /// connection stays open. Default 10 s.
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_connections: 1024, header_timeout: Duration::from_secs(10) }
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
        connections.spawn(connection(stream, peer, app.clone(), limits, stopped.clone(), permit));
    }
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
    _permit: tokio::sync::OwnedSemaphorePermit,
) {
    let drop_it = Arc::new(Notify::new());
    let handle = DropConnection(drop_it.clone());
    let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(handle.clone());
        app.clone().oneshot(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let stopping = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    tokio::select! {
        _ = conn.as_mut() => return,
        () = drop_it.notified() => return, // dropping `conn` closes the socket with no answer
        () = stopping => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}
