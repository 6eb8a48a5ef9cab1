//! POST Object: a browser form upload with an upload link's `Signature` and token.
//!
//! In four steps, each its own function: the fields are read up to the file part
//! ([`form::read_fields`]) and authorised ([`authorize`]; a form refused there is read to its
//! end first, so that a misplaced file part is the malformed form it is); the file is received into the
//! store ([`receive`], where the faults act: a slow uplink, a dropped connection, a flipped
//! byte); once nothing follows it and its `Content-MD5` matches, it is committed
//! ([`commit`]); then COS's answer is made ([`answer`]: 204, 200, 201 with XML, or a 303
//! to `success_action_redirect`). Nothing is visible until the commit: a refused, dropped
//! or cancelled upload leaves no object and no part file.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};
use wx_cloud_storage_core::protocol::CRC64_HEADER;

use super::{body_faults::BodyFaults, errors::Refusal, form, get_object::internal, preamble, Shared};
use crate::{
    cos_sign::{self, SignatureError},
    emulator::{now, random_hex, store::ObjectMeta, store::Upload, State as Emulator, Stats},
    http::DropConnection,
};

type Drop = Option<Extension<DropConnection>>;

/// `POST /<bucket>`: the form names the key.
pub(crate) async fn to_bucket(
    State(state): State<Shared>,
    Path(bucket): Path<String>,
    drop: Drop,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let resource = bucket.clone();
    post_object(&state, &bucket, drop, &headers, body).await.unwrap_or_else(|r| r.answer(&state, &resource))
}

/// `POST /<bucket>/<key>`: POST Object takes the key from the form; the URL's is ignored.
pub(crate) async fn to_key(
    State(state): State<Shared>,
    Path((bucket, key)): Path<(String, String)>,
    drop: Drop,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let resource = format!("{bucket}/{key}");
    post_object(&state, &bucket, drop, &headers, body).await.unwrap_or_else(|r| r.answer(&state, &resource))
}

async fn post_object(
    state: &Shared,
    bucket: &str,
    drop: Drop,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let drop_first = preamble(state, bucket).await?;
    let mut multipart = form::open(headers, body, state.config.max_object_size)?;
    let (fields, file) = form::read_fields(&mut multipart).await?;
    let Some(file) = file else { return Err(Refusal::IncorrectNumberOfFiles) };
    if let Err(refused) = authorize(state, &fields) {
        // The form's shape first: with fields after the file (`file` not last), COS cannot
        // parse the form at all, whatever else is wrong with it (a field it would check may
        // be one of those after the file).
        form::discard(file).await?;
        form::ensure_file_last(&mut multipart).await?;
        return Err(refused);
    }
    let content_md5 =
        fields.get("Content-MD5").map(|field| decode_md5(field).ok_or(Refusal::InvalidDigest)).transpose()?;
    let (upload, file_name) = receive(state, file, drop, drop_first).await?;
    form::ensure_file_last(&mut multipart).await?;
    if content_md5.is_some_and(|expected| expected != upload.md5()) {
        // `upload` drops here: nothing is stored.
        return Err(Refusal::BadDigest);
    }
    let meta = commit(state, upload, &fields, &file_name).await?;
    Stats::bump(&state.stats.uploads);
    Ok(answer(state, &fields, &meta))
}

/// The form's `key`, `Signature` and `x-cos-security-token`, checked as COS does.
fn authorize(state: &Emulator, fields: &form::Fields) -> Result<(), Refusal> {
    let config = &state.config;
    let key = fields.get("key").ok_or(Refusal::MissingKey)?;
    let signature = fields.get("Signature").ok_or(Refusal::AccessDenied)?;
    let now = now();
    cos_sign::verify(&config.cos_secret_id, config.cos_secret_key(), "post", key, signature, now).map_err(
        |e| match e {
            SignatureError::Malformed => Refusal::AccessDenied,
            SignatureError::UnknownKeyId => Refusal::InvalidAccessKeyId,
            SignatureError::Expired { end } => Refusal::RequestExpired { end, now },
            SignatureError::Mismatch => Refusal::SignatureDoesNotMatch,
        },
    )?;
    let link =
        fields.get("x-cos-security-token").and_then(|token| state.links.lock().unwrap().get(token).cloned());
    let link = link.ok_or(Refusal::InvalidAccessKeyId)?;
    if link.expires_at < now || state.faults.lock().unwrap().take_expire() {
        return Err(Refusal::ExpiredToken);
    }
    if link.key != key {
        return Err(Refusal::SignatureDoesNotMatch);
    }
    Ok(())
}

/// Streams the file part into a new upload in the store: the upload and the part's file
/// name. The faults act here ([`BodyFaults`]: pace, a flipped byte, a dropped connection).
async fn receive(
    state: &Emulator,
    mut file: multer::Field<'static>,
    drop: Drop,
    drop_first: bool,
) -> Result<(Upload, String), Refusal> {
    let mut faults = BodyFaults::draw(state, drop, drop_first);
    let file_name = file.file_name().unwrap_or_default().to_owned();
    let mut upload = state.store.begin().await.map_err(internal)?;
    // Over the size limit, or the client went away: `upload` drops, nothing is stored.
    while let Some(chunk) = file.chunk().await.map_err(|e| form::refusal_for(&e))? {
        state.stats.file_bytes_received.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
        upload = faults.write(state, upload, &chunk).await?;
    }
    Ok((upload, file_name))
}

/// Makes the upload the object at the form's `key` (`${filename}` replaced, as COS does,
/// with no escape). Detached: once the whole file is in, the commit completes even if the
/// client goes away now (a dropped handler mid-commit would leave bytes no index names).
async fn commit(
    state: &Shared,
    upload: Upload,
    fields: &form::Fields,
    file_name: &str,
) -> Result<ObjectMeta, Refusal> {
    let key = fields.get("key").unwrap_or_default().replace("${filename}", file_name);
    let content_type = fields.get("Content-Type").map(str::to_owned);
    let file_meta = fields.get("x-cos-meta-fileid").map(str::to_owned);
    if file_meta.is_none() {
        tracing::warn!(
            "{}: stored without x-cos-meta-fileid; downloads of it will fail, as on the real service",
            key.escape_debug()
        );
    }
    let state = state.clone();
    let committing =
        tokio::spawn(async move { state.store.commit(upload, &key, content_type, file_meta).await });
    match committing.await {
        Ok(Ok(meta)) => Ok(meta),
        Ok(Err(e)) => Err(internal(e)),
        Err(e) => Err(internal(std::io::Error::other(e))),
    }
}

/// COS's answer to a stored upload: `success_action_redirect` wins over
/// `success_action_status` (COS POST Object, case 8): a 303 to that URL with the bucket,
/// key and ETag in its query; else 204 (the default), 200, or 201 with a `PostResponse`.
fn answer(state: &Emulator, fields: &form::Fields, meta: &ObjectMeta) -> Response {
    let location = format!("{}/{}/{}", state.cos_origin, state.bucket, meta.key);
    if let Some(redirect) = fields.get("success_action_redirect").filter(|r| !r.is_empty()) {
        let separator = if redirect.contains('?') { '&' } else { '?' };
        let location = format!(
            "{redirect}{separator}bucket={}&key={}&etag={}",
            query_escape(&state.bucket),
            query_escape(&meta.key),
            query_escape(&meta.etag)
        );
        let mut response = StatusCode::SEE_OTHER.into_response();
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response.headers_mut().insert("etag", HeaderValue::from_str(&meta.etag).expect("hex etag"));
        return response;
    }
    let status = match fields.get("success_action_status") {
        Some("200") => StatusCode::OK,
        Some("201") => StatusCode::CREATED,
        _ => StatusCode::NO_CONTENT,
    };
    let body = if status == StatusCode::CREATED {
        format!(
            "<?xml version='1.0' encoding='utf-8' ?>\n<PostResponse><Location>{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></PostResponse>",
            xml_escape(&location), state.bucket, xml_escape(&meta.key), xml_escape(&meta.etag)
        )
    } else {
        String::new()
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("etag", meta.etag.as_str()),
        ("location", location.as_str()),
        ("x-cos-request-id", &random_hex(12)),
        (CRC64_HEADER, meta.crc64.as_str()),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    if status == StatusCode::CREATED {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    }
    response
}

/// The 16 bytes a `Content-MD5` field names (base64 of the file's MD5, as COS takes it), or
/// `None` when it names none.
fn decode_md5(field: &str) -> Option<[u8; 16]> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(field).ok()?.try_into().ok()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
