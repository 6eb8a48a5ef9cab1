//! UploadPart (`PUT /<key>?partNumber=&uploadId=`) and ListParts (`GET /<key>?uploadId=`)
//! of a multipart upload (`multipart.rs` starts and ends one).

use axum::{
    body::Body,
    extract::{Extension, Path, RawQuery, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use wx_cloud_storage_core::protocol::CRC64_HEADER;

use super::{
    body_faults::BodyFaults,
    errors::Refusal,
    get_object::internal,
    multipart::{escape, xml},
    preamble,
    signed::{authorize, param, query_params},
    Shared,
};
use crate::{
    emulator::{
        multipart::{Part, MAX_PARTS},
        now,
        store::Upload,
        State as Emulator, Stats,
    },
    http::DropConnection,
};

/// The most parts one ListParts answer holds (COS: 1000).
const MAX_LISTED: usize = 1000;

/// `PUT /<bucket>/<key>?partNumber=&uploadId=`: one part, streamed into the store's `tmp/`.
/// The faults act as for a form upload: `cos_bytes_per_second` paces it, `drop_next`
/// closes the connection after the first chunk.
pub(crate) async fn put(
    State(state): State<Shared>,
    Path((bucket, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    drop: Option<Extension<DropConnection>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let params = query_params(query.as_deref());
    let answer = async {
        let drop_midway = preamble(&state, &bucket).await?;
        authorize(&state, "put", &key, &params, &headers)?;
        let number = param(&params, "partNumber")
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| (1..=MAX_PARTS).contains(n))
            .ok_or(Refusal::InvalidPartNumber)?;
        let upload_id = param(&params, "uploadId").unwrap_or_default().to_owned();
        ensure_upload(&state, &upload_id, &key)?;
        let upload = receive(&state, body, drop, drop_midway).await?;
        store_part(&state, &upload_id, number, upload).await
    };
    answer.await.unwrap_or_else(|refusal| refusal.answer(&state, &format!("{bucket}/{key}")))
}

/// Refuses an upload ID that is not in progress for `key`.
fn ensure_upload(state: &Emulator, upload_id: &str, key: &str) -> Result<(), Refusal> {
    let uploads = state.uploads.0.lock().unwrap();
    match uploads.get(upload_id) {
        Some(upload) if upload.key == key => Ok(()),
        _ => Err(Refusal::NoSuchUpload),
    }
}

/// Streams a part's body into a new upload in the store. The faults act here as on a form
/// upload's file ([`BodyFaults`]).
async fn receive(
    state: &Emulator,
    body: Body,
    drop: Option<Extension<DropConnection>>,
    drop_first: bool,
) -> Result<Upload, Refusal> {
    let mut faults = BodyFaults::draw(state, drop, drop_first);
    let mut upload = state.store.begin().await.map_err(internal)?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Refusal::InternalError)?;
        state.stats.part_bytes_received.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
        upload = faults.write(state, upload, &chunk).await?;
        if upload.size() > state.config.max_object_size {
            return Err(Refusal::EntityTooLarge);
        }
    }
    Ok(upload)
}

async fn store_part(
    state: &Emulator,
    upload_id: &str,
    number: u32,
    upload: Upload,
) -> Result<Response, Refusal> {
    let (size, md5, crc64) = (upload.size(), upload.md5(), upload.crc64());
    let etag = format!("\"{}\"", hex::encode(md5));
    let file = upload.keep().await.map_err(internal)?;
    let part = Part { file, size, etag: etag.clone(), md5, last_modified: now() };
    let mut uploads = state.uploads.0.lock().unwrap();
    // Aborted or completed meanwhile: `part` drops, its file with it.
    let upload = uploads.get_mut(upload_id).ok_or(Refusal::NoSuchUpload)?;
    upload.parts.insert(number, part);
    Stats::bump(&state.stats.parts_stored);
    let mut response = StatusCode::OK.into_response();
    response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
    response.headers_mut().insert(CRC64_HEADER, HeaderValue::from_str(&crc64).expect("digits"));
    Ok(response)
}

/// `GET /<bucket>/<key>?uploadId=`: the parts stored so far, by number, from after
/// `part-number-marker`, at most `max-parts` (≤ 1000).
pub(crate) async fn list(
    state: &Shared,
    bucket: &str,
    key: &str,
    query: &str,
    headers: &HeaderMap,
) -> Response {
    let params = query_params(Some(query));
    let answer = async {
        preamble(state, bucket).await?;
        authorize(state, "get", key, &params, headers)?;
        let upload_id = param(&params, "uploadId").unwrap_or_default();
        let marker: u32 = param(&params, "part-number-marker").and_then(|m| m.parse().ok()).unwrap_or(0);
        let max =
            param(&params, "max-parts").and_then(|m| m.parse().ok()).unwrap_or(MAX_LISTED).min(MAX_LISTED);
        let uploads = state.uploads.0.lock().unwrap();
        let upload = uploads.get(upload_id).filter(|u| u.key == key).ok_or(Refusal::NoSuchUpload)?;
        let listed: Vec<(&u32, &Part)> = upload.parts.range(marker + 1..).take(max).collect();
        let truncated = upload.parts.range(marker + 1..).nth(max).is_some();
        let next = listed.last().map_or(marker, |(number, _)| **number);
        let parts: String = listed
            .iter()
            .map(|(number, part)| {
                format!(
                    "<Part><PartNumber>{number}</PartNumber><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size></Part>",
                    iso8601(part.last_modified),
                    escape(&part.etag),
                    part.size
                )
            })
            .collect();
        Ok::<_, Refusal>(xml(
            StatusCode::OK,
            format!(
                "<ListPartsResult><Bucket>{}</Bucket><Key>{}</Key><UploadId>{upload_id}</UploadId><PartNumberMarker>{marker}</PartNumberMarker><NextPartNumberMarker>{next}</NextPartNumberMarker><MaxParts>{max}</MaxParts><IsTruncated>{truncated}</IsTruncated>{parts}</ListPartsResult>",
                state.bucket,
                escape(key)
            ),
        ))
    };
    answer.await.unwrap_or_else(|refusal| refusal.answer(state, &format!("{bucket}/{key}")))
}

/// `2026-12-04T17:00:00.000Z` of Unix seconds, as COS writes times.
pub(super) fn iso8601(secs: u64) -> String {
    let time =
        time::OffsetDateTime::from_unix_timestamp(secs as i64).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let text = time.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    text.replacen('Z', ".000Z", 1)
}
