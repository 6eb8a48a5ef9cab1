//! COS's ListMultipartUploads (`GET /<bucket>/?uploads`, signed with a temporary key, as
//! `signed.rs` checks it): the uploads in progress whose keys start with `prefix`, by key.
//! SDKs that resume (cos-js-sdk-v5's sliceUploadFile) ask it first, to find an upload of
//! the same key to continue. Guess: paging (`key-marker`, `upload-id-marker`) is not
//! emulated; at most `max-uploads` (≤ 1000) are listed and `IsTruncated` says whether
//! there were more.

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};

use super::{
    errors::Refusal,
    multipart::{escape, xml},
    parts::iso8601,
    preamble,
    signed::{authorize, param, query_params},
    Shared,
};

/// The most uploads one answer lists (COS: 1000).
const MAX_LISTED: usize = 1000;

/// `GET /<bucket>/` (or `/<bucket>`) with `?uploads`.
pub(crate) async fn list(
    State(state): State<Shared>,
    Path(bucket): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = query_params(query.as_deref());
    let answer = async {
        preamble(&state, &bucket).await?;
        authorize(&state, "get", "", &params, &headers)?;
        // Guess: a GET of the bucket without `uploads` (GetBucket, listing objects) is not
        // emulated.
        param(&params, "uploads").ok_or(Refusal::MethodNotAllowed)?;
        let prefix = param(&params, "prefix").unwrap_or_default();
        let max =
            param(&params, "max-uploads").and_then(|m| m.parse().ok()).unwrap_or(MAX_LISTED).min(MAX_LISTED);
        let uploads = state.uploads.0.lock().unwrap();
        let mut matching: Vec<(&String, &crate::emulator::multipart::Multipart)> =
            uploads.iter().filter(|(_, u)| u.key.starts_with(prefix)).collect();
        matching.sort_by(|a, b| (&a.1.key, a.0).cmp(&(&b.1.key, b.0)));
        let listed: String = matching
            .iter()
            .take(max)
            .map(|(id, upload)| {
                format!(
                    "<Upload><Key>{}</Key><UploadId>{id}</UploadId><StorageClass>STANDARD</StorageClass><Initiated>{}</Initiated></Upload>",
                    escape(&upload.key),
                    iso8601(upload.initiated)
                )
            })
            .collect();
        Ok::<_, Refusal>(xml(
            StatusCode::OK,
            format!(
                "<ListMultipartUploadsResult><Bucket>{}</Bucket><Prefix>{}</Prefix><MaxUploads>{max}</MaxUploads><IsTruncated>{}</IsTruncated>{listed}</ListMultipartUploadsResult>",
                state.bucket,
                escape(prefix),
                matching.len() > max
            ),
        ))
    };
    answer.await.unwrap_or_else(|refusal| refusal.answer(&state, &format!("{bucket}/")))
}
