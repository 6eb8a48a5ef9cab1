//! One connection's life: its requests served by hyper until the client leaves, the
//! listener stops, or one of the connection's own limits ends it.
//!
//! Each limit closes a way one client could keep a slot for good:
//! - the header timeout (hyper's) ends a connection that sends nothing, idle keep-alive
//!   included;
//! - the write timeout ends one that stops reading its answers (pipelining requests and
//!   never reading used to block the server's write with no end);
//! - the request cap and the age end one that stays busy forever, gracefully: the first
//!   answer past either says `Connection: close` and hyper closes after it, so no request
//!   is cut off (an idle connection past its age meets the header timeout); the client
//!   opens a new one, which meets the per-address share again.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header::CONNECTION, HeaderValue},
    Router,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    net::TcpStream,
    sync::{watch, Notify, OwnedSemaphorePermit},
};
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;

use super::{per_address::Slot, DropConnection, Limits};

/// What a connection holds while it is open: its place under the listener's cap and under
/// its address's share.
pub(super) struct Held {
    pub(super) _permit: OwnedSemaphorePermit,
    pub(super) _slot: Slot,
}

/// Serves one connection until it closes; when the listener stops, finishes the request in
/// flight and closes.
pub(super) async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
    _held: Held,
) {
    let mut stream = TimeoutStream::new(stream);
    stream.set_write_timeout(Some(limits.write_timeout));
    let drop_it = Arc::new(Notify::new());
    let handle = DropConnection(drop_it.clone());
    let closes_at = tokio::time::Instant::now() + limits.max_connection_age;
    let served = AtomicUsize::new(0);
    let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let count = served.fetch_add(1, Ordering::Relaxed) + 1;
        let last = count >= limits.max_requests_per_connection || tokio::time::Instant::now() >= closes_at;
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(handle.clone());
        let answer = app.clone().oneshot(request);
        async move {
            let mut response = answer.await?;
            if last {
                // hyper closes the connection after an answer that says so.
                response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(Box::pin(stream)), service);
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
