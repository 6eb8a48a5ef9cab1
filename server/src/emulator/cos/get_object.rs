//! GET of an object through a download link: its `sign` and `t` checked, the whole object
//! or one `Range`, with `ETag`, `Content-Type` and the CRC-64 header. An object stored
//! without `x-cos-meta-fileid` is refused (`403 AccessDenied`), as the real service does.

use std::io::SeekFrom;

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::Response,
};
use futures_util::{stream, StreamExt};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;
use wx_cloud_storage_core::protocol::CRC64_HEADER;

use super::{
    errors::Refusal,
    preamble,
    range::{parse_range, RangeAsked},
    Shared,
};
use crate::emulator::{download_sign, now, random_hex, store::ObjectMeta, Stats};

#[derive(Deserialize)]
pub(crate) struct DownloadQuery {
    sign: Option<String>,
    t: Option<u64>,
}

pub(crate) async fn get_object(
    State(state): State<Shared>,
    Path((bucket, key)): Path<(String, String)>,
    Query(query): Query<DownloadQuery>,
    headers: HeaderMap,
) -> Response {
    let resource = format!("{bucket}/{key}");
    match serve(&state, &bucket, &key, query, &headers).await {
        Ok(response) => response,
        Err(refusal) => {
            let mut answer = refusal.answer(&state, &resource);
            if let (Refusal::InvalidRange, Some(meta)) = (&refusal, state.store.get(&key)) {
                let range = HeaderValue::from_str(&format!("bytes */{}", meta.size)).expect("ascii");
                answer.headers_mut().insert(header::CONTENT_RANGE, range);
            }
            answer
        }
    }
}

async fn serve(
    state: &Shared,
    bucket: &str,
    key: &str,
    query: DownloadQuery,
    headers: &HeaderMap,
) -> Result<Response, Refusal> {
    let drop_midway = preamble(state, bucket).await?;
    check_link(state, key, query)?;
    let (meta, mut file) = match state.store.open_object(key).await {
        Ok(Some(object)) => object,
        Ok(None) => return Err(Refusal::NoSuchKey),
        Err(e) => return Err(internal(e)),
    };
    if meta.file_meta.is_none() {
        tracing::warn!(
            "{}: refused download: the object was uploaded without x-cos-meta-fileid",
            key.escape_debug()
        );
        return Err(Refusal::AccessDenied);
    }
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(spec) => match parse_range(spec, meta.size) {
            RangeAsked::Whole => None,
            RangeAsked::Part(start, len) => Some((start, len)),
            RangeAsked::Unsatisfiable => return Err(Refusal::InvalidRange),
        },
    };
    let (start, len) = range.unwrap_or((0, meta.size));
    if start > 0 {
        file.seek(SeekFrom::Start(start)).await.map_err(internal)?;
    }
    Stats::bump(&state.stats.downloads);
    let chunks = ReaderStream::new(file.take(len));
    let body = if drop_midway {
        // Some bytes, then the connection breaks.
        Body::from_stream(chunks.take(1).chain(stream::once(async {
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "emulator fault: connection dropped",
            ))
        })))
    } else {
        Body::from_stream(chunks)
    };
    Ok(answer(&meta, body, range.is_some().then_some((start, len))))
}

/// Checks a download link's `sign` and `t` for `key`.
fn check_link(state: &crate::emulator::State, key: &str, query: DownloadQuery) -> Result<(), Refusal> {
    let (Some(sign), Some(t)) = (query.sign, query.t) else {
        return Err(Refusal::AccessDenied);
    };
    if sign != download_sign(state, key, t) {
        return Err(Refusal::SignatureDoesNotMatch);
    }
    let now = now();
    if t < now {
        return Err(Refusal::RequestExpired { end: t, now });
    }
    Ok(())
}

/// COS's answer carrying `body`: the whole object (200) or the `range` `(start, length)`
/// of it (206), with its type, length, ETag and CRC-64.
fn answer(meta: &ObjectMeta, body: Body, range: Option<(u64, u64)>) -> Response {
    let len = range.map_or(meta.size, |(_, len)| len);
    let mut response = Response::new(body);
    *response.status_mut() = if range.is_some() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let headers = response.headers_mut();
    let content_type = meta.content_type.as_deref().unwrap_or("application/octet-stream");
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::ETAG, HeaderValue::from_str(&meta.etag).expect("hex etag"));
    headers.insert(CRC64_HEADER, HeaderValue::from_str(&meta.crc64).expect("digits"));
    headers.insert("x-cos-request-id", HeaderValue::from_str(&random_hex(12)).expect("hex"));
    if let Some((start, len)) = range {
        let range = format!("bytes {start}-{}/{}", start + len - 1, meta.size);
        headers.insert(header::CONTENT_RANGE, HeaderValue::from_str(&range).expect("ascii"));
    }
    response
}

/// A store failure: logged here, answered as COS's `InternalError`.
pub(crate) fn internal(e: std::io::Error) -> Refusal {
    tracing::error!("storage failure: {e}");
    Refusal::InternalError
}
