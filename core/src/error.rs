//! The stable error codes of the JS API (architecture.md, "Errors").
//!
//! The string form of each code is public API: JavaScript callers branch on
//! `error.code === 'NOT_FOUND'`. Never rename one; add new ones at the end.

use std::fmt;

/// Every way an operation can fail, as JavaScript sees it in `error.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The key breaks a rule of [`crate::key`]; raised before any network call.
    InvalidKey,
    /// Bad options, not a Blob, an empty batch, …
    InvalidArgument,
    /// The credential backend answered non-2xx (other than the cases below) or a
    /// malformed body.
    CredentialsFailed,
    /// The backend answered 401.
    Unauthorized,
    /// The backend answered 403: this user may not write or read that path.
    Forbidden,
    /// WeChat returned a non-zero `errcode`.
    WechatApi,
    /// COS answered 4xx with an XML `<Error>`.
    UploadRejected,
    /// COS said the upload link expired, after one fresh link was tried.
    CredentialsExpired,
    /// Over the configured or COS (5 GB) size limit.
    TooLarge,
    /// The file ID does not exist.
    NotFound,
    /// The request never got an answer: offline, DNS, or CORS.
    Network,
    /// No progress for `timeoutMs`.
    Timeout,
    /// The caller's `AbortSignal` fired.
    Aborted,
    /// 5xx after the retries ran out.
    Server,
    /// The backend answered 429: too many requests from this user. Carries the wait the
    /// backend asked for (`retryAfter`, seconds) when it gave one.
    RateLimited,
    /// The integrity module found that the storage's CRC-64 differs from what was sent.
    IntegrityMismatch,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::InvalidKey,
        ErrorCode::InvalidArgument,
        ErrorCode::CredentialsFailed,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::WechatApi,
        ErrorCode::UploadRejected,
        ErrorCode::CredentialsExpired,
        ErrorCode::TooLarge,
        ErrorCode::NotFound,
        ErrorCode::Network,
        ErrorCode::Timeout,
        ErrorCode::Aborted,
        ErrorCode::Server,
        ErrorCode::RateLimited,
        ErrorCode::IntegrityMismatch,
    ];

    /// The code as JavaScript sees it, e.g. `"INVALID_KEY"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidKey => "INVALID_KEY",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::CredentialsFailed => "CREDENTIALS_FAILED",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::WechatApi => "WECHAT_API",
            ErrorCode::UploadRejected => "UPLOAD_REJECTED",
            ErrorCode::CredentialsExpired => "CREDENTIALS_EXPIRED",
            ErrorCode::TooLarge => "TOO_LARGE",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Network => "NETWORK",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Aborted => "ABORTED",
            ErrorCode::Server => "SERVER",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::IntegrityMismatch => "INTEGRITY_MISMATCH",
        }
    }

    /// Parses a code from its string form (as a backend's `{code}` body may carry it).
    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The HTTP status a credential backend answers an error of this code with: the inverse
    /// of [`ErrorCode::from_backend_status`] for the codes a backend sends (a refused key
    /// or argument 400, upstream failures 502, a timed-out upstream call 504). Codes that
    /// only a client raises (`NETWORK`, `ABORTED`, …) map to 500.
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidKey | ErrorCode::InvalidArgument => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::TooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::WechatApi
            | ErrorCode::UploadRejected
            | ErrorCode::CredentialsFailed
            | ErrorCode::CredentialsExpired => 502,
            ErrorCode::Timeout => 504,
            ErrorCode::Server | ErrorCode::Network | ErrorCode::Aborted | ErrorCode::IntegrityMismatch => 500,
        }
    }

    /// What a failed download of a stored object (a GET of its link) means, by COS's HTTP
    /// status: gone, refused (COS refuses an object stored without `x-cos-meta-fileid`),
    /// a server failure, or another refusal.
    pub const fn from_download_status(status: u16) -> ErrorCode {
        match status {
            404 => ErrorCode::NotFound,
            403 => ErrorCode::Forbidden,
            500.. => ErrorCode::Server,
            _ => ErrorCode::UploadRejected,
        }
    }

    /// The code a credential backend's HTTP status maps to, when the body names none
    /// the library knows. 2xx is not an error and maps to `None`.
    pub const fn from_backend_status(status: u16) -> Option<ErrorCode> {
        Some(match status {
            200..=299 => return None,
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            413 => ErrorCode::TooLarge,
            429 => ErrorCode::RateLimited,
            500..=599 => ErrorCode::Server,
            _ => ErrorCode::CredentialsFailed,
        })
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_codes_round_trip_and_are_unique() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        assert_eq!(ErrorCode::parse("NOPE"), None);
    }

    #[test]
    fn backend_statuses_map_to_the_contract_codes() {
        assert_eq!(ErrorCode::from_backend_status(204), None);
        assert_eq!(ErrorCode::from_backend_status(401), Some(ErrorCode::Unauthorized));
        assert_eq!(ErrorCode::from_backend_status(403), Some(ErrorCode::Forbidden));
        assert_eq!(ErrorCode::from_backend_status(413), Some(ErrorCode::TooLarge));
        assert_eq!(ErrorCode::from_backend_status(503), Some(ErrorCode::Server));
        assert_eq!(ErrorCode::from_backend_status(400), Some(ErrorCode::CredentialsFailed));
        assert_eq!(ErrorCode::from_backend_status(429), Some(ErrorCode::RateLimited));
    }

    #[test]
    fn the_statuses_a_backend_answers_map_back_to_their_codes() {
        // Every code a backend sends comes back as itself through the library's mapping.
        for code in [
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::TooLarge,
            ErrorCode::RateLimited,
            ErrorCode::Server,
        ] {
            assert_eq!(ErrorCode::from_backend_status(code.http_status()), Some(code), "{code}");
        }
        assert_eq!(ErrorCode::InvalidKey.http_status(), 400);
        assert_eq!(ErrorCode::WechatApi.http_status(), 502);
        assert_eq!(ErrorCode::Timeout.http_status(), 504);
    }

    #[test]
    fn download_statuses() {
        assert_eq!(ErrorCode::from_download_status(404), ErrorCode::NotFound);
        assert_eq!(ErrorCode::from_download_status(403), ErrorCode::Forbidden);
        assert_eq!(ErrorCode::from_download_status(503), ErrorCode::Server);
        assert_eq!(ErrorCode::from_download_status(400), ErrorCode::UploadRejected);
    }
}
