//! The backend's one error answer: `{code, message}` with the HTTP status the code means.
//!
//! The code is the core's [`ErrorCode`] (what the library branches on), and the status
//! follows from it ([`ErrorCode::http_status`]), so the two can never disagree. The only
//! exceptions are refusals of the HTTP exchange itself, not of what was asked (a body that
//! is not JSON, 415; one that took too long to arrive, 408; a backend that cannot serve
//! now, 503), each with its own constructor, and an upstream that failed or could not be
//! reached, which is a bad gateway (502) whatever its code.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;
use wx_cloud_storage_core::{ErrorCode, KeyError};

use crate::client::ClientError;

/// Why one request, or one item of a batch, is refused: a code and what to do. What the
/// policy and the rules return; the handler turns it into an [`ApiError`] or a batch item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The stable code: `FORBIDDEN`, `INVALID_KEY`, `TOO_LARGE`, …
    pub code: ErrorCode,
    /// What is wrong, for people.
    pub message: String,
}

impl Refusal {
    /// A refusal with `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal { code, message: message.into() }
    }
    pub(crate) fn invalid_key(e: &KeyError) -> Refusal {
        Refusal::new(ErrorCode::InvalidKey, e.message())
    }
    pub(crate) fn invalid_argument(message: impl Into<String>) -> Refusal {
        Refusal::new(ErrorCode::InvalidArgument, message)
    }
    pub(crate) fn forbidden(message: impl Into<String>) -> Refusal {
        Refusal::new(ErrorCode::Forbidden, message)
    }
    pub(crate) fn too_large(message: impl Into<String>) -> Refusal {
        Refusal::new(ErrorCode::TooLarge, message)
    }
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The stable code.
    pub code: ErrorCode,
    /// What to do, for people.
    pub message: String,
    status: StatusCode,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An answer with `code` and the status it means.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError { code, message: message.into(), status, retry_after: None }
    }

    /// The HTTP status of this answer.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidArgument, message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Unauthorized, message)
    }

    /// 429 `RATE_LIMITED`, asking the client to wait `wait` seconds (`Retry-After`).
    pub(crate) fn rate_limited(wait: u64, message: &str) -> ApiError {
        ApiError {
            retry_after: Some(wait),
            ..ApiError::new(ErrorCode::RateLimited, format!("{message}; retry in {wait} s"))
        }
    }

    /// 503 `SERVER`: this backend (or what it depends on) cannot serve the request now.
    pub(crate) fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::SERVICE_UNAVAILABLE, ..ApiError::new(ErrorCode::Server, message) }
    }

    /// 503 `SERVER`: the state store failed (its reason goes to the log only: it can name
    /// the database's address).
    pub(crate) fn store(error: &super::state::StoreError) -> ApiError {
        tracing::error!("the state store failed: {error}");
        ApiError::unavailable("the backend's database is unavailable; retry in a minute")
    }

    /// 415: the body is not declared JSON.
    pub(crate) fn not_json() -> ApiError {
        ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ..ApiError::invalid_argument("send the body as Content-Type: application/json")
        }
    }

    /// 408: the body did not arrive in time.
    pub(crate) fn body_timeout(limit: std::time::Duration) -> ApiError {
        ApiError {
            status: StatusCode::REQUEST_TIMEOUT,
            ..ApiError::new(ErrorCode::Timeout, format!("the request body took over {limit:?}"))
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        ApiError::new(refusal.code, refusal.message)
    }
}

impl From<ClientError> for ApiError {
    /// What the page is told of an upstream failure. WeChat's `errmsg` stays in the server
    /// log: it can name the server's egress IP (40164) or other internals.
    fn from(e: ClientError) -> ApiError {
        let message = match e.errcode {
            Some(errcode) => {
                tracing::warn!(errcode, "WeChat refused a call: {}", e.message);
                format!("WeChat refused the call (errcode {errcode}); the details are in the server's log")
            }
            None => e.message,
        };
        let mut error = ApiError::new(e.code, message);
        // WeChat or COS failed, or could not be reached: a bad gateway, whatever the code.
        if matches!(e.code, ErrorCode::Server | ErrorCode::Network) {
            error.status = StatusCode::BAD_GATEWAY;
        }
        error
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        metrics::counter!("wxcs_refusals_total", "code" => self.code.as_str()).increment(1);
        let mut response =
            (self.status, Json(json!({ "code": self.code.as_str(), "message": self.message })))
                .into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
