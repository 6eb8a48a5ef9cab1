//! When to retry, and how long to wait.
//!
//! Only failures that a second try can fix are retried: no answer at all (`NETWORK`),
//! a stall (`TIMEOUT`), a 5xx (`SERVER`) and HTTP 429 (`RATE_LIMITED`), the last after at
//! least the wait the server asked for. A 4xx is the caller's or the
//! policy's verdict and never changes on retry. An expired upload link is handled apart:
//! one fresh link, one retry (see [`crate::protocol::CosError::is_expired_link`]).
//!
//! Backoff is exponential with *full jitter* (a uniform draw in `[0, cap)`), which spreads
//! many clients that failed together. The caller supplies the random number, so this
//! module stays deterministic and testable.

use crate::ErrorCode;

/// Whether a failure with this code (and HTTP status, when there was one) may succeed on
/// another attempt.
pub const fn is_retryable(code: ErrorCode, status: Option<u16>) -> bool {
    matches!(code, ErrorCode::Network | ErrorCode::Timeout | ErrorCode::Server | ErrorCode::RateLimited)
        || matches!(status, Some(429))
}

/// How many times to retry and how long to wait between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `retries + 1` attempts in all).
    pub retries: u32,
    /// The cap of the first backoff, in milliseconds; it doubles each retry.
    pub base_delay_ms: u32,
    /// The largest cap, in milliseconds.
    pub max_delay_ms: u32,
}

impl Default for RetryPolicy {
    /// 3 retries, backoff caps of 0.5 s, 1 s, 2 s (at most 10 s).
    fn default() -> Self {
        RetryPolicy { retries: 3, base_delay_ms: 500, max_delay_ms: 10_000 }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry), given `unit_random`
    /// drawn uniformly from `[0, 1)`. `None` once the retries are used up.
    pub fn delay_ms(&self, retry: u32, unit_random: f64) -> Option<u32> {
        if retry == 0 || retry > self.retries {
            return None;
        }
        let cap = self.base_delay_ms.saturating_mul(1u32 << (retry - 1).min(31)).min(self.max_delay_ms);
        let unit = if unit_random.is_finite() { unit_random.clamp(0.0, 1.0) } else { 0.0 };
        // `as` saturates; cap * unit < cap ≤ u32::MAX.
        Some((f64::from(cap) * unit) as u32)
    }

    /// Like [`RetryPolicy::delay_ms`], honouring the wait a server asked for
    /// (`Retry-After`, in ms): at least that long. `None` also when that wait is longer
    /// than [`RetryPolicy::max_delay_ms`]: then the caller is better told (with the wait)
    /// than kept waiting.
    pub fn delay_after_ms(&self, retry: u32, unit_random: f64, retry_after_ms: Option<u32>) -> Option<u32> {
        let backoff = self.delay_ms(retry, unit_random)?;
        match retry_after_ms {
            Some(wait) if wait > self.max_delay_ms => None,
            Some(wait) => Some(backoff.max(wait)),
            None => Some(backoff),
        }
    }
}

/// The slowest upload rate the deadline of an upload without progress events allows for:
/// 16 KiB/s (128 kbit/s, a weak 2G/EDGE link), so a slow but healthy upload is never cut off.
pub const SLOWEST_UPLOAD_BYTES_PER_SECOND: f64 = 16.0 * 1024.0;

/// The wall-clock deadline, in ms, of an upload that cannot see its bytes leave (the
/// browser's `fetch`, used when the caller asks for no progress): the stall time plus the
/// time `size` bytes take at [`SLOWEST_UPLOAD_BYTES_PER_SECOND`]. `None` when the stall
/// timer is off (`stall_ms == 0`): then nothing times out. (Milliseconds and bytes as
/// `f64`, as JavaScript holds them.)
///
/// ```
/// use wx_cloud_storage_core::retry::upload_deadline_ms;
/// assert_eq!(upload_deadline_ms(60_000.0, 16.0 * 1024.0 * 1024.0), Some(60_000.0 + 1_024_000.0));
/// assert_eq!(upload_deadline_ms(0.0, 1.0), None);
/// ```
pub fn upload_deadline_ms(stall_ms: f64, size: f64) -> Option<f64> {
    (stall_ms > 0.0).then(|| stall_ms + (size * 1000.0 / SLOWEST_UPLOAD_BYTES_PER_SECOND).ceil())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_failures_retry() {
        for code in ErrorCode::ALL {
            let expected = matches!(
                code,
                ErrorCode::Network | ErrorCode::Timeout | ErrorCode::Server | ErrorCode::RateLimited
            );
            assert_eq!(is_retryable(code, None), expected, "{code}");
        }
        assert!(is_retryable(ErrorCode::CredentialsFailed, Some(429)));
        assert!(!is_retryable(ErrorCode::Forbidden, Some(403)));
        assert!(!is_retryable(ErrorCode::UploadRejected, Some(400)));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let policy = RetryPolicy { retries: 6, base_delay_ms: 500, max_delay_ms: 10_000 };
        let caps: Vec<u32> = (1..=6).map(|n| policy.delay_ms(n, 0.999_999).unwrap() + 1).collect();
        assert_eq!(caps, [500, 1000, 2000, 4000, 8000, 10_000]);
        assert_eq!(policy.delay_ms(3, 0.0), Some(0));
        assert_eq!(policy.delay_ms(3, 0.5), Some(1000));
        assert_eq!(policy.delay_ms(7, 0.5), None);
        assert_eq!(policy.delay_ms(0, 0.5), None);
        assert_eq!(policy.delay_ms(1, f64::NAN), Some(0));
    }

    #[test]
    fn the_upload_deadline_grows_with_the_file() {
        assert_eq!(upload_deadline_ms(1000.0, 0.0), Some(1000.0));
        assert_eq!(upload_deadline_ms(1000.0, 16.0 * 1024.0), Some(2000.0));
        assert_eq!(upload_deadline_ms(1000.0, 256.0 * 1024.0), Some(17_000.0));
        assert_eq!(upload_deadline_ms(1000.0, 1.0), Some(1001.0), "rounded up, never down");
        assert_eq!(upload_deadline_ms(0.0, 1e9), None);
    }

    #[test]
    fn a_servers_retry_after_is_waited_for_or_reported() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_after_ms(1, 0.0, None), Some(0));
        assert_eq!(policy.delay_after_ms(1, 0.0, Some(2000)), Some(2000), "at least the asked wait");
        assert_eq!(policy.delay_after_ms(1, 0.999, Some(100)), Some(499), "the backoff when longer");
        assert_eq!(policy.delay_after_ms(1, 0.5, Some(10_001)), None, "longer than the cap: report it");
        assert_eq!(policy.delay_after_ms(4, 0.5, Some(1000)), None, "retries used up");
    }

    #[test]
    fn huge_retry_counts_do_not_overflow() {
        let policy = RetryPolicy { retries: u32::MAX, base_delay_ms: u32::MAX, max_delay_ms: u32::MAX };
        assert!(policy.delay_ms(u32::MAX, 0.5).is_some());
    }
}
