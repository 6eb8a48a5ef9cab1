//! `POST {prefix}/multipart {path, size, contentType, partSize?}`: starts a multipart upload
//! of the key the path names, once everything an upload link would need holds (the path
//! rules, the folder's rules and limits, its rate, the caller's share). The object gets its
//! `x-cos-meta-fileid` at initiate (from `/_/cos/metaid/encode`), so it downloads like any
//! other file, and is recorded as pending, its check owed as any upload's, due once the
//! upload could no longer be continued. Answers `{uploadId, key, fileId, size, partSize,
//! parts}`.

use axum::{extract::State, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use wx_cloud_storage_core::{protocol::FileId, ErrorCode};

use super::part_size;
use crate::{
    backend::{
        state::{now_ms, MultipartUpload},
        ApiError, AppJson, Backend, Caller, Op, Shared, Upstream,
    },
    client::StorageClient,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartRequest {
    path: String,
    size: Option<u64>,
    #[serde(rename = "contentType", default)]
    content_type: Option<String>,
    #[serde(rename = "partSize", default)]
    part_size: Option<u64>,
}

pub(crate) async fn start(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(request): AppJson<StartRequest>,
) -> Result<Json<Value>, ApiError> {
    let rules = &backend.policy.rules;
    let key = rules.resolve(&request.path, caller.identity())?;
    let folder = rules.require(Op::Upload, &key, caller.identity())?;
    let Some(size) = request.size.filter(|size| *size > 0) else {
        return Err(ApiError::invalid_argument("a multipart upload declares its size in bytes (size ≥ 1)"));
    };
    let content_type = request.content_type.as_deref();
    folder.limits.check_upload(Some(size), content_type)?;
    if !client.has_cos_keys() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "this backend cannot start multipart uploads: they need Cloud Run's 开放接口服务 (WX_OPENAPI=1), \
             which gives it temporary COS keys; send the file in one POST (upload-credentials)",
        ));
    }
    backend.sweep_uploads(&client);
    backend.folder_rate(folder, &caller).await?;
    // The object's URL and file ID, as for an upload link (the link itself goes unused).
    let link = client.upload_link(&key).await?;
    let Some(bucket) = FileId::parse(&link.file_id).filter(|id| id.key == key).map(|id| id.bucket.to_owned())
    else {
        return Err(ApiError::new(ErrorCode::WechatApi, "tcb/uploadfile answered a file_id for another key"));
    };
    backend.learn_bucket(&bucket);
    // Recorded before COS hears of it: whatever happens next, the object's check is owed
    // (the upload can change it until it could no longer be completed).
    let open_until = now_ms() + (backend.multipart_idle + backend.check_lease).as_millis() as i64;
    let reported = folder.limits.checks_uploads();
    let declared = (Some(size), content_type);
    backend.record_link(&caller, &key, &link.file_id, open_until, declared, reported).await?;
    let mut upload = MultipartUpload {
        upload_id: String::new(),
        file_id: link.file_id,
        key,
        url: link.url,
        owner: caller.counted_as.clone(),
        size: size.min(i64::MAX as u64) as i64,
        part_size: part_size(size, request.part_size) as i64,
        content_type: request.content_type,
        link_ends_at: open_until,
        state: "open".into(),
    };
    upload.upload_id = initiate(&backend, &client, &bucket, &upload).await?;
    metrics::counter!("wxcs_multipart_uploads_total", "outcome" => "started").increment(1);
    Ok(Json(json!({
        "uploadId": upload.upload_id,
        "key": upload.key,
        "fileId": upload.file_id,
        "size": size,
        "partSize": upload.part_size,
        "parts": super::part_count(&upload),
    })))
}

/// Initiates `upload` at COS, its object to be stored with the `x-cos-meta-fileid` the
/// sidecar gives for it, and records it: the upload ID.
async fn initiate(
    backend: &Backend,
    client: &StorageClient,
    bucket: &str,
    upload: &MultipartUpload,
) -> Result<String, ApiError> {
    let target = (upload.url.as_str(), upload.key.as_str());
    // Guess: the sidecar wants the uploader's openid; a web user has none, and WeChat's
    // download calls have not been seen to care whose it is.
    let meta = client.file_meta_id("", bucket, &upload.key).await?;
    let upload_id = client.initiate_multipart(target, &meta, upload.content_type.as_deref()).await?;
    let recorded = MultipartUpload { upload_id: upload_id.clone(), ..upload.clone() };
    if let Err(e) = backend.store.upload_started(&recorded).await {
        // Unrecorded, nobody could continue or sweep it: abort it now.
        let _ = client.abort_multipart(target, &upload_id).await;
        return Err(ApiError::store(&e));
    }
    Ok(upload_id)
}
