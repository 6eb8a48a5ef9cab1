//! The COS port: POST Object form uploads (`post_object.rs`), object GETs (`get_object.rs`,
//! with `Range` in `range.rs`), CORS (`cors.rs`), and every refusal in one table
//! (`errors.rs`).
//!
//! Strict like COS (wechat-storage-facts.md §3): `file` must be the last part
//! (`400 MalformedPOSTRequest`), exactly one file part
//! (`400 IncorrectNumberOfFilesInPostRequest`), `key` must be the path the link was signed
//! for (`403 SignatureDoesNotMatch`), links expire (`403 AccessDenied`, "Request has
//! expired"), objects are at most 5 GB (`400 EntityTooLarge`). An object stored without
//! `x-cos-meta-fileid` uploads fine and then fails to download (`403 AccessDenied`), as
//! the real service does.

mod cors;
mod errors;
mod form;
mod get_object;
mod post_object;
mod range;

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    middleware,
    response::Response,
    routing::post,
    Router,
};

use super::{control::CosFault, injected_latency};
use errors::Refusal;

type Shared = Arc<super::State>;

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/{bucket}", post(post_object::to_bucket))
        .route("/{bucket}/{*key}", post(post_object::to_key).get(get_object::get_object))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(state.clone(), cors::cors))
        .with_state(state)
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
