//! The emulator's own surface: form limits while streaming, its data directory, its control
//! routes, its signing keys, pruning, and one key under concurrent writers.

use super::*;

/// A multipart body streamed from an iterator of chunks.
fn streamed(parts: impl Iterator<Item = Vec<u8>> + Send + 'static) -> reqwest::Body {
    reqwest::Body::wrap_stream(futures_util::stream::iter(parts.map(Ok::<_, std::io::Error>)))
}

/// Hole 5: an unauthenticated 300 MiB text field, or 40,000 fields, are refused while they
/// stream in, with the emulator's memory flat.
#[tokio::test]
async fn huge_or_countless_form_fields_are_refused_while_streaming() {
    let data = temp_dir("fields");
    let p = spawn(&data).await;
    let http = reqwest::Client::new();
    let url = format!("{}/{}/k", p.cos, Config::default().bucket());
    let before = peak_rss_kib(p.child.id());
    let boundary = "XYZ";
    // One text field of 300 MiB.
    let head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n").into_bytes();
    let body = std::iter::once(head).chain((0..300).map(|_| vec![b'a'; 1024 * 1024]));
    let post = |body: reqwest::Body| {
        http.post(&url)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
    };
    // The emulator may answer before the body is all sent and close: then the client sees
    // an error, and the stats below say what was refused.
    if let Ok(response) = post(streamed(body)).await {
        assert_eq!(response.status(), 400);
        let text = response.text().await.unwrap();
        assert!(text.contains("InvalidArgument"), "{text}");
    }
    // 40,000 fields of 8 KB.
    let field = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"x-field\"\r\n\r\n{}\r\n",
        "b".repeat(8000)
    );
    let body = (0..40_000).map(move |_| field.clone().into_bytes());
    if let Ok(response) = post(streamed(body)).await {
        assert_eq!(response.status(), 400);
    }
    let after = peak_rss_kib(p.child.id());
    assert!(after - before < 32 * 1024, "the emulator's peak memory grew {} KiB", after - before);
    let stats: Value =
        http.get(format!("{}/__emulator/stats", p.wx)).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["rejected"]["InvalidArgument"], 1, "the long field was refused: {stats}");
    assert_eq!(
        stats["rejected"]["MalformedPOSTRequest"], 1,
        "the form of countless fields was refused: {stats}"
    );
    // A metadata value over COS's 2 KB.
    let token =
        support::stable_token(&http, &p.wx, "wx0000000000emulator", "emulator-app-secret", false).await;
    let link = support::post_json(
        &http,
        &format!("{}/tcb/uploadfile?access_token={token}", p.wx),
        &json!({"env": "dev-emulator", "path": "m.bin"}),
    )
    .await;
    let form = Form::new()
        .text("key", "m.bin")
        .text("x-cos-meta-note", "n".repeat(2049))
        .part("file", Part::bytes(vec![1]));
    let response = http.post(link["url"].as_str().unwrap()).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("MetadataTooLarge"));
    drop(p);
}

/// Hole 6: the store never deletes what it did not create, and refuses a foreign directory.
#[tokio::test]
async fn the_emulator_never_deletes_files_it_did_not_create() {
    // A project folder: refused, untouched.
    let project = temp_dir("project");
    std::fs::write(project.join("notes.txt"), "mine").unwrap();
    std::fs::create_dir_all(project.join("tmp")).unwrap();
    std::fs::write(project.join("tmp/draft.txt"), "mine too").unwrap();
    let output = Command::new(wxcs())
        .args(["emulate", "--wx-port", "0", "--cos-port", "0", "--data-dir"])
        .arg(&project)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a wxcs store"), "{output:?}");
    assert_eq!(std::fs::read_to_string(project.join("tmp/draft.txt")).unwrap(), "mine too");
    assert_eq!(std::fs::read_to_string(project.join("notes.txt")).unwrap(), "mine");
    // A real store: only its own leftovers go; anything else in tmp/ stays.
    let store = temp_dir("store");
    let emu = support::start_with(|c| c.data_dir = store.clone()).await;
    emu.running.shutdown().await;
    std::fs::write(store.join("tmp/0123456789abcdef0123456789abcdef"), "a crashed upload").unwrap();
    std::fs::write(store.join("tmp/0123abcd"), "hex, but not a name the store writes").unwrap();
    std::fs::create_dir_all(store.join("tmp/kept")).unwrap();
    std::fs::write(store.join("tmp/kept/file"), "not the store's").unwrap();
    std::fs::write(store.join("tmp/README"), "not the store's").unwrap();
    let emu = support::start_with(|c| c.data_dir = store.clone()).await;
    assert!(!store.join("tmp/0123456789abcdef0123456789abcdef").exists(), "the store's leftover is removed");
    assert!(store.join("tmp/0123abcd").exists(), "only names of the exact shape the store writes go");
    assert!(store.join("tmp/kept/file").exists() && store.join("tmp/README").exists());
    emu.running.shutdown().await;
}

/// Asserts that `wxcs emulate` refuses `dir` as its store (and exits; a wrongly adopted
/// store would serve, so it is killed after 10 s).
fn refused_as_store(dir: &std::path::Path) {
    let mut child = Command::new(wxcs())
        .args(["emulate", "--wx-port", "0", "--cos-port", "0", "--data-dir"])
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.is_some_and(|s| !s.success()), "{} was taken for a store", dir.display());
}

/// Second review, hole H: an unmarked folder is adopted only when it really is an old store
/// (all three folders, metadata that parses); plain files with hex names are never taken for
/// the store's.
#[tokio::test]
async fn the_emulator_adopts_only_real_old_stores() {
    // A folder holding only tmp/ (or only objects/), with files whose names are all hex.
    for only in ["tmp", "objects", "meta"] {
        let dir = temp_dir("only-one");
        std::fs::create_dir_all(dir.join(only)).unwrap();
        for name in ["2024", "cafe", "abc123", "0123456789abcdef0123456789abcdef"] {
            std::fs::write(dir.join(only).join(name), "someone's").unwrap();
        }
        refused_as_store(&dir);
        for name in ["2024", "cafe", "abc123", "0123456789abcdef0123456789abcdef"] {
            assert!(dir.join(only).join(name).exists(), "{only}/{name} deleted");
        }
    }
    // All three folders, but metadata that is not the store's.
    let dir = temp_dir("three");
    for folder in ["tmp", "objects", "meta"] {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
    }
    std::fs::write(dir.join("meta/notes.json"), "{\"mine\": true}").unwrap();
    std::fs::write(dir.join("objects/0123456789abcdef0123456789abcdef"), "someone's").unwrap();
    refused_as_store(&dir);
    assert!(dir.join("objects/0123456789abcdef0123456789abcdef").exists());
}

/// Second review, hole H: a store never follows a symlink, nor metadata naming a file
/// outside `objects/`.
#[tokio::test]
async fn the_emulator_follows_no_symlink_and_no_foreign_metadata() {
    // A store whose tmp/ is a symlink into someone else's folder.
    let victim = temp_dir("victim");
    std::fs::write(victim.join("0123456789abcdef0123456789abcdef"), "someone's").unwrap();
    let store = temp_dir("linked");
    let emu = support::start_with(|c| c.data_dir = store.clone()).await;
    emu.running.shutdown().await;
    std::fs::remove_dir_all(store.join("tmp")).unwrap();
    std::os::unix::fs::symlink(&victim, store.join("tmp")).unwrap();
    refused_as_store(&store);
    assert!(victim.join("0123456789abcdef0123456789abcdef").exists(), "deleted through a symlink");
    // Metadata whose data name leaves objects/: refused, never served.
    let store = temp_dir("escape");
    let emu = support::start_with(|c| c.data_dir = store.clone()).await;
    emu.running.shutdown().await;
    std::fs::write(victim.join("secret.txt"), "someone's secret").unwrap();
    let meta = serde_json::json!({
        "key": "users/alice/x.txt", "size": 16, "content_type": "text/plain", "etag": "\"x\"", "crc64": "1",
        "file_meta": null, "data": format!("../../{}/secret.txt", victim.file_name().unwrap().to_str().unwrap()),
    });
    std::fs::write(store.join("meta/0000000000000000000000000000000000000000.json"), meta.to_string())
        .unwrap();
    let emu = support::start_with(|c| c.data_dir = store.clone()).await;
    let stats: Value = emu
        .http
        .get(format!("{}/__emulator/stats", emu.running.wx_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["objects"], 0, "metadata naming a foreign file is not an object");
    emu.running.shutdown().await;
    assert!(victim.join("secret.txt").exists());
}

/// Hole 9: a web page cannot drive the emulator's control routes, and every fault value is
/// bounded.
#[tokio::test]
async fn control_routes_answer_only_configured_origins_with_bounded_values() {
    let emu = support::start_with(|c| c.control_origins = vec!["http://tests.local".into()]).await;
    let faults = emu.wx("/__emulator/faults");
    for origin in ["http://evil.example", "null", "http://tests.local.evil.example"] {
        // A cross-site "simple" POST: the browser would send it with no preflight.
        let r = emu
            .http
            .post(&faults)
            .header("origin", origin)
            .header("content-type", "text/plain")
            .body(r#"{"latency_ms": 100000}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{origin}");
        assert!(!r.headers().contains_key("access-control-allow-origin"));
    }
    assert_eq!(
        emu.http.get(&faults).send().await.unwrap().json::<Value>().await.unwrap()["latency_ms"],
        0,
        "nothing applied"
    );
    let allowed = emu
        .http
        .post(&faults)
        .header("origin", "http://tests.local")
        .json(&json!({"fail_next": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.headers()["access-control-allow-origin"], "http://tests.local");
    for bad in [
        json!({"latency_ms": 18446744073709551615u64}),
        json!({"latency_ms": 120001}),
        json!({"fail_rate": 1.5}),
        json!({"fail_rate": -0.1}),
        json!({"drop_next": 10001}),
        json!({"corrupt_next": 10001}),
        json!({"crc_header": "sometimes"}),
        json!({"cos_bytes_per_second": 10}),
        json!({"unknown": 1}),
    ] {
        let r = emu.http.post(&faults).json(&bad).send().await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    emu.faults(json!({})).await;
}

/// Hole 10: each emulator start signs with a new random key: links of one start, and links
/// signed with the old fixed key, are refused.
#[tokio::test]
async fn signing_keys_are_random_per_start() {
    let a = support::start().await;
    let b = support::start().await;
    assert_ne!(a.config.cos_secret_key.expose_secret(), b.config.cos_secret_key.expose_secret());
    assert_ne!(
        a.config.cos_secret_key.expose_secret(),
        "wxcs-emulator-cos-secret-key",
        "the old fixed key is gone"
    );
    let token_a = a.token().await;
    let link_a = a.upload_link(&token_a, "k.bin").await;
    // A's signature posted to B, with a token B issued for the same key.
    let token_b = b.token().await;
    let mut link_b = b.upload_link(&token_b, "k.bin").await;
    link_b["authorization"] = link_a["authorization"].clone();
    let r = b.post_form(&link_b, support::standard_form(&link_b, "k.bin", vec![1], None)).await;
    support::expect_cos_error(r, 403, "SignatureDoesNotMatch").await;
    // A download URL forged with the old fixed key.
    let stored = b.upload(&token_b, "x.bin", vec![1]).await;
    let item = b.download_item(&token_b, stored["file_id"].as_str().unwrap(), 60).await;
    let url = item["download_url"].as_str().unwrap();
    let (base, query) = url.split_once('?').unwrap();
    let t = query.split('&').find_map(|p| p.strip_prefix("t=")).unwrap();
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"wxcs-emulator-cos-secret-key").unwrap();
    mac.update(format!("{}/x.bin\n{t}", b.config.bucket()).as_bytes());
    let forged = format!("{base}?sign={}&t={t}", &hex::encode(mac.finalize().into_bytes())[..32]);
    assert_eq!(b.http.get(forged).send().await.unwrap().status(), 403);
    assert_eq!(b.http.get(url).send().await.unwrap().status(), 200, "the real link works");
}

/// Hole 12: expired links and tokens are forgotten.
#[tokio::test]
async fn expired_links_and_tokens_are_pruned() {
    let emu = support::start_with(|c| {
        c.link_ttl = 1;
        c.prune_every = Duration::from_millis(300);
    })
    .await;
    let token = emu.token().await;
    for i in 0..50 {
        emu.upload_link(&token, &format!("p/{i}.bin")).await;
    }
    assert_eq!(emu.stats().await["live_links"], 50);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let stats = emu.stats().await;
    assert_eq!(stats["live_links"], 0, "{stats}");
    assert_eq!(stats["live_tokens"], 1, "the current stable token is kept");
}

/// Also found: the store's commit, delete and reads are serialised: under concurrent
/// overwrites, deletes and downloads of one key no request fails, and after a restart the
/// index and the bytes agree.
#[tokio::test]
async fn concurrent_overwrites_deletes_and_reads_of_one_key_stay_consistent() {
    let data = temp_dir("race");
    let emu = support::start_with(|c| c.data_dir = data.clone()).await;
    let token = emu.token().await;
    let emu = Arc::new(emu);
    let stored = emu.upload(&token, "race.bin", vec![0; 64 * 1024]).await;
    let file_id = stored["file_id"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..60u8 {
        let (emu, token, file_id) = (emu.clone(), token.clone(), file_id.clone());
        tasks.push(tokio::spawn(async move {
            match i % 3 {
                0 => {
                    emu.upload(&token, "race.bin", vec![i; 64 * 1024]).await;
                }
                1 => {
                    emu.delete_item(&token, &file_id).await;
                }
                _ => {
                    let item = emu.download_item(&token, &file_id, 60).await;
                    if item["status"] == 0 {
                        let r = emu.http.get(item["download_url"].as_str().unwrap()).send().await.unwrap();
                        let status = r.status().as_u16();
                        assert!(status == 200 || status == 404, "a read failed with {status}");
                        if status == 200 {
                            let body = r.bytes().await.unwrap();
                            assert_eq!(body.len(), 64 * 1024);
                            assert!(body.iter().all(|b| *b == body[0]), "one whole version, never a mix");
                        }
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let objects_before = emu.stats().await["objects"].as_u64().unwrap();
    let emu = Arc::into_inner(emu).unwrap();
    emu.running.shutdown().await;
    let emu = support::start_with(|c| c.data_dir = data.clone()).await;
    assert_eq!(
        emu.stats().await["objects"].as_u64(),
        Some(objects_before),
        "the index survived the restart as it was"
    );
    let data_files = std::fs::read_dir(data.join("objects")).unwrap().count() as u64;
    assert_eq!(data_files, objects_before, "no orphaned or missing bytes");
    if objects_before == 1 {
        let token = emu.token().await;
        let item = emu.download_item(&token, &file_id, 60).await;
        let r = emu.http.get(item["download_url"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(r.status(), 200, "the surviving version downloads");
    }
}
