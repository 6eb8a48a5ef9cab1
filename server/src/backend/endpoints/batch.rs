//! `POST {prefix}/download-urls {"file_ids", "max_age"}` and `POST {prefix}/delete
//! {"file_ids"}`: the file IDs the rules let the caller read (or delete) forwarded in one
//! WeChat call, one answer item per requested ID in input order. Any other ID is refused as
//! its own item (with its `code`) and never reaches WeChat; one such ID never fails the
//! batch. A download link is given only for a file whose owed check passed (run first,
//! here, if it had not); the record learns of deletes, and of files found gone.

use std::future::Future;

use axum::{extract::State, Json};
use serde_json::{json, Value};
use wx_cloud_storage_core::{
    batch::MAX_BATCH,
    protocol::{item_error_code, DeleteRequest, DownloadUrlsRequest, STATUS_NO_PERMISSION},
    ErrorCode,
};

use crate::{
    backend::{checks::Settled, ApiError, AppJson, Caller, Op, Refusal, Shared, Upstream},
    client::{ClientError, StorageClient},
};

pub(crate) async fn download_urls(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(request): AppJson<DownloadUrlsRequest>,
) -> Result<Json<Value>, ApiError> {
    let max_age = request.max_age.unwrap_or(3600).clamp(1, backend.policy.max_link_age);
    let upstream = client.clone();
    let file_list =
        forward_allowed(&backend, &caller, &client, Op::Read, &request.file_ids, |ids| async move {
            upstream.temp_urls(&ids, max_age).await
        })
        .await?;
    for id in ids_where(&file_list, |item| item["code"] == "NOT_FOUND") {
        if let Err(e) = backend.store.mark_gone(&id).await {
            tracing::warn!("could not record a file found gone: {e}");
        }
    }
    Ok(Json(json!({ "file_list": file_list })))
}

pub(crate) async fn delete(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(request): AppJson<DeleteRequest>,
) -> Result<Json<Value>, ApiError> {
    let upstream = client.clone();
    let delete_list =
        forward_allowed(&backend, &caller, &client, Op::Delete, &request.file_ids, |ids| async move {
            upstream.delete(&ids).await
        })
        .await?;
    for id in ids_where(&delete_list, |item| item["status"] == 0 || item["code"] == "NOT_FOUND") {
        if let Err(e) = backend.store.mark_deleted(&id).await {
            tracing::warn!("could not record a delete: {e}");
        }
    }
    Ok(Json(json!({ "delete_list": delete_list })))
}

/// Forwards the file IDs the caller may `op` with `forward` and returns one item per
/// requested ID, in input order: the forwarded answers, and a refused item for each other.
/// For reading, a file whose check is owed is checked first ([`settle_reads`]).
async fn forward_allowed<T, F, Fut>(
    backend: &Shared,
    caller: &Caller,
    client: &StorageClient,
    op: Op,
    file_ids: &[String],
    forward: F,
) -> Result<Vec<Value>, ApiError>
where
    T: serde::Serialize,
    F: FnOnce(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, ClientError>>,
{
    if file_ids.is_empty() {
        return Err(ApiError::invalid_argument("file_ids is empty"));
    }
    if file_ids.len() > MAX_BATCH {
        return Err(ApiError::invalid_argument(format!(
            "at most {MAX_BATCH} file_ids per request; the library splits larger lists"
        )));
    }
    let mut checked: Vec<Result<(), Refusal>> =
        file_ids.iter().map(|id| backend.check_file_id(caller, op, id).map(|_| ())).collect();
    if op == Op::Read {
        settle_reads(backend, client, file_ids, &mut checked).await?;
    }
    let allowed: Vec<String> =
        file_ids.iter().zip(&checked).filter(|(_, check)| check.is_ok()).map(|(id, _)| id.clone()).collect();
    let asked = allowed.len();
    let answers = if allowed.is_empty() { Vec::new() } else { forward(allowed).await? };
    if answers.len() != asked {
        return Err(ApiError::new(ErrorCode::WechatApi, "WeChat answered without one item per file ID"));
    }
    let mut answers = answers.into_iter();
    Ok(file_ids
        .iter()
        .zip(checked)
        .map(|(id, check)| match check {
            Ok(()) => answers.next().map_or(Value::Null, |answer| without_internals(json!(answer))),
            Err(refusal) => refused_item(id, &refusal),
        })
        .collect())
}

/// The file IDs of the answer items that `pick` picks.
fn ids_where(items: &[Value], pick: impl Fn(&Value) -> bool) -> Vec<String> {
    items
        .iter()
        .filter(|item| pick(item))
        .filter_map(|item| item["fileid"].as_str().map(str::to_owned))
        .collect()
}

/// Makes the owed checks of the allowed files in folders with limits, and refuses the
/// items of those that failed theirs (`TOO_LARGE` / `FORBIDDEN`, deleted) or never came
/// (`NOT_FOUND`): nothing unchecked is served.
async fn settle_reads(
    backend: &Shared,
    client: &StorageClient,
    file_ids: &[String],
    checked: &mut [Result<(), Refusal>],
) -> Result<(), ApiError> {
    let limited: Vec<&str> = file_ids
        .iter()
        .zip(checked.iter())
        .filter(|(id, check)| check.is_ok() && backend.limits_apply(id))
        .map(|(id, _)| id.as_str())
        .collect();
    let owed = backend.store.checks_among(&limited).await.map_err(|e| ApiError::store(&e))?;
    let settled = backend.settle(client, owed).await?;
    for (id, check) in file_ids.iter().zip(checked.iter_mut()) {
        match settled.get(id.as_str()) {
            Some(Settled::Refused(why)) => *check = Err(Settled::refusal(why)),
            Some(Settled::Missing) => {
                *check = Err(Refusal::new(ErrorCode::NotFound, "no such file (not uploaded, or deleted)"))
            }
            _ => {}
        }
    }
    Ok(())
}

/// A WeChat list item as the page sees it: a failed item carries the library's `code`,
/// and its `errmsg` is that code; WeChat's own errmsg goes to the server's log only.
fn without_internals(mut item: Value) -> Value {
    let status = item["status"].as_i64().unwrap_or(0);
    if status != 0 {
        let errmsg = item["errmsg"].as_str().unwrap_or_default();
        let code = item_error_code(status, errmsg);
        tracing::info!(status, "a list item failed: {}", errmsg.escape_debug());
        item["code"] = json!(code.as_str());
        item["errmsg"] = json!(code.as_str());
    }
    item
}

fn refused_item(file_id: &str, refusal: &Refusal) -> Value {
    json!({
        "fileid": file_id,
        "status": STATUS_NO_PERMISSION,
        "errmsg": format!("{}: {}", refusal.code, refusal.message),
        "code": refusal.code.as_str(),
    })
}
