//! Wire types: the WeChat storage open API (`tcb/uploadfile`, `tcb/batchdownloadfile`,
//! `tcb/batchdeletefile`), the credential-backend contract, and COS's XML `<Error>`.
//!
//! Deserialisation is tolerant of fields it does not know (WeChat adds fields over time)
//! and strict about missing required ones: a credential without `cos_file_id` is refused
//! here, so an upload can never go out without `x-cos-meta-fileid`.
//! Field names follow the wire exactly (WeChat uses snake_case, `fileid` without an
//! underscore in list items, and the backend's upload request uses `contentType`).

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// `errcode` / `errmsg`, present on every WeChat open-API response (`0` / `"ok"` on
/// success; absent in some success bodies, hence the defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WechatStatus {
    /// `0` on success.
    #[serde(default)]
    pub errcode: i64,
    /// WeChat's message, e.g. `"invalid credential"`.
    #[serde(default)]
    pub errmsg: String,
}

impl WechatStatus {
    /// `errcode == 0`.
    pub fn is_ok(&self) -> bool {
        self.errcode == 0
    }
}

/// Body of `POST /tcb/uploadfile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadFileRequest {
    /// Cloud environment ID.
    pub env: String,
    /// The object key the link is for.
    pub path: String,
}

/// The upload link from `tcb/uploadfile`, as WeChat sends it and as the credential
/// backend forwards it to the browser. `V` is the type of the values the form sends
/// (see [`crate::form::FieldValue`]); `String` everywhere but in the browser library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadCredentials<V = String> {
    /// Path-style COS URL, including the key: where the form is POSTed.
    pub url: V,
    /// COS temporary security token, sent as `x-cos-security-token`.
    pub token: V,
    /// COS request signature, sent as `Signature`.
    pub authorization: V,
    /// `cloud://<env>.<bucket>/<key>`: the handle for download and delete.
    pub file_id: V,
    /// Opaque metadata, sent as `x-cos-meta-fileid`. Required: without it the object
    /// uploads but later fails to download.
    pub cos_file_id: V,
    /// The key the link was issued for, when the backend rewrote the requested path
    /// (e.g. added `users/{uid}/`). Absent in WeChat's own response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// One item of a `tcb/batchdownloadfile` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadFileSpec {
    /// The file ID.
    pub fileid: String,
    /// Link lifetime in seconds.
    pub max_age: u64,
}

/// Body of `POST /tcb/batchdownloadfile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchDownloadRequest {
    /// Cloud environment ID.
    pub env: String,
    /// At most [`crate::batch::MAX_BATCH`] items.
    pub file_list: Vec<DownloadFileSpec>,
}

/// One item of a `tcb/batchdownloadfile` response (and of the backend's
/// `download-urls` response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadUrl {
    /// The file ID asked for.
    pub fileid: String,
    /// The temporary URL; empty when `status` is not 0.
    #[serde(default)]
    pub download_url: String,
    /// `0` on success. Check every item: the call's `errcode` can be 0 while items fail.
    #[serde(default)]
    pub status: i64,
    /// Why the item failed, or `"ok"`.
    #[serde(default)]
    pub errmsg: String,
}

/// Response of `tcb/batchdownloadfile` / the backend's `download-urls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadUrls {
    /// One item per requested file ID.
    pub file_list: Vec<DownloadUrl>,
}

/// Body of `POST /tcb/batchdeletefile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchDeleteRequest {
    /// Cloud environment ID.
    pub env: String,
    /// At most [`crate::batch::MAX_BATCH`] file IDs.
    pub fileid_list: Vec<String>,
}

/// One item of a `tcb/batchdeletefile` response (and of the backend's `delete`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteResult {
    /// The file ID asked for.
    pub fileid: String,
    /// `0` on success.
    #[serde(default)]
    pub status: i64,
    /// Why the item failed, or `"ok"`.
    #[serde(default)]
    pub errmsg: String,
}

/// Response of `tcb/batchdeletefile` / the backend's `delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteResults {
    /// One item per requested file ID.
    pub delete_list: Vec<DeleteResult>,
}

/// The response header in which COS gives an object's CRC-64/XZ (ECMA-182), as a decimal
/// string, on uploads and downloads.
pub const CRC64_HEADER: &str = "x-cos-hash-crc64ecma";

/// The CloudBase per-item status for a file that does not exist (`STORAGE_FILE_NONEXIST`).
pub const STATUS_FILE_NOT_EXIST: i64 = -503_003;
/// The CloudBase per-item status for "no permission".
pub const STATUS_NO_PERMISSION: i64 = -503_002;

/// Maps a failed list item (`status != 0`) to an error code. WeChat's per-item statuses
/// are not fully documented, so the message is consulted too: SDKs report a missing file
/// as `STORAGE_FILE_NONEXIST`, and community code has seen `status: 1` for it.
pub fn item_error_code(status: i64, errmsg: &str) -> ErrorCode {
    if status == STATUS_FILE_NOT_EXIST || mentions(errmsg, "nonexist") || mentions(errmsg, "not exist") {
        ErrorCode::NotFound
    } else if status == STATUS_NO_PERMISSION {
        ErrorCode::Forbidden
    } else {
        ErrorCode::WechatApi
    }
}

/// Whether `text` contains `needle`, ignoring ASCII case. A plain byte-window search:
/// `str::contains` would bring a 1.6 KB substring searcher into the wasm for two checks
/// on short messages.
fn mentions(text: &str, needle: &str) -> bool {
    text.as_bytes().windows(needle.len()).any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// `POST {endpoint}/upload-credentials` body (library → credential backend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadCredentialsRequest {
    /// The key the page wants to write.
    pub path: String,
    /// The file's size in bytes, so the backend can refuse it before the upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The MIME type the page will store, so the backend can check it.
    #[serde(rename = "contentType", default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// `POST {endpoint}/download-urls` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadUrlsRequest {
    /// At most [`crate::batch::MAX_BATCH`] file IDs.
    pub file_ids: Vec<String>,
    /// Link lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
}

/// `POST {endpoint}/delete` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRequest {
    /// At most [`crate::batch::MAX_BATCH`] file IDs.
    pub file_ids: Vec<String>,
}

/// The credential backend's error body: `{"code": "FORBIDDEN", "message": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendError {
    /// One of the [`ErrorCode`] strings, or a backend-specific code.
    pub code: String,
    /// What went wrong and what to do, for people.
    pub message: String,
}

/// COS's XML error body: `<Error><Code/><Message/><RequestId/>…</Error>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Error", rename_all = "PascalCase")]
pub struct CosError {
    /// e.g. `MalformedPOSTRequest`, `SignatureDoesNotMatch`, `AccessDenied`.
    pub code: String,
    /// COS's message.
    #[serde(default)]
    pub message: String,
    /// The bucket/key concerned.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource: String,
    /// `x-cos-request-id`, for Tencent support.
    #[serde(default)]
    pub request_id: String,
    /// COS trace ID.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trace_id: String,
}

impl CosError {
    /// Whether this error means the upload link (signature or temporary token) has
    /// expired, so one fresh link should be fetched and the upload retried.
    pub fn is_expired_link(&self) -> bool {
        match self.code.as_str() {
            "ExpiredToken" | "InvalidAccessKeyId" | "RequestTimeTooSkewed" => true,
            "AccessDenied" => mentions(&self.message, "expire"),
            _ => false,
        }
    }

    /// The error code for a COS answer with HTTP `status` and this body: an expired link
    /// (the caller fetches one fresh link and retries once before reporting it),
    /// `EntityTooLarge`, a 5xx (retryable), or any other refusal.
    pub fn error_code(&self, status: u16) -> ErrorCode {
        if self.is_expired_link() {
            ErrorCode::CredentialsExpired
        } else if self.code == "EntityTooLarge" {
            ErrorCode::TooLarge
        } else if status >= 500 {
            ErrorCode::Server
        } else {
            ErrorCode::UploadRejected
        }
    }

    /// Reads `Code`, `Message` and `RequestId` from COS's XML error body, leniently: a
    /// missing element is empty, and anything that is not an `<Error>` gives an empty
    /// error. A plain scan for the three elements, with the five XML entities decoded, so
    /// that the browser library needs no XML parser (the server's [`CosError::from_xml`]
    /// reads the same bodies the same way; a test holds them equal).
    pub fn scan(xml: &str) -> CosError {
        if !xml.as_bytes().windows(7).any(|w| w == b"<Error>") {
            return CosError::default();
        }
        CosError {
            code: element(xml, "Code"),
            message: element(xml, "Message"),
            request_id: element(xml, "RequestId"),
            ..CosError::default()
        }
    }

    /// Parses COS's XML error body.
    #[cfg(feature = "xml")]
    pub fn from_xml(xml: &str) -> Result<CosError, quick_xml::DeError> {
        quick_xml::de::from_str(xml)
    }

    /// Writes COS's XML error body.
    #[cfg(feature = "xml")]
    pub fn to_xml(&self) -> String {
        let body = quick_xml::se::to_string(self).expect("a struct of strings always serialises");
        format!("<?xml version='1.0' encoding='utf-8' ?>\n{body}")
    }
}

/// The text of the first `<name>` element in `xml` (up to the next tag), entities decoded;
/// empty if there is none. COS's `<Error>` children hold text only.
fn element(xml: &str, name: &str) -> String {
    let tag_len = name.len() + 2;
    let is_open_tag =
        |w: &[u8]| w[0] == b'<' && &w[1..tag_len - 1] == name.as_bytes() && w[tag_len - 1] == b'>';
    let Some(start) = xml.as_bytes().windows(tag_len).position(is_open_tag).map(|at| at + tag_len) else {
        return String::new();
    };
    let text = &xml[start..];
    unescape(&text[..text.bytes().position(|b| b == b'<').unwrap_or(text.len())])
}

/// Decodes the five predefined XML entities (COS escapes nothing else in its errors);
/// anything else after a `&` is kept as it is.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let name_len = rest.bytes().take(5).position(|b| b == b';');
        let decoded = name_len.and_then(|len| match &rest[..len] {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => None,
        });
        match (decoded, name_len) {
            (Some(ch), Some(len)) => {
                out.push(ch);
                rest = &rest[len + 1..];
            }
            _ => out.push('&'),
        }
    }
    out.push_str(rest);
    out
}

/// A parsed `cloud://<env>.<bucket>/<key>` file ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileId<'a> {
    /// Cloud environment ID (before the first `.`).
    pub env: &'a str,
    /// COS bucket (between the first `.` and the first `/`).
    pub bucket: &'a str,
    /// The object key.
    pub key: &'a str,
}

impl<'a> FileId<'a> {
    /// Parses a file ID; `None` if it is not of the form `cloud://<env>.<bucket>/<key>`.
    pub fn parse(file_id: &'a str) -> Option<FileId<'a>> {
        let rest = file_id.strip_prefix("cloud://")?;
        let (host, key) = rest.split_once('/')?;
        let (env, bucket) = host.split_once('.')?;
        (!env.is_empty() && !bucket.is_empty() && !key.is_empty()).then_some(FileId { env, bucket, key })
    }
}

impl std::fmt::Display for FileId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cloud://{}.{}/{}", self.env, self.bucket, self.key)
    }
}
