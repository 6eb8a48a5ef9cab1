//! Soak: thousands of uploads and overwrites through `wxcs serve` and `wxcs emulate`, both
//! as processes, with COS failing 5 % of requests and dropping connections mid-body now and
//! then. Every acknowledged upload must come back byte for byte, nothing half-written may
//! remain, and neither process may grow its memory with the count of uploads.
//!
//! `WXCS_SOAK_UPLOADS` sets the count (2,000 by default, as the test command runs it); the
//! README's longer run is 10,000 on the release build.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use support::{
    process::{rss_kib, spawn_backend, spawn_with},
    temp_dir,
};
use wx_cloud_storage_core::{protocol::UploadCredentials, UploadForm, FILE_FIELD};

const TOKEN: &str = "soak-token";
/// Keys the uploads cycle through (each round writes every key once).
const KEYS: usize = 500;
/// Uploads in flight at once.
const CONCURRENCY: usize = 32;
/// Tries per upload, each with a fresh link, as the library does.
const TRIES: usize = 10;

/// Upload `i`'s bytes: 1 B to 64 KiB, a pattern seeded by `i`.
fn bytes_of(i: usize) -> Vec<u8> {
    let len = 1 + (i * 7919) % (64 * 1024);
    (0..len).map(|j| ((i * 31 + j * 7) % 251) as u8).collect()
}

fn sha1(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

/// One upload through the contract, retried on 5xx and dropped connections; its file ID.
async fn upload(http: &reqwest::Client, backend: &str, i: usize) -> Result<String, String> {
    let path = format!("soak/{}.bin", i % KEYS);
    let bytes = bytes_of(i);
    let mut last = String::new();
    for _ in 0..TRIES {
        let body = json!({"path": path, "size": bytes.len(), "contentType": "application/octet-stream"});
        let answer = http
            .post(format!("{backend}/api/storage/upload-credentials"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !answer.status().is_success() {
            return Err(format!("credentials: {}", answer.status()));
        }
        let credentials: UploadCredentials = answer.json().await.map_err(|e| e.to_string())?;
        let plan = UploadForm::new(&credentials, &path, Some("application/octet-stream")).unwrap();
        let mut form = Form::new();
        for (name, value) in plan.fields() {
            form = form.text(name, value.to_owned());
        }
        form = form.part(FILE_FIELD, Part::bytes(bytes.clone()).file_name("f"));
        match http.post(plan.url()).multipart(form).send().await {
            Ok(r) if r.status() == 204 => return Ok(credentials.file_id),
            Ok(r) if r.status().is_server_error() => last = r.status().to_string(),
            Ok(r) => return Err(format!("{}: {}", r.status(), r.text().await.unwrap_or_default())),
            Err(e) => last = e.to_string(), // a dropped connection
        }
    }
    Err(format!("{TRIES} tries failed, last: {last}"))
}

/// `url`'s bytes, asked again while the faults answer 503 or drop the connection.
async fn download(http: &reqwest::Client, url: &str) -> Vec<u8> {
    for _ in 0..TRIES {
        if let Ok(r) = http.get(url).send().await {
            if r.status().is_success() {
                if let Ok(bytes) = r.bytes().await {
                    return bytes.to_vec();
                }
            }
        }
    }
    panic!("{url}: {TRIES} downloads failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousands_of_uploads_with_faults_lose_nothing_and_memory_stays_flat() {
    let count: usize = std::env::var("WXCS_SOAK_UPLOADS").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let data = temp_dir("soak");
    // Links live 5 s here (WeChat's: 900), so the run reaches the steady state where links
    // expire as fast as they are issued; the store holds KEYS objects, each overwritten.
    let emulator = spawn_with(&data, &["--link-ttl", "5"]).await;
    let backend = spawn_backend(&emulator.wx, &format!("{TOKEN}=soak")).await;
    let http = reqwest::Client::new();
    let faults = {
        let (http, url) = (http.clone(), format!("{}/__emulator/faults", emulator.wx));
        move |body: Value| {
            let (http, url) = (http.clone(), url.clone());
            async move { assert!(http.post(url).json(&body).send().await.unwrap().status().is_success()) }
        }
    };
    // Faults on for the whole run: 5 % of COS requests fail, and every 250 ms the next
    // two lose their connection mid-body.
    faults(json!({"fail_rate": 0.05})).await;
    let dropper = tokio::spawn({
        let faults = faults.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                faults(json!({"fail_rate": 0.05, "drop_next": 2})).await;
            }
        }
    });

    // Rounds of KEYS uploads, one per key, so no two writes of a key are ever in flight
    // together: after each round every key must hold exactly that round's bytes.
    let mut rss_warm = (0, 0);
    let (mut failed, mut corrupted) = (Vec::new(), Vec::new());
    let rounds = count.div_ceil(KEYS);
    for round in 0..rounds {
        let uploads = (round * KEYS..count.min((round + 1) * KEYS)).map(|i| {
            let (http, url) = (http.clone(), backend.url.clone());
            async move { (i, upload(&http, &url, i).await) }
        });
        let done: Vec<_> = futures_util::stream::iter(uploads).buffer_unordered(CONCURRENCY).collect().await;
        let mut acked = Vec::new();
        for (i, result) in done {
            match result {
                Ok(file_id) => acked.push((i, file_id)),
                Err(e) => failed.push((i, e)),
            }
        }
        for batch in acked.chunks(50) {
            let ids: Vec<&str> = batch.iter().map(|(_, id)| id.as_str()).collect();
            let answer: Value = http
                .post(format!("{}/api/storage/download-urls", backend.url))
                .bearer_auth(TOKEN)
                .json(&json!({"file_ids": ids}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let fetches = batch.iter().zip(answer["file_list"].as_array().unwrap()).map(|((i, _), item)| {
                let http = http.clone();
                let url = item["download_url"].as_str().unwrap_or_default().to_owned();
                async move { (*i, sha1(&download(&http, &url).await) == sha1(&bytes_of(*i))) }
            });
            corrupted.extend(futures_util::future::join_all(fetches).await.into_iter().filter(|(_, ok)| !ok));
        }
        // Warm: two rounds in, links issued have started to expire as fast as new ones come.
        if round == 1.min(rounds - 1) {
            rss_warm = (rss_kib(emulator.child.id()), rss_kib(backend.child.id()));
        }
    }
    let rss_end = (rss_kib(emulator.child.id()), rss_kib(backend.child.id()));
    dropper.abort();
    faults(json!({})).await;

    let stats: Value =
        http.get(format!("{}/__emulator/stats", emulator.wx)).send().await.unwrap().json().await.unwrap();
    let links = stats["upload_links"].as_u64().unwrap();
    eprintln!(
        "soak: {count} uploads took {links} links ({} retried after a fault; {} COS 503s); \
         RSS KiB emulator {} -> {}, backend {} -> {}",
        links - count as u64,
        stats["rejected"]["ServiceUnavailable"],
        rss_warm.0,
        rss_end.0,
        rss_warm.1,
        rss_end.1,
    );
    assert!(failed.is_empty(), "{} uploads failed for good, e.g. {:?}", failed.len(), failed.first());
    assert!(
        corrupted.is_empty(),
        "{} objects lost or corrupted, e.g. {:?}",
        corrupted.len(),
        corrupted.first()
    );
    assert_eq!(stats["objects"], KEYS.min(count) as u64);
    assert_eq!(stats["partial_files"], 0, "no half-written upload remains");
    assert!(links > count as u64, "faults forced retries: {stats}");
    // Flat: from the end of the warm-up to the end, neither process grows by more
    // than a few MiB, whatever the count.
    for (name, warm, end) in [("emulator", rss_warm.0, rss_end.0), ("backend", rss_warm.1, rss_end.1)] {
        assert!(end < warm + 4 * 1024, "{name} RSS grew from {warm} KiB to {end} KiB over {count} uploads");
    }
    drop((backend, emulator));
    let _ = std::fs::remove_dir_all(data);
}
