//! What makes `--max-size` and `--allowed-types` true of the objects that land, not only of
//! what clients declare.
//!
//! An upload link from `tcb/uploadfile` binds neither length nor type: a client can declare
//! 10 bytes of `image/png` and post 2 MiB of `text/html`. So when the policy limits
//! uploads, each link is remembered as pending, and the object is checked: at once when the
//! library reports the upload (`POST {prefix}/verify`), or, for a client that never does,
//! once its link has expired ([`sweep`]). The check reads the object's first bytes and its
//! real length with one ranged GET, through the storage API the backend already has; an
//! object that breaks the policy is deleted. Content is not scanned.

use std::{
    collections::HashMap,
    sync::{Mutex, Weak},
    time::{Duration, Instant},
};

use wx_cloud_storage_core::{protocol::FileId, ErrorCode};

use super::{ApiError, Backend, StoredObject};
use crate::client::StorageClient;

/// How many of an object's first bytes are read to tell its type.
const HEAD_BYTES: u64 = 4096;
/// The most uploads awaiting their check at once; past it, new links are refused (503)
/// until checks catch up, so memory stays bounded.
const MAX_PENDING: usize = 100_000;
/// How often the sweep looks for unreported uploads whose links have expired.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Uploads whose object has not been checked yet: file ID → (user, check by).
#[derive(Debug, Default)]
pub(crate) struct Pending(Mutex<HashMap<String, (String, Instant)>>);

impl Pending {
    /// Remembers a link just issued.
    pub(crate) fn add(&self, file_id: &str, uid: &str, due: Instant) -> Result<(), ApiError> {
        let mut pending = self.0.lock().unwrap();
        if pending.len() >= MAX_PENDING && !pending.contains_key(file_id) {
            return Err(ApiError::unavailable("too many uploads await their check; retry in a minute"));
        }
        pending.insert(file_id.to_owned(), (uid.to_owned(), due));
        Ok(())
    }

    pub(crate) fn remove(&self, file_id: &str) {
        self.0.lock().unwrap().remove(file_id);
    }

    /// Takes the entries due before `now`.
    fn take_due(&self, now: Instant) -> Vec<String> {
        let mut pending = self.0.lock().unwrap();
        let due: Vec<String> =
            pending.iter().filter(|(_, (_, at))| *at <= now).map(|(id, _)| id.clone()).collect();
        for id in &due {
            pending.remove(id);
        }
        due
    }
}

/// What the check found of an object that passed: its real length and served type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checked {
    pub(crate) size: u64,
    pub(crate) content_type: Option<String>,
}

/// Checks one object against the policy; deletes it when it breaks the policy.
pub(crate) async fn check(
    backend: &Backend,
    client: &StorageClient,
    file_id: &str,
) -> Result<Checked, ApiError> {
    let head = client.head(file_id, HEAD_BYTES).await?;
    let object =
        StoredObject { size: head.size, content_type: head.content_type.as_deref(), head: &head.bytes };
    // The limits of the folder the object is in (none: it is in no folder, and no one's).
    let key = FileId::parse(file_id).map(|id| id.key).unwrap_or_default();
    let limits =
        backend.policy.rules.folder_of(key).map(|(folder, _)| folder.limits.clone()).unwrap_or_default();
    if let Err(refusal) = limits.check_object(&object) {
        tracing::warn!(code = %refusal.code, "deleting an upload that breaks the policy: {}", refusal.message);
        backend.pending.remove(file_id);
        client.delete(&[file_id.to_owned()]).await?;
        return Err(refusal.into());
    }
    Ok(Checked { size: head.size, content_type: head.content_type })
}

/// Checks, every few seconds, the uploads whose links have expired without the client
/// reporting them. Ends when the backend is dropped.
pub(crate) async fn sweep(backend: Weak<Backend>) {
    loop {
        tokio::time::sleep(SWEEP_EVERY).await;
        let Some(backend) = backend.upgrade() else { return };
        for file_id in backend.pending.take_due(Instant::now()) {
            match check(&backend, &backend.client, &file_id).await {
                Ok(_) => {}
                // Never uploaded (or already gone): nothing to check.
                Err(e) if e.code == ErrorCode::NotFound => {}
                Err(e) if e.code == ErrorCode::TooLarge || e.code == ErrorCode::Forbidden => {}
                Err(e) => {
                    tracing::warn!(
                        code = %e.code,
                        "could not check an unreported upload, retrying in a minute: {}",
                        e.message
                    );
                    let uid = String::new();
                    let _ = backend.pending.add(&file_id, &uid, Instant::now() + Duration::from_secs(60));
                }
            }
        }
    }
}
