//! One check: read the object's first bytes and real length, hold them against its folder's
//! limits, delete it if it breaks them or cannot be read (fail closed), and write what was
//! found to the record.

use wx_cloud_storage_core::{protocol::FileId, ErrorCode};

use crate::{
    backend::{
        rules::Limits,
        state::{now_ms, Claimed, Outcome, Verdict},
        Backend, StoredObject,
    },
    client::{ClientError, ObjectHead, StorageClient},
};

/// How many of an object's first bytes are read to tell its type.
const HEAD_BYTES: u64 = 4096;
/// How many times a check that could not be made is tried before the object is deleted
/// (fail closed); the waits double from 30 s up to an hour, about four hours in all.
const MAX_ATTEMPTS: i64 = 10;

impl Backend {
    /// Runs a check this instance holds and writes its outcome (if it still holds it).
    pub(crate) async fn run_check(&self, client: &StorageClient, check: &Claimed) -> Outcome {
        let outcome = self.inspect(client, check).await;
        let name = match &outcome.verdict {
            Verdict::Stored { .. } => "stored",
            Verdict::Refused(_) => "refused",
            Verdict::Missing => "missing",
            Verdict::Failed => "failed",
        };
        metrics::counter!("wxcs_checks_total", "outcome" => name).increment(1);
        match self.store.complete(check, &outcome).await {
            Ok(true) => {}
            Ok(false) => tracing::debug!("a check's outcome was not written: a new link or another holder"),
            Err(e) => tracing::warn!("could not write a check's outcome (it will be made again): {e}"),
        }
        outcome
    }

    async fn inspect(&self, client: &StorageClient, check: &Claimed) -> Outcome {
        let now = now_ms();
        // While the link lives (and a grace after), the object can still change: look again then.
        let watch_until = check.link_ends_at + self.verify_after.as_millis() as i64;
        let watch = (now < watch_until).then_some(watch_until);
        let key = FileId::parse(&check.file_id).map(|id| id.key.to_owned()).unwrap_or_default();
        let limits =
            self.policy.rules.folder_of(&key).map(|(folder, _)| folder.limits.clone()).unwrap_or_default();
        match client.head(&check.file_id, HEAD_BYTES).await {
            Ok(head) => match judge(&limits, &head) {
                Ok(verdict) => Outcome { verdict, next: watch },
                Err(why) => self.refuse(client, check, why, watch).await,
            },
            Err(e) if e.code == ErrorCode::NotFound => Outcome { verdict: Verdict::Missing, next: watch },
            Err(e) if unreadable(&e) => {
                let why = format!("unreadable: the object could not be read for its check ({})", e.code);
                self.refuse(client, check, why, watch).await
            }
            Err(e) if check.attempts + 1 >= MAX_ATTEMPTS => {
                tracing::error!(code = %e.code, "a check failed {MAX_ATTEMPTS} times; deleting the object: {}", e.message);
                self.refuse(client, check, "unchecked: its check could not be made".into(), watch).await
            }
            Err(e) => {
                tracing::warn!(code = %e.code, "could not check an upload, retrying later: {}", e.message);
                Outcome { verdict: Verdict::Failed, next: Some(now + retry_after(check.attempts)) }
            }
        }
    }

    /// Deletes an object that failed its check: `Refused(why)`, still watched while its
    /// link lives; a failed delete is retried as a failed check.
    async fn refuse(
        &self,
        client: &StorageClient,
        check: &Claimed,
        why: String,
        watch: Option<i64>,
    ) -> Outcome {
        tracing::warn!("deleting an upload that failed its check: {why}");
        match client.delete(std::slice::from_ref(&check.file_id)).await {
            Ok(results) if results.iter().all(|r| r.status == 0 || is_gone(r.status, &r.errmsg)) => {
                Outcome { verdict: Verdict::Refused(why), next: watch }
            }
            Ok(_) | Err(_) => {
                tracing::warn!("could not delete an upload that failed its check; retrying");
                Outcome { verdict: Verdict::Failed, next: Some(now_ms() + retry_after(check.attempts)) }
            }
        }
    }
}

/// What a read object is, against its folder's limits: `Stored`, or why it is refused.
fn judge(limits: &Limits, head: &ObjectHead) -> Result<Verdict, String> {
    let object =
        StoredObject { size: head.size, content_type: head.content_type.as_deref(), head: &head.bytes };
    limits.check_object(&object).map_err(|refusal| format!("{}: {}", refusal.code, refusal.message))?;
    Ok(Verdict::Stored {
        size: head.size.min(i64::MAX as u64) as i64,
        content_type: head.content_type.clone(),
        crc64: head.crc64.clone(),
    })
}

/// Whether a read failed because the storage refused to serve the object (COS 403 for an
/// object stored without `x-cos-meta-fileid`, a refused item), not because it did not answer.
fn unreadable(error: &ClientError) -> bool {
    matches!(error.code, ErrorCode::Forbidden | ErrorCode::Unauthorized)
        || error.status.is_some_and(|status| (400..500).contains(&status))
}

/// Whether a delete item failed only because the object is already gone.
fn is_gone(status: i64, errmsg: &str) -> bool {
    wx_cloud_storage_core::protocol::item_error_code(status, errmsg) == ErrorCode::NotFound
}

/// How long to wait before the next attempt of a check that failed `attempts` times, ms.
fn retry_after(attempts: i64) -> i64 {
    30_000i64.saturating_mul(1 << attempts.clamp(0, 7)).min(3_600_000)
}

#[cfg(test)]
mod tests {
    use super::retry_after;

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_after(0), 30_000);
        assert_eq!(retry_after(3), 240_000);
        assert_eq!(retry_after(9), 3_600_000);
    }
}
