//! `POST {prefix}/list {"prefix"?, "cursor"?, "limit"?, "order"?, "contains"?}`: the stored
//! files the caller may list, a page at a time.
//!
//! WeChat's storage API cannot list, so this is the file record: objects uploaded with links
//! this backend issued, that passed their check and were not deleted (through it, or found
//! gone by it). `prefix` is a folder the caller may list (or a place inside one; empty: the
//! caller's home folder); each row is also held against the rules, so a more specific folder
//! inside that the caller may not list stays hidden. The order is by key (`"name"`, the
//! default) or newest first (`"newest"`); `cursor` continues a walk: it is the position after
//! the last row looked at (keyset, not an offset), so files uploaded or deleted meanwhile
//! never make a file that was there for the whole walk appear twice or not at all. A file
//! not checked yet is checked before it is shown (at most [`CHECKS_PER_PAGE`] per page; the
//! page ends before the next one, and the cursor picks up there).

use axum::{extract::State, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use wx_cloud_storage_core::validate_key;

use crate::backend::{
    checks::Settled,
    state::{FileRow, ListOrder, ListQuery},
    ApiError, AppJson, Caller, Op, Refusal, Shared, Upstream,
};

/// The most rows a page may ask for, and the default.
const MAX_LIMIT: u32 = 1000;
const DEFAULT_LIMIT: u32 = 100;
/// How many files not checked yet one page checks.
const CHECKS_PER_PAGE: usize = 50;
/// The longest name filter.
const MAX_CONTAINS: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListRequest {
    #[serde(default)]
    prefix: String,
    cursor: Option<String>,
    limit: Option<u32>,
    order: Option<String>,
    contains: Option<String>,
}

pub(crate) async fn list(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(request): AppJson<ListRequest>,
) -> Result<Json<Value>, ApiError> {
    let prefix = listing_prefix(&backend, &caller, &request.prefix)?;
    let query = query_of(&request, prefix.clone())?;
    let mut rows = backend.store.list(&query).await.map_err(|e| ApiError::store(&e))?;
    let full = rows.len() == query.limit as usize;
    let examined_last = rows.last().cloned();
    let rules = &backend.policy.rules;
    rows.retain(|row| rules.decide(Op::List, &row.key, caller.identity()).allowed);
    // Files not checked yet: checked now, the page cut before the first one over the bound.
    let pending: Vec<usize> =
        rows.iter().enumerate().filter(|(_, r)| r.state == "pending").map(|(i, _)| i).collect();
    let cut = pending.get(CHECKS_PER_PAGE).copied();
    if let Some(cut) = cut {
        rows.truncate(cut);
    }
    let ids: Vec<String> = rows.iter().filter(|r| r.state == "pending").map(|r| r.file_id.clone()).collect();
    let settled = backend.settle(&client, ids).await?;
    let mut shown = Vec::with_capacity(rows.len());
    for row in &rows {
        match settled.get(&row.file_id) {
            None => shown.push(row.clone()),
            Some(Settled::Stored) => {
                if let Some(fresh) =
                    backend.store.file(&row.file_id).await.map_err(|e| ApiError::store(&e))?
                {
                    shown.push(fresh);
                }
            }
            Some(_) => {}
        }
    }
    // Where the next page starts: after the last row looked at.
    let last = if cut.is_some() { rows.last() } else { examined_last.as_ref().filter(|_| full) };
    let cursor = last.map(|row| cursor_of(query.order, row));
    let folder = prefix.rfind('/').map_or("", |i| &prefix[..=i]);
    let files: Vec<Value> = shown.iter().filter(|r| r.state == "stored").map(|r| item(folder, r)).collect();
    Ok(Json(json!({ "files": files, "cursor": cursor })))
}

/// The key prefix a request lists: its `prefix`, or the caller's home folder; refused unless
/// it is inside a folder whose rules let the caller list.
fn listing_prefix(backend: &Shared, caller: &Caller, asked: &str) -> Result<String, Refusal> {
    let rules = &backend.policy.rules;
    let prefix = if asked.is_empty() {
        let home = rules
            .home
            .as_ref()
            .zip(caller.identity())
            .and_then(|(home, who)| home.fill(|name| (name == "uid").then(|| who.uid.clone())));
        home.ok_or_else(|| Refusal::invalid_argument("name the folder to list: prefix"))?
    } else {
        asked.to_owned()
    };
    // A name inside the prefix: the prefix must be a place in a folder, spelled as keys are.
    let probe = format!("{prefix}x");
    validate_key(&probe).map_err(|e| Refusal::invalid_key(&e))?;
    rules.require(Op::List, &probe, caller.identity())?;
    Ok(prefix)
}

fn query_of(request: &ListRequest, prefix: String) -> Result<ListQuery, Refusal> {
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Refusal::invalid_argument(format!("limit must be 1 to {MAX_LIMIT}")));
    }
    let order = match request.order.as_deref() {
        None | Some("name") => ListOrder::Name,
        Some("newest") => ListOrder::Newest,
        Some(_) => return Err(Refusal::invalid_argument("order must be \"name\" or \"newest\"")),
    };
    let contains = request.contains.clone().filter(|c| !c.is_empty());
    if contains.as_ref().is_some_and(|c| c.chars().count() > MAX_CONTAINS || c.chars().any(char::is_control))
    {
        return Err(Refusal::invalid_argument(format!(
            "contains must be at most {MAX_CONTAINS} printable characters"
        )));
    }
    let after = match &request.cursor {
        None => None,
        Some(cursor) => Some(position(order, cursor).ok_or_else(|| {
            Refusal::invalid_argument(
                "cursor is not one this listing gave (pass it back unchanged, with the same order)",
            )
        })?),
    };
    Ok(ListQuery { prefix, contains, after, limit, order })
}

/// A cursor: the order's letter, the row's time and its key in hex.
fn cursor_of(order: ListOrder, row: &FileRow) -> String {
    let letter = if order == ListOrder::Name { 'n' } else { 't' };
    format!("{letter}.{}.{}", row.created_at, hex::encode(row.key.as_bytes()))
}

fn position(order: ListOrder, cursor: &str) -> Option<(i64, String)> {
    let mut parts = cursor.splitn(3, '.');
    let letter = if order == ListOrder::Name { "n" } else { "t" };
    (parts.next()? == letter).then_some(())?;
    let time = parts.next()?.parse().ok()?;
    let key = String::from_utf8(hex::decode(parts.next()?).ok()?).ok()?;
    Some((time, key))
}

fn item(folder: &str, row: &FileRow) -> Value {
    json!({
        "name": row.key.strip_prefix(folder).unwrap_or(&row.key),
        "key": row.key,
        "fileId": row.file_id,
        "size": row.size,
        "contentType": row.content_type,
        "crc64": row.crc64,
        "time": row.created_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_other_orders() {
        let row = FileRow {
            file_id: "cloud://e.b/users/1/a.png".into(),
            key: "users/1/文件 a.png".into(),
            owner: "user:1".into(),
            state: "stored".into(),
            reason: None,
            size: Some(1),
            content_type: None,
            crc64: None,
            created_at: 1234,
        };
        let cursor = cursor_of(ListOrder::Newest, &row);
        assert_eq!(position(ListOrder::Newest, &cursor), Some((1234, row.key.clone())));
        assert_eq!(position(ListOrder::Name, &cursor), None);
        for bad in ["", "n", "n.x.00", "n.1.zz", "n.1.ff", "t.1"] {
            assert_eq!(position(ListOrder::Name, bad), None, "{bad:?}");
        }
    }
}
