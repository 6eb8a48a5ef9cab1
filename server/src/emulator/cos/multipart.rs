//! COS's multipart upload requests, signed with a temporary key (`signed.rs`):
//! InitiateMultipartUpload (`POST /<key>?uploads`), CompleteMultipartUpload (`POST
//! /<key>?uploadId=` with the parts in XML) and AbortMultipartUpload (`DELETE
//! /<key>?uploadId=`) here; UploadPart and ListParts in `parts.rs`. What is kept between
//! them and the rules of complete are in `emulator/multipart.rs`. A completed upload is
//! one object, as any other: its `x-cos-meta-fileid` (set at initiate) lets downloads
//! work, and it has a CRC-64 header.

use axum::{
    body::Body,
    extract::{Path, RawQuery, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use wx_cloud_storage_core::protocol::CRC64_HEADER;

use super::{
    errors::Refusal,
    get_object::internal,
    preamble,
    signed::{authorize, param, query_params},
    Shared,
};
use crate::emulator::{
    multipart::{CompleteError, Multipart},
    now, random_hex,
    store::ObjectMeta,
    State as Emulator,
};

/// The largest complete body read (10,000 parts of ~100 bytes each).
const MAX_COMPLETE_BODY: usize = 2 * 1024 * 1024;
/// The largest `x-cos-meta-*` value (COS: 2 KB).
const MAX_META: usize = 2048;

pub(super) fn xml(status: StatusCode, body: String) -> Response {
    let body = format!("<?xml version='1.0' encoding='utf-8' ?>\n{body}");
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `POST /<bucket>/<key>?uploads` or `?uploadId=`.
pub(crate) async fn post(
    state: &Shared,
    bucket: &str,
    key: &str,
    query: &str,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let params = query_params(Some(query));
    let answer = async {
        preamble(state, bucket).await?;
        authorize(state, "post", key, &params, headers)?;
        if param(&params, "uploads").is_some() {
            initiate(state, key, headers)
        } else {
            complete(state, key, param(&params, "uploadId").unwrap_or_default(), body).await
        }
    };
    answer.await.unwrap_or_else(|refusal| refusal.answer(state, &format!("{bucket}/{key}")))
}

fn initiate(state: &Emulator, key: &str, headers: &HeaderMap) -> Result<Response, Refusal> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let file_meta = header("x-cos-meta-fileid");
    if file_meta.as_ref().is_some_and(|meta| meta.len() > MAX_META) {
        return Err(Refusal::MetadataTooLarge);
    }
    if file_meta.is_none() {
        tracing::warn!(
            "{}: multipart upload without x-cos-meta-fileid; downloads of it will fail",
            key.escape_debug()
        );
    }
    let upload_id = format!("{}{}", now(), random_hex(24));
    let upload = Multipart {
        key: key.to_owned(),
        initiated: now(),
        content_type: header("content-type"),
        file_meta,
        parts: Default::default(),
    };
    state.uploads.0.lock().unwrap().insert(upload_id.clone(), upload);
    Ok(xml(
        StatusCode::OK,
        format!(
            "<InitiateMultipartUploadResult><Bucket>{}</Bucket><Key>{}</Key><UploadId>{upload_id}</UploadId></InitiateMultipartUploadResult>",
            state.bucket,
            escape(key)
        ),
    ))
}

#[derive(Deserialize)]
struct CompleteBody {
    #[serde(rename = "Part", default)]
    parts: Vec<NamedPart>,
}

#[derive(Deserialize)]
struct NamedPart {
    #[serde(rename = "PartNumber")]
    number: u32,
    #[serde(rename = "ETag")]
    etag: String,
}

/// The parts a complete names, in its order.
async fn named_parts(body: Body) -> Result<Vec<(u32, String)>, Refusal> {
    let bytes = axum::body::to_bytes(body, MAX_COMPLETE_BODY).await.map_err(|_| Refusal::MalformedXml)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| Refusal::MalformedXml)?;
    let parsed: CompleteBody = quick_xml::de::from_str(text).map_err(|_| Refusal::MalformedXml)?;
    Ok(parsed.parts.into_iter().map(|part| (part.number, part.etag)).collect())
}

/// Joins the named parts into one object at `key`. The upload leaves the table first, so
/// two completes cannot both make it; its parts' files go when it drops.
async fn complete(state: &Shared, key: &str, upload_id: &str, body: Body) -> Result<Response, Refusal> {
    let named = named_parts(body).await?;
    let (upload, etag) = {
        let mut uploads = state.uploads.0.lock().unwrap();
        let upload = uploads.get(upload_id).filter(|u| u.key == key).ok_or(Refusal::NoSuchUpload)?;
        let (_, etag) = upload.chosen(&named).map_err(|e| match e {
            CompleteError::Malformed => Refusal::MalformedXml,
            CompleteError::Order => Refusal::InvalidPartOrder,
            CompleteError::InvalidPart => Refusal::InvalidPart,
            CompleteError::TooSmall => Refusal::EntityTooSmall,
        })?;
        (uploads.remove(upload_id).expect("looked up above"), etag)
    };
    // The parts as named (each checked by `chosen` above), in order.
    let numbers: Vec<u32> = named.iter().map(|(number, _)| *number).collect();
    let state = state.clone();
    // Detached, as a form upload's commit: a client gone mid-join leaves no half object.
    let joined =
        tokio::spawn(async move { join(&state, upload, &numbers, etag).await.map(|meta| (state, meta)) });
    let (state, meta) = joined.await.map_err(|e| internal(std::io::Error::other(e)))?.map_err(internal)?;
    let location = format!("{}/{}/{}", state.cos_origin, state.bucket, meta.key);
    let mut response = xml(
        StatusCode::OK,
        format!(
            "<CompleteMultipartUploadResult><Location>{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
            escape(&location),
            state.bucket,
            escape(&meta.key),
            escape(&meta.etag)
        ),
    );
    response.headers_mut().insert(CRC64_HEADER, HeaderValue::from_str(&meta.crc64).expect("digits"));
    Ok(response)
}

async fn join(
    state: &Emulator,
    upload: Multipart,
    numbers: &[u32],
    etag: String,
) -> std::io::Result<ObjectMeta> {
    let mut object = state.store.begin().await?;
    let mut buffer = vec![0u8; 256 * 1024];
    for number in numbers {
        let mut file = tokio::fs::File::open(&upload.parts[number].file).await?;
        loop {
            let n = file.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            object.write(&buffer[..n]).await?;
        }
    }
    object.set_etag(etag);
    state.store.commit(object, &upload.key, upload.content_type.clone(), upload.file_meta.clone()).await
}

/// `DELETE /<bucket>/<key>?uploadId=`: the upload and its parts are gone (204).
pub(crate) async fn delete(
    State(state): State<Shared>,
    Path((bucket, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = query_params(query.as_deref());
    let answer = async {
        preamble(&state, &bucket).await?;
        authorize(&state, "delete", &key, &params, &headers)?;
        // Guess: DELETE Object is not emulated (WeChat's own delete call is).
        let upload_id = param(&params, "uploadId").ok_or(Refusal::MethodNotAllowed)?;
        let mut uploads = state.uploads.0.lock().unwrap();
        match uploads.get(upload_id) {
            Some(upload) if upload.key == key => {
                uploads.remove(upload_id);
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            _ => Err(Refusal::NoSuchUpload),
        }
    };
    answer.await.unwrap_or_else(|refusal| refusal.answer(&state, &format!("{bucket}/{key}")))
}
