//! COS multipart uploads with a temporary key ([`TempKey`]): the requests the backend makes
//! itself (initiate, list the parts, complete, abort), and the one it signs for a client to
//! make (a part, [`StorageClient::sign_part`]). Each is signed over its method, its path
//! and every query parameter, so a signature is good for that request of that upload only.
//!
//! `url` is the object's URL as `tcb/uploadfile` names it (`https://cos.<region>…/<bucket>/<key>`,
//! or the emulator's); the path COS signs is `/<key>`.

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use wx_cloud_storage_core::{
    protocol::{CosError, CRC64_HEADER},
    ErrorCode,
};

use super::{ClientError, StorageClient, TempKey};
use crate::cos_sign::Request;

/// How long a signature the backend makes for its own request lives, seconds.
const OWN_SIGNATURE: u64 = 300;
/// How long a part's signature lives, seconds: enough to start the part on a slow link.
pub const PART_SIGNATURE: u64 = 900;
/// The most parts one ListParts page holds (COS: 1000).
const PAGE: u32 = 1000;
/// How long a CompleteMultipartUpload may take: COS joins the parts before it answers,
/// which for gigabytes takes far longer than an API call.
const COMPLETE_TIMEOUT: Duration = Duration::from_secs(600);

/// A part COS holds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredPart {
    /// Its number, 1 to 10,000.
    #[serde(rename = "PartNumber")]
    pub number: u32,
    /// Its ETag (quoted MD5), as complete must name it.
    #[serde(rename = "ETag")]
    pub etag: String,
    /// Its length.
    #[serde(rename = "Size")]
    pub size: u64,
}

/// What a client needs to send one part: the headers that go with the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPart {
    /// Where to `PUT` it (the object's URL with `partNumber` and `uploadId`).
    pub url: String,
    /// `Authorization`.
    pub authorization: String,
    /// `x-cos-security-token`.
    pub security_token: String,
}

#[derive(Deserialize)]
struct Initiated {
    #[serde(rename = "UploadId")]
    upload_id: String,
}

#[derive(Deserialize)]
struct PartsPage {
    #[serde(rename = "Part", default)]
    parts: Vec<StoredPart>,
    #[serde(rename = "IsTruncated", default)]
    truncated: bool,
    #[serde(rename = "NextPartNumberMarker", default)]
    next: u32,
}

/// `key`'s path as COS signs it.
fn signed_path(key: &str) -> String {
    format!("/{key}")
}

/// `url?name=value&…`, the values encoded.
fn with_query(url: &str, params: &[(String, String)]) -> String {
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let query: Vec<String> = params
        .iter()
        .map(
            |(name, value)| {
                if value.is_empty() {
                    encode(name)
                } else {
                    format!("{}={}", encode(name), encode(value))
                }
            },
        )
        .collect();
    format!("{url}?{}", query.join("&"))
}

impl StorageClient {
    /// Makes one signed COS request: `method` on `url` (`key`'s) with `params`, signed
    /// headers `headers` and `body`; the answer's body and CRC-64 header, or the COS error.
    async fn cos_request(
        &self,
        method: Method,
        (url, key): (&str, &str),
        params: Vec<(String, String)>,
        headers: Vec<(String, String)>,
        body: Option<String>,
    ) -> Result<(String, Option<String>), ClientError> {
        let timeout = if body.is_some() { COMPLETE_TIMEOUT } else { self.inner.timeouts.api };
        let temp = self.temp_key().await?;
        let path = signed_path(key);
        let request = Request {
            method: method.as_str(),
            path: &path,
            params: params.clone(),
            headers: headers.clone(),
        };
        let authorization = temp.sign(&request, OWN_SIGNATURE);
        let mut call = self
            .inner
            .http
            .request(method, with_query(url, &params))
            .timeout(timeout)
            .header("authorization", authorization)
            .header("x-cos-security-token", temp.security_token());
        for (name, value) in &headers {
            call = call.header(name, value);
        }
        if let Some(body) = body {
            call = call.body(body);
        }
        let response = call.send().await.map_err(ClientError::network)?;
        let status = response.status();
        let crc64 = response.headers().get(CRC64_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = response.text().await.map_err(ClientError::network)?;
        if status.is_success() {
            return Ok((text, crc64));
        }
        let cos = CosError::from_xml(&text).unwrap_or_default();
        Err(ClientError {
            status: Some(status.as_u16()),
            cos_code: Some(cos.code.clone()).filter(|c| !c.is_empty()),
            ..ClientError::new(
                cos.error_code(status.as_u16()),
                format!("COS answered {status} {}: {}", cos.code, cos.message),
            )
        })
    }

    /// InitiateMultipartUpload of `key` at `url`, the object to be stored with
    /// `x-cos-meta-fileid: meta_file_id` and `content_type`: the upload ID.
    pub async fn initiate_multipart(
        &self,
        (url, key): (&str, &str),
        meta_file_id: &str,
        content_type: Option<&str>,
    ) -> Result<String, ClientError> {
        let mut headers = vec![("x-cos-meta-fileid".to_owned(), meta_file_id.to_owned())];
        if let Some(content_type) = content_type {
            headers.push(("content-type".to_owned(), content_type.to_owned()));
        }
        let params = vec![("uploads".to_owned(), String::new())];
        let (answer, _) = self.cos_request(Method::POST, (url, key), params, headers, None).await?;
        let initiated: Initiated = quick_xml::de::from_str(&answer).map_err(|_| {
            ClientError::new(ErrorCode::UploadRejected, "COS answered the initiate without an UploadId")
        })?;
        Ok(initiated.upload_id)
    }

    /// Every part COS holds of `upload_id`, by number.
    pub async fn list_parts(
        &self,
        (url, key): (&str, &str),
        upload_id: &str,
    ) -> Result<Vec<StoredPart>, ClientError> {
        let mut parts = Vec::new();
        let mut marker = 0;
        loop {
            let params = vec![
                ("max-parts".to_owned(), PAGE.to_string()),
                ("part-number-marker".to_owned(), marker.to_string()),
                ("uploadId".to_owned(), upload_id.to_owned()),
            ];
            let (answer, _) = self.cos_request(Method::GET, (url, key), params, Vec::new(), None).await?;
            let page: PartsPage = quick_xml::de::from_str(&answer).map_err(|_| {
                ClientError::new(
                    ErrorCode::UploadRejected,
                    "COS answered ListParts with a body it could not read",
                )
            })?;
            parts.extend(page.parts);
            if !page.truncated || page.next <= marker {
                return Ok(parts);
            }
            marker = page.next;
        }
    }

    /// CompleteMultipartUpload of `upload_id` with `parts`, in order: the object's CRC-64
    /// (decimal), when COS sent it.
    pub async fn complete_multipart(
        &self,
        (url, key): (&str, &str),
        upload_id: &str,
        parts: &[StoredPart],
    ) -> Result<Option<String>, ClientError> {
        let named: String = parts
            .iter()
            .map(|p| {
                format!(
                    "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
                    p.number,
                    p.etag.replace('&', "&amp;").replace('<', "&lt;")
                )
            })
            .collect();
        let body = format!("<CompleteMultipartUpload>{named}</CompleteMultipartUpload>");
        let params = vec![("uploadId".to_owned(), upload_id.to_owned())];
        self.cos_request(Method::POST, (url, key), params, Vec::new(), Some(body))
            .await
            .map(|(_, crc64)| crc64)
    }

    /// AbortMultipartUpload of `upload_id`: COS drops it and its parts.
    pub async fn abort_multipart(
        &self,
        (url, key): (&str, &str),
        upload_id: &str,
    ) -> Result<(), ClientError> {
        let params = vec![("uploadId".to_owned(), upload_id.to_owned())];
        self.cos_request(Method::DELETE, (url, key), params, Vec::new(), None).await.map(|_| ())
    }

    /// The signature of one UploadPart: `PUT` of part `number` of `upload_id` to `key`,
    /// exactly `length` bytes long (the length is signed, so COS refuses any other).
    pub async fn sign_part(
        &self,
        (url, key): (&str, &str),
        upload_id: &str,
        number: u32,
        length: u64,
    ) -> Result<SignedPart, ClientError> {
        let temp: TempKey = self.temp_key().await?;
        let path = signed_path(key);
        let params = vec![
            ("partNumber".to_owned(), number.to_string()),
            ("uploadId".to_owned(), upload_id.to_owned()),
        ];
        let headers = vec![("content-length".to_owned(), length.to_string())];
        let request = Request { method: "put", path: &path, params: params.clone(), headers };
        Ok(SignedPart {
            url: with_query(url, &params),
            authorization: temp.sign(&request, PART_SIGNATURE),
            security_token: temp.security_token().to_owned(),
        })
    }
}
