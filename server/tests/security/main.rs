//! The attacks of the outside reviews against `wxcs serve` and `wxcs emulate`, each with
//! other spellings of it, one file per role: `paths.rs` (who may touch which file),
//! `uploads.rs` (what lands is checked), `requests.rs` (hostile requests and connections),
//! `secrets.rs` (nothing leaks), `emulator.rs` (the emulator's own surface). Every test
//! performs the attack; before its fix each one succeeded.

#[path = "../support/mod.rs"]
mod support;

mod checks;
mod connections;
mod emulator;
mod local;
mod paths;
mod requests;
mod secrets;
mod uploads;

use secrecy::ExposeSecret;
use std::{
    io::{Read, Write},
    net::TcpStream,
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::future::BoxFuture;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use support::{
    logs::captured_logs,
    process::{free_port, peak_rss_kib, spawn, wxcs, Process},
    stack::{stack, stack_with, Stack, ALICE, BOB},
    temp_dir,
};
use wx_cloud_storage_server::{
    backend::{Authenticator, Backend, BearerTokens, Credentials, Identity, Limits, Op, Policy, Verdict},
    client::{Auth, StorageClient},
    emulator::Config,
    http,
};

const URLS: &str = "/api/storage/download-urls";
const DELETE: &str = "/api/storage/delete";
const CREDS: &str = "/api/storage/upload-credentials";

/// A backend that limits uploads to 1 KiB of `types`, over an emulator whose upload links
/// live `link_secs`, checking each object for the last time `grace` after its link ends.
async fn watched(types: &[&str], link_secs: u64, grace: Duration) -> Stack {
    let types: Vec<String> = types.iter().map(|t| t.to_string()).collect();
    stack_with(
        move |config| config.link_ttl = link_secs,
        None,
        move |b: &mut Backend| {
            b.policy = Policy::limited(Limits { max_size: Some(1024), types, ..Limits::default() });
            b.verify_after = grace;
        },
    )
    .await
}

/// Posts `bytes` to the link of `credentials` with the form's own `Content-Type`.
async fn post_as(s: &Stack, link: &Value, key: &str, bytes: Vec<u8>, content_type: &str) {
    let form = support::standard_form(link, key, bytes, Some(content_type));
    let response = s.http.post(link["url"].as_str().unwrap()).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 204);
}

use support::PNG;
