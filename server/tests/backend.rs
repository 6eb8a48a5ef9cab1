//! `wxcs serve` over real HTTP against the emulator: the contract's three endpoints, the
//! policy, the token handling, the grayscale demo, and logs free of secrets.

mod support;

use secrecy::ExposeSecret;
use std::sync::Arc;

use serde_json::{json, Value};
use support::{
    logs::captured_logs,
    stack::{Stack, ALICE, BOB},
};
use wx_cloud_storage_server::{
    backend::{Limits, Policy},
    client::Auth,
    emulator::Config,
};

async fn stack_with(
    configure_emu: impl FnOnce(&mut Config),
    auth: Option<Auth>,
    configure: impl FnOnce(&mut wx_cloud_storage_server::backend::Backend),
) -> Stack {
    captured_logs();
    support::stack::stack_with(configure_emu, auth, configure).await
}

async fn stack() -> Stack {
    stack_with(|_| {}, None, |_| {}).await
}

#[tokio::test]
async fn the_full_flow_through_the_endpoints_is_byte_exact() {
    let s = stack().await;
    let bytes = support::bytes(300 * 1024);
    let credentials = s.upload(ALICE, "photos/头像.png", bytes.clone(), "image/png").await;
    assert_eq!(
        credentials.key.as_deref(),
        Some("users/alice/photos/头像.png"),
        "rewritten into alice's folder"
    );
    let got = s.fetch(ALICE, &credentials.file_id).await;
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let (status, answer) =
        s.call(Some(ALICE), "/api/storage/delete", json!({"file_ids": [credentials.file_id]})).await;
    assert_eq!((status, answer["delete_list"][0]["status"].as_i64()), (200, Some(0)));
    let (_, answer) =
        s.call(Some(ALICE), "/api/storage/download-urls", json!({"file_ids": [credentials.file_id]})).await;
    assert_eq!(answer["file_list"][0]["status"], -503003, "gone");
    assert_eq!(s.stats().await["objects"], 0);
}

#[tokio::test]
async fn every_refusal_has_its_status_and_code() {
    let s = stack_with(
        |_| {},
        None,
        |b| {
            b.policy = Policy::limited(Limits {
                max_size: Some(1000),
                types: vec!["image/*".into()],
                ..Limits::default()
            })
        },
    )
    .await;
    let creds = "/api/storage/upload-credentials";
    let ok = json!({"path": "a.png", "size": 10, "contentType": "image/png"});
    assert_eq!(s.call(None, creds, ok.clone()).await.0, 401);
    let (status, body) = s.call(Some("wrong"), creds, ok.clone()).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("UNAUTHORIZED")));
    let (status, body) = s
        .call(Some(ALICE), creds, json!({"path": "users/bob/a.png", "size": 1, "contentType": "image/png"}))
        .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")), "{body}");
    let (status, body) = s
        .call(Some(ALICE), creds, json!({"path": "a/${filename}", "size": 1, "contentType": "image/png"}))
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_KEY")));
    assert!(body["message"].as_str().unwrap().contains("byte 2"), "{body}");
    let (status, body) =
        s.call(Some(ALICE), creds, json!({"path": "a.png", "size": 1001, "contentType": "image/png"})).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("TOO_LARGE")));
    let (status, body) =
        s.call(Some(ALICE), creds, json!({"path": "a.html", "size": 1, "contentType": "text/html"})).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")));
    let (status, body) = s.call(Some(ALICE), creds, json!({"size": 1})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_ARGUMENT")));
    let huge = json!({"path": "a".repeat(70 * 1024)});
    assert_eq!(s.call(Some(ALICE), creds, huge).await.0, 413, "body limit");
    assert_eq!(s.call(Some(ALICE), creds, ok).await.0, 200);

    // Batches: too many, empty, and another user's file refused per item.
    let many: Vec<String> = (0..51).map(|i| format!("cloud://e.b/users/alice/{i}")).collect();
    assert_eq!(s.call(Some(ALICE), "/api/storage/download-urls", json!({"file_ids": many})).await.0, 400);
    assert_eq!(s.call(Some(ALICE), "/api/storage/delete", json!({"file_ids": []})).await.0, 400);
    let bobs = s.upload(BOB, "b.png", vec![1, 2, 3], "image/png").await;
    let alices = s.upload(ALICE, "mine.png", support::PNG.to_vec(), "image/png").await;
    let (status, answer) = s
        .call(Some(ALICE), "/api/storage/download-urls", json!({"file_ids": [bobs.file_id, alices.file_id]}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["file_list"][0]["status"], -503002, "{answer}");
    assert_eq!(answer["file_list"][1]["status"], 0, "the allowed item still succeeds");
    let (_, answer) = s.call(Some(ALICE), "/api/storage/delete", json!({"file_ids": [bobs.file_id]})).await;
    assert_eq!(answer["delete_list"][0]["status"], -503002);
    assert_eq!(s.stats().await["objects"], 2, "bob's file survived alice's delete");
}

#[tokio::test]
async fn past_the_rate_limit_requests_get_429() {
    let s = stack_with(|_| {}, None, |b| b.policy.rate_per_minute = 5).await;
    let body = json!({"path": "a.png"});
    for _ in 0..5 {
        assert_eq!(s.call(Some(ALICE), "/api/storage/upload-credentials", body.clone()).await.0, 200);
    }
    let response = s
        .http
        .post(format!("{}/api/storage/upload-credentials", s.url))
        .bearer_auth(ALICE)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["code"], "RATE_LIMITED");
    assert_eq!(s.call(Some(BOB), "/api/storage/upload-credentials", body).await.0, 200, "per user");
}

#[tokio::test]
async fn cors_allows_the_listed_origins_only() {
    let s = stack_with(|_| {}, None, |b| b.allow_origins = vec!["http://admin.example".into()]).await;
    let preflight = |origin: &'static str| {
        s.http
            .request(reqwest::Method::OPTIONS, format!("{}/api/storage/upload-credentials", s.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
    };
    let allowed = preflight("http://admin.example").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "http://admin.example");
    let refused = preflight("http://evil.example").await.unwrap();
    assert!(!refused.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn five_hundred_concurrent_requests_from_cold_fetch_one_token() {
    let s = stack().await;
    let s = Arc::new(s);
    let tasks: Vec<_> = (0..500)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.call(Some(ALICE), "/api/storage/upload-credentials", json!({"path": format!("c/{i}.bin")}))
                    .await
                    .0
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let stats = s.stats().await;
    assert_eq!(stats["stable_token_calls"], 1, "single flight: {stats}");
    assert_eq!(stats["token_calls"], 0, "never cgi-bin/token, which clobbers other instances");
    assert_eq!(stats["upload_links"], 500);
}

#[tokio::test]
async fn expired_and_invalidated_tokens_are_replaced_transparently() {
    let s = stack_with(|c| c.token_ttl = 2, None, |_| {}).await;
    let body = json!({"path": "t.bin"});
    assert_eq!(s.call(Some(ALICE), "/api/storage/upload-credentials", body.clone()).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        s.call(Some(ALICE), "/api/storage/upload-credentials", body.clone()).await.0,
        200,
        "after expiry"
    );
    assert_eq!(s.stats().await["stable_token_calls"], 2);

    // Someone force-refreshes the app's stable token behind the backend's back: WeChat
    // answers 40001 to the cached token, and the backend fetches a new one and retries.
    s.stable_token(true).await;
    assert_eq!(
        s.call(Some(ALICE), "/api/storage/upload-credentials", body).await.0,
        200,
        "after invalidation"
    );
    let stats = s.stats().await;
    assert_eq!(stats["rejected"]["40001"], 1, "{stats}");
}

#[tokio::test]
async fn open_api_and_cloudbase_token_modes() {
    let s = stack_with(|c| c.open_api = true, Some(Auth::OpenApi), |_| {}).await;
    assert_eq!(s.call(Some(ALICE), "/api/storage/upload-credentials", json!({"path": "o.bin"})).await.0, 200);
    assert_eq!(s.stats().await["stable_token_calls"], 0, "开放接口服务 needs no token");

    let s = stack_with(|_| {}, Some(Auth::CloudbaseToken), |_| {}).await;
    let (status, body) =
        s.call(Some(ALICE), "/api/storage/upload-credentials", json!({"path": "c.bin"})).await;
    assert_eq!(status, 401, "{body}");
    let token = s.stable_token(false).await;
    let response = s
        .http
        .post(format!("{}/api/storage/upload-credentials", s.url))
        .bearer_auth(ALICE)
        .header("X-WX-CLOUDBASE-ACCESS-TOKEN", &token)
        .json(&json!({"path": "c.bin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn grayscale_returns_a_new_gray_file() {
    let s = stack().await;
    let mut colour = image::RgbImage::new(32, 16);
    for (x, y, pixel) in colour.enumerate_pixels_mut() {
        *pixel = image::Rgb([(x * 8) as u8, (y * 16) as u8, 200]);
    }
    let mut png = std::io::Cursor::new(Vec::new());
    colour.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let original = s.upload(ALICE, "photo.png", png.into_inner(), "image/png").await;

    let (status, answer) =
        s.call(Some(ALICE), "/api/demo/grayscale", json!({"file_id": original.file_id})).await;
    assert_eq!(status, 200, "{answer}");
    let gray_id = answer["file_id"].as_str().unwrap();
    assert_ne!(gray_id, original.file_id);
    assert_eq!(answer["key"], "users/alice/gray/photo.png");
    let bytes = s.fetch(ALICE, gray_id).await.bytes().await.unwrap();
    let gray = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(gray.dimensions(), (32, 16));
    assert!(gray.pixels().all(|p| p[0] == p[1] && p[1] == p[2]), "every pixel is gray");
    assert!(gray.pixels().any(|p| p[0] != gray.get_pixel(0, 0)[0]), "and the picture survived");

    let (status, _) = s.call(Some(BOB), "/api/demo/grayscale", json!({"file_id": original.file_id})).await;
    assert_eq!(status, 403, "bob cannot process alice's photo");
}

#[tokio::test]
async fn no_secret_or_token_reaches_the_logs() {
    let s = stack().await;
    let credentials = s.upload(ALICE, "log.bin", vec![7; 10], "application/octet-stream").await;
    s.fetch(ALICE, &credentials.file_id).await;
    let token = s.stable_token(false).await;
    let token = token.as_str();
    let logs = String::from_utf8(captured_logs().lock().unwrap().clone()).unwrap();
    assert!(logs.contains("upload-credentials"), "the access log is captured: {logs}");
    for secret in [
        s.config.secret.expose_secret(),
        token,
        s.config.cos_secret_key.expose_secret(),
        credentials.token.as_str(),
        ALICE,
    ] {
        assert!(!logs.contains(secret), "a credential reached the logs");
    }
}

#[tokio::test]
async fn behind_callcontainer_the_gateways_openid_names_the_folder() {
    let s = stack_with(|_| {}, None, |b| b.auth = Box::new(wx_cloud_storage_server::backend::WxOpenId)).await;
    let call = |openid: Option<&str>| {
        let mut request =
            s.http.post(format!("{}/api/storage/upload-credentials", s.url)).json(&json!({"path": "a.png"}));
        if let Some(openid) = openid {
            request = request.header("X-WX-OPENID", openid);
        }
        request.send()
    };
    let answer: Value = call(Some("oAbC_123-xyz")).await.unwrap().json().await.unwrap();
    assert_eq!(answer["key"], "users/oAbC_123-xyz/a.png");
    assert_eq!(call(None).await.unwrap().status(), 401, "no gateway header: nobody");
    assert_eq!(call(Some("")).await.unwrap().status(), 401);
    for unsafe_id in ["../bob", "a/b", "ｏpenid", "x".repeat(129).as_str()] {
        let refused = call(Some(unsafe_id)).await.unwrap();
        assert_eq!(
            refused.status(),
            401,
            "{unsafe_id}: an openid unsafe in keys is refused, never rewritten"
        );
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "UNAUTHORIZED", "{body}");
    }
}

/// The backend keeps nothing that matters across a restart: killed (SIGKILL) and started
/// again, it serves at once, fetching the access token once more (stable_token hands back
/// the same one).
#[tokio::test]
async fn a_killed_backend_restarts_with_one_token_fetch() {
    let emu = support::start().await;
    let port = support::process::free_port();
    // The record lives across the restart, in a directory of this test's own.
    let data = support::temp_dir("restart");
    let serve = || {
        std::process::Command::new(support::process::wxcs())
            .args(["serve", "--bind", "127.0.0.1", "--port", &port.to_string()])
            .env("WXCS_DATA_DIR", &data)
            .env("WX_API_BASE", emu.running.wx_url())
            .env("WX_ENV", &emu.config.env)
            .env("WX_APPID", &emu.config.appid)
            .env("WX_SECRET", emu.config.secret.expose_secret())
            .env("WXCS_USERS", format!("{ALICE}=alice"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/api/storage/upload-credentials");
    let mut tokens = Vec::new();
    for start in 0..2 {
        let mut child = serve();
        let mut status = 0;
        for _ in 0..100 {
            if let Ok(r) = http.post(&url).bearer_auth(ALICE).json(&json!({"path": "r.png"})).send().await {
                status = r.status().as_u16();
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(status, 200, "start {start}");
        for _ in 0..3 {
            let r = http.post(&url).bearer_auth(ALICE).json(&json!({"path": "r.png"})).send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
        tokens.push(emu.stats().await["stable_token_calls"].as_u64().unwrap());
        child.kill().unwrap();
        let _ = child.wait();
    }
    assert_eq!(tokens, [1, 2], "one token fetch per start, however many calls");
}

#[tokio::test]
async fn exists_answers_for_the_callers_folder_only_and_before_any_link() {
    let s = stack().await;
    // Before any link was issued (the bucket is not known yet), and for a missing file.
    let (status, answer) = s.call(Some(ALICE), "/api/storage/exists", json!({"paths": ["ca/a.bin"]})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["file_list"][0]["exists"], false);
    assert_eq!(answer["file_list"][0]["key"], "users/alice/ca/a.bin");
    let stored = s.upload(ALICE, "ca/a.bin", support::bytes(10), "application/octet-stream").await;
    s.upload(BOB, "ca/b.bin", support::bytes(10), "application/octet-stream").await;
    let paths =
        json!({"paths": ["ca/a.bin", "users/bob/ca/b.bin", "ca/b.bin", "a//b", "users/alice/ca/a.bin"]});
    let (status, answer) = s.call(Some(ALICE), "/api/storage/exists", paths).await;
    assert_eq!(status, 200, "{answer}");
    let list = answer["file_list"].as_array().unwrap();
    assert_eq!(list.len(), 5, "one item per path, in order");
    assert_eq!(
        (list[0]["exists"].as_bool(), list[0]["fileid"].as_str()),
        (Some(true), Some(&*stored.file_id))
    );
    assert_eq!(list[1]["code"], "FORBIDDEN", "another user's folder is never looked at");
    assert_eq!(list[2]["exists"], false, "bob's ca/b.bin is not alice's");
    assert_eq!(list[2]["key"], "users/alice/ca/b.bin");
    assert_eq!(list[3]["code"], "INVALID_KEY");
    assert_eq!(list[4]["exists"], true);
    let too_many = json!({"paths": vec!["a"; 51]});
    assert_eq!(s.call(Some(ALICE), "/api/storage/exists", too_many).await.0, 400);
    assert_eq!(s.call(Some(ALICE), "/api/storage/exists", json!({"paths": []})).await.0, 400);
    assert_eq!(s.call(None, "/api/storage/exists", json!({"paths": ["a"]})).await.0, 401);
}

#[tokio::test]
async fn verify_with_a_crc64_compares_it_with_the_stored_objects() {
    let s = stack().await;
    let bytes = support::bytes(5000);
    let ours = crc::Crc::<u64>::new(&crc::CRC_64_XZ).checksum(&bytes).to_string();
    let stored = s.upload(ALICE, "v/a.bin", bytes, "application/octet-stream").await;
    let verify = |crc64: &str| json!({"file_id": stored.file_id, "crc64": crc64});
    let (status, answer) = s.call(Some(ALICE), "/api/storage/verify", verify(&ours)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["integrity"], json!({"verdict": "verified", "crc64": ours}));
    let (_, answer) = s.call(Some(ALICE), "/api/storage/verify", verify("12345")).await;
    assert_eq!(answer["integrity"], json!({"verdict": "mismatch", "crc64": ours}), "the storage's CRC");
    s.faults(json!({"crc_header": "absent"})).await;
    let (_, answer) = s.call(Some(ALICE), "/api/storage/verify", verify(&ours)).await;
    s.faults(json!({})).await;
    assert_eq!(answer["integrity"], json!({"verdict": "unverifiable", "reason": "header-absent"}));
    for bad in ["", "-1", "18446744073709551616", "12a", " 1"] {
        assert_eq!(s.call(Some(ALICE), "/api/storage/verify", verify(bad)).await.0, 400, "{bad:?}");
    }
    assert_eq!(s.call(Some(BOB), "/api/storage/verify", verify(&ours)).await.0, 403, "not bob's");
}
