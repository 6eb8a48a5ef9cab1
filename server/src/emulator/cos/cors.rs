//! CORS as a COS bucket rule does it: preflights from allowed origins get the methods and
//! headers they ask for; others get `403 AccessForbidden`. Answers to allowed origins carry
//! `Access-Control-Allow-Origin` and expose `ETag` and the CRC-64 (unless the
//! `crc_header` fault says the bucket's rule hides it, or COS sends none).

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use wx_cloud_storage_core::protocol::CRC64_HEADER;

use super::{errors::Refusal, Shared};
use crate::emulator::{CrcHeader, Stats};

/// Headers a browser may read from COS's answers (the library needs `ETag` and the CRC).
const EXPOSE_HEADERS: &str =
    "ETag, Location, x-cos-request-id, x-cos-hash-crc64ecma, Content-Length, Content-Range";
/// The same, from a bucket whose CORS rule does not list the CRC (`crc_header: hidden`).
const EXPOSE_HEADERS_BUT_CRC: &str = "ETag, Location, x-cos-request-id, Content-Length, Content-Range";

fn origin_allowed(state: &crate::emulator::State, origin: &str) -> bool {
    state.config.allow_origins.iter().any(|o| o == "*" || o == origin)
}

pub(crate) async fn cors(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned);
    let allowed = origin.as_deref().is_some_and(|o| origin_allowed(&state, o));
    if request.method() == Method::OPTIONS {
        Stats::bump(&state.stats.preflights);
        if !allowed {
            return Refusal::CorsForbidden.answer(&state, request.uri().path().trim_start_matches('/'));
        }
        let mut response = StatusCode::OK.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, HEAD, DELETE"),
        );
        if let Some(asked) = request.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
        }
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        allow_origin(headers, origin.as_deref().unwrap_or_default());
        return response;
    }
    let mut response = next.run(request).await;
    let crc_header = state.faults.lock().unwrap().crc_header;
    if crc_header == CrcHeader::Absent {
        response.headers_mut().remove(CRC64_HEADER);
    }
    if allowed {
        allow_origin(response.headers_mut(), origin.as_deref().unwrap_or_default());
        if crc_header == CrcHeader::Hidden {
            let exposed = HeaderValue::from_static(EXPOSE_HEADERS_BUT_CRC);
            response.headers_mut().insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed);
        }
    }
    response
}

fn allow_origin(headers: &mut HeaderMap, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}
