//! What an operator reads: `/healthz` (the process answers), `/readyz` (and its database
//! does), and `/metrics` in the Prometheus text format, through `metrics` and
//! `metrics-exporter-prometheus`.
//!
//! The metrics (all `wxcs_`, base units, no unbounded label: never a key, a user or a path):
//! `wxcs_http_requests_total{route,status}` and `wxcs_http_request_duration_seconds{route}`
//! (middleware.rs), `wxcs_refusals_total{code}` (error.rs), `wxcs_wechat_calls_total{api,
//! outcome,errcode}` and `wxcs_wechat_call_duration_seconds{api}` (client/wechat.rs),
//! `wxcs_token_refreshes_total{outcome}` (client/token.rs), `wxcs_checks_total{outcome}`
//! (checks/inspect.rs), `wxcs_multipart_uploads_total{outcome}`,
//! `wxcs_multipart_parts_signed_total` and `wxcs_cos_key_fetches_total` (multipart/,
//! client/cos_keys.rs), and, read from the store at each scrape, `wxcs_pending_checks`,
//! `wxcs_open_multipart_uploads` and `wxcs_files{state}`. `/metrics` answers a bearer token (`--metrics-token`) or, with none
//! set, only the machine itself (a loopback address): deny by default.

use std::{net::SocketAddr, sync::OnceLock};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::{ApiError, Shared};

/// Latency buckets, seconds: from a cached answer to a slow upstream.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The process's recorder, installed on first use; `None` when the host application
/// installed its own (then its exporter has these metrics).
pub(crate) fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new().set_buckets(&BUCKETS).expect("buckets are not empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .as_ref()
}

/// `GET /readyz`: 200 when the state store answers, else 503.
pub(crate) async fn readyz(State(backend): State<Shared>) -> Response {
    match backend.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => ApiError::store(&e).into_response(),
    }
}

/// `GET /metrics`: the Prometheus text format, to the metrics token or a loopback caller.
pub(crate) async fn metrics(State(backend): State<Shared>, request: Request) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| *peer);
    let headers = request.headers();
    let allowed = match &backend.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            // Compared as digests: the time taken says nothing of the token.
            .is_some_and(|given| Sha256::digest(given) == Sha256::digest(token.expose_secret())),
        None => peer.is_some_and(|peer| peer.ip().is_loopback()),
    };
    if !allowed {
        let why = "metrics are for the metrics token (--metrics-token) or this machine";
        return ApiError::new(wx_cloud_storage_core::ErrorCode::Forbidden, why).into_response();
    }
    let Some(handle) = recorder() else {
        return (StatusCode::NOT_FOUND, "the host application owns the metrics recorder").into_response();
    };
    if let Ok(pending) = backend.store.pending_checks().await {
        metrics::gauge!("wxcs_pending_checks").set(pending as f64);
    }
    if let Ok(open) = backend.store.open_uploads().await {
        metrics::gauge!("wxcs_open_multipart_uploads").set(open as f64);
    }
    if let Ok(counts) = backend.store.file_counts().await {
        for state in ["pending", "stored", "refused", "deleted"] {
            let n = counts.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
            metrics::gauge!("wxcs_files", "state" => state).set(n as f64);
        }
    }
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response()
}
