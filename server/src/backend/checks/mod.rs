//! What makes a folder's `max_size` and `types` true of the objects that land, not only of
//! what clients declare, and what keeps the file record true of the storage.
//!
//! An upload link from `tcb/uploadfile` binds neither length nor type: a client can declare
//! 10 bytes of `image/png` and post 2 MiB of `text/html`, and post again, with the same
//! link, until the link ends (its `q-sign-time`, 900 s on WeChat). So every link issued is
//! recorded with a check owed (`state/checks.rs`), due when the link has ended and a grace
//! has passed ([`Backend::verify_after`](super::Backend::verify_after)), and:
//!
//! - the library's report (`POST {prefix}/verify`) brings the check forward: it is answered
//!   at once, and the check runs behind it;
//! - a request that would serve the object (a download link, `exists`, `list`) runs its
//!   check first when its folder has limits, so nothing unchecked is served; while the link
//!   lives, a check that passed is made again before each such request (the object could
//!   have been replaced), and once more when the link ends: a report never ends the watch;
//! - every authenticated request sweeps a few due checks (Cloud Run allows no work outside a
//!   request, so there is no timer), each held by one instance through a lease that another
//!   instance takes over when the first dies;
//! - an object that breaks its folder's limits, or cannot be read for its check (it fails
//!   closed), is deleted; one whose check cannot be made is retried with backoff, a bounded
//!   number of times.
//!
//! The check itself ([`inspect`]) reads the object's first bytes and real length with one
//! ranged GET through the storage API the backend already has. Content is not scanned.

mod inspect;
mod settle;

use std::sync::atomic::{AtomicI64, Ordering};

pub(crate) use settle::Settled;

use super::{
    state::{now_ms, IssueError, Issued},
    ApiError, Backend, Caller,
};
use crate::client::StorageClient;

/// How many due checks one request's sweep claims.
const SWEEP_BATCH: u32 = 4;
/// The least time between two sweeps of one instance, milliseconds.
const SWEEP_EVERY_MS: i64 = 1000;
/// The longest a link is taken to live when its signature names no end (WeChat's links
/// live 900 s), and the longest it is believed to, seconds.
const LINK_LIFETIME: i64 = 900;
const LINK_LIFETIME_MAX: i64 = 24 * 3600;

/// When a link signed by `authorization` ends, in ms since the epoch: the later end of its
/// `q-sign-time` and `q-key-time` (`start;end`, seconds), bounded to a day from now; 900 s
/// from now when it names neither (Guess: WeChat's links have always named both).
pub(crate) fn link_end(authorization: &str, now_ms: i64) -> i64 {
    let now = now_ms / 1000;
    let end = authorization
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| *name == "q-sign-time" || *name == "q-key-time")
        .filter_map(|(_, span)| span.split_once(';')?.1.parse::<i64>().ok())
        .max()
        .unwrap_or(now + LINK_LIFETIME);
    end.clamp(now, now + LINK_LIFETIME_MAX) * 1000
}

/// When the last sweep of this instance started (ms since the epoch).
#[derive(Debug, Default)]
pub(crate) struct SweepClock(AtomicI64);

impl Backend {
    /// Records a link just issued for `key` (`file_id`), which ends at `link_ends_at` (ms
    /// since the epoch; until then the object can change), with what the upload declared:
    /// the object is owed a check. `RATE_LIMITED` when the caller already has their share of
    /// links whose upload was neither reported nor found.
    pub(crate) async fn record_link(
        &self,
        caller: &Caller,
        key: &str,
        file_id: &str,
        link_ends_at: i64,
        declared: (Option<u64>, Option<&str>),
        reported: bool,
    ) -> Result<(), ApiError> {
        let link = Issued {
            file_id,
            key,
            owner: &caller.counted_as,
            declared_size: declared.0,
            declared_type: declared.1,
            due_at: link_ends_at + self.verify_after.as_millis() as i64,
            link_ends_at,
        };
        // Only links whose uploads the library reports count toward the share (hole C): in a
        // folder without limits nobody reports, and a busy user would be locked out.
        let share = reported.then_some(i64::from(self.unchecked_per_user));
        match self.store.issued(&link, share).await {
            Ok(()) => Ok(()),
            Err(IssueError::Full(n)) => Err(ApiError::rate_limited(
                60,
                &format!("you have {n} uploads not reported yet: finish or report them before asking for more links"),
            )),
            Err(IssueError::Store(e)) => Err(ApiError::store(&e)),
        }
    }

    /// Sweeps a few due checks (at most one sweep per second per instance), with `client`
    /// (the request's, which in cloudbase-token mode carries the request's token). Runs
    /// beside the request; a sweep cut short leaves its leases to expire and be taken over.
    pub(crate) fn sweep(self: &std::sync::Arc<Self>, client: &StorageClient) {
        let now = now_ms();
        let last = self.sweep_clock.0.load(Ordering::Relaxed);
        if now - last < SWEEP_EVERY_MS
            || self.sweep_clock.0.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            return;
        }
        let (backend, client) = (self.clone(), client.clone());
        tokio::spawn(async move {
            match backend.store.claim_due(SWEEP_BATCH, backend.check_lease).await {
                Ok(claimed) => {
                    for check in claimed {
                        backend.run_check(&client, &check).await;
                    }
                }
                Err(e) => tracing::warn!("could not sweep the due checks: {e}"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::link_end;

    #[test]
    fn a_links_end_is_the_later_end_of_its_signature_bounded() {
        let now = 1_000_000_000;
        let auth = "q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1000000;1000900&q-key-time=1000000;1000950&q-signature=x";
        assert_eq!(link_end(auth, now), 1_000_950_000);
        assert_eq!(link_end("q-signature=x", now), (1_000_000 + 900) * 1000, "none named: 900 s");
        assert_eq!(link_end("q-sign-time=1;2", now), 1_000_000_000, "ended: now");
        assert_eq!(link_end("q-sign-time=1;99999999999", now), (1_000_000 + 86_400) * 1000, "a day at most");
        assert_eq!(link_end("q-sign-time=1;x&q-key-time=1000000;1000010", now), 1_000_010_000);
    }
}
