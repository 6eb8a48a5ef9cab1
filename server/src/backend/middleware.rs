//! What wraps every backend route: CORS for the configured origins, the JSON-only rule for
//! POSTs, and for each request an ID (its `x-request-id`, or a new one) on every log line
//! it causes and on its answer, one access-log line, and its metrics.

use std::time::{Duration, Instant};

use axum::{
    extract::Request,
    http::{header, HeaderValue, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

use super::ApiError;

/// CORS for the configured origins. Only a named list allows credentials (cookies), so a
/// backend whose authenticator reads a session cookie works from those pages and no other;
/// with `*`, browsers send no cookie and read no answer made with one.
pub(crate) fn cors_layer(origins: &[String]) -> CorsLayer {
    let any = origins.iter().any(|o| o == "*");
    let allow = if any {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_credentials(!any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        // So a page can read how long a 429 asks it to wait.
        .expose_headers([header::RETRY_AFTER, header::HeaderName::from_static(REQUEST_ID)])
        .max_age(Duration::from_secs(600))
}

/// Refuses a POST whose body is not declared JSON (415). A cross-site page can send a
/// `text/plain` POST with no preflight; with cookie sessions that would be a forged call.
/// `application/json` needs a preflight, which CORS then answers.
pub(crate) async fn require_json(request: Request, next: Next) -> Response {
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if request.method() == Method::POST && !json {
        return ApiError::not_json().into_response();
    }
    next.run(request).await
}

/// The endpoints a request can be counted under (a bounded set of labels).
const ROUTES: [&str; 9] = [
    "upload-credentials",
    "download-urls",
    "delete",
    "verify",
    "exists",
    "list",
    "healthz",
    "readyz",
    "metrics",
];

/// For each request: its ID (a sane incoming `x-request-id`, else a new one) in a span, so
/// that every log line it causes carries it, and on the answer; one log line (method,
/// path, status, time; never headers or query strings, which may carry credentials); and
/// `wxcs_http_requests_total` / `wxcs_http_request_duration_seconds` by route.
pub(crate) async fn observe(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_sane_id(id))
        .map_or_else(|| crate::emulator::random_hex(16), str::to_owned);
    let route =
        ROUTES.iter().find(|route| path.rsplit('/').next() == Some(**route)).copied().unwrap_or("other");
    let started = Instant::now();
    let span = tracing::info_span!("request", id = %id);
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(%method, path = %path.escape_debug(), status, ms = elapsed.as_millis() as u64, "request");
    });
    metrics::counter!("wxcs_http_requests_total", "route" => route, "status" => status.to_string())
        .increment(1);
    metrics::histogram!("wxcs_http_request_duration_seconds", "route" => route).record(elapsed.as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// The header a request ID comes in and goes out in.
const REQUEST_ID: &str = "x-request-id";

/// An incoming request ID is kept only when it cannot forge a log line: 1 to 64 characters
/// of letters, digits, `-`, `_`, `.`.
fn is_sane_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}
