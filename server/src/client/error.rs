//! Errors of the server-side client, sharing the core's stable codes.

use std::fmt;

use wx_cloud_storage_core::ErrorCode;

/// A failed storage call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    /// The stable code (as the browser library would report it).
    pub code: ErrorCode,
    /// What went wrong; never contains a secret or token.
    pub message: String,
    /// WeChat's `errcode`, for `WECHAT_API`.
    pub errcode: Option<i64>,
    /// COS's error code, for `UPLOAD_REJECTED` and friends.
    pub cos_code: Option<String>,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
}

impl ClientError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> ClientError {
        ClientError { code, message: message.into(), errcode: None, cos_code: None, status: None }
    }

    pub(crate) fn wechat(errcode: i64, errmsg: &str) -> ClientError {
        ClientError {
            errcode: Some(errcode),
            ..ClientError::new(ErrorCode::WechatApi, format!("WeChat errcode {errcode}: {errmsg}"))
        }
    }

    /// A transport failure (no answer). `reqwest` errors can carry the URL, and with it an
    /// `access_token` query parameter: it is stripped before the error is kept.
    pub(crate) fn network(error: reqwest::Error) -> ClientError {
        let code = if error.is_timeout() { ErrorCode::Timeout } else { ErrorCode::Network };
        ClientError::new(code, error.without_url().to_string())
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ClientError {}
