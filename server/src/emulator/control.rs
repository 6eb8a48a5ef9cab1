//! `/__emulator/*`: counters for tests to read (`GET /__emulator/stats`), and faults for
//! tests to switch on (`GET`/`POST /__emulator/faults`), served on the WeChat port to tools
//! (no `Origin`) and to the browser origins the emulator was started with ([`guard`]).

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

use axum::{
    body::Bytes,
    extract::{Request, State as Extract},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::{from_fn_with_state, Next},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde::{Deserialize, Serialize};

use super::State;

type Shared = std::sync::Arc<State>;

/// The control routes, behind [`guard`].
pub(crate) fn routes(state: Shared) -> Router<Shared> {
    Router::new()
        .route("/__emulator/stats", get(stats))
        .route("/__emulator/faults", get(get_faults).post(set_faults))
        .route_layer(from_fn_with_state(state, guard))
}

/// Counters of what the emulator has served (`GET /__emulator/stats`).
#[derive(Debug, Default)]
pub struct Stats {
    pub(crate) token_calls: AtomicU64,
    pub(crate) stable_token_calls: AtomicU64,
    pub(crate) upload_links: AtomicU64,
    pub(crate) uploads: AtomicU64,
    pub(crate) download_links: AtomicU64,
    pub(crate) downloads: AtomicU64,
    pub(crate) deletes: AtomicU64,
    pub(crate) preflights: AtomicU64,
    pub(crate) parts_stored: AtomicU64,
    pub(crate) part_bytes_received: AtomicU64,
    pub(crate) file_bytes_received: AtomicU64,
    pub(crate) rejected: Mutex<BTreeMap<String, u64>>,
}

/// A snapshot of [`Stats`], as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// `GET /cgi-bin/token` calls.
    pub token_calls: u64,
    /// `POST /cgi-bin/stable_token` calls.
    pub stable_token_calls: u64,
    /// Upload links issued by `tcb/uploadfile`.
    pub upload_links: u64,
    /// Objects stored by COS POST.
    pub uploads: u64,
    /// Download links issued by `tcb/batchdownloadfile`.
    pub download_links: u64,
    /// Object GETs served (2xx).
    pub downloads: u64,
    /// Objects deleted by `tcb/batchdeletefile`.
    pub deletes: u64,
    /// CORS preflights (`OPTIONS`) the COS port answered: a plain form upload needs none.
    pub preflights: u64,
    /// Multipart parts stored (UploadPart answered 200).
    pub parts_stored: u64,
    /// Bytes of part bodies received, stored or not (a dropped part's count too): what a
    /// client sent, resent parts included.
    pub part_bytes_received: u64,
    /// Bytes of form uploads' `file` received, stored or not (as for parts).
    pub file_bytes_received: u64,
    /// Refused requests by error: WeChat errcodes as numbers, COS codes by name.
    pub rejected: BTreeMap<String, u64>,
    /// Objects stored now.
    pub objects: u64,
    /// Files in the store's `tmp/`: uploads being received, and the parts of multipart
    /// uploads in progress. Zero when neither is, whatever failed before: a refused,
    /// dropped or cancelled upload leaves none, nor an aborted or completed multipart one.
    pub partial_files: u64,
    /// Multipart uploads initiated and neither completed nor aborted.
    pub multipart_uploads: u64,
    /// Temporary keys from `/_/cos/getauth` not yet expired (pruned once a minute).
    pub temp_keys: u64,
    /// Upload links issued and not yet expired (expired ones are pruned once a minute).
    pub live_links: u64,
    /// Access tokens remembered (expired ones are pruned once a minute).
    pub live_tokens: u64,
}

impl Stats {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn reject(&self, code: impl ToString) {
        *self.rejected.lock().unwrap().entry(code.to_string()).or_default() += 1;
    }

    pub(crate) fn snapshot(&self, state: &super::State) -> StatsSnapshot {
        let store = &state.store;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            token_calls: get(&self.token_calls),
            stable_token_calls: get(&self.stable_token_calls),
            upload_links: get(&self.upload_links),
            uploads: get(&self.uploads),
            download_links: get(&self.download_links),
            downloads: get(&self.downloads),
            deletes: get(&self.deletes),
            preflights: get(&self.preflights),
            parts_stored: get(&self.parts_stored),
            part_bytes_received: get(&self.part_bytes_received),
            file_bytes_received: get(&self.file_bytes_received),
            rejected: self.rejected.lock().unwrap().clone(),
            objects: store.len() as u64,
            partial_files: store.partial_files() as u64,
            multipart_uploads: state.uploads.len() as u64,
            temp_keys: state.temp_keys.len() as u64,
            live_links: state.links.lock().unwrap().len() as u64,
            live_tokens: state.tokens.len() as u64,
        }
    }
}

/// Faults to inject (`POST /__emulator/faults`, the whole set at once; all off by default).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Delay before answering any request on either port, in milliseconds.
    pub latency_ms: u64,
    /// The next N COS requests (upload or download) get `503 ServiceUnavailable`.
    pub fail_next: u32,
    /// Share (0–1) of COS requests that get `503 ServiceUnavailable`.
    pub fail_rate: f64,
    /// The next N COS requests have their connection dropped mid-body.
    pub drop_next: u32,
    /// The next N COS uploads find their link expired (`400 ExpiredToken`).
    pub expire_next: u32,
    /// COS reads upload bodies at most this fast, bytes per second (0: as fast as it can),
    /// like a slow uplink.
    pub cos_bytes_per_second: u64,
    /// Once COS has received this many more bytes of upload bodies (forms' files and
    /// parts), the connection that brought the last of them is dropped, once: a connection
    /// lost part way through a large upload (0: off).
    pub drop_after_bytes: u64,
    /// Bytes received toward `drop_after_bytes` (not settable: counted from when it is set).
    #[serde(skip)]
    pub(crate) received_toward_drop: u64,
    /// The next N uploads (forms or parts) have one byte flipped after the signature check, as corruption
    /// in flight would: the object stored, and its ETag and CRC-64, differ from what was sent.
    pub corrupt_next: u32,
    /// How COS answers carry `x-cos-hash-crc64ecma` (see [`CrcHeader`]).
    pub crc_header: CrcHeader,
}

/// Whether a page can read an object's CRC-64 from COS's answers. Which of these a WeChat
/// bucket does is unknown (wechat-storage-facts.md §6b), so every one can be tested.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrcHeader {
    /// Sent on uploads and downloads and listed in `Access-Control-Expose-Headers`, as COS
    /// documents it for a bucket whose CORS rule exposes it.
    #[default]
    Exposed,
    /// Sent, but not exposed: a bucket whose CORS rule does not list it (a browser hides it).
    Hidden,
    /// Not sent at all, as in the example answers of COS's POST Object page.
    Absent,
}

/// The largest latency fault, ms: long enough for any stall test, short enough that a
/// mistaken value cannot hang every later call for good.
pub const MAX_LATENCY_MS: u64 = 120_000;
/// The largest count of a `*_next` fault.
pub const MAX_FAULT_COUNT: u32 = 10_000;

impl Faults {
    /// Refuses values that make no sense or would hang the emulator.
    pub fn check(&self) -> Result<(), String> {
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(format!("latency_ms must be at most {MAX_LATENCY_MS}"));
        }
        if !(0.0..=1.0).contains(&self.fail_rate) {
            return Err("fail_rate must be between 0 and 1".into());
        }
        if [self.fail_next, self.drop_next, self.expire_next, self.corrupt_next]
            .iter()
            .any(|n| *n > MAX_FAULT_COUNT)
        {
            return Err(format!(
                "fail_next, drop_next, expire_next and corrupt_next must be at most {MAX_FAULT_COUNT}"
            ));
        }
        if self.cos_bytes_per_second != 0 && !(1024..=1 << 30).contains(&self.cos_bytes_per_second) {
            return Err("cos_bytes_per_second must be 0 (off) or from 1024 to 1073741824".into());
        }
        Ok(())
    }
}

/// What to do with one COS request, drawn from the faults (counts are consumed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CosFault {
    None,
    Fail,
    Drop,
}

impl Faults {
    pub(crate) fn draw_cos(&mut self) -> CosFault {
        if self.fail_next > 0 {
            self.fail_next -= 1;
            CosFault::Fail
        } else if self.drop_next > 0 {
            self.drop_next -= 1;
            CosFault::Drop
        } else if self.fail_rate > 0.0 && rand::random::<f64>() < self.fail_rate {
            CosFault::Fail
        } else {
            CosFault::None
        }
    }

    pub(crate) fn take_expire(&mut self) -> bool {
        take(&mut self.expire_next)
    }

    pub(crate) fn take_corrupt(&mut self) -> bool {
        take(&mut self.corrupt_next)
    }

    /// Counts `bytes` of an upload body just received: whether its connection is the one
    /// `drop_after_bytes` drops (the fault is then spent).
    pub(crate) fn take_drop_after(&mut self, bytes: u64) -> bool {
        if self.drop_after_bytes == 0 {
            return false;
        }
        self.received_toward_drop += bytes;
        if self.received_toward_drop < self.drop_after_bytes {
            return false;
        }
        (self.drop_after_bytes, self.received_toward_drop) = (0, 0);
        true
    }
}

/// Consumes one of a `*_next` count; whether there was one.
fn take(count: &mut u32) -> bool {
    let hit = *count > 0;
    *count = count.saturating_sub(1);
    hit
}

/// Guards the control routes. A request from a browser page carries `Origin`: it is served
/// only when that origin was configured (`--control-origin`), and refused with 403 before
/// anything happens otherwise. (CORS alone would not do: a cross-site "simple" POST is
/// executed even when the browser hides the answer.) Tools send no `Origin` and pass.
pub(crate) async fn guard(
    Extract(state): Extract<std::sync::Arc<State>>,
    request: Request,
    next: Next,
) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let Some(origin) = origin else { return next.run(request).await };
    let allowed = origin.to_str().is_ok_and(|o| state.config.control_origins.iter().any(|c| c == o));
    if !allowed {
        return (
            StatusCode::FORBIDDEN,
            "this origin may not drive the emulator: start it with --control-origin",
        )
            .into_response();
    }
    let preflight = request.method() == Method::OPTIONS;
    let mut response =
        if preflight { StatusCode::NO_CONTENT.into_response() } else { next.run(request).await };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if preflight {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    }
    response
}

async fn stats(Extract(state): Extract<Shared>) -> Response {
    Json(state.stats.snapshot(&state)).into_response()
}

async fn get_faults(Extract(state): Extract<Shared>) -> Response {
    Json(state.faults.lock().unwrap().clone()).into_response()
}

async fn set_faults(Extract(state): Extract<Shared>, body: Bytes) -> Response {
    let faults = serde_json::from_slice::<Faults>(&body).map_err(|e| e.to_string()).and_then(|faults| {
        faults.check()?;
        Ok(faults)
    });
    match faults {
        Ok(faults) => {
            *state.faults.lock().unwrap() = faults.clone();
            Json(faults).into_response()
        }
        Err(message) => {
            (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "text/plain")], message).into_response()
        }
    }
}
