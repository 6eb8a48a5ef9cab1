//! The transfers to and from COS: the form upload (`file` last, by the core's plan), and
//! reads of stored objects through short-lived download links (whole, bounded, the first
//! bytes, or a HEAD for existence and CRC-64).

use reqwest::multipart::{Form, Part};
use wx_cloud_storage_core::{
    protocol::{item_error_code, CosError, CRC64_HEADER},
    retry::is_retryable,
    ErrorCode, UploadForm, FILE_FIELD,
};

use super::{ClientError, ObjectHead, ObjectStat, StorageClient, Uploaded};

impl StorageClient {
    /// Uploads `bytes` to `path`; one fresh link and one retry if the link expired, and
    /// retries with backoff on network failures and 5xx.
    pub async fn upload(
        &self,
        path: &str,
        bytes: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<Uploaded, ClientError> {
        let bytes = bytes::Bytes::from(bytes);
        let policy = wx_cloud_storage_core::retry::RetryPolicy::default();
        let (mut retry, mut refreshed) = (0, false);
        loop {
            let credentials = self.upload_link(path).await?;
            let form = UploadForm::new(&credentials, path, content_type)
                .map_err(|e| ClientError::new(e.code(), e.to_string()))?;
            match self.post_form(&form, bytes.clone()).await {
                Ok(()) => return Ok(Uploaded { file_id: credentials.file_id, key: form.key().to_owned() }),
                Err(e) if e.code == ErrorCode::CredentialsExpired && !refreshed => refreshed = true,
                Err(e) if is_retryable(e.code, e.status) => {
                    retry += 1;
                    let Some(delay) = policy.delay_ms(retry, rand::random()) else { return Err(e) };
                    tokio::time::sleep(std::time::Duration::from_millis(delay.into())).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// POSTs one form to COS, `file` last.
    async fn post_form(&self, form: &UploadForm, bytes: bytes::Bytes) -> Result<(), ClientError> {
        let file_name = form.file_name().to_owned();
        let mut multipart = Form::new();
        for (name, value) in form.fields() {
            multipart = multipart.text(name, value.clone());
        }
        let multipart = multipart.part(
            FILE_FIELD,
            Part::stream_with_length(bytes.clone(), bytes.len() as u64).file_name(file_name),
        );
        let response = self
            .inner
            .http
            .post(form.url().as_str())
            .multipart(multipart)
            .send()
            .await
            .map_err(ClientError::network)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        let cos = CosError::from_xml(&body).unwrap_or_default();
        let code = cos.error_code(status.as_u16());
        Err(ClientError {
            status: Some(status.as_u16()),
            cos_code: Some(cos.code.clone()).filter(|c| !c.is_empty()),
            ..ClientError::new(code, format!("COS answered {status} {}: {}", cos.code, cos.message))
        })
    }

    /// Downloads a file's bytes.
    pub async fn download(&self, file_id: &str) -> Result<bytes::Bytes, ClientError> {
        self.download_at_most(file_id, u64::MAX).await
    }

    /// Downloads a file's bytes, refusing (`TOO_LARGE`) a file over `max` bytes before its
    /// body is read (by its `Content-Length`), or as soon as more arrive.
    pub async fn download_at_most(&self, file_id: &str, max: u64) -> Result<bytes::Bytes, ClientError> {
        let response = self.get(file_id, None).await?;
        let too_large = || {
            ClientError::new(ErrorCode::TooLarge, format!("{file_id} is over the {max} bytes allowed here"))
        };
        if response.content_length().is_some_and(|len| len > max) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            let chunk = chunk.map_err(ClientError::network)?;
            if (body.len() + chunk.len()) as u64 > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.into())
    }

    /// The first `bytes` bytes of a file, its full size and its content type, by one
    /// ranged GET.
    pub async fn head(&self, file_id: &str, bytes: u64) -> Result<ObjectHead, ClientError> {
        let response = self.get(file_id, Some(bytes)).await?;
        let headers = response.headers();
        let text = |name| headers.get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok());
        // `Content-Range: bytes 0-4095/123456` for a 206; `Content-Length` for a whole 200.
        let size = text(reqwest::header::CONTENT_RANGE)
            .and_then(|range| range.rsplit('/').next())
            .and_then(|total| total.parse().ok())
            .or(response.content_length())
            .ok_or_else(|| {
                ClientError::new(ErrorCode::Server, format!("{file_id}: the storage gave no length"))
            })?;
        let content_type = text(reqwest::header::CONTENT_TYPE).map(str::to_owned);
        let crc64 = text(reqwest::header::HeaderName::from_static(CRC64_HEADER))
            .filter(|v| is_crc64(v))
            .map(str::to_owned);
        let mut head = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            head.extend_from_slice(&chunk.map_err(ClientError::network)?);
            if head.len() as u64 >= bytes {
                head.truncate(bytes as usize);
                break;
            }
        }
        Ok(ObjectHead { size, content_type, bytes: head.into(), crc64 })
    }

    /// Whether each file exists, with its length and CRC-64, in input order: one
    /// `tcb/batchdownloadfile` per 50 IDs, then a HEAD of each link. WeChat's storage API
    /// has no exists call; @cloudbase/storage's `exists()` also HEADs a temporary link,
    /// which suggests a link may be issued for a missing object, so an item that WeChat
    /// answers with a link still counts as missing when its HEAD says 404.
    pub async fn stat(&self, file_ids: &[String]) -> Result<Vec<ObjectStat>, ClientError> {
        let links = self.temp_urls(file_ids, 600).await?;
        if links.len() != file_ids.len() {
            return Err(ClientError::new(
                ErrorCode::WechatApi,
                "tcb/batchdownloadfile answered without one item per file ID",
            ));
        }
        let mut stats = Vec::with_capacity(links.len());
        for (id, link) in file_ids.iter().zip(links) {
            if link.status != 0 {
                let code = item_error_code(link.status, &link.errmsg);
                if code != ErrorCode::NotFound {
                    return Err(ClientError::new(code, format!("{id}: {}", link.errmsg)));
                }
                stats.push(ObjectStat { exists: false, size: None, crc64: None });
                continue;
            }
            let response =
                self.inner.http.head(&link.download_url).send().await.map_err(ClientError::network)?;
            let status = response.status();
            if status.as_u16() == 404 {
                stats.push(ObjectStat { exists: false, size: None, crc64: None });
            } else if status.is_success() {
                let crc64 = response
                    .headers()
                    .get(CRC64_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| is_crc64(v))
                    .map(str::to_owned);
                stats.push(ObjectStat { exists: true, size: response.content_length(), crc64 });
            } else {
                return Err(ClientError {
                    status: Some(status.as_u16()),
                    ..ClientError::new(
                        ErrorCode::from_download_status(status.as_u16()),
                        format!("{id}: HEAD of its link answered {status}"),
                    )
                });
            }
        }
        Ok(stats)
    }

    /// A GET of a file through a short-lived download link, checked for a 2xx.
    async fn get(&self, file_id: &str, range_bytes: Option<u64>) -> Result<reqwest::Response, ClientError> {
        let item = self.temp_urls(&[file_id.to_owned()], 600).await?.pop().ok_or_else(|| {
            ClientError::new(ErrorCode::WechatApi, "tcb/batchdownloadfile answered without an item")
        })?;
        if item.status != 0 {
            let code = item_error_code(item.status, &item.errmsg);
            return Err(ClientError::new(code, format!("{file_id}: {}", item.errmsg)));
        }
        let mut request = self.inner.http.get(&item.download_url);
        if let Some(n) = range_bytes {
            request = request.header(reqwest::header::RANGE, format!("bytes=0-{}", n.saturating_sub(1)));
        }
        let response = request.send().await.map_err(ClientError::network)?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status.as_u16() == 416 && range_bytes.is_some() {
            return Ok(response); // an empty object has no first byte
        }
        let code = ErrorCode::from_download_status(status.as_u16());
        Err(ClientError {
            status: Some(status.as_u16()),
            ..ClientError::new(code, format!("download of {file_id} answered {status}"))
        })
    }
}

/// Whether a header value is a CRC-64 as COS writes it: decimal digits.
fn is_crc64(value: &str) -> bool {
    !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit())
}
