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

use axum::{
    body::Body,
    extract::State as Extract,
    http::HeaderMap,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use super::{ApiError, Backend, Peer, Shared, StoredObject};
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
            return Err(ApiError::new(
                503,
                "SERVER",
                "too many uploads await their check; retry in a minute",
            ));
        }
        pending.insert(file_id.to_owned(), (uid.to_owned(), due));
        Ok(())
    }

    fn remove(&self, file_id: &str) {
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

/// `POST {prefix}/verify {"file_id", "crc64"?}`: checks the caller's object against the
/// policy; `{file_id, size, content_type}`, or the typed refusal (`TOO_LARGE`,
/// `FORBIDDEN`) after deleting it. With `crc64` (the integrity module's `verify: 'server'`)
/// the answer also carries `integrity`: the stored object's CRC-64 against the client's
/// (see [`super::integrity::verdict`]); the policy check is then made only when the policy
/// limits uploads.
pub(crate) async fn verify(
    Extract(backend): Extract<Shared>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (_, super::FileRequest { file_id, crc64 }) = super::own_file(&backend, peer, &headers, body).await?;
    if let Some(crc64) = &crc64 {
        super::integrity::check_crc64(crc64)?;
    }
    let client = backend.client_for(&headers);
    let mut answer = json!({ "file_id": file_id });
    if crc64.is_none() || backend.policy.checks_uploads() {
        let (size, content_type) = check(&backend, &client, &file_id).await?;
        backend.pending.remove(&file_id);
        answer["size"] = json!(size);
        answer["content_type"] = json!(content_type);
    }
    if let Some(crc64) = &crc64 {
        answer["integrity"] = super::integrity::verdict(&client, &file_id, crc64).await?;
    }
    Ok(Json(answer).into_response())
}

/// Checks one object; deletes it when it breaks the policy.
async fn check(
    backend: &Backend,
    client: &StorageClient,
    file_id: &str,
) -> Result<(u64, Option<String>), ApiError> {
    let head = client.head(file_id, HEAD_BYTES).await?;
    let object =
        StoredObject { size: head.size, content_type: head.content_type.as_deref(), head: &head.bytes };
    if let Err(refusal) = backend.policy.check_object(&object) {
        tracing::warn!(code = refusal.code, "deleting an upload that breaks the policy: {}", refusal.message);
        backend.pending.remove(file_id);
        client.delete(&[file_id.to_owned()]).await?;
        return Err(refusal);
    }
    Ok((head.size, head.content_type))
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
                Err(e) if e.code == "NOT_FOUND" => {}
                Err(e) if e.code == "TOO_LARGE" || e.code == "FORBIDDEN" => {}
                Err(e) => {
                    tracing::warn!(
                        code = e.code,
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
