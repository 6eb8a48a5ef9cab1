//! The contract's endpoints, one file each (or one per pair that shares its shape): each
//! handler takes the [`Caller`](super::Caller), the request body and the storage client,
//! applies the policy, and forwards.

pub(crate) mod batch;
pub(crate) mod demo;
pub(crate) mod exists;
pub(crate) mod list;
pub(crate) mod upload_credentials;
pub(crate) mod verify;

use serde::Deserialize;

/// The body of a request about one file (`verify`, the demo's `grayscale`).
#[derive(Debug, Deserialize)]
pub(crate) struct FileRequest {
    pub(crate) file_id: String,
    /// `verify`'s: the CRC-64 the client computed of what it sent.
    #[serde(default)]
    pub(crate) crc64: Option<String>,
}
