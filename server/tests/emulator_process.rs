//! The `wxcs emulate` binary as a separate process: a 300 MiB round trip with the
//! emulator's peak memory read from /proc, a crash (SIGKILL) in the middle of an upload,
//! and SIGKILLs at random points of a stream of uploads and overwrites.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use support::{
    process::{peak_rss_kib, spawn},
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

async fn link(http: &reqwest::Client, wx: &str, path: &str) -> Value {
    let token = &support::stable_token(http, wx, "wx0000000000emulator", "emulator-app-secret", false).await;
    let url = format!("{wx}/tcb/uploadfile?access_token={token}");
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
    let link = link(&http, &p.wx, "big/300mib.bin").await;
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
    let link = link(&http, &p.wx, "crash.bin").await;
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

/// An upload link for `path`, or `None` when the emulator does not answer.
async fn try_link(http: &reqwest::Client, wx: &str, path: &str) -> Option<Value> {
    let body = json!({"grant_type": "client_credential", "appid": "wx0000000000emulator", "secret": "emulator-app-secret"});
    let token: Value =
        http.post(format!("{wx}/cgi-bin/stable_token")).json(&body).send().await.ok()?.json().await.ok()?;
    let url = format!("{wx}/tcb/uploadfile?access_token={}", token["access_token"].as_str()?);
    let link: Value = http
        .post(url)
        .json(&json!({"env": "dev-emulator", "path": path}))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    (link["errcode"] == 0).then_some(link)
}

/// What a writer knows of one key: every version it sent (by SHA-1), and the newest one
/// the emulator acknowledged.
#[derive(Default, Clone)]
struct Versions {
    sent: Vec<String>,
    acked: Option<usize>,
    acks: usize,
}

/// SIGKILL at random points in a stream of uploads and overwrites, many times over: after
/// each restart, every acknowledged upload is intact byte for byte (the newest acknowledged
/// version, or a newer one that was in flight, whole), nothing torn is visible, no temp or
/// orphaned file is left, and the store keeps serving.
#[tokio::test]
async fn killed_at_random_points_the_store_keeps_every_acknowledged_upload() {
    use std::sync::{Arc, Mutex};
    const KEYS: usize = 6;
    const ROUNDS: usize = 8;
    let data = temp_dir("kill");
    let http = reqwest::Client::new();
    let versions: Arc<Mutex<Vec<Versions>>> = Arc::new(Mutex::new(vec![Versions::default(); KEYS]));
    let mut kill_points = Vec::new();
    for round in 0..ROUNDS {
        let mut p = spawn(&data).await;
        // Writers: each key overwritten again and again with new contents.
        let writers: Vec<_> = (0..KEYS)
            .map(|k| {
                let (http, versions, wx) = (http.clone(), versions.clone(), p.wx.clone());
                tokio::spawn(async move {
                    for n in 0.. {
                        let path = format!("kill/{k}.bin");
                        // The emulator may die at any moment: every failure ends this writer.
                        let Some(link) = try_link(&http, &wx, &path).await else { break };
                        let size = 1024 * (16 + (n * 37 + k * 11 + round * 5) % 512);
                        let bytes: Vec<u8> =
                            (0..size).map(|i| ((i * 31 + n * 7 + k + round * 13) % 251) as u8).collect();
                        let digest = hex::encode(Sha1::digest(&bytes));
                        let version = {
                            let mut all = versions.lock().unwrap();
                            all[k].sent.push(digest);
                            all[k].sent.len() - 1
                        };
                        let len = bytes.len() as u64;
                        let sent = http
                            .post(link["url"].as_str().unwrap())
                            .multipart(form(&link, &path, bytes.into(), len))
                            .send()
                            .await;
                        match sent {
                            Ok(r) if r.status() == 204 => {
                                let mut all = versions.lock().unwrap();
                                all[k].acked = Some(version);
                                all[k].acks += 1;
                            }
                            _ => break, // the emulator died mid-request
                        }
                    }
                })
            })
            .collect();
        let kill_after = 50 + rand::random::<u64>() % 450;
        kill_points.push(kill_after);
        tokio::time::sleep(Duration::from_millis(kill_after)).await;
        p.child.kill().unwrap(); // SIGKILL
        let _ = p.child.wait();
        for writer in writers {
            let _ = writer.await;
        }
        // Restart and check every key against what its writer knows.
        let p = spawn(&data).await;
        let token =
            support::stable_token(&http, &p.wx, "wx0000000000emulator", "emulator-app-secret", false).await;
        let all = versions.lock().unwrap().clone();
        for (k, key) in all.iter().enumerate() {
            let file_id = format!(
                "cloud://dev-emulator.{}/kill/{k}.bin",
                wx_cloud_storage_server::emulator::Config::default().bucket()
            );
            let url = format!("{}/tcb/batchdownloadfile?access_token={token}", p.wx);
            let answer = support::post_json(
                &http,
                &url,
                &json!({"env": "dev-emulator", "file_list": [{"fileid": file_id, "max_age": 60}]}),
            )
            .await;
            let item = &answer["file_list"][0];
            if item["status"] != 0 {
                assert!(key.acked.is_none(), "round {round}: key {k} lost its acknowledged version");
                continue;
            }
            let body = http.get(item["download_url"].as_str().unwrap()).send().await.unwrap();
            assert_eq!(body.status(), 200, "round {round}: key {k} is listed but does not serve");
            let digest = hex::encode(Sha1::digest(body.bytes().await.unwrap()));
            let at = key.sent.iter().position(|d| *d == digest);
            assert!(at.is_some(), "round {round}: key {k} holds bytes nobody sent whole (torn)");
            assert!(
                at >= key.acked,
                "round {round}: key {k} went back to a version older than the acknowledged one"
            );
        }
        assert_eq!(
            std::fs::read_dir(data.join("tmp")).unwrap().count(),
            0,
            "round {round}: temp files leaked"
        );
        let stats: Value =
            http.get(format!("{}/__emulator/stats", p.wx)).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            std::fs::read_dir(data.join("objects")).unwrap().count() as u64,
            stats["objects"].as_u64().unwrap(),
            "round {round}: orphaned bytes in objects/"
        );
        drop(p);
    }
    let acked: usize = versions.lock().unwrap().iter().map(|v| v.acks).sum();
    eprintln!("{ROUNDS} kills at {kill_points:?} ms; {acked} uploads acknowledged, all intact");
    let _ = std::fs::remove_dir_all(data);
}
