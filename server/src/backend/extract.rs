//! What every handler needs from a request, resolved once, before the handler runs:
//!
//! - [`Caller`]: who is calling (authenticated and rate-limited), the one place every way
//!   of logging in plugs into;
//! - [`AppJson`]: the JSON body, at most [`MAX_BODY_BYTES`], within the body timeout, with
//!   the contract's errors;
//! - [`Upstream`]: the storage client to forward with (in `cloudbase_access_token` mode,
//!   with the token Cloud Run put on this request).
//!
//! So a handler's signature says what it takes, and its body reads like the contract.

use std::net::SocketAddr;

use axum::{
    body::to_bytes,
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use super::{ApiError, Identity, Shared};
use crate::client::StorageClient;

/// Largest request body the backend reads (a batch of 50 file IDs is ~5 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Who is calling: signed in (with an [`Identity`]), or not (when some folder admits
/// callers who are not signed in; otherwise such a request is refused before any handler).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The signed-in identity; `None` for a caller who is not signed in.
    pub identity: Option<Identity>,
    /// Whom the caller's rates count against: `user:<uid>`, or `address:<ip>`.
    pub counted_as: String,
}

impl Caller {
    /// The signed-in identity, if any.
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, backend: &Shared) -> Result<Caller, ApiError> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| *peer);
        backend.authenticate(&parts.headers, peer).await
    }
}

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Shared> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, backend: &Shared) -> Result<AppJson<T>, ApiError> {
        let limit = backend.body_timeout;
        let bytes = tokio::time::timeout(limit, to_bytes(request.into_body(), MAX_BODY_BYTES))
            .await
            .map_err(|_| ApiError::body_timeout(limit))?
            .map_err(|_| {
                ApiError::new(
                    wx_cloud_storage_core::ErrorCode::TooLarge,
                    format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
                )
            })?;
        serde_json::from_slice(&bytes)
            .map(AppJson)
            .map_err(|e| ApiError::invalid_argument(format!("bad JSON body: {e}")))
    }
}

/// The storage client to forward this request's calls with.
#[derive(Debug, Clone)]
pub struct Upstream(pub StorageClient);

impl FromRequestParts<Shared> for Upstream {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, backend: &Shared) -> Result<Upstream, Self::Rejection> {
        let client = backend.client_for(&parts.headers);
        // Every authenticated request (this comes after its Caller) sweeps a few due checks.
        backend.sweep(&client);
        Ok(Upstream(client))
    }
}
