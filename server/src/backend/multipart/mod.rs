//! Resumable uploads of large files: COS multipart uploads that this backend starts, whose
//! parts it signs one at a time, and which it completes and aborts itself.
//!
//! WeChat's upload link signs one POST and nothing else, so parts need a key that can
//! sign: the temporary COS key Cloud Run's sidecar gives a service with 开放接口服务
//! (`client/cos_keys.rs`). That key can overwrite and delete the whole bucket, so it stays
//! here, and a client never names a method, a path or a query: it names an upload ID and a
//! part number, and this backend builds the one request it allows and signs that
//! (`parts.rs`), the part's length included, so COS refuses a part of any other length and
//! the parts add up to the declared size. Whatever a client sends, a signature is good for
//! one part of one upload of one key, for a quarter of an hour.
//!
//! - `POST {prefix}/multipart {path, size, contentType}` starts one (`start.rs`): the same
//!   path rules, folder rules, limits, rate and share as an upload link; the object is
//!   recorded (pending, its check owed) and the upload too (`state/uploads.rs`).
//! - `…/multipart/part {uploadId, partNumber}`: the signed `PUT` of that part.
//! - `…/multipart/parts {uploadId}`: the parts COS holds (to resume after a reload).
//! - `…/multipart/complete {uploadId}` and `…/abort {uploadId}` (`finish.rs`): done here,
//!   with COS's own list of parts; a complete brings the object's check forward.
//!
//! An upload no part was signed for in `--multipart-idle` is aborted by a later request's
//! sweep (Cloud Run allows no work outside a request). Only the caller who started an
//! upload can use its ID; to anyone else it does not exist. In any mode other than 开放接口
//! 服务 there is no key, and `POST {prefix}/multipart` answers 404 saying so: the library
//! then sends the file in one POST.

mod finish;
mod parts;
mod start;

use std::sync::atomic::{AtomicI64, Ordering};

pub(crate) use finish::{abort, complete};
pub(crate) use parts::{list_parts, sign_part};
use serde::Deserialize;
pub(crate) use start::start;
use wx_cloud_storage_core::ErrorCode;

use super::{
    state::{now_ms, MultipartUpload},
    ApiError, Backend, Caller, Op,
};
use crate::client::StorageClient;

/// COS: every part but the last is at least 1 MiB, at most 10,000 parts.
const MIN_PART: u64 = 1024 * 1024;
const MAX_PARTS: u64 = 10_000;
/// The part size chosen when the file is small enough for it: 8 MiB.
const DEFAULT_PART: u64 = 8 * 1024 * 1024;
/// COS: at most 5 GiB a part.
const MAX_PART: u64 = 5 * 1024 * 1024 * 1024;
/// How many idle uploads one request's sweep aborts, and the least time between sweeps.
const SWEEP_BATCH: u32 = 2;
const SWEEP_EVERY_MS: i64 = 1000;

/// The part size for a file of `size` bytes: `asked` if the caller asked for one that
/// fits COS's rules, else 8 MiB, or more when 8 MiB would need over 10,000 parts (whole
/// MiB).
pub(crate) fn part_size(size: u64, asked: Option<u64>) -> u64 {
    let least = size.div_ceil(MAX_PARTS).div_ceil(MIN_PART) * MIN_PART;
    let wanted = asked.filter(|a| (MIN_PART..=MAX_PART).contains(a)).unwrap_or(DEFAULT_PART);
    wanted.max(least).max(MIN_PART)
}

/// How many parts `upload` is sent in.
pub(crate) fn part_count(upload: &MultipartUpload) -> u64 {
    (upload.size as u64).div_ceil(upload.part_size as u64).max(1)
}

/// How long part `number` is (`None`: out of range).
pub(crate) fn part_length(upload: &MultipartUpload, number: u32) -> Option<u64> {
    let (size, part, count) = (upload.size as u64, upload.part_size as u64, part_count(upload));
    let number = u64::from(number);
    if number == 0 || number > count {
        return None;
    }
    Some(if number < count { part } else { size - part * (count - 1) })
}

/// The body of the calls on one upload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadRef {
    #[serde(rename = "uploadId")]
    upload_id: String,
    #[serde(rename = "partNumber", default)]
    part_number: Option<u32>,
}

/// When the last sweep of idle uploads of this instance started.
#[derive(Debug, Default)]
pub(crate) struct UploadSweepClock(AtomicI64);

impl Backend {
    /// The open upload `upload_id` of `caller`, whom the rules still let upload to its key.
    /// Another caller's upload, or one this backend never started, is `NOT_FOUND` alike.
    pub(crate) async fn own_upload(
        &self,
        caller: &Caller,
        upload_id: &str,
    ) -> Result<MultipartUpload, ApiError> {
        let upload = self.store.multipart_upload(upload_id).await.map_err(|e| ApiError::store(&e))?;
        let upload = upload.filter(|u| u.owner == caller.counted_as).ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                "no multipart upload of yours has this ID: start one with POST …/multipart",
            )
        })?;
        self.policy.rules.require(Op::Upload, &upload.key, caller.identity())?;
        Ok(upload)
    }

    /// Aborts a few uploads idle for `--multipart-idle` (at most one sweep per second per
    /// instance), beside the request.
    pub(crate) fn sweep_uploads(self: &std::sync::Arc<Self>, client: &StorageClient) {
        let now = now_ms();
        let last = self.upload_sweep_clock.0.load(Ordering::Relaxed);
        if now - last < SWEEP_EVERY_MS
            || self
                .upload_sweep_clock
                .0
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
            || !client.has_cos_keys()
        {
            return;
        }
        let (backend, client) = (self.clone(), client.clone());
        tokio::spawn(async move {
            let idle_before = now - backend.multipart_idle.as_millis() as i64;
            match backend.store.claim_idle_uploads(idle_before, SWEEP_BATCH, backend.check_lease).await {
                Ok(claimed) => {
                    for upload in claimed {
                        backend.abort_claimed(&client, &upload).await;
                    }
                }
                Err(e) => tracing::warn!("could not sweep the idle multipart uploads: {e}"),
            }
        });
    }

    /// Aborts an upload this instance holds as `aborting`: at COS (gone already is fine),
    /// then in the record.
    async fn abort_claimed(&self, client: &StorageClient, upload: &MultipartUpload) {
        match client.abort_multipart((&upload.url, &upload.key), &upload.upload_id).await {
            Ok(()) => {}
            Err(e) if e.status == Some(404) => {}
            Err(e) => {
                tracing::warn!("could not abort an idle multipart upload: {}", e.message);
                return;
            }
        }
        metrics::counter!("wxcs_multipart_uploads_total", "outcome" => "aborted").increment(1);
        if let Err(e) =
            self.store.move_upload(&upload.upload_id, "aborting", "aborted", self.check_lease).await
        {
            tracing::warn!("could not record an aborted multipart upload: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(size: i64, part_size: i64) -> MultipartUpload {
        MultipartUpload {
            upload_id: "u".into(),
            file_id: "f".into(),
            key: "k".into(),
            url: "http://cos/b/k".into(),
            owner: "user:a".into(),
            size,
            part_size,
            content_type: None,
            link_ends_at: 0,
            state: "open".into(),
        }
    }

    #[test]
    fn part_sizes_keep_coss_rules() {
        const MIB: u64 = 1024 * 1024;
        assert_eq!(part_size(300 * MIB, None), 8 * MIB);
        assert_eq!(part_size(300 * MIB, Some(5 * MIB)), 5 * MIB, "asked, and within the rules");
        assert_eq!(part_size(300 * MIB, Some(1000)), 8 * MIB, "under 1 MiB: the default");
        // 100 GiB in 8 MiB parts would be 12,800 parts: 11 MiB makes it 9,310.
        assert_eq!(part_size(100 * 1024 * MIB, None), 11 * MIB);
        assert!((100 * 1024 * MIB).div_ceil(part_size(100 * 1024 * MIB, Some(MIB))) <= MAX_PARTS);
    }

    #[test]
    fn every_part_but_the_last_is_whole() {
        let u = upload(20 * 1024 * 1024 + 5, 8 * 1024 * 1024);
        assert_eq!(part_length(&u, 0), None);
        assert_eq!(part_length(&u, 1), Some(8 * 1024 * 1024));
        assert_eq!(part_length(&u, 3), Some(4 * 1024 * 1024 + 5));
        assert_eq!(part_length(&u, 4), None);
        assert_eq!(part_length(&upload(0, 8), 1), Some(0), "an empty file is one empty part");
    }
}
