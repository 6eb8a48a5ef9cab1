//! The emulator's COS port: round trips, every strictness rule, downloads, CORS, faults,
//! persistence and atomicity.

mod support;

use reqwest::multipart::{Form, Part};
use serde_json::json;
use support::*;
use wx_cloud_storage_server::emulator;

#[tokio::test]
async fn round_trips_are_byte_exact_for_every_size_and_a_chinese_key() {
    let emu = start().await;
    let token = emu.token().await;
    for (path, len) in [("empty.bin", 0), ("one.bin", 1), ("相册/2026/合照 1.png", 5 * 1024 * 1024)] {
        let data = bytes(len);
        let link = emu.upload_link(&token, path).await;
        let response =
            emu.post_form(&link, standard_form(&link, path, data.clone(), Some("image/png"))).await;
        assert_eq!(response.status(), 204);
        for header in ["etag", "location", "x-cos-request-id", "x-cos-hash-crc64ecma"] {
            assert!(response.headers().contains_key(header), "{header} missing");
        }
        let crc = response.headers()["x-cos-hash-crc64ecma"].to_str().unwrap().to_owned();
        let expected_crc = crc::Crc::<u64>::new(&crc::CRC_64_XZ).checksum(&data).to_string();
        assert_eq!(crc, expected_crc);
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();

        let file_id = link["file_id"].as_str().unwrap();
        let item = emu.download_item(&token, file_id, 600).await;
        assert_eq!(item["status"], 0, "{item}");
        let url = item["download_url"].as_str().unwrap();
        assert!(url.contains(path), "download URLs carry the raw key like the real ones: {url}");
        let got = emu.http.get(url).send().await.unwrap();
        assert_eq!(got.status(), 200);
        assert_eq!(got.headers()["content-type"], "image/png");
        assert_eq!(got.headers()["etag"].to_str().unwrap(), etag);
        assert_eq!(got.bytes().await.unwrap().as_ref(), data.as_slice(), "{path}");

        assert_eq!(emu.delete_item(&token, file_id).await["status"], 0);
        assert_eq!(emu.http.get(url).send().await.unwrap().status(), 404, "gone after delete");
    }
    let stats = emu.stats().await;
    assert_eq!(
        (stats["uploads"].as_u64(), stats["downloads"].as_u64(), stats["deletes"].as_u64()),
        (Some(3), Some(3), Some(3))
    );
}

/// A form with the parts in the given order, from the link.
fn form_of(link: &serde_json::Value, key: &str, order: &[&str]) -> Form {
    let mut form = Form::new();
    for name in order {
        form = match *name {
            "key" => form.text("key", key.to_owned()),
            "Signature" => form.text("Signature", link["authorization"].as_str().unwrap().to_owned()),
            "x-cos-security-token" => {
                form.text("x-cos-security-token", link["token"].as_str().unwrap().to_owned())
            }
            "x-cos-meta-fileid" => {
                form.text("x-cos-meta-fileid", link["cos_file_id"].as_str().unwrap().to_owned())
            }
            "file" => form.part("file", Part::bytes(b"payload".to_vec()).file_name("a.txt")),
            other => panic!("{other}"),
        };
    }
    form
}

const ALL: [&str; 5] = ["key", "Signature", "x-cos-security-token", "x-cos-meta-fileid", "file"];

#[tokio::test]
async fn strict_like_cos_and_nothing_is_stored_when_refused() {
    let emu = start_with(|c| c.max_object_size = 1000).await;
    let token = emu.token().await;
    let link = emu.upload_link(&token, "docs/a.txt").await;

    // `file` not last.
    let r = emu
        .post_form(
            &link,
            form_of(
                &link,
                "docs/a.txt",
                &["key", "Signature", "x-cos-security-token", "file", "x-cos-meta-fileid"],
            ),
        )
        .await;
    expect_cos_error(r, 400, "MalformedPOSTRequest").await;
    // Two files.
    let two = form_of(&link, "docs/a.txt", &ALL).part("file", Part::bytes(b"x".to_vec()).file_name("b.txt"));
    expect_cos_error(emu.post_form(&link, two).await, 400, "IncorrectNumberOfFilesInPostRequest").await;
    // No file.
    let none = form_of(&link, "docs/a.txt", &ALL[..4]);
    expect_cos_error(emu.post_form(&link, none).await, 400, "IncorrectNumberOfFilesInPostRequest").await;
    // No key.
    let r = emu
        .post_form(
            &link,
            form_of(&link, "docs/a.txt", &["Signature", "x-cos-security-token", "x-cos-meta-fileid", "file"]),
        )
        .await;
    expect_cos_error(r, 400, "InvalidArgument").await;
    // A key other than the signed path (the classic leading-slash mistake).
    expect_cos_error(
        emu.post_form(&link, form_of(&link, "/docs/a.txt", &ALL)).await,
        403,
        "SignatureDoesNotMatch",
    )
    .await;
    // A tampered signature.
    let tampered = link["authorization"].as_str().unwrap().replace("q-signature=", "q-signature=0");
    let mut bad = link.clone();
    bad["authorization"] = json!(tampered);
    expect_cos_error(
        emu.post_form(&link, form_of(&bad, "docs/a.txt", &ALL)).await,
        403,
        "SignatureDoesNotMatch",
    )
    .await;
    // No signature at all.
    let r = emu
        .post_form(
            &link,
            form_of(&link, "docs/a.txt", &["key", "x-cos-security-token", "x-cos-meta-fileid", "file"]),
        )
        .await;
    expect_cos_error(r, 403, "AccessDenied").await;
    // No security token.
    let r = emu
        .post_form(&link, form_of(&link, "docs/a.txt", &["key", "Signature", "x-cos-meta-fileid", "file"]))
        .await;
    expect_cos_error(r, 403, "InvalidAccessKeyId").await;
    // Another link's key and signature with this link's token.
    let other = emu.upload_link(&token, "docs/b.txt").await;
    let mut mixed = other.clone();
    mixed["token"] = link["token"].clone();
    expect_cos_error(
        emu.post_form(&link, form_of(&mixed, "docs/b.txt", &ALL)).await,
        403,
        "SignatureDoesNotMatch",
    )
    .await;
    // Too large.
    let big = standard_form(&link, "docs/a.txt", bytes(1001), None);
    expect_cos_error(emu.post_form(&link, big).await, 400, "EntityTooLarge").await;
    // Not multipart at all.
    let r = emu.http.post(link["url"].as_str().unwrap()).body("hello").send().await.unwrap();
    expect_cos_error(r, 400, "MalformedPOSTRequest").await;
    // Another bucket.
    let wrong_bucket = format!("{}/other-bucket/docs/a.txt", emu.running.cos_url());
    let r = emu.http.post(wrong_bucket).multipart(form_of(&link, "docs/a.txt", &ALL)).send().await.unwrap();
    expect_cos_error(r, 404, "NoSuchBucket").await;

    let stats = emu.stats().await;
    assert_eq!(stats["objects"], 0, "no refused upload stored anything");
    assert_eq!(stats["rejected"]["SignatureDoesNotMatch"], 3);
    assert_eq!(stats["rejected"]["MalformedPOSTRequest"], 2);
    // And the right form still works with the same link.
    assert_eq!(emu.post_form(&link, form_of(&link, "docs/a.txt", &ALL)).await.status(), 204);
    let tmp_entries = std::fs::read_dir(emu.config.data_dir.join("tmp")).unwrap().count();
    assert_eq!(tmp_entries, 0, "refused uploads leave nothing in tmp/");
}

#[tokio::test]
async fn links_expire() {
    let emu = start_with(|c| c.link_ttl = 1).await;
    let token = emu.token().await;
    let link = emu.upload_link(&token, "late.txt").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let error =
        expect_cos_error(emu.post_form(&link, form_of(&link, "late.txt", &ALL)).await, 403, "AccessDenied")
            .await;
    assert!(error.message.contains("expired"), "{}", error.message);
    assert!(error.is_expired_link());
}

#[tokio::test]
async fn a_missing_meta_fileid_uploads_fine_and_then_fails_to_download() {
    let emu = start().await;
    let token = emu.token().await;
    let link = emu.upload_link(&token, "forgot-meta.png").await;
    let r = emu
        .post_form(
            &link,
            form_of(&link, "forgot-meta.png", &["key", "Signature", "x-cos-security-token", "file"]),
        )
        .await;
    assert_eq!(r.status(), 204, "the upload itself succeeds, as on the real service");
    let item = emu.download_item(&token, link["file_id"].as_str().unwrap(), 60).await;
    assert_eq!(item["status"], 0);
    let r = emu.http.get(item["download_url"].as_str().unwrap()).send().await.unwrap();
    expect_cos_error(r, 403, "AccessDenied").await;
}

#[tokio::test]
async fn success_action_status_and_filename_substitution() {
    let emu = start().await;
    let token = emu.token().await;
    for (status, expected) in [("200", 200), ("201", 201), ("204", 204)] {
        let link = emu.upload_link(&token, "s.txt").await;
        let form = form_of(&link, "s.txt", &ALL[..4])
            .text("success_action_status", status)
            .part("file", Part::bytes(b"x".to_vec()).file_name("a"));
        let r = emu.post_form(&link, form).await;
        assert_eq!(r.status(), expected);
        if expected == 201 {
            let body = r.text().await.unwrap();
            assert!(body.contains("<Key>s.txt</Key>") && body.contains("<ETag>"), "{body}");
        }
    }
    // WeChat issues the link for the literal path; COS substitutes the file part's name.
    let link = emu.upload_link(&token, "in/${filename}").await;
    let form = form_of(&link, "in/${filename}", &ALL[..4])
        .part("file", Part::bytes(b"sub".to_vec()).file_name("photo.jpg"));
    assert_eq!(emu.post_form(&link, form).await.status(), 204);
    let file_id = format!("cloud://{}.{}/in/photo.jpg", emu.config.env, emu.config.bucket());
    let item = emu.download_item(&token, &file_id, 60).await;
    assert_eq!(item["status"], 0, "stored under the substituted key");
    let got = emu.http.get(item["download_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(got.headers()["content-type"], "application/octet-stream", "no Content-Type field sent");
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"sub");
}

#[tokio::test]
async fn downloads_check_sign_and_expiry_and_serve_ranges() {
    let emu = start().await;
    let token = emu.token().await;
    let data = bytes(10_000);
    let link = emu.upload(&token, "r.bin", data.clone()).await;
    let file_id = link["file_id"].as_str().unwrap();
    let url = emu.download_item(&token, file_id, 600).await["download_url"].as_str().unwrap().to_owned();

    let ranged = emu.http.get(&url).header("range", "bytes=100-199").send().await.unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.headers()["content-range"], "bytes 100-199/10000");
    assert_eq!(ranged.bytes().await.unwrap().as_ref(), &data[100..200]);
    let tail = emu.http.get(&url).header("range", "bytes=-10").send().await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &data[9990..]);
    let r = emu.http.get(&url).header("range", "bytes=20000-").send().await.unwrap();
    expect_cos_error(r, 416, "InvalidRange").await;
    let head = emu.http.head(&url).send().await.unwrap();
    assert_eq!(head.headers()["content-length"], "10000");

    let tampered = url.replace("sign=", "sign=f");
    expect_cos_error(emu.http.get(tampered).send().await.unwrap(), 403, "SignatureDoesNotMatch").await;
    let unsigned = url.split('?').next().unwrap().to_owned();
    expect_cos_error(emu.http.get(unsigned).send().await.unwrap(), 403, "AccessDenied").await;
    let short = emu.download_item(&token, file_id, 0).await["download_url"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let error = expect_cos_error(emu.http.get(short).send().await.unwrap(), 403, "AccessDenied").await;
    assert!(error.message.contains("expired"));
}

#[tokio::test]
async fn cors_allows_configured_origins_and_refuses_others() {
    let emu = start_with(|c| c.allow_origins = vec!["http://app.example".into()]).await;
    let token = emu.token().await;
    let link = emu.upload_link(&token, "c.txt").await;
    let url = link["url"].as_str().unwrap();
    let preflight = |origin: &'static str| {
        emu.http
            .request(reqwest::Method::OPTIONS, url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight("http://app.example").await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["access-control-allow-origin"], "http://app.example");
    assert!(ok.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert_eq!(ok.headers()["access-control-allow-headers"], "content-type");
    expect_cos_error(preflight("http://evil.example").await.unwrap(), 403, "AccessForbidden").await;

    let allowed = emu
        .http
        .post(url)
        .header("origin", "http://app.example")
        .multipart(form_of(&link, "c.txt", &ALL))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(allowed.headers()["access-control-allow-origin"], "http://app.example");
    let exposed = allowed.headers()["access-control-expose-headers"].to_str().unwrap();
    assert!(exposed.contains("ETag") && exposed.contains("x-cos-hash-crc64ecma"), "{exposed}");
    let link2 = emu.upload_link(&token, "d.txt").await;
    let refused = emu
        .http
        .post(link2["url"].as_str().unwrap())
        .header("origin", "http://evil.example")
        .multipart(form_of(&link2, "d.txt", &ALL))
        .send()
        .await
        .unwrap();
    assert!(
        !refused.headers().contains_key("access-control-allow-origin"),
        "a browser would block reading it"
    );
}

#[tokio::test]
async fn faults_fail_drop_expire_and_delay() {
    let emu = start().await;
    let token = emu.token().await;
    let link = emu.upload_link(&token, "f.txt").await;

    emu.faults(json!({"fail_next": 1})).await;
    expect_cos_error(emu.post_form(&link, form_of(&link, "f.txt", &ALL)).await, 503, "ServiceUnavailable")
        .await;
    assert_eq!(emu.post_form(&link, form_of(&link, "f.txt", &ALL)).await.status(), 204, "only the next one");

    emu.faults(json!({"expire_next": 1})).await;
    expect_cos_error(emu.post_form(&link, form_of(&link, "f.txt", &ALL)).await, 400, "ExpiredToken").await;

    emu.faults(json!({"drop_next": 1})).await;
    let link2 = emu.upload_link(&token, "dropped.bin").await;
    let result = emu
        .http
        .post(link2["url"].as_str().unwrap())
        .multipart(standard_form(&link2, "dropped.bin", bytes(256 * 1024), None))
        .send()
        .await;
    assert!(result.is_err(), "the connection is dropped mid-body: {result:?}");
    let item = emu.download_item(&token, link2["file_id"].as_str().unwrap(), 60).await;
    assert_eq!(item["status"], -503003, "a dropped upload stores nothing");

    emu.faults(json!({"latency_ms": 300})).await;
    let started = std::time::Instant::now();
    emu.stats().await; // control endpoints are not delayed
    emu.token().await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    emu.faults(json!({})).await;

    let r =
        emu.http.post(emu.wx("/__emulator/faults")).json(&json!({"fail_rate": 2.0})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = emu.http.post(emu.wx("/__emulator/faults")).json(&json!({"nonsense": 1})).send().await.unwrap();
    assert_eq!(r.status(), 400, "unknown fault names are refused, not ignored");
}

#[tokio::test]
async fn objects_persist_across_restarts_and_overwrites_replace() {
    let emu = start().await;
    let token = emu.token().await;
    emu.upload(&token, "keep.txt", b"first".to_vec()).await;
    let link = emu.upload(&token, "keep.txt", b"second version".to_vec()).await;
    let file_id = link["file_id"].as_str().unwrap().to_owned();
    assert_eq!(emu.stats().await["objects"], 1);
    let config = emu.config.clone();
    emu.running.shutdown().await;

    let running = emulator::start(config.clone()).await.unwrap();
    let again = Emu { running, config, http: reqwest::Client::new() };
    let token = again.token().await;
    let item = again.download_item(&token, &file_id, 60).await;
    assert_eq!(item["status"], 0, "still there after a restart");
    let got = again.http.get(item["download_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"second version");
    let objects = std::fs::read_dir(again.config.data_dir.join("objects")).unwrap().count();
    assert_eq!(objects, 1, "the overwritten bytes were removed");
}

#[tokio::test]
async fn an_aborted_upload_leaves_no_partial_object() {
    let emu = start().await;
    let token = emu.token().await;
    let link = emu.upload_link(&token, "aborted.bin").await;
    // A body that sends 1 MiB of the file part and then fails, as a closed tab would.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(bytes(1024 * 1024)), Err(std::io::Error::other("client went away"))];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let form = form_of(&link, "aborted.bin", &ALL[..4]).part("file", Part::stream(body).file_name("a.bin"));
    let result = emu.post_form_result(&link, form).await;
    assert!(result.is_err() || result.unwrap().status() == 400);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let item = emu.download_item(&token, link["file_id"].as_str().unwrap(), 60).await;
    assert_eq!(item["status"], -503003);
    assert_eq!(std::fs::read_dir(emu.config.data_dir.join("tmp")).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(emu.config.data_dir.join("objects")).unwrap().count(), 0);
}

#[tokio::test]
async fn a_cancelled_upload_removes_its_part_file_and_dropped_ones_leave_none() {
    let emu = start().await;
    let token = emu.token().await;
    let link = emu.upload_link(&token, "cancelled.bin").await;
    // A body that sends 64 KiB of the file part and then waits: an upload in flight.
    let (more, chunks) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    more.send(Ok(bytes(64 * 1024))).await.unwrap();
    let body = reqwest::Body::wrap_stream(tokio_stream_of(chunks));
    let form = form_of(&link, "cancelled.bin", &ALL[..4]).part("file", Part::stream(body).file_name("c.bin"));
    let (http, url) = (emu.http.clone(), link["url"].as_str().unwrap().to_owned());
    let in_flight = tokio::spawn(async move { http.post(url).multipart(form).send().await });
    assert!(partial_files_settle_at(&emu, 1).await, "the upload in flight is one part file");
    // The client goes away without finishing the body: its request is cancelled.
    in_flight.abort();
    drop(more);
    assert!(partial_files_settle_at(&emu, 0).await, "a cancelled upload leaves no part file");

    emu.faults(json!({"drop_next": 1})).await;
    let dropped = emu.post_form_result(&link, standard_form(&link, "cancelled.bin", bytes(256 * 1024), None));
    assert!(dropped.await.is_err());
    assert!(partial_files_settle_at(&emu, 0).await, "a dropped upload leaves no part file");

    // A whole form sent to a COS that is slow to start reading, by a client that gives up
    // first (a browser's timeout): the request is cancelled as its part file is created.
    emu.faults(json!({"latency_ms": 600})).await;
    let gave_up = emu.post_form_result(&link, standard_form(&link, "cancelled.bin", bytes(16 * 1024), None));
    assert!(tokio::time::timeout(std::time::Duration::from_millis(200), gave_up).await.is_err());
    emu.faults(json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(partial_files_settle_at(&emu, 0).await, "an upload given up on leaves no part file");
    assert_eq!(emu.stats().await["objects"], 0);
}

/// Polls the emulator's `partial_files` for up to 5 s until it is `want`.
async fn partial_files_settle_at(emu: &Emu, want: u64) -> bool {
    for _ in 0..100 {
        if emu.stats().await["partial_files"] == want {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// The receiving end of a channel as a stream of body chunks.
fn tokio_stream_of<T: Send + 'static>(
    mut chunks: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| chunks.poll_recv(cx))
}

/// COS answers as the evidence in wechat-storage-facts.md §11 shows (each case cites it).
#[tokio::test]
async fn answers_follow_the_public_evidence() {
    let emu = start().await;
    let token = emu.token().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    // `success_action_redirect` (COS POST Object, case 8): 303 to the URL with bucket, key, etag.
    let link = emu.upload_link(&token, "r/中.txt").await;
    let form = form_of(&link, "r/中.txt", &ALL[..4])
        .text("success_action_redirect", "https://app.example/done?x=1")
        .text("success_action_status", "201")
        .part("file", Part::bytes(b"r".to_vec()).file_name("a"));
    let r = http.post(link["url"].as_str().unwrap()).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("https://app.example/done?x=1&bucket="), "{location}");
    assert!(location.contains("&key=r%2F%E4%B8%AD.txt&etag=%22"), "{location}");

    // Text fields sent with a file name (Python `requests` files=; wechatpy did this): COS
    // goes by the part's name, so the form is fine.
    let link = emu.upload_link(&token, "w/py.txt").await;
    let named = |name: &str, value: &str| Part::text(value.to_owned()).file_name(name.to_owned());
    let form = Form::new()
        .part("key", named("key", "w/py.txt"))
        .part("Signature", named("Signature", link["authorization"].as_str().unwrap()))
        .part("x-cos-security-token", named("x-cos-security-token", link["token"].as_str().unwrap()))
        .part("x-cos-meta-fileid", named("x-cos-meta-fileid", link["cos_file_id"].as_str().unwrap()))
        .part("file", Part::bytes(b"py".to_vec()).file_name("py.txt"));
    assert_eq!(emu.post_form(&link, form).await.status(), 204);

    // `file` anywhere but last, the other fields after it, in any order: MalformedPOSTRequest
    // (the seed article's error; wechatpy PR #584), wherever the other fields are: the form's
    // shape is checked before its authorisation, so never a complaint about `key`, the
    // signature or the token that came after the file.
    for order in [
        ["file", "key", "Signature", "x-cos-security-token", "x-cos-meta-fileid"],
        ["file", "x-cos-meta-fileid", "x-cos-security-token", "Signature", "key"],
        ["Signature", "file", "key", "x-cos-security-token", "x-cos-meta-fileid"],
        ["key", "Signature", "file", "x-cos-security-token", "x-cos-meta-fileid"],
        ["key", "file", "Signature", "x-cos-security-token", "x-cos-meta-fileid"],
        ["key", "Signature", "x-cos-security-token", "file", "x-cos-meta-fileid"],
    ] {
        let r = emu.post_form(&link, form_of(&link, "w/py.txt", &order)).await;
        expect_cos_error(r, 400, "MalformedPOSTRequest").await;
    }

    // A signature by a SecretId COS does not know: InvalidAccessKeyId (COS 436/7730).
    let mut forged = link.clone();
    forged["authorization"] =
        json!(link["authorization"].as_str().unwrap().replace("q-ak=", "q-ak=AKIDforged"));
    let r = emu.post_form(&link, form_of(&forged, "w/py.txt", &ALL)).await;
    expect_cos_error(r, 403, "InvalidAccessKeyId").await;

    // A Range in a unit COS does not know, or malformed, is ignored: the whole object, 200
    // (RFC 7233 §3.1), not 416.
    let token = emu.token().await;
    let url = emu.download_item(&token, link["file_id"].as_str().unwrap(), 60).await["download_url"]
        .as_str()
        .unwrap()
        .to_owned();
    for range in ["items=0-1", "bytes=1-0", "bytes=x-"] {
        let r = emu.http.get(&url).header("range", range).send().await.unwrap();
        assert_eq!(r.status(), 200, "{range}");
        assert_eq!(r.bytes().await.unwrap().as_ref(), b"py", "{range}");
    }
}

/// Field names are any UTF-8 (found by fuzzing: a multi-byte character across byte 11
/// once panicked the check for `x-cos-meta-` names). Unknown fields are passed over, as COS
/// passes over fields it does not know; an oversized `x-cos-meta-*` value is still refused.
#[tokio::test]
async fn field_names_of_any_utf8_are_read_without_a_panic() {
    let emu = start().await;
    let token = emu.token().await;
    let names = ["IIIIII5555ˮIIII", "x-cos-metaˮ", "x-cos-meta-ˮ", "中文字段名称", "ˮ"];
    for (n, name) in names.into_iter().enumerate() {
        let key = format!("utf8/{n}.txt");
        let r = post_raw_form(&emu, &token, &key, name, "v").await;
        assert_eq!(r.status(), 204, "{name}: {}", r.text().await.unwrap());
    }
    let r = post_raw_form(&emu, &token, "utf8/meta.txt", "x-cos-meta-ˮ", &"m".repeat(3000)).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("MetadataTooLarge"));
    assert_eq!(emu.stats().await["objects"], names.len());
}

/// A valid upload form with one more text field, `name` written raw into its
/// Content-Disposition (reqwest would encode a non-ASCII name as `name*=`).
async fn post_raw_form(emu: &Emu, token: &str, key: &str, name: &str, value: &str) -> reqwest::Response {
    let link = emu.upload_link(token, key).await;
    let mut body = String::new();
    let fields = [
        ("key", key),
        ("Signature", link["authorization"].as_str().unwrap()),
        ("x-cos-security-token", link["token"].as_str().unwrap()),
        ("x-cos-meta-fileid", link["cos_file_id"].as_str().unwrap()),
        (name, value),
    ];
    for (name, value) in fields {
        body += &format!("--b0\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
    }
    body += "--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"u\"\r\n\r\nu\r\n--b0--\r\n";
    emu.http
        .post(link["url"].as_str().unwrap())
        .header("content-type", "multipart/form-data; boundary=b0")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The standard form with a `Content-MD5` field (before `file`, like every field).
fn form_with_md5(link: &serde_json::Value, key: &str, data: Vec<u8>, content_md5: &str) -> Form {
    Form::new()
        .text("key", key.to_owned())
        .text("Signature", link["authorization"].as_str().unwrap().to_owned())
        .text("x-cos-security-token", link["token"].as_str().unwrap().to_owned())
        .text("x-cos-meta-fileid", link["cos_file_id"].as_str().unwrap().to_owned())
        .text("Content-MD5", content_md5.to_owned())
        .part("file", Part::bytes(data).file_name("upload.bin"))
}

fn base64_md5(data: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(data))
}

#[tokio::test]
async fn content_md5_is_checked_like_cos() {
    let emu = start().await;
    let token = emu.token().await;
    let data = bytes(300 * 1024);
    let objects = || async { emu.stats().await["objects"].as_u64().unwrap() };

    let link = emu.upload_link(&token, "md5/right.bin").await;
    let right =
        emu.post_form(&link, form_with_md5(&link, "md5/right.bin", data.clone(), &base64_md5(&data))).await;
    assert_eq!(right.status(), 204, "{}", right.text().await.unwrap());
    assert_eq!(objects().await, 1);

    let link = emu.upload_link(&token, "md5/wrong.bin").await;
    let wrong = base64_md5(b"other bytes");
    expect_cos_error(
        emu.post_form(&link, form_with_md5(&link, "md5/wrong.bin", data.clone(), &wrong)).await,
        400,
        "BadDigest",
    )
    .await;
    for malformed in ["not base64!", "c2hvcnQ="] {
        let form = form_with_md5(&link, "md5/wrong.bin", data.clone(), malformed);
        expect_cos_error(emu.post_form(&link, form).await, 400, "InvalidDigest").await;
    }
    assert_eq!(objects().await, 1, "a refused digest stores nothing");
    assert_eq!(emu.stats().await["partial_files"], 0, "and leaves no part file");
}

#[tokio::test]
async fn the_crc_header_can_be_exposed_hidden_or_absent() {
    let emu = start_with(|c| c.allow_origins = vec!["http://app.example".into()]).await;
    let token = emu.token().await;
    // CRC-64/XZ's check value, which COS's CRC-64 documentation and cos-go-sdk-v5 use.
    let check = b"123456789".to_vec();
    for mode in ["exposed", "hidden", "absent"] {
        emu.faults(json!({ "crc_header": mode })).await;
        let key = format!("crc/{mode}.txt");
        let link = emu.upload_link(&token, &key).await;
        let posted = emu
            .http
            .post(link["url"].as_str().unwrap())
            .header("origin", "http://app.example")
            .multipart(standard_form(&link, &key, check.clone(), None))
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 204);
        let item = emu.download_item(&token, link["file_id"].as_str().unwrap(), 60).await;
        let got = emu
            .http
            .get(item["download_url"].as_str().unwrap())
            .header("origin", "http://app.example")
            .send()
            .await;
        let got = got.unwrap();
        assert_eq!(got.status(), 200);
        for answer in [posted.headers(), got.headers()] {
            let crc = answer.get("x-cos-hash-crc64ecma").map(|v| v.to_str().unwrap().to_owned());
            let exposed = answer["access-control-expose-headers"].to_str().unwrap();
            match mode {
                "absent" => assert_eq!(crc, None, "{mode}"),
                _ => assert_eq!(crc.as_deref(), Some("11051210869376104954"), "{mode}"),
            }
            // The CORS rule is the bucket's; whether COS sends the header is another matter.
            assert_eq!(exposed.contains("x-cos-hash-crc64ecma"), mode != "hidden", "{mode}: {exposed}");
            assert!(exposed.contains("ETag"), "{mode}: {exposed}");
        }
    }
    let r = emu
        .http
        .post(emu.wx("/__emulator/faults"))
        .json(&json!({"crc_header": "maybe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "an unknown mode is refused");
}

#[tokio::test]
async fn corrupt_next_flips_one_byte_of_what_is_stored() {
    let emu = start().await;
    let token = emu.token().await;
    let crc = |data: &[u8]| crc::Crc::<u64>::new(&crc::CRC_64_XZ).checksum(data).to_string();
    let data = bytes(64 * 1024);

    emu.faults(json!({"corrupt_next": 1})).await;
    let link = emu.upload_link(&token, "corrupt/a.bin").await;
    let posted = emu.post_form(&link, standard_form(&link, "corrupt/a.bin", data.clone(), None)).await;
    assert_eq!(posted.status(), 204, "COS stores what reached it");
    let reported = posted.headers()["x-cos-hash-crc64ecma"].to_str().unwrap().to_owned();
    assert_ne!(reported, crc(&data), "the CRC is of the stored bytes, not of those sent");
    let item = emu.download_item(&token, link["file_id"].as_str().unwrap(), 60).await;
    let stored =
        emu.http.get(item["download_url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(stored.len(), data.len());
    assert_eq!(stored.iter().zip(&data).filter(|(a, b)| a != b).count(), 1, "exactly one byte differs");
    assert_eq!(reported, crc(&stored));

    // Only the next one; with Content-MD5, COS refuses what was corrupted on the way.
    let link = emu.upload_link(&token, "corrupt/b.bin").await;
    let clean = emu.post_form(&link, standard_form(&link, "corrupt/b.bin", data.clone(), None)).await;
    assert_eq!(clean.headers()["x-cos-hash-crc64ecma"].to_str().unwrap(), crc(&data));
    emu.faults(json!({"corrupt_next": 1})).await;
    let form = form_with_md5(&link, "corrupt/b.bin", data.clone(), &base64_md5(&data));
    expect_cos_error(emu.post_form(&link, form).await, 400, "BadDigest").await;
}
