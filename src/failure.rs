//! Why an operation failed, before it becomes a JS `StorageError` (see [`crate::js_error`]).
//! Plain Rust, so the messages are tested natively.

use wx_cloud_storage_core::{text::decimal, ErrorCode, KeyError};

/// A failure with its stable code and the details that apply.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    /// Boxed: most failures have none.
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
    /// For `RATE_LIMITED`: the seconds the backend asked the caller to wait.
    pub(crate) retry_after: Option<u32>,
}

impl Failure {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into(), details: None }
    }

    fn details_mut(&mut self) -> &mut Details {
        self.details.get_or_insert_with(Box::default)
    }

    pub(crate) fn with_status(mut self, status: u16) -> Failure {
        self.details_mut().status = Some(status);
        self
    }

    pub(crate) fn with_retry_after(mut self, seconds: Option<u32>) -> Failure {
        if seconds.is_some() {
            self.details_mut().retry_after = seconds;
        }
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
        let mut failure = Failure::new(ErrorCode::InvalidKey, error.message());
        failure.details_mut().key_error = Some(error);
        failure
    }

    pub(crate) fn aborted() -> Failure {
        Failure::new(ErrorCode::Aborted, "the operation was aborted by its AbortSignal")
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(ErrorCode::InvalidArgument, message)
    }

    /// `NETWORK`, saying what to check. A browser hides why a request got no answer, and
    /// the usual reason is CORS, so the message names the page's `origin`. Outside a
    /// browser (no origin: a mini program) the usual reason is the domain allow-list.
    pub(crate) fn no_answer(url: &str, origin: &str) -> Failure {
        let what_to_check = if origin.is_empty() {
            [
                "no answer from ",
                url,
                ": check the network, then that this host is in the mini program's 合法域名 lists \
                 (request, uploadFile and downloadFile), or reach the backend by wx.cloud.callContainer",
            ]
            .concat()
        } else {
            [
                "no answer from ",
                url,
                ": check the network, then that ",
                origin,
                " is allowed by that server's CORS settings (for COS: add ",
                origin,
                " to the environment's Web 安全域名)",
            ]
            .concat()
        };
        Failure::new(ErrorCode::Network, what_to_check)
    }

    /// `TIMEOUT` after `after_ms`: a stall (no byte moved) or, for an upload that cannot
    /// see its bytes leave, its size-based deadline.
    pub(crate) fn timed_out(url: &str, after_ms: u64, deadline: bool) -> Failure {
        let message = if deadline {
            [
                url,
                " did not answer within ",
                &decimal(after_ms),
                " ms: an upload without onProgress cannot see its bytes leave, so it gets timeoutMs \
                 plus 1 s per 16 KiB of the file; pass onProgress for a stall timer instead",
            ]
            .concat()
        } else {
            ["no byte moved to or from ", url, " for ", &decimal(after_ms), " ms (timeoutMs)"].concat()
        };
        Failure::new(ErrorCode::Timeout, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_failures_say_what_to_check_on_each_platform() {
        let browser = Failure::no_answer("https://cos.example/b", "https://app.example");
        assert_eq!(browser.code, ErrorCode::Network);
        assert!(browser.message.contains("add https://app.example to the environment's Web 安全域名"));
        let mini_program = Failure::no_answer("https://cos.example/b", "");
        assert!(mini_program.message.contains("合法域名"), "{}", mini_program.message);
        assert!(!mini_program.message.contains("CORS"));
    }

    #[test]
    fn timeouts_name_the_rule_that_fired() {
        let stall = Failure::timed_out("http://x/y", 60_000, false);
        assert_eq!(stall.message, "no byte moved to or from http://x/y for 60000 ms (timeoutMs)");
        let deadline = Failure::timed_out("http://x/y", 61_000, true);
        assert!(deadline.message.starts_with("http://x/y did not answer within 61000 ms"));
        assert!(deadline.message.contains("pass onProgress"));
    }
}
