//! Making a file's owed check before a request serves it: claimed and run here, or, when
//! another request or instance holds it, waited for. A few at once, for a batch.

use std::{collections::HashMap, sync::Arc, time::Duration};

use futures_util::{stream, StreamExt};

use wx_cloud_storage_core::ErrorCode;

use crate::{
    backend::{state::Verdict, ApiError, Backend, Refusal},
    client::StorageClient,
};

/// How many checks one request makes at once.
const AT_ONCE: usize = 8;
/// How often a request waiting for another holder's check looks again.
const POLL: Duration = Duration::from_millis(50);

/// What the record says of a file once its owed check was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settled {
    /// It is there and keeps its folder's limits.
    Stored,
    /// It broke them, or could not be read, and was deleted: why (`TOO_LARGE: …`,
    /// `FORBIDDEN: …`, `unreadable: …`).
    Refused(String),
    /// There is no object: never uploaded, or gone.
    Missing,
    /// The record does not know it (no link for it was issued here).
    Unknown,
}

impl Settled {
    /// The refusal a request for a file that failed its check gets: the code its check
    /// refused it with (`TOO_LARGE`, else `FORBIDDEN`), and why.
    pub(crate) fn refusal(why: &str) -> Refusal {
        let code =
            why.split_once(':').and_then(|(code, _)| ErrorCode::parse(code)).unwrap_or(ErrorCode::Forbidden);
        Refusal::new(code, format!("refused and deleted: {why}"))
    }
}

impl Backend {
    /// Makes the owed checks of `file_ids` (each at most once), with `client`: what each
    /// file is now. Files that owe no check are answered from the record.
    pub(crate) async fn settle(
        self: &Arc<Self>,
        client: &StorageClient,
        file_ids: Vec<String>,
    ) -> Result<HashMap<String, Settled>, ApiError> {
        let results: Vec<Result<(String, Settled), ApiError>> = stream::iter(file_ids)
            .map(|id| {
                let (backend, client) = (self.clone(), client.clone());
                // Each check is its own task: a request that goes away mid-check (its client
                // closed the page) still finishes the check and writes its outcome. Cut
                // short, it would hold its lease, and every request for that file would wait
                // the lease out (60 s) before taking the check over.
                let check =
                    tokio::spawn(async move { backend.settle_one(&client, &id).await.map(|s| (id, s)) });
                async move {
                    check.await.unwrap_or_else(|_| Err(ApiError::new(ErrorCode::Server, "a check failed")))
                }
            })
            .buffer_unordered(AT_ONCE)
            .collect()
            .await;
        results.into_iter().collect()
    }

    /// [`Backend::settle`] of one file.
    pub(crate) async fn settle_one(
        &self,
        client: &StorageClient,
        file_id: &str,
    ) -> Result<Settled, ApiError> {
        let deadline = tokio::time::Instant::now() + self.check_lease + Duration::from_secs(5);
        loop {
            if let Some(check) =
                self.store.claim(file_id, self.check_lease).await.map_err(|e| ApiError::store(&e))?
            {
                return match self.run_check(client, &check).await.verdict {
                    Verdict::Stored { .. } => Ok(Settled::Stored),
                    Verdict::Refused(why) => Ok(Settled::Refused(why)),
                    // Gone: refused earlier (the record says why), or never came.
                    Verdict::Missing => match self.recorded(file_id).await? {
                        Settled::Refused(why) => Ok(Settled::Refused(why)),
                        _ => Ok(Settled::Missing),
                    },
                    Verdict::Failed => {
                        Err(ApiError::unavailable("the file could not be checked now; retry in a minute"))
                    }
                };
            }
            match self.store.check_held(file_id).await.map_err(|e| ApiError::store(&e))? {
                // Another holder is on it: wait for its outcome.
                Some(true) if tokio::time::Instant::now() < deadline => tokio::time::sleep(POLL).await,
                Some(true) => {
                    return Err(ApiError::unavailable("the file is being checked; retry in a minute"))
                }
                // Just released: by a holder that wrote its outcome (take it), or by a new link.
                Some(false) | None => return self.recorded(file_id).await,
            }
        }
    }

    /// What the record says of `file_id`.
    async fn recorded(&self, file_id: &str) -> Result<Settled, ApiError> {
        let row = self.store.file(file_id).await.map_err(|e| ApiError::store(&e))?;
        Ok(match row.as_ref().map(|row| (row.state.as_str(), row.reason.clone())) {
            None => Settled::Unknown,
            Some(("stored", _)) => Settled::Stored,
            Some(("refused", reason)) => Settled::Refused(reason.unwrap_or_default()),
            Some(_) => Settled::Missing,
        })
    }
}
