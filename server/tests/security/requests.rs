//! Hostile requests and connections against the backend and its listener: slow clients,
//! hostile JSON, other content types, panics, cross-site calls, memory bombs.

use super::*;

/// `wxcs serve` in front of `wx_base`, allowed 256 file descriptors and 200 connections,
/// with short header, body and upstream timeouts; its URL once it answers.
async fn constrained_serve(emu: &support::Emu, wx_base: &str) -> (Process, String) {
    let port = free_port();
    let command = format!(
        "ulimit -n 256; exec {} serve --bind 127.0.0.1 --port {port} --header-timeout 5 --body-timeout 1 \
         --max-connections 200 --upstream-timeout 1",
        wxcs().display()
    );
    let child = Command::new("sh")
        .args(["-c", &command])
        .env("WX_API_BASE", wx_base)
        .env("WX_ENV", &emu.config.env)
        .env("WX_APPID", &emu.config.appid)
        .env("WX_SECRET", emu.config.secret.expose_secret())
        .env("WXCS_USERS", format!("{ALICE}=alice"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let process = Process { child, wx: String::new(), cos: String::new() };
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    for _ in 0..100 {
        if http.get(format!("{url}/healthz")).send().await.is_ok() {
            return (process, url);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("wxcs serve did not start");
}

/// A client that may be sent from `from` (another loopback address) on a new connection.
fn fresh_client(from: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10)).pool_max_idle_per_host(0);
    if let Some(from) = from {
        builder = builder.local_address(from.parse::<std::net::IpAddr>().unwrap());
    }
    builder.build().unwrap()
}

/// Hole 4: 300 connections that never finish their headers, against a server allowed 256
/// file descriptors, do not keep `/healthz` from answering another client (round 2, F:
/// the flood holds only its address's share; that a share's excess is told 429 is
/// `connections.rs`'s test, with keep-alive attackers).
#[tokio::test]
async fn a_slowloris_flood_holds_only_its_addresses_share() {
    let emu = support::start().await;
    let (_process, url) = constrained_serve(&emu, &emu.running.wx_url()).await;
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let _slow: Vec<TcpStream> = (0..300)
        .filter_map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
            stream.write_all(b"POST /api/storage/upload-credentials HTTP/1.1\r\nHost: x\r\n").ok()?;
            Some(stream)
        })
        .collect();
    let started = Instant::now();
    let health =
        fresh_client(Some("127.0.0.2")).get(format!("{url}/healthz")).send().await.map(|r| r.status());
    assert!(matches!(health, Ok(reqwest::StatusCode::OK)), "healthz answered under the flood: {health:?}");
    assert!(started.elapsed() < Duration::from_secs(1), "at once: {:?}", started.elapsed());
}

/// Hole 4: a request body that never all arrives ends with 408 at the body timeout.
#[tokio::test]
async fn a_slow_body_is_cut_off_by_its_timeout() {
    let emu = support::start().await;
    let (_process, url) = constrained_serve(&emu, &emu.running.wx_url()).await;
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST /api/storage/upload-credentials HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ALICE}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"path\""
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = [0u8; 64];
    let n = stream.read(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
}

/// Hole 4: a WeChat that never answers: each request ends within the upstream timeout, and
/// a waiting request does not hold the token lock past it.
#[tokio::test]
async fn a_silent_upstream_is_cut_off_by_its_timeout() {
    let emu = support::start().await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let (_process, url) = constrained_serve(&emu, &silent_url).await;
    let http = fresh_client(None);
    let started = Instant::now();
    let calls = (0..3).map(|i| {
        http.post(format!("{url}{CREDS}"))
            .bearer_auth(ALICE)
            .json(&json!({"path": format!("{i}.png")}))
            .send()
    });
    for response in futures_util::future::join_all(calls).await {
        assert_eq!(response.expect("an answer, not a hang").status(), 504);
    }
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
}

/// Hole 7: a dropped connection is dropped without a panic, and the process keeps serving;
/// so does a backend whose WeChat answers oddly.
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
    fn authenticate<'a>(&'a self, request: Credentials<'a>) -> BoxFuture<'a, Verdict> {
        let boom = request.headers.contains_key("x-boom");
        Box::pin(async move {
            assert!(!boom, "a bug in the app's authenticator");
            Verdict::SignedIn(Identity::user("alice"))
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
