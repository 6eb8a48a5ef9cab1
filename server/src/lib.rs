//! The server side of wx-cloud-storage (binary `wxcs`).
//!
//! - [`emulator`]: a faithful local stand-in for the WeChat storage open API and COS, so the
//!   demo, the tests and users' own development run with no WeChat account and no network.
#![deny(missing_docs, missing_debug_implementations)]
// Handlers return early with an HTTP `Response` as the error (the usual axum pattern); those
// are cold paths, so the size of `Result<_, Response>` does not matter.
#![allow(clippy::result_large_err)]

pub mod backend;
pub mod client;
pub mod cos_sign;
pub mod emulator;
pub mod http;
