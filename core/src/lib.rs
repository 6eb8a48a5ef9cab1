//! Sans-IO core of **wx-cloud-storage**.
//!
//! Everything here is pure data and pure functions: no network, no clock, no randomness
//! of its own. The browser library (wasm) and the `wxcs` server both build on it, so the
//! rules that keep uploads to WeChat Cloud Run storage correct live in exactly one place:
//!
//! - [`key`]: object-key rules, checked before any request is made;
//! - [`form`]: the COS POST upload form, with `file` last and `x-cos-meta-fileid` present
//!   by construction;
//! - [`protocol`]: serde types for the WeChat storage API, the credential backend and
//!   COS's XML errors;
//! - [`error`]: the stable error codes that reach JavaScript;
//! - [`retry`]: which failures retry, and the backoff between attempts;
//! - [`batch`]: splitting file-ID lists into the 50-item chunks WeChat accepts;
//! - [`text`]: messages assembled without `core::fmt` (it costs kilobytes of wasm).
#![deny(missing_docs, missing_debug_implementations)]

pub mod batch;
pub mod error;
pub mod form;
pub mod key;
pub mod protocol;
pub mod retry;
pub mod text;

pub use error::ErrorCode;
pub use form::{UploadForm, FILE_FIELD};
pub use key::{validate_key, KeyError};
