//! The COS port: POST Object form uploads (`post_object.rs`), object GETs (`get_object.rs`,
//! with `Range` in `range.rs`), multipart uploads signed with temporary keys
//! (`multipart.rs`, `parts.rs`, `signed.rs`; the bucket's list of them in `uploads.rs`),
//! CORS (`cors.rs`), and every refusal in one table (`errors.rs`).
//!
//! Strict like COS (wechat-storage-facts.md §3): `file` must be the last part
//! (`400 MalformedPOSTRequest`), exactly one file part
//! (`400 IncorrectNumberOfFilesInPostRequest`), `key` must be the path the link was signed
//! for (`403 SignatureDoesNotMatch`), links expire (`403 AccessDenied`, "Request has
//! expired"), objects are at most 5 GB (`400 EntityTooLarge`). An object stored without
//! `x-cos-meta-fileid` uploads fine and then fails to download (`403 AccessDenied`), as
//! the real service does.

mod body_faults;
mod cors;
mod errors;
mod form;
mod get_object;
mod multipart;
mod parts;
mod post_object;
mod range;
mod signed;
mod uploads;

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Extension, Path, Query, RawQuery, Request, State},
    http::HeaderMap,
    middleware,
    response::Response,
    routing::{get, post},
    Router,
};

use super::{control::CosFault, injected_latency};
use crate::http::DropConnection;
use errors::Refusal;

type Shared = Arc<super::State>;

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/{bucket}", post(post_object::to_bucket).get(uploads::list))
        .route("/{bucket}/", get(uploads::list))
        .route("/{bucket}/{*key}", post(post_to_key).get(get_key).put(parts::put).delete(multipart::delete))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), cors::cors))
        .with_state(state)
}

/// `POST /<bucket>/<key>`: a multipart request (`?uploads`, `?uploadId=`), else POST Object.
async fn post_to_key(
    State(state): State<Shared>,
    Path((bucket, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    drop: Option<Extension<DropConnection>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match query.filter(|q| is_multipart(q)) {
        Some(query) => multipart::post(&state, &bucket, &key, &query, &headers, body).await,
        None => post_object::to_key(State(state), Path((bucket, key)), drop, headers, body).await,
    }
}

/// `GET /<bucket>/<key>`: ListParts (`?uploadId=`), else GET Object.
async fn get_key(
    State(state): State<Shared>,
    Path((bucket, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    match query {
        Some(query) if is_multipart(&query) => parts::list(&state, &bucket, &key, &query, &headers).await,
        query => {
            let parsed =
                Query::try_from_uri(&format!("/?{}", query.unwrap_or_default()).parse().expect("a path"));
            match parsed {
                Ok(parsed) => {
                    get_object::get_object(State(state), Path((bucket, key)), parsed, headers).await
                }
                Err(_) => Refusal::AccessDenied.answer(&state, &format!("{bucket}/{key}")),
            }
        }
    }
}

/// Whether a query names a multipart request.
fn is_multipart(query: &str) -> bool {
    let params = signed::query_params(Some(query));
    signed::param(&params, "uploads").is_some() || signed::param(&params, "uploadId").is_some()
}

async fn fallback(State(state): State<Shared>, request: Request) -> Response {
    Refusal::MethodNotAllowed.answer(&state, request.uri().path().trim_start_matches('/'))
}

/// What every COS request goes through first: the latency and 503 faults, and the bucket
/// check. Whether to drop the connection midway (the `drop_next` fault).
async fn preamble(state: &super::State, bucket: &str) -> Result<bool, Refusal> {
    injected_latency(state).await;
    let fault = state.faults.lock().unwrap().draw_cos();
    match fault {
        CosFault::Fail => Err(Refusal::ServiceUnavailable),
        CosFault::Drop | CosFault::None if bucket != state.bucket => Err(Refusal::NoSuchBucket),
        CosFault::Drop => Ok(true),
        CosFault::None => Ok(false),
    }
}
