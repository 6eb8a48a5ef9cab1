//! What wraps every backend route: CORS for the configured origins, the JSON-only rule for
//! POSTs, and one access-log line per request.

use std::time::{Duration, Instant};

use axum::{
    extract::Request,
    http::{header, HeaderValue, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_http::cors::{AllowOrigin, CorsLayer};

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
        .expose_headers([header::RETRY_AFTER])
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

/// One log line per request: method, path, status, time. Never headers or query strings,
/// which may carry credentials.
pub(crate) async fn access_log(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, path = %path.escape_debug(), status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    response
}
