//! The `wxcs emulate` binary as a separate process: a 300 MiB round trip with the
//! emulator's peak memory read from /proc, and a crash (SIGKILL) in the middle of an upload.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use support::{
    process::{peak_rss_kib, spawn, Process},
    temp_dir,
};

/// `len` deterministic bytes as a stream of 64 KiB chunks, never all in memory.
fn generated(len: u64) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    const CHUNK: u64 = 64 * 1024;
    futures_util::stream::iter((0..len.div_ceil(CHUNK)).map(move |i| {
        let n = CHUNK.min(len - i * CHUNK) as usize;
        Ok((0..n).map(|j| ((i as usize * 7 + j * 13) % 251) as u8).collect())
    }))
}

async fn sha1_of(stream: impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>>) -> String {
    let mut hasher = Sha1::new();
    let mut stream = std::pin::pin!(stream);
    while let Some(chunk) = stream.next().await {
        hasher.update(chunk.unwrap());
    }
    hex::encode(hasher.finalize())
}

async fn link(http: &reqwest::Client, p: &Process, path: &str) -> Value {
    let token =
        &support::stable_token(http, &p.wx, "wx0000000000emulator", "emulator-app-secret", false).await;
    let url = format!("{}/tcb/uploadfile?access_token={token}", p.wx);
    let mut link = support::post_json(http, &url, &json!({"env": "dev-emulator", "path": path})).await;
    link["access_token"] = json!(token);
    link
}

fn form(link: &Value, path: &str, file: reqwest::Body, len: u64) -> Form {
    support::form_with_file(link, path, Part::stream_with_length(file, len).file_name("big.bin"), None)
}

#[tokio::test]
async fn a_300_mib_round_trip_is_exact_and_the_emulators_memory_stays_flat() {
    const LEN: u64 = 300 * 1024 * 1024;
    let data = temp_dir("big");
    let p = spawn(&data).await;
    let http = reqwest::Client::new();
    let before = peak_rss_kib(p.child.id());
    let link = link(&http, &p, "big/300mib.bin").await;
    let response = http
        .post(link["url"].as_str().unwrap())
        .multipart(form(&link, "big/300mib.bin", reqwest::Body::wrap_stream(generated(LEN)), LEN))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    let token = link["access_token"].as_str().unwrap();
    let url = format!("{}/tcb/batchdownloadfile?access_token={token}", p.wx);
    let body = json!({"env": "dev-emulator", "file_list": [{"fileid": link["file_id"], "max_age": 600}]});
    let answer: Value = http.post(url).json(&body).send().await.unwrap().json().await.unwrap();
    let download = http.get(answer["file_list"][0]["download_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(download.headers()["content-length"], LEN.to_string().as_str());
    let got =
        sha1_of(download.bytes_stream().map(|c| c.map(|b| b.to_vec()).map_err(std::io::Error::other))).await;
    assert_eq!(got, sha1_of(generated(LEN)).await, "byte-for-byte equal");

    let after = peak_rss_kib(p.child.id());
    eprintln!("emulator peak RSS: {before} KiB before, {after} KiB after moving 300 MiB each way");
    // Streaming to and from disk: the peak grows by far less than the 300 MiB moved.
    assert!(after - before < 48 * 1024, "emulator peak RSS grew {} KiB (from {before} KiB)", after - before);
    drop(p);
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test]
async fn a_crash_mid_upload_leaves_no_partial_object() {
    let data = temp_dir("crash");
    let mut p = spawn(&data).await;
    let http = reqwest::Client::new();
    let link = link(&http, &p, "crash.bin").await;
    // 64 MiB at a trickle, so the upload is certainly in flight when the process dies.
    let slow = generated(64 * 1024 * 1024).then(|chunk| async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        chunk
    });
    let upload = tokio::spawn({
        let http = http.clone();
        let url = link["url"].as_str().unwrap().to_owned();
        let form = form(&link, "crash.bin", reqwest::Body::wrap_stream(slow), 64 * 1024 * 1024);
        async move { http.post(url).multipart(form).send().await }
    });
    let tmp = data.join("tmp");
    for _ in 0..200 {
        let in_flight =
            std::fs::read_dir(&tmp).unwrap().filter_map(Result::ok).any(|e| e.metadata().unwrap().len() > 0);
        if in_flight {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(std::fs::read_dir(&tmp).unwrap().count() > 0, "the upload reached the disk before the crash");
    p.child.kill().unwrap(); // SIGKILL: no cleanup runs
    p.child.wait().unwrap();
    assert!(upload.await.unwrap().is_err(), "the client sees the connection die");

    let p2 = spawn(&data).await;
    let token = link["access_token"].as_str().unwrap();
    // Tokens do not survive a restart (they live in memory, like a fresh WeChat session).
    let url = format!("{}/tcb/batchdownloadfile?access_token={token}", p2.wx);
    let body = json!({"env": "dev-emulator", "file_list": [{"fileid": link["file_id"], "max_age": 60}]});
    let stale = support::post_json(&http, &url, &body).await;
    assert_eq!(stale["errcode"], 40001);
    let stats: Value =
        http.get(format!("{}/__emulator/stats", p2.wx)).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["objects"], 0, "no partial object is visible after the crash");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0, "leftovers are cleared at start");
    assert_eq!(std::fs::read_dir(data.join("objects")).unwrap().count(), 0);
    drop(p2);
    let _ = std::fs::remove_dir_all(data);
}
