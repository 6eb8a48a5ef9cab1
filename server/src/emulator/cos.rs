//! The COS port: POST Object form uploads, object GETs, and CORS.
//!
//! Strict like COS (wechat-storage-facts.md §3): `file` must be the last part
//! (`400 MalformedPOSTRequest`), exactly one file part
//! (`400 IncorrectNumberOfFilesInPostRequest`), `key` must be the path the link was signed
//! for (`403 SignatureDoesNotMatch`), links expire (`403 AccessDenied`, "Request has
//! expired"), objects are at most 5 GB (`400 EntityTooLarge`). An object stored without
//! `x-cos-meta-fileid` uploads fine and then fails to download (`403 AccessDenied`), as
//! the real service does.

use std::{io::SeekFrom, sync::Arc};

use axum::{
    body::Body,
    extract::{Path, Query, Request, State as Extract},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::post,
    Extension, Router,
};
use futures_util::{stream, StreamExt};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;
use wx_cloud_storage_core::protocol::CosError;

use super::{
    control::{CosFault, CrcHeader},
    download_sign, injected_latency, now, random_hex, State,
};
use crate::{
    cos_sign::{self, SignatureError},
    http::DropConnection,
};

type Shared = Arc<State>;

/// Headers a browser may read from COS responses (the library needs `ETag` and the CRC).
const EXPOSE_HEADERS: &str =
    "ETag, Location, x-cos-request-id, x-cos-hash-crc64ecma, Content-Length, Content-Range";
/// The same, from a bucket whose CORS rule does not list the CRC (`crc_header: hidden`).
const EXPOSE_HEADERS_BUT_CRC: &str = "ETag, Location, x-cos-request-id, Content-Length, Content-Range";
const CRC_HEADER: &str = "x-cos-hash-crc64ecma";

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/{bucket}", post(upload_to_bucket))
        .route("/{bucket}/{*key}", post(upload).get(download))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), cors))
        .with_state(state)
}

/// A COS XML error response, counted in the stats.
fn cos_error(state: &State, status: StatusCode, code: &str, message: &str) -> Response {
    state.stats.reject(code);
    let request_id = random_hex(12);
    let body = CosError {
        code: code.into(),
        message: message.into(),
        resource: String::new(),
        request_id: request_id.clone(),
        trace_id: random_hex(16),
    }
    .to_xml();
    (
        status,
        [
            (header::CONTENT_TYPE, "application/xml"),
            (header::HeaderName::from_static("x-cos-request-id"), &request_id),
        ],
        body,
    )
        .into_response()
}

fn origin_allowed(state: &State, origin: &str) -> bool {
    state.config.allow_origins.iter().any(|o| o == "*" || o == origin)
}

/// CORS as a COS bucket rule would do it: preflights from allowed origins get the
/// methods and headers they ask for; others get `403 AccessForbidden`. Responses to
/// allowed origins carry `Access-Control-Allow-Origin` and expose `ETag` and the CRC.
async fn cors(Extract(state): Extract<Shared>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned);
    let allowed = origin.as_deref().is_some_and(|o| origin_allowed(&state, o));
    if request.method() == Method::OPTIONS {
        super::Stats::bump(&state.stats.preflights);
        if !allowed {
            return cos_error(
                &state,
                StatusCode::FORBIDDEN,
                "AccessForbidden",
                "CORSResponse: This CORS request is not allowed. This is usually because the evaluation of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
            );
        }
        let mut response = StatusCode::OK.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, HEAD, DELETE"),
        );
        if let Some(asked) = request.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
        }
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        allow_origin(headers, origin.as_deref().unwrap_or_default());
        return response;
    }
    let mut response = next.run(request).await;
    let crc_header = state.faults.lock().unwrap().crc_header;
    if crc_header == CrcHeader::Absent {
        response.headers_mut().remove(CRC_HEADER);
    }
    if allowed {
        allow_origin(response.headers_mut(), origin.as_deref().unwrap_or_default());
        if crc_header == CrcHeader::Hidden {
            let exposed = HeaderValue::from_static(EXPOSE_HEADERS_BUT_CRC);
            response.headers_mut().insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed);
        }
    }
    response
}

fn allow_origin(headers: &mut HeaderMap, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

async fn fallback(Extract(state): Extract<Shared>) -> Response {
    cos_error(
        &state,
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
    )
}

/// What every COS request goes through first: the latency and 503 faults, and the bucket
/// check. Returns whether to drop the connection mid-body.
async fn cos_preamble(state: &State, bucket: &str) -> Result<bool, Response> {
    injected_latency(state).await;
    let fault = state.faults.lock().unwrap().draw_cos();
    match fault {
        CosFault::Fail => Err(cos_error(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "Please reduce your request rate.",
        )),
        CosFault::Drop | CosFault::None if bucket != state.bucket => Err(cos_error(
            state,
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist.",
        )),
        CosFault::Drop => Ok(true),
        CosFault::None => Ok(false),
    }
}

async fn upload_to_bucket(
    state: Extract<Shared>,
    Path(bucket): Path<String>,
    drop: Option<Extension<DropConnection>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    upload_form(state.0, bucket, drop, headers, body).await
}

async fn upload(
    state: Extract<Shared>,
    Path((bucket, _key)): Path<(String, String)>,
    drop: Option<Extension<DropConnection>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // POST Object takes the key from the form; the URL's path after the bucket is ignored.
    upload_form(state.0, bucket, drop, headers, body).await
}

/// Form fields COS reads, by lower-cased name (COS accepts `Signature` and `signature`).
#[derive(Debug, Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The largest text field read (signatures and tokens are shorter). Enforced while the
/// part streams in, before anything is authorised, so no field is ever buffered past it.
const MAX_FIELD_BYTES: u64 = 8 * 1024;
/// COS's documented limit for one `x-cos-meta-*` value.
const MAX_META_BYTES: usize = 2 * 1024;
/// The most parts one form may have (COS's documented fields number about thirty).
const MAX_PARTS: usize = 64;

/// Whether this part is the file: COS goes by the part's name, whatever its `filename=`
/// (Python's `requests` sends text fields with file names; wechatpy relied on it).
fn is_file_part(name: &str) -> bool {
    name.eq_ignore_ascii_case("file")
}

async fn upload_form(
    state: Shared,
    bucket: String,
    drop: Option<Extension<DropConnection>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let drop_midway = match cos_preamble(&state, &bucket).await {
        Ok(true) => drop,
        Ok(false) => None,
        Err(refused) => return refused,
    };
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok());
    let Some(boundary) = boundary else {
        return malformed(&state);
    };
    let limits = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(state.config.max_object_size.saturating_add(MAX_PARTS as u64 * MAX_FIELD_BYTES))
            .per_field(MAX_FIELD_BYTES)
            .for_field("file", state.config.max_object_size)
            .for_field("File", state.config.max_object_size)
            .for_field("FILE", state.config.max_object_size),
    );
    let mut multipart = multer::Multipart::with_constraints(body.into_data_stream(), boundary, limits);
    let mut fields = Fields::default();
    let mut stored = None;
    let mut content_md5 = None;
    let mut parts = 0;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            // `stored`, if any, removes its part file as it drops.
            Err(e) => return refusal_for(&state, &e),
        };
        parts += 1;
        let name = field.name().unwrap_or_default().to_owned();
        if stored.is_some() {
            // Something after the file part: COS requires `file` to be the last field.
            let refused = if is_file_part(&name) {
                cos_error(
                    &state,
                    StatusCode::BAD_REQUEST,
                    "IncorrectNumberOfFilesInPostRequest",
                    "POST requires exactly one file upload per request.",
                )
            } else {
                malformed(&state)
            };
            return refused;
        }
        if parts > MAX_PARTS {
            // Guess: COS's answer to a form of hundreds of fields is undocumented.
            return malformed(&state);
        }
        if !is_file_part(&name) {
            let value = match field.text().await {
                Ok(value) => value,
                Err(e) => return refusal_for(&state, &e),
            };
            // By bytes: a name may hold any UTF-8, so byte 11 need not be a char boundary.
            let is_meta = name.as_bytes().get(..11).is_some_and(|p| p.eq_ignore_ascii_case(b"x-cos-meta-"));
            if is_meta && value.len() > MAX_META_BYTES {
                // Guess: the 2 KB limit is documented, its error code is not (S3 says this).
                return cos_error(
                    &state,
                    StatusCode::BAD_REQUEST,
                    "MetadataTooLarge",
                    "Your metadata headers exceed the maximum allowed metadata size.",
                );
            }
            fields.0.push((name, value));
            continue;
        }
        // The file part: everything COS checks happens before a byte is stored.
        if let Err(refused) = authorize(&state, &fields) {
            if fields.get("key").is_none() {
                // No `key` before the file: COS cannot parse such a form at all if more
                // fields follow it (`file` not last), whatever else is wrong with it.
                return refuse_file_first(&state, multipart, field, refused).await;
            }
            return refused;
        }
        if let Some(field) = fields.get("Content-MD5") {
            match decode_md5(field) {
                Some(digest) => content_md5 = Some(digest),
                None => return invalid_digest(&state),
            }
        }
        let mut corrupt = state.faults.lock().unwrap().take_corrupt();
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let mut upload = match state.store.begin().await {
            Ok(upload) => upload,
            Err(e) => return internal(&state, e),
        };
        let mut field = field;
        let throttle = state.faults.lock().unwrap().cos_bytes_per_second;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if throttle > 0 {
                        let seconds = chunk.len() as f64 / throttle as f64;
                        tokio::time::sleep(std::time::Duration::from_secs_f64(seconds)).await;
                    }
                    let written = if corrupt && !chunk.is_empty() {
                        // The fault: one byte flipped between the wire and the store.
                        corrupt = false;
                        let mut flipped = chunk.to_vec();
                        flipped[0] ^= 0xff;
                        upload.write(&flipped).await
                    } else {
                        upload.write(&chunk).await
                    };
                    if let Err(e) = written {
                        return internal(&state, e);
                    }
                    if let Some(Extension(drop)) = &drop_midway {
                        // The connection ends here, as a network failure would end it.
                        std::mem::drop(upload);
                        drop.now().await;
                    }
                }
                Ok(None) => break,
                // Over the size limit, or the client went away: nothing is stored.
                Err(e) => return refusal_for(&state, &e),
            }
        }
        stored = Some((upload, file_name));
    }
    let Some((upload, file_name)) = stored else {
        return cos_error(
            &state,
            StatusCode::BAD_REQUEST,
            "IncorrectNumberOfFilesInPostRequest",
            "POST requires exactly one file upload per request.",
        );
    };
    if content_md5.is_some_and(|expected| expected != upload.md5()) {
        // `upload` drops here: nothing is stored.
        return cos_error(
            &state,
            StatusCode::BAD_REQUEST,
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
        );
    }
    // COS substitutes ${filename} in the key with the file part's name; there is no escape.
    let key = fields.get("key").unwrap_or_default().replace("${filename}", &file_name);
    let content_type = fields.get("Content-Type").map(str::to_owned);
    let file_meta = fields.get("x-cos-meta-fileid").map(str::to_owned);
    if file_meta.is_none() {
        tracing::warn!(
            "{}: stored without x-cos-meta-fileid; downloads of it will fail, as on the real service",
            key.escape_debug()
        );
    }
    // Detached: once the whole file is in, the commit completes even if the client goes
    // away now (a dropped handler mid-commit would leave bytes no index entry names).
    let committing = tokio::spawn({
        let (state, key) = (state.clone(), key.clone());
        async move { state.store.commit(upload, &key, content_type, file_meta).await }
    });
    let meta = match committing.await {
        Ok(Ok(meta)) => meta,
        Ok(Err(e)) => return internal(&state, e),
        Err(e) => return internal(&state, std::io::Error::other(e)),
    };
    super::Stats::bump(&state.stats.uploads);
    let location = format!("{}/{}/{}", state.cos_origin, state.bucket, key);
    // `success_action_redirect` wins over `success_action_status` (COS POST Object, case 8):
    // 303 to the URL with the bucket, key and ETag in the query.
    if let Some(redirect) = fields.get("success_action_redirect").filter(|r| !r.is_empty()) {
        let separator = if redirect.contains('?') { '&' } else { '?' };
        let location = format!(
            "{redirect}{separator}bucket={}&key={}&etag={}",
            query_escape(&state.bucket),
            query_escape(&key),
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
            xml_escape(&location), state.bucket, xml_escape(&key), xml_escape(&meta.etag)
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
        ("x-cos-hash-crc64ecma", meta.crc64.as_str()),
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

/// The answer to a form whose file part came before its `key`: the file is read and thrown
/// away; if any part follows it, the form is malformed (`file` not last, the mistake of
/// hand-written clients); if none does, the form simply lacked what it needed (`refused`).
async fn refuse_file_first(
    state: &State,
    mut multipart: multer::Multipart<'static>,
    mut file: multer::Field<'static>,
    refused: Response,
) -> Response {
    loop {
        match file.chunk().await {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => return refusal_for(state, &e),
        }
    }
    drop(file); // multer reads the next part only once this one is gone
    match multipart.next_field().await {
        Ok(None) => refused,
        Ok(Some(_)) => malformed(state),
        Err(e) => refusal_for(state, &e),
    }
}

/// COS's answer to a form that broke while it streamed in: too large, or not multipart.
fn refusal_for(state: &State, error: &multer::Error) -> Response {
    match error {
        multer::Error::FieldSizeExceeded { field_name, .. }
            if field_name.as_deref().is_some_and(is_file_part) =>
        {
            entity_too_large(state)
        }
        multer::Error::StreamSizeExceeded { .. } => entity_too_large(state),
        // Guess: COS's answer to an oversized text field is undocumented.
        multer::Error::FieldSizeExceeded { .. } => cos_error(
            state,
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "A form field is longer than COS accepts.",
        ),
        _ => malformed(state),
    }
}

fn entity_too_large(state: &State) -> Response {
    cos_error(
        state,
        StatusCode::BAD_REQUEST,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed object size.",
    )
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

/// The form's `key`, `Signature` and `x-cos-security-token`, checked as COS does.
fn authorize(state: &State, fields: &Fields) -> Result<(), Response> {
    let config = &state.config;
    let Some(key) = fields.get("key") else {
        return Err(cos_error(
            state,
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Bucket POST must contain a field named 'key'.",
        ));
    };
    let Some(signature) = fields.get("Signature") else {
        return Err(access_denied(state));
    };
    let now = now();
    if let Err(e) =
        cos_sign::verify(&config.cos_secret_id, &config.cos_secret_key, "post", key, signature, now)
    {
        return Err(match e {
            SignatureError::Malformed => access_denied(state),
            SignatureError::UnknownKeyId => unknown_access_key(state),
            SignatureError::Expired { end } => request_expired(state, end, now),
            SignatureError::Mismatch => signature_mismatch(state),
        });
    }
    let link =
        fields.get("x-cos-security-token").and_then(|token| state.links.lock().unwrap().get(token).cloned());
    let Some(link) = link else {
        return Err(unknown_access_key(state));
    };
    if link.expires_at < now || state.faults.lock().unwrap().take_expire() {
        return Err(cos_error(
            state,
            StatusCode::BAD_REQUEST,
            "ExpiredToken",
            "The provided token has expired.",
        ));
    }
    if link.key != key {
        return Err(signature_mismatch(state));
    }
    Ok(())
}

// COS's 403 answers, each spelled once (the texts are COS's own).

fn access_denied(state: &State) -> Response {
    cos_error(state, StatusCode::FORBIDDEN, "AccessDenied", "Access Denied.")
}

fn unknown_access_key(state: &State) -> Response {
    cos_error(
        state,
        StatusCode::FORBIDDEN,
        "InvalidAccessKeyId",
        "The Access Key Id you provided does not exist in our records.",
    )
}

fn signature_mismatch(state: &State) -> Response {
    cos_error(
        state,
        StatusCode::FORBIDDEN,
        "SignatureDoesNotMatch",
        "The Signature you specified is invalid.",
    )
}

fn request_expired(state: &State, expired_at: u64, now: u64) -> Response {
    let message = format!("Request has expired, expiration time: {expired_at} but the time now : {now}");
    cos_error(state, StatusCode::FORBIDDEN, "AccessDenied", &message)
}

/// The 16 bytes a `Content-MD5` field names (base64 of the file's MD5, as COS takes it), or
/// `None` when it names none.
fn decode_md5(field: &str) -> Option<[u8; 16]> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(field).ok()?.try_into().ok()
}

/// COS's answer to a `Content-MD5` that is not base64 of 16 bytes (S3's wording; COS's error
/// codes page lists the code, not the message), before any byte is stored.
fn invalid_digest(state: &State) -> Response {
    cos_error(state, StatusCode::BAD_REQUEST, "InvalidDigest", "The Content-MD5 you specified is not valid.")
}

fn malformed(state: &State) -> Response {
    cos_error(
        state,
        StatusCode::BAD_REQUEST,
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
    )
}

fn internal(state: &State, e: std::io::Error) -> Response {
    tracing::error!("storage failure: {e}");
    cos_error(
        state,
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        "We encountered an internal error. Please try again.",
    )
}

#[derive(Deserialize)]
struct DownloadQuery {
    sign: Option<String>,
    t: Option<u64>,
}

async fn download(
    Extract(state): Extract<Shared>,
    Path((bucket, key)): Path<(String, String)>,
    Query(query): Query<DownloadQuery>,
    headers: HeaderMap,
) -> Response {
    let drop_midway = match cos_preamble(&state, &bucket).await {
        Ok(drop) => drop,
        Err(refused) => return refused,
    };
    let (Some(sign), Some(t)) = (query.sign, query.t) else {
        return access_denied(&state);
    };
    if sign != download_sign(&state, &key, t) {
        return signature_mismatch(&state);
    }
    let now = now();
    if t < now {
        return request_expired(&state, t, now);
    }
    let (meta, mut file) = match state.store.open_object(&key).await {
        Ok(Some(object)) => object,
        Ok(None) => {
            return cos_error(&state, StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.")
        }
        Err(e) => return internal(&state, e),
    };
    if meta.file_meta.is_none() {
        tracing::warn!(
            "{}: refused download: the object was uploaded without x-cos-meta-fileid",
            key.escape_debug()
        );
        return access_denied(&state);
    }
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(spec) => match parse_range(spec, meta.size) {
            RangeAsked::Whole => None,
            RangeAsked::Part(start, len) => Some((start, len)),
            RangeAsked::Unsatisfiable => {
                let mut refused = cos_error(
                    &state,
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "InvalidRange",
                    "The requested range is not satisfiable.",
                );
                refused.headers_mut().insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes */{}", meta.size)).expect("ascii"),
                );
                return refused;
            }
        },
    };
    let (start, len) = range.unwrap_or((0, meta.size));
    if start > 0 {
        if let Err(e) = file.seek(SeekFrom::Start(start)).await {
            return internal(&state, e);
        }
    }
    super::Stats::bump(&state.stats.downloads);
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
    headers.insert("x-cos-hash-crc64ecma", HeaderValue::from_str(&meta.crc64).expect("digits"));
    headers.insert("x-cos-request-id", HeaderValue::from_str(&random_hex(12)).expect("hex"));
    if range.is_some() {
        let range = format!("bytes {start}-{}/{}", start + len - 1, meta.size);
        headers.insert(header::CONTENT_RANGE, HeaderValue::from_str(&range).expect("ascii"));
    }
    response
}

/// What a `Range` header asks of an object.
#[derive(Debug, PartialEq, Eq)]
enum RangeAsked {
    /// Serve the whole object: another unit, a malformed spec, or several ranges
    /// (RFC 7233 §3.1: a server ignores a range unit it does not understand, and may ignore
    /// the header otherwise; several ranges served whole is a guess, also legal HTTP).
    Whole,
    /// `(start, length)` of the object.
    Part(u64, u64),
    /// A well-formed `bytes=` range outside the object: 416.
    Unsatisfiable,
}

/// Reads a `Range` header against an object of `size` bytes.
fn parse_range(spec: &str, size: u64) -> RangeAsked {
    let Some(spec) = spec.trim().strip_prefix("bytes=") else { return RangeAsked::Whole };
    let spec = spec.trim();
    let Some((first, last)) = spec.split_once('-').filter(|_| !spec.contains(',')) else {
        return RangeAsked::Whole;
    };
    let number = |text: &str| text.trim().parse::<u64>().ok();
    let (start, end) = match (first.trim(), last.trim()) {
        ("", suffix) => match number(suffix) {
            Some(n) if n > 0 && size > 0 => (size - n.min(size), size - 1),
            // `bytes=-0`, or any suffix of an empty object.
            Some(_) => return RangeAsked::Unsatisfiable,
            None => return RangeAsked::Whole,
        },
        (first, "") => match number(first) {
            Some(start) => (start, size.saturating_sub(1)),
            None => return RangeAsked::Whole,
        },
        (first, last) => match (number(first), number(last)) {
            (Some(start), Some(end)) if start <= end => (start, end.min(size.saturating_sub(1))),
            // `last < first` is invalid syntax (RFC 7233 §2.1): ignored, not refused.
            _ => return RangeAsked::Whole,
        },
    };
    if start < size {
        RangeAsked::Part(start, end - start + 1)
    } else {
        RangeAsked::Unsatisfiable
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_range, RangeAsked::*};

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Part(0, 10));
        assert_eq!(parse_range("bytes=90-", 100), Part(90, 10));
        assert_eq!(parse_range("bytes=-10", 100), Part(90, 10));
        assert_eq!(parse_range("bytes=-200", 100), Part(0, 100));
        assert_eq!(parse_range("bytes=95-200", 100), Part(95, 5));
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), Unsatisfiable);
        // Ignored, so the whole object (RFC 7233 §3.1).
        assert_eq!(parse_range("items=0-1", 100), Whole);
        assert_eq!(parse_range("bytes=5-2", 100), Whole);
        assert_eq!(parse_range("bytes=a-b", 100), Whole);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Whole);
    }
}
