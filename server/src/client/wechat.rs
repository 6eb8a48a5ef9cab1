//! The WeChat open-API calls: `tcb/uploadfile`, `tcb/batchdownloadfile`,
//! `tcb/batchdeletefile`, each with its typed body, the token added per [`Auth`] mode and
//! one retry with a fresh token on 40001/42001.

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use wx_cloud_storage_core::{
    batch,
    protocol::{
        BatchDeleteRequest, BatchDownloadRequest, DeleteResult, DeleteResults, DownloadFileSpec, DownloadUrl,
        DownloadUrls, UploadCredentials, UploadFileRequest, WechatStatus,
    },
    ErrorCode,
};

use secrecy::ExposeSecret;

use super::{Auth, ClientError, StorageClient};

impl StorageClient {
    /// Calls `POST {base}{path}` with `body`, adding the token, and retrying once with a
    /// fresh token on 40001/42001.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        let started = std::time::Instant::now();
        let result = self.call_once(path, body).await;
        let (outcome, errcode) = match &result {
            Ok(_) => ("ok", "0".to_owned()),
            Err(e) => match e.errcode {
                Some(errcode) => ("errcode", errcode.to_string()),
                None => ("failed", "none".to_owned()),
            },
        };
        let api = path.trim_start_matches('/').to_owned();
        metrics::counter!("wxcs_wechat_calls_total", "api" => api.clone(), "outcome" => outcome, "errcode" => errcode)
            .increment(1);
        metrics::histogram!("wxcs_wechat_call_duration_seconds", "api" => api)
            .record(started.elapsed().as_secs_f64());
        result
    }

    /// [`Self::call`], unmeasured: with one retry on a refused token.
    async fn call_once<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        let mut rejected: Option<String> = None;
        loop {
            let query = match (&self.inner.auth, &self.inner.tokens) {
                (Auth::AppSecret { .. }, Some(tokens)) => {
                    let token = tokens
                        .get(&self.inner.http, &self.inner.base, self.inner.timeouts.api, rejected.as_deref())
                        .await?;
                    Some(("access_token", token))
                }
                (Auth::CloudbaseToken, _) => {
                    let token = self.cloudbase_token.as_ref().map(|t| t.expose_secret().to_owned()).ok_or_else(|| {
                        ClientError::new(ErrorCode::Unauthorized, "no cloudbase_access_token: the request did not come through Cloud Run's WeChat link (X-WX-CLOUDBASE-ACCESS-TOKEN)")
                    })?;
                    Some(("cloudbase_access_token", token))
                }
                _ => None,
            };
            let mut request = self
                .inner
                .http
                .post(format!("{}{path}", self.inner.base))
                .timeout(self.inner.timeouts.api)
                .json(body);
            if let Some((name, token)) = &query {
                request = request.query(&[(name, token)]);
            }
            let response = request.send().await.map_err(ClientError::network)?;
            let status = response.status();
            if !status.is_success() {
                let code = if status.is_server_error() { ErrorCode::Server } else { ErrorCode::WechatApi };
                return Err(ClientError {
                    status: Some(status.as_u16()),
                    ..ClientError::new(code, format!("{path} answered HTTP {status}"))
                });
            }
            let value: Value = response.json().await.map_err(ClientError::network)?;
            let wechat: WechatStatus = serde_json::from_value(value.clone()).unwrap_or_default();
            match wechat.errcode {
                0 => {
                    return serde_json::from_value(value).map_err(|e| {
                        ClientError::new(
                            ErrorCode::WechatApi,
                            format!("{path} answered an unexpected body: {e}"),
                        )
                    })
                }
                40001 | 42001 if rejected.is_none() && self.inner.tokens.is_some() => {
                    tracing::info!(errcode = wechat.errcode, "access token refused; fetching a fresh one");
                    rejected = query.map(|(_, token)| token);
                }
                code => return Err(ClientError::wechat(code, &wechat.errmsg)),
            }
        }
    }

    /// `tcb/uploadfile`: an upload link for `path`.
    pub async fn upload_link(&self, path: &str) -> Result<UploadCredentials, ClientError> {
        let body = UploadFileRequest { env: self.inner.env.clone(), path: path.to_owned() };
        self.call("/tcb/uploadfile", &body).await
    }

    /// `tcb/batchdownloadfile` for any number of IDs (chunks of 50 inside), in input order.
    pub async fn temp_urls(
        &self,
        file_ids: &[String],
        max_age: u64,
    ) -> Result<Vec<DownloadUrl>, ClientError> {
        let mut all = Vec::with_capacity(file_ids.len());
        for chunk in batch::chunks(file_ids) {
            let file_list = chunk.iter().map(|id| DownloadFileSpec { fileid: id.clone(), max_age }).collect();
            let body = BatchDownloadRequest { env: self.inner.env.clone(), file_list };
            let answer: DownloadUrls = self.call("/tcb/batchdownloadfile", &body).await?;
            all.extend(answer.file_list);
        }
        Ok(all)
    }

    /// `tcb/batchdeletefile` for any number of IDs (chunks of 50 inside), in input order.
    pub async fn delete(&self, file_ids: &[String]) -> Result<Vec<DeleteResult>, ClientError> {
        let mut all = Vec::with_capacity(file_ids.len());
        for chunk in batch::chunks(file_ids) {
            let body = BatchDeleteRequest { env: self.inner.env.clone(), fileid_list: chunk.to_vec() };
            let answer: DeleteResults = self.call("/tcb/batchdeletefile", &body).await?;
            all.extend(answer.delete_list);
        }
        Ok(all)
    }
}
