//! Why an operation failed, before it becomes a JS `StorageError` (see [`crate::js_error`]).

use wasm_bindgen::{JsCast, JsValue};
use wx_cloud_storage_core::{ErrorCode, KeyError};

/// A failure with its stable code and the details that apply.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    /// Boxed: most failures have none, and every `Result` and future carrying a
    /// `Failure` stays small.
    pub(crate) details: Option<Box<Details>>,
}

/// The details a failure may carry, as `StorageError` properties.
#[derive(Debug, Clone, Default)]
pub(crate) struct Details {
    /// HTTP status, when there was an answer.
    pub(crate) status: Option<u16>,
    /// WeChat's `errcode` (or a list item's `status`).
    pub(crate) errcode: Option<i64>,
    /// COS's error code.
    pub(crate) cos_code: Option<String>,
    /// COS's request ID, for Tencent support.
    pub(crate) request_id: Option<String>,
    /// For `INVALID_KEY`: the rule broken.
    pub(crate) key_error: Option<KeyError>,
}

impl Failure {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into(), details: None }
    }

    fn details_mut(&mut self) -> &mut Details {
        self.details.get_or_insert_with(Box::default)
    }

    /// The HTTP status, when there was an answer.
    pub(crate) fn status(&self) -> Option<u16> {
        self.details.as_ref().and_then(|d| d.status)
    }

    pub(crate) fn with_status(mut self, status: u16) -> Failure {
        self.details_mut().status = Some(status);
        self
    }

    pub(crate) fn with_errcode(mut self, errcode: i64) -> Failure {
        self.details_mut().errcode = Some(errcode);
        self
    }

    /// Adds COS's error code and request ID (empty strings are left out).
    pub(crate) fn with_cos(mut self, cos_code: String, request_id: String) -> Failure {
        let details = self.details_mut();
        details.cos_code = Some(cos_code).filter(|c| !c.is_empty());
        details.request_id = Some(request_id).filter(|r| !r.is_empty());
        self
    }

    pub(crate) fn invalid_key(error: KeyError) -> Failure {
        let mut failure = Failure::new(ErrorCode::InvalidKey, error.to_string());
        failure.details_mut().key_error = Some(error);
        failure
    }

    pub(crate) fn aborted() -> Failure {
        Failure::new(ErrorCode::Aborted, "the operation was aborted by its AbortSignal")
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(ErrorCode::InvalidArgument, message)
    }

    /// A failure from a thrown JS value, keeping its message.
    pub(crate) fn from_js(code: ErrorCode, thrown: &JsValue) -> Failure {
        let message = match thrown.dyn_ref::<js_sys::Error>() {
            Some(error) => String::from(error.message()),
            None => thrown.as_string().unwrap_or_else(|| "a callback threw a non-Error value".into()),
        };
        Failure::new(code, message)
    }
}
