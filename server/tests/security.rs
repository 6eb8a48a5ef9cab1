//! The attacks of the outside review (issue #17) against `wxcs serve` and `wxcs emulate`,
//! each with other spellings of it, and the hardening pass after it (issue #13: look-alike
//! paths, hostile JSON, injected types, CORS with cookies, secrets at every log level).
//! Every test performs the attack; before the fixes each one succeeded.

mod support;

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
    backend::{Authenticator, Backend, BearerTokens, Policy},
    client::{Auth, StorageClient},
    emulator::Config,
    http,
};

const URLS: &str = "/api/storage/download-urls";
const DELETE: &str = "/api/storage/delete";
const CREDS: &str = "/api/storage/upload-credentials";

/// Hole 1: a file ID counts as the caller's only if its key passes the key rules, it is in
/// the caller's folder by whole segments, and its env and bucket are the backend's; every
/// other spelling is refused per item, with a code, and never forwarded to WeChat.
#[tokio::test]
async fn file_ids_that_are_not_the_callers_never_reach_wechat() {
    let s = stack().await;
    let bobs = s.upload(BOB, "b.png", vec![1, 2, 3], "image/png").await;
    let alices = s.upload(ALICE, "a.png", vec![4], "image/png").await;
    let id = |key: &str| alices.file_id.replace("users/alice/a.png", key);
    let other_env = alices.file_id.replacen(&s.config.env, "prod-other", 1);
    let bucket = alices.file_id.split('/').nth(2).unwrap().split_once('.').unwrap().1.to_owned();
    let other_bucket = alices.file_id.replacen(&bucket, "7072-prod-1300000000", 1);
    let attacks = [
        (id("users/alice/../bob/b.png"), "INVALID_KEY"),
        (id("users/alice/%2e%2e/bob/b.png"), "INVALID_KEY"),
        (id("users/alice/..%2fbob/b.png"), "INVALID_KEY"),
        (id("users/alice/%2E%2E%2Fbob%2Fb.png"), "INVALID_KEY"),
        (id("users/alice\\..\\bob\\b.png"), "INVALID_KEY"),
        (id("users/alice/./../bob/b.png"), "INVALID_KEY"),
        (id("users/alice/a.png?x=1"), "INVALID_KEY"),
        (id("users/alice/a.png#frag"), "INVALID_KEY"),
        (id("users/alice/a.png\n"), "INVALID_KEY"),
        (id("users/alice//a.png"), "INVALID_KEY"),
        (id("users/alicex/a.png"), "FORBIDDEN"),
        (id("users/bob/b.png"), "FORBIDDEN"),
        (other_env, "FORBIDDEN"),
        (other_bucket, "FORBIDDEN"),
        ("cloud://nodot/users/alice/a.png".to_owned(), "INVALID_ARGUMENT"),
        ("users/alice/a.png".to_owned(), "INVALID_ARGUMENT"),
    ];
    let before = s.stats().await;
    for endpoint in [URLS, DELETE] {
        let ids: Vec<&str> = attacks.iter().map(|(id, _)| id.as_str()).collect();
        let (status, answer) = s.call(Some(ALICE), endpoint, json!({"file_ids": ids})).await;
        assert_eq!(status, 200, "{answer}");
        let list = answer[if endpoint == URLS { "file_list" } else { "delete_list" }].as_array().unwrap();
        for ((id, code), item) in attacks.iter().zip(list) {
            assert_eq!(item["code"], *code, "{endpoint} {id:?}: {item}");
            assert_ne!(item["status"], 0);
        }
    }
    let after = s.stats().await;
    assert_eq!(after["download_links"], before["download_links"], "no link was asked of WeChat");
    assert_eq!(after["deletes"], before["deletes"]);
    assert_eq!(after["objects"], 2, "bob's file survived");
    let (_, answer) =
        s.call(Some(ALICE), "/api/demo/grayscale", json!({"file_id": id("users/alice/../bob/b.png")})).await;
    assert_eq!(answer["code"], "INVALID_KEY", "the demo endpoint checks the same way: {answer}");
    let (status, _) = s.call(Some(ALICE), "/api/demo/grayscale", json!({"file_id": bobs.file_id})).await;
    assert_eq!(status, 403);
    drop(bobs);
}

/// Hole 2: a path prefix without its trailing `/` would give user `alic` alice's folder;
/// such a prefix is refused at start, with what to write instead.
#[tokio::test]
async fn a_prefix_that_is_not_a_whole_folder_is_refused_at_start() {
    let emu = support::start().await;
    for bad in ["users/{uid}", "u{uid}/", "/users/{uid}/"] {
        let output = Command::new(wxcs())
            .args(["serve", "--bind", "127.0.0.1", "--port", &free_port().to_string(), "--path-prefix", bad])
            .env("WX_API_BASE", emu.running.wx_url())
            .env("WX_ENV", &emu.config.env)
            .env("WX_APPID", &emu.config.appid)
            .env("WX_SECRET", &emu.config.secret)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{bad} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--path-prefix") && stderr.contains("users/{uid}/"), "{bad}: {stderr}");
    }
    // And by segments, the default prefix keeps `alic` out of `alice`.
    let p = Policy::default();
    assert!(p.check_file_id("alic", "cloud://e.b/users/alice/a.png", "e", None).is_err());
}

/// A backend in front of `s`'s emulator that limits uploads, sweeping unreported ones
/// after `verify_after`.
async fn limited(verify_after: Duration) -> Stack {
    stack_with(
        |_| {},
        None,
        |b: &mut Backend| {
            b.policy =
                Policy { max_size: Some(1024), allowed_types: vec!["image/*".into()], ..Policy::default() };
            b.verify_after = verify_after;
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

const PNG: [u8; 16] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];

/// Hole 3: the limits hold for the object that lands, not only for what was declared.
#[tokio::test]
async fn declared_limits_are_checked_on_the_object_that_lands() {
    let s = limited(Duration::from_secs(600)).await;
    // A size is required when a limit is set.
    let (status, answer) =
        s.call(Some(ALICE), CREDS, json!({"path": "a.png", "contentType": "image/png"})).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("INVALID_ARGUMENT")), "{answer}");
    // image/* does not admit SVG.
    let (status, _) = s
        .call(Some(ALICE), CREDS, json!({"path": "a.svg", "size": 10, "contentType": "image/svg+xml"}))
        .await;
    assert_eq!(status, 403);

    let declare = json!({"path": "x.png", "size": 10, "contentType": "image/png"});
    let attacks: [(Vec<u8>, &str, &str); 4] = [
        (vec![b'<'; 2 * 1024 * 1024], "text/html", "TOO_LARGE"), // declared 10 B PNG, posted 2 MiB HTML
        (b"<html><script>alert(1)</script>".to_vec(), "text/html", "FORBIDDEN"),
        (b"<html><script>alert(1)</script>".to_vec(), "image/png", "FORBIDDEN"), // not a PNG inside
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(), "image/svg+xml", "FORBIDDEN"),
    ];
    for (bytes, posted_type, code) in attacks {
        let (status, link) = s.call(Some(ALICE), CREDS, declare.clone()).await;
        assert_eq!(status, 200, "{link}");
        assert_eq!(link["verify"], true, "the library is told to report the upload");
        post_as(&s, &link, "users/alice/x.png", bytes, posted_type).await;
        let (status, answer) =
            s.call(Some(ALICE), "/api/storage/verify", json!({"file_id": link["file_id"]})).await;
        assert_eq!(answer["code"], code, "{posted_type}: {answer}");
        assert!(status == 413 || status == 403);
        let (_, urls) = s.call(Some(ALICE), URLS, json!({"file_ids": [link["file_id"]]})).await;
        assert_eq!(urls["file_list"][0]["code"], "NOT_FOUND", "the object was deleted");
    }
    // A real PNG under the limit passes.
    let (_, link) = s.call(Some(ALICE), CREDS, declare).await;
    post_as(&s, &link, "users/alice/x.png", PNG.to_vec(), "image/png").await;
    let (status, answer) =
        s.call(Some(ALICE), "/api/storage/verify", json!({"file_id": link["file_id"]})).await;
    assert_eq!((status, answer["size"].as_u64()), (200, Some(16)), "{answer}");
    // Nobody verifies another user's file.
    let (status, _) = s.call(Some(BOB), "/api/storage/verify", json!({"file_id": link["file_id"]})).await;
    assert_eq!(status, 403);
}

/// Hole 3, continued: a client that never reports its upload is caught once its link expires.
#[tokio::test]
async fn an_unreported_upload_is_checked_after_its_link_expires() {
    let s = limited(Duration::from_secs(1)).await;
    let (_, link) = s
        .call(Some(ALICE), CREDS, json!({"path": "quiet.png", "size": 10, "contentType": "image/png"}))
        .await;
    post_as(&s, &link, "users/alice/quiet.png", vec![b'<'; 4096], "text/html").await;
    let (_, good) =
        s.call(Some(ALICE), CREDS, json!({"path": "good.png", "size": 16, "contentType": "image/png"})).await;
    post_as(&s, &good, "users/alice/good.png", PNG.to_vec(), "image/png").await;
    assert_eq!(s.stats().await["objects"], 2);
    let deadline = Instant::now() + Duration::from_secs(15);
    while s.stats().await["objects"] != 1 {
        assert!(Instant::now() < deadline, "the unreported upload was never checked");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, urls) = s.call(Some(ALICE), URLS, json!({"file_ids": [link["file_id"], good["file_id"]]})).await;
    assert_eq!(urls["file_list"][0]["code"], "NOT_FOUND", "the bad one went");
    assert_eq!(urls["file_list"][1]["status"], 0, "the good one stayed");
}

/// Hole 4: 300 connections that never finish their headers, against a server allowed 256
/// file descriptors, do not keep `/healthz` from answering; slow bodies and a WeChat that
/// never answers end within their timeouts.
#[tokio::test]
async fn slow_clients_and_a_silent_upstream_are_cut_off_by_timeouts() {
    let emu = support::start().await;
    // A "WeChat" that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    for (base, name) in [(emu.running.wx_url(), "emulator"), (silent_url, "silent")] {
        let port = free_port();
        let command = format!(
            "ulimit -n 256; exec {} serve --bind 127.0.0.1 --port {port} --header-timeout 2 --body-timeout 1 \
             --max-connections 200 --upstream-timeout 1",
            wxcs().display()
        );
        let child = Command::new("sh")
            .args(["-c", &command])
            .env("WX_API_BASE", &base)
            .env("WX_ENV", &emu.config.env)
            .env("WX_APPID", &emu.config.appid)
            .env("WX_SECRET", &emu.config.secret)
            .env("WXCS_USERS", format!("{ALICE}=alice"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let process = Process { child, wx: String::new(), cos: String::new() };
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
        let mut up = false;
        for _ in 0..100 {
            if http.get(format!("{url}/healthz")).send().await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(up, "{name}: wxcs serve did not start");

        if name == "emulator" {
            // Slowloris: 300 connections, each a few header bytes and then nothing.
            let flood_started = Instant::now();
            let slow: Vec<TcpStream> = (0..300)
                .filter_map(|_| {
                    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
                    stream.write_all(b"POST /api/storage/upload-credentials HTTP/1.1\r\nHost: x\r\n").ok()?;
                    Some(stream)
                })
                .collect();
            // A new client, on a new connection: `http`'s pooled keep-alive connection from
            // the start-up poll already holds a slot, and reusing it would prove nothing
            // (and races the server's 2 s idle close).
            let newcomer = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .pool_max_idle_per_host(0)
                .build()
                .unwrap();
            let started = Instant::now();
            let health = newcomer.get(format!("{url}/healthz")).send().await.map(|r| r.status());
            assert!(
                matches!(health, Ok(reqwest::StatusCode::OK)),
                "healthz answered under the flood: {health:?}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "within the header timeout: {:?}",
                started.elapsed()
            );
            // It waited for the cap: no slot frees before the first slow client's 2 s
            // header timeout.
            assert!(
                flood_started.elapsed() >= Duration::from_millis(1500),
                "the connection cap held the newcomer back: {:?}",
                flood_started.elapsed()
            );
            drop(slow);

            // A slow body: the declared 100 bytes never all arrive.
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let head = format!(
                "POST /api/storage/upload-credentials HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ALICE}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"path\""
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut answer = [0u8; 64];
            let n = stream.read(&mut answer).unwrap();
            assert!(
                String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 408"),
                "{:?}",
                String::from_utf8_lossy(&answer[..n])
            );
        } else {
            // WeChat never answers: each request ends within the upstream timeout, and a
            // waiting request does not hold the token lock past it.
            let started = Instant::now();
            let calls = (0..3).map(|i| {
                http.post(format!("{url}{CREDS}"))
                    .bearer_auth(ALICE)
                    .json(&json!({"path": format!("{i}.png")}))
                    .send()
            });
            for response in futures_util::future::join_all(calls).await {
                let response = response.expect("an answer, not a hang");
                assert_eq!(response.status(), 504);
            }
            assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
        }
        drop(process);
    }
}

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
    std::fs::write(store.join("tmp/0123abcd"), "a crashed upload").unwrap();
    std::fs::create_dir_all(store.join("tmp/kept")).unwrap();
    std::fs::write(store.join("tmp/kept/file"), "not the store's").unwrap();
    std::fs::write(store.join("tmp/README"), "not the store's").unwrap();
    let emu = support::start_with(|c| c.data_dir = store.clone()).await;
    assert!(!store.join("tmp/0123abcd").exists(), "the store's leftover is removed");
    assert!(store.join("tmp/kept/file").exists() && store.join("tmp/README").exists());
    emu.running.shutdown().await;
}

/// Hole 7: a dropped connection is dropped without a panic, and the process (the release
/// build under scripts/test.sh) keeps serving; so does a backend whose WeChat answers oddly.
#[tokio::test]
async fn faults_and_odd_upstream_answers_never_kill_the_process() {
    let data = temp_dir("drop");
    let mut p = spawn(&data).await;
    let http = reqwest::Client::new();
    let token =
        support::stable_token(&http, &p.wx, "wx0000000000emulator", "emulator-app-secret", false).await;
    let link = support::post_json(
        &http,
        &format!("{}/tcb/uploadfile?access_token={token}", p.wx),
        &json!({"env": "dev-emulator", "path": "d.bin"}),
    )
    .await;
    for _ in 0..3 {
        let r = http
            .post(format!("{}/__emulator/faults", p.wx))
            .json(&json!({"drop_next": 1}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let dropped = http
            .post(link["url"].as_str().unwrap())
            .multipart(support::standard_form(&link, "d.bin", vec![7; 300 * 1024], None))
            .send()
            .await;
        assert!(dropped.is_err(), "the connection was dropped");
        assert!(p.child.try_wait().unwrap().is_none(), "the emulator is still running");
    }
    let ok = http
        .post(link["url"].as_str().unwrap())
        .multipart(support::standard_form(&link, "d.bin", vec![7; 10], None))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 204, "and still serving");

    // A "WeChat" that answers every batch with an empty list.
    let odd = axum::Router::new()
        .fallback(|| async { axum::Json(json!({"errcode": 0, "file_list": [], "delete_list": []})) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let odd_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(http::serve(listener, odd, http::Limits::default(), std::future::pending()));
    let port = free_port();
    let child = Command::new(wxcs())
        .args(["serve", "--bind", "127.0.0.1", "--port", &port.to_string()])
        .env("WX_API_BASE", &odd_url)
        .env("WX_ENV", "e")
        .env("WX_OPENAPI", "1")
        .env("WXCS_USERS", format!("{ALICE}=alice"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut serve = Process { child, wx: String::new(), cos: String::new() };
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if http.get(format!("{url}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for endpoint in [URLS, DELETE] {
        let r = http
            .post(format!("{url}{endpoint}"))
            .bearer_auth(ALICE)
            .json(&json!({"file_ids": ["cloud://e.b/users/alice/a.png"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 502, "{endpoint}");
    }
    assert!(serve.child.try_wait().unwrap().is_none(), "the backend is still running");
    drop(serve);
    drop(p);
}

/// An authenticator that panics, as a bug in an app's own one might.
#[derive(Debug)]
struct Panicking;
impl Authenticator for Panicking {
    fn authenticate<'a>(&'a self, headers: &'a axum::http::HeaderMap) -> BoxFuture<'a, Option<String>> {
        let boom = headers.contains_key("x-boom");
        Box::pin(async move {
            assert!(!boom, "a bug in the app's authenticator");
            Some("alice".into())
        })
    }
}

/// Hole 7, continued: a panic in one request is a 500 for that request only.
#[tokio::test]
async fn a_panic_in_one_request_is_a_500_and_the_server_keeps_serving() {
    let s = stack_with(|_| {}, None, |b: &mut Backend| b.auth = Box::new(Panicking)).await;
    let boom = s
        .http
        .post(format!("{}{CREDS}", s.url))
        .header("x-boom", "1")
        .json(&json!({"path": "a.png"}))
        .send()
        .await;
    let boom = boom.unwrap();
    assert_eq!(boom.status(), 500);
    assert_eq!(boom.json::<Value>().await.unwrap()["code"], "SERVER");
    assert_eq!(s.call(None, CREDS, json!({"path": "a.png"})).await.0, 200, "the next request is served");
}

/// Hole 8: no `Debug` print shows the AppSecret, a cached access token, a cloudbase token,
/// bearer tokens or the emulator's signing key.
#[tokio::test]
async fn debug_prints_redact_every_secret() {
    let s = stack().await;
    s.upload(ALICE, "d.png", vec![1], "image/png").await; // the client caches a token
    let token =
        support::stable_token(&s.http, &s.emu.wx_url(), &s.config.appid, &s.config.secret, false).await;
    let client = StorageClient::new(
        s.emu.wx_url(),
        s.config.env.clone(),
        Auth::AppSecret { appid: s.config.appid.clone(), secret: s.config.secret.clone() },
    );
    client.upload_link("users/alice/debug.png").await.unwrap(); // now it caches the same stable token
    let with_token = client.with_cloudbase_token(&token);
    let backend = Backend::new(
        client.clone(),
        Box::new(BearerTokens::parse(&format!("{ALICE}=alice")).unwrap()),
        Policy::default(),
    );
    let printed =
        [format!("{client:?}"), format!("{with_token:?}"), format!("{backend:?}"), format!("{:?}", s.config)];
    for text in &printed {
        for secret in [s.config.secret.as_str(), token.as_str(), ALICE, s.config.cos_secret_key.as_str()] {
            assert!(!text.contains(secret), "a secret in a Debug print: {text}");
        }
        assert!(text.contains("redacted") || text.contains("users"), "{text}");
    }
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
    assert_ne!(a.config.cos_secret_key, b.config.cos_secret_key);
    assert_ne!(a.config.cos_secret_key, "wxcs-emulator-cos-secret-key", "the old fixed key is gone");
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

/// A PNG that declares `width`×`height` pixels and holds almost nothing.
fn declared_png(width: u32, height: u32) -> Vec<u8> {
    let mut png = std::io::Cursor::new(Vec::new());
    image::GrayImage::new(1, 1).write_to(&mut png, image::ImageFormat::Png).unwrap();
    let mut bytes = png.into_inner();
    // IHDR data starts at byte 16; its CRC covers the type and the data (bytes 12..29).
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// Hole 11: the demo's image endpoint refuses images that would take unbounded memory.
#[tokio::test]
async fn the_demo_refuses_images_that_would_exhaust_memory() {
    let s = stack().await;
    for (w, h) in [(16000, 16000), (100_000, 1), (1, 100_000)] {
        let uploaded = s.upload(ALICE, "bomb.png", declared_png(w, h), "image/png").await;
        let started = Instant::now();
        let (status, answer) =
            s.call(Some(ALICE), "/api/demo/grayscale", json!({"file_id": uploaded.file_id})).await;
        assert_eq!((status, answer["code"].as_str()), (413, Some("TOO_LARGE")), "{w}×{h}: {answer}");
        assert!(started.elapsed() < Duration::from_secs(2), "refused before decoding");
    }
    // A file over the demo's 20 MiB is refused by its length, before its body is read.
    let big = s.upload(ALICE, "big.png", vec![0; 21 * 1024 * 1024], "image/png").await;
    let (status, answer) = s.call(Some(ALICE), "/api/demo/grayscale", json!({"file_id": big.file_id})).await;
    assert_eq!((status, answer["code"].as_str()), (413, Some("TOO_LARGE")), "{answer}");
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

/// Also found: the backend takes only JSON bodies (a cross-site text/plain POST needs no
/// preflight), and failed sign-ins are limited per address.
#[tokio::test]
async fn only_json_is_taken_and_guessing_tokens_is_slow() {
    let s = stack_with(|_| {}, None, |b: &mut Backend| b.policy.failed_logins_per_minute = 5).await;
    let alices = s.upload(ALICE, "keep.png", vec![1], "image/png").await;
    for content_type in
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]
    {
        let mut request = s.http.post(format!("{}{DELETE}", s.url)).bearer_auth(ALICE);
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        let r = request.body(json!({"file_ids": [alices.file_id]}).to_string()).send().await.unwrap();
        assert_eq!(r.status(), 415, "{content_type:?}");
    }
    assert_eq!(s.stats().await["objects"], 1, "nothing was deleted");
    for i in 0..5 {
        assert_eq!(s.call(Some(&format!("guess-{i}")), CREDS, json!({"path": "a"})).await.0, 401);
    }
    let (status, answer) = s.call(Some("guess-6"), CREDS, json!({"path": "a"})).await;
    assert_eq!((status, answer["code"].as_str()), (429, Some("RATE_LIMITED")));
    assert_eq!(s.call(Some("guess-7"), CREDS, json!({"path": "a"})).await.0, 429, "still slowed");
    assert_eq!(
        s.call(Some(ALICE), CREDS, json!({"path": "a"})).await.0,
        200,
        "a valid sign-in is not held back"
    );
}

/// Also found: WeChat's errmsg (40164 names the server's egress IP) stays in the server's
/// log; the page gets the code. And keys with control characters reach the developer's
/// terminal escaped.
#[tokio::test]
async fn wechat_details_stay_in_the_log_and_keys_are_escaped_there() {
    let logs = captured_logs();
    let s = stack_with(
        |_| {},
        Some(Auth::AppSecret { appid: "wx0000000000emulator".into(), secret: "a-wrong-secret".into() }),
        |_| {},
    )
    .await;
    let (status, answer) = s.call(Some(ALICE), CREDS, json!({"path": "a.png"})).await;
    assert_eq!(answer["code"], "WECHAT_API", "{answer}");
    assert_eq!(status, 502);
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("errcode") && message.contains("server's log"), "{message}");
    assert!(!message.contains("invalid appsecret"), "WeChat's errmsg is not passed on: {message}");

    let emu = support::start().await;
    let token = emu.token().await;
    let key = "esc/\u{1b}[31mred\u{7}.bin";
    let link = emu.upload_link(&token, key).await;
    let form = Form::new()
        .text("key", key)
        .text("Signature", link["authorization"].as_str().unwrap().to_owned())
        .text("x-cos-security-token", link["token"].as_str().unwrap().to_owned())
        .part("file", Part::bytes(vec![1]));
    assert_eq!(emu.post_form(&link, form).await.status(), 204);
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("invalid appsecret"), "the detail is in the log");
    assert!(logs.contains("esc/\\u{1b}[31mred\\u{7}.bin"), "the key is logged escaped");
    assert!(!logs.contains('\u{1b}'), "no raw escape reached the log");
}

/// Every spelling of a path that might reach another folder: refused with a code, or kept
/// inside the caller's folder byte for byte. COS compares keys as bytes (no case folding,
/// no Unicode normalisation), so the backend does too: a look-alike is another name.
#[tokio::test]
async fn look_alike_and_encoded_paths_stay_in_the_callers_folder() {
    let s = stack().await;
    let bobs = s.upload(BOB, "b.png", vec![1, 2, 3], "image/png").await;
    let paths = [
        "../bob/x.png",
        "%2e%2e/bob/x.png",
        "..%2Fbob%2Fx.png",
        "..\\bob\\x.png",
        "/users/bob/x.png",
        "users/alice/../bob/x.png",
        "users/bob/x.png",
        "users/ALICE/x.png",
        "users/ａlice/x.png",       // fullwidth a
        "users/alice\u{301}/x.png", // a combining accent: another folder name
        "users/alicé/x.png",
        "．．／bob／x.png",           // fullwidth dots and solidus: one odd name
        "\u{2024}\u{2024}/bob/x.png", // one-dot leaders
        "..\u{2215}bob\u{2215}x.png", // division slash
        "\u{202e}gnp.exe",            // right-to-left override
        "x.png\u{0}.html",
        "users/alice",
    ];
    let mut kept = 0;
    for path in paths {
        let (status, answer) = s.call(Some(ALICE), CREDS, json!({"path": path})).await;
        match status {
            200 => {
                let key = answer["key"].as_str().unwrap();
                assert!(key.starts_with("users/alice/"), "{path:?} went to {key:?}");
                assert!(answer["file_id"].as_str().unwrap().ends_with(&format!("/{key}")));
                kept += 1;
            }
            400 => assert!(["INVALID_KEY", "INVALID_ARGUMENT"].contains(&answer["code"].as_str().unwrap())),
            403 => assert_eq!(answer["code"], "FORBIDDEN", "{path:?}"),
            _ => panic!("{path:?}: {status} {answer}"),
        }
    }
    assert!(kept >= 4, "the look-alikes are names in alice's folder ({kept})");

    let id = |key: &str| bobs.file_id.replace("users/bob/b.png", key);
    let ids = [
        id("users/ａlice/a.png"),
        id("users/alice\u{301}/a.png"),
        id("users/Alice/a.png"),
        id("users/alice／../bob/b.png"),
        id("users/alice\u{2215}..\u{2215}bob/b.png"),
        id("users/bob/b.png\u{200b}"),
        id("users/bo\u{200b}b/b.png"),
    ];
    for endpoint in [URLS, DELETE] {
        let (status, answer) = s.call(Some(ALICE), endpoint, json!({"file_ids": ids})).await;
        assert_eq!(status, 200, "{answer}");
        let list = answer[if endpoint == URLS { "file_list" } else { "delete_list" }].as_array().unwrap();
        for (id, item) in ids.iter().zip(list) {
            assert_ne!(item["status"], 0, "{endpoint} {id:?}: {item}");
        }
    }
    let bytes = s.fetch(BOB, &bobs.file_id).await.bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), [1, 2, 3], "bob's file is untouched");
}

/// Bodies built to hurt a JSON parser or the code after it: each is a 400 or 413 with a
/// code, and the backend answers the next request as usual.
#[tokio::test]
async fn hostile_json_is_refused_and_the_backend_keeps_serving() {
    let s = stack().await;
    let deep_array = format!("{{\"path\": {}{}}}", "[".repeat(50_000), "]".repeat(50_000));
    let deep_object = format!("{{\"path\": {}1{}}}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let bodies: Vec<(String, &str)> = vec![
        (deep_array, CREDS),
        (deep_object, CREDS),
        (format!("{{\"file_ids\": {}{}}}", "[".repeat(30_000), "]".repeat(30_000)), URLS),
        (r#"{"path": "a.png", "path": "../bob/x.png"}"#.into(), CREDS),
        (r#"{"path": "a.png", "size": -1}"#.into(), CREDS),
        (r#"{"path": "a.png", "size": 1e400}"#.into(), CREDS),
        (r#"{"path": "a.png", "size": "10"}"#.into(), CREDS),
        (r#"{"path": "\ud800"}"#.into(), CREDS),
        (r#"{"path": null}"#.into(), CREDS),
        (r#"{"file_ids": "cloud://e.b/users/alice/a.png"}"#.into(), URLS),
        (r#"{"file_ids": [1, 2]}"#.into(), DELETE),
        ("[]".into(), CREDS),
        ("".into(), CREDS),
        (format!("{{\"path\": \"{}\"}}", "a".repeat(200 * 1024)), CREDS),
        (format!("{{\"file_ids\": [{}]}}", vec!["\"x\""; 40_000].join(",")), URLS),
    ];
    for (body, endpoint) in &bodies {
        let response = s
            .http
            .post(format!("{}{endpoint}", s.url))
            .bearer_auth(ALICE)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        let shown = &body[..body.len().min(60)];
        assert!(status == 400 || status == 413, "{shown}: {status} {answer}");
        assert!(answer["code"].is_string() && answer["message"].is_string(), "{shown}: {answer}");
    }
    let (status, _) = s.call(Some(ALICE), CREDS, json!({"path": "after.png"})).await;
    assert_eq!(status, 200, "still serving");
}

/// A declared type with a line break or a control character would become a header or a
/// form part wherever it is copied: refused, with or without type limits.
#[tokio::test]
async fn declared_types_that_could_inject_headers_are_refused() {
    for allowed in [None, Some(vec!["image/*".to_owned()])] {
        let s = stack_with(
            |_| {},
            None,
            |b| {
                if let Some(allowed) = allowed.clone() {
                    b.policy = Policy { max_size: Some(1000), allowed_types: allowed, ..Policy::default() };
                }
            },
        )
        .await;
        for content_type in [
            "image/png\r\nSet-Cookie: session=stolen",
            "image/png\n--boundary\r\nContent-Disposition: form-data; name=\"key\"",
            "image/png\u{0}",
            "image/png\u{85}",
            " ",
        ] {
            let body = json!({"path": "a.png", "size": 10, "contentType": content_type});
            let (status, answer) = s.call(Some(ALICE), CREDS, body).await;
            assert_eq!(
                (status, answer["code"].as_str()),
                (400, Some("INVALID_ARGUMENT")),
                "{content_type:?}"
            );
        }
        let body = json!({"path": "a.png", "size": 10, "contentType": "image/png; charset=binary"});
        assert_eq!(s.call(Some(ALICE), CREDS, body).await.0, 200);
    }
}

/// A named origin list lets those pages send cookies (for session authenticators); `*`
/// never does, and no other origin is ever reflected.
#[tokio::test]
async fn cors_allows_cookies_for_named_origins_only() {
    let preflight = |s: &Stack, origin: &str| {
        s.http
            .request(reqwest::Method::OPTIONS, format!("{}{CREDS}", s.url))
            .header("origin", origin.to_owned())
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
    };
    let named = stack_with(|_| {}, None, |b| b.allow_origins = vec!["https://admin.example".into()]).await;
    let allowed = preflight(&named, "https://admin.example").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://admin.example");
    assert_eq!(allowed.headers()["access-control-allow-credentials"], "true");
    for evil in
        ["https://evil.example", "https://admin.example.evil.example", "null", "https://admin.example:444"]
    {
        let refused = preflight(&named, evil).await.unwrap();
        assert!(!refused.headers().contains_key("access-control-allow-origin"), "{evil}");
    }
    let any = stack_with(|_| {}, None, |b| b.allow_origins = vec!["*".into()]).await;
    let answer = preflight(&any, "https://evil.example").await.unwrap();
    assert_eq!(answer.headers()["access-control-allow-origin"], "*", "never the reflected origin");
    assert!(!answer.headers().contains_key("access-control-allow-credentials"));
}

/// At TRACE, with every crate's log on, on the success path and on failures (WeChat down,
/// refused calls), no secret reaches a log line or an answer's body.
#[tokio::test]
async fn no_secret_reaches_any_log_line_or_error_body_at_trace() {
    let logs = captured_logs();
    let s = stack().await;
    let credentials = s.upload(ALICE, "trace.bin", vec![7; 10], "application/octet-stream").await;
    s.fetch(ALICE, &credentials.file_id).await;
    let wx = s.emu.wx_url();
    let token = support::stable_token(&s.http, &wx, &s.config.appid, &s.config.secret, false).await;
    let mut bodies = Vec::new();
    for (user, endpoint, body) in [
        (Some("wrong-token"), CREDS, json!({"path": "a.png"})),
        (Some(ALICE), CREDS, json!({"path": "../x"})),
        (Some(ALICE), URLS, json!({"file_ids": [credentials.file_id.replace("alice", "bob")]})),
    ] {
        bodies.push(s.call(user, endpoint, body).await.1.to_string());
    }
    let Stack { emu, config, url, http } = s;
    emu.shutdown().await; // WeChat is gone: the backend's calls (with its cached token) fail
    for (endpoint, body) in
        [(CREDS, json!({"path": "b.png"})), (URLS, json!({"file_ids": [&credentials.file_id]}))]
    {
        let response =
            http.post(format!("{url}{endpoint}")).bearer_auth(ALICE).json(&body).send().await.unwrap();
        assert!(response.status().is_server_error(), "{endpoint}: {}", response.status());
        bodies.push(response.text().await.unwrap());
    }
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("TRACE"), "trace lines are captured");
    for secret in [
        config.secret.as_str(),
        token.as_str(),
        config.cos_secret_key.as_str(),
        credentials.token.as_str(),
        credentials.authorization.as_str(),
        ALICE,
    ] {
        assert!(!logs.contains(secret), "a credential reached the logs");
        for body in &bodies {
            assert!(!body.contains(secret), "a credential reached an answer: {body}");
        }
    }
}
