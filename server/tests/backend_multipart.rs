//! The backend's multipart uploads (#30) against the emulator in 开放接口服务 mode, as a
//! client drives them: start, a signed PUT per part, the parts COS holds, complete; the
//! object downloads like any other and is checked against its folder's limits. And every
//! way a client could try to stretch a part's signature, each refused: another user's
//! upload, an unknown one, a part number out of range, a part of another length, the
//! signature replayed on another key, another upload, another part or as another request
//! (a GET, a DELETE, `?acl`), a part after the upload completed or was aborted; the
//! temporary key in no answer and no log line; idle uploads aborted by a later request.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{
    logs::captured_logs,
    stack::{stack_with, Stack, ALICE, BOB},
};
use wx_cloud_storage_server::client::Auth;

const MIB: usize = 1024 * 1024;

async fn open_api_stack(configure: impl FnOnce(&mut wx_cloud_storage_server::backend::Backend)) -> Stack {
    stack_with(|c| c.open_api = true, Some(Auth::OpenApi), configure).await
}

fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

/// Starts an upload of `size` bytes at `path` as `user`: the answer.
async fn start(s: &Stack, user: &str, path: &str, size: usize) -> Value {
    let body = json!({ "path": path, "size": size, "contentType": "video/mp4", "partSize": MIB });
    let (status, answer) = s.call(Some(user), "/api/storage/multipart", body).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// The signed PUT of part `number`, as the backend answers it.
async fn sign(s: &Stack, user: &str, upload_id: &str, number: u32) -> (u16, Value) {
    let body = json!({ "uploadId": upload_id, "partNumber": number });
    s.call(Some(user), "/api/storage/multipart/part", body).await
}

/// Sends `bytes` as the signed request `signed` (with `method` and `url` overridable).
async fn send(s: &Stack, signed: &Value, method: &str, url: &str, bytes: Vec<u8>) -> (u16, String) {
    let headers = &signed["headers"];
    let response = s
        .http
        .request(method.parse().unwrap(), url)
        .header("authorization", headers["Authorization"].as_str().unwrap())
        .header("x-cos-security-token", headers["x-cos-security-token"].as_str().unwrap())
        .body(bytes)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Part `number` (1-based) of `file` cut in `part`-sized pieces.
fn piece(file: &[u8], part: usize, number: usize) -> Vec<u8> {
    file[(number - 1) * part..(number * part).min(file.len())].to_vec()
}

#[tokio::test]
async fn a_multipart_upload_resumes_from_the_parts_cos_holds_and_downloads_like_any_file() {
    let logs = captured_logs();
    let s = open_api_stack(|_| {}).await;
    let file = content(3 * MIB + 12_345, 7);
    let started = start(&s, ALICE, "big/video.mp4", file.len()).await;
    assert_eq!(started["key"], "users/alice/big/video.mp4");
    assert_eq!((started["parts"].as_u64(), started["partSize"].as_u64()), (Some(4), Some(MIB as u64)));
    let upload_id = started["uploadId"].as_str().unwrap();
    // Parts 1 and 3 go; then, as after a reload, the client asks what COS holds.
    for number in [1, 3] {
        let (status, signed) = sign(&s, ALICE, upload_id, number).await;
        assert_eq!(status, 200, "{signed}");
        let (status, body) =
            send(&s, &signed, "PUT", signed["url"].as_str().unwrap(), piece(&file, MIB, number as usize))
                .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, held) =
        s.call(Some(ALICE), "/api/storage/multipart/parts", json!({ "uploadId": upload_id })).await;
    assert_eq!(status, 200, "{held}");
    let numbers: Vec<u64> =
        held["parts"].as_array().unwrap().iter().map(|p| p["partNumber"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 3]);
    let (status, early) =
        s.call(Some(ALICE), "/api/storage/multipart/complete", json!({ "uploadId": upload_id })).await;
    assert_eq!((status, early["code"].as_str()), (400, Some("INVALID_ARGUMENT")), "{early}");
    assert!(early["message"].as_str().unwrap().contains("2 of 4 parts are missing (2, 4)"), "{early}");
    for number in [2, 4] {
        let (_, signed) = sign(&s, ALICE, upload_id, number).await;
        let (status, body) =
            send(&s, &signed, "PUT", signed["url"].as_str().unwrap(), piece(&file, MIB, number as usize))
                .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, done) =
        s.call(Some(ALICE), "/api/storage/multipart/complete", json!({ "uploadId": upload_id })).await;
    assert_eq!(status, 200, "{done}");
    let file_id = done["fileId"].as_str().unwrap().to_owned();
    assert_eq!(file_id, started["fileId"].as_str().unwrap());
    // One object: a download link as for any file, the bytes, and the CRC-64 header.
    let (status, links) =
        s.call(Some(ALICE), "/api/storage/download-urls", json!({ "file_ids": [file_id] })).await;
    assert_eq!(status, 200, "{links}");
    let url = links["file_list"][0]["download_url"].as_str().expect("a download link");
    let got = s.http.get(url).send().await.unwrap();
    let crc = got.headers()["x-cos-hash-crc64ecma"].to_str().unwrap().to_owned();
    assert_eq!(done["crc64"].as_str(), Some(crc.as_str()), "complete answers the object's CRC-64");
    assert_eq!(got.bytes().await.unwrap().to_vec(), file, "the parts, joined in order");
    // The record lists it, checked: its real size.
    let (_, listed) = s.call(Some(ALICE), "/api/storage/list", json!({ "prefix": "users/alice/big/" })).await;
    assert_eq!(listed["files"][0]["key"], "users/alice/big/video.mp4", "{listed}");
    assert_eq!(listed["files"][0]["size"].as_u64(), Some(file.len() as u64), "{listed}");
    // Finished: nothing more is signed or listed; a complete asked again (its answer was
    // lost) gets the same file.
    for (endpoint, body) in [
        ("/api/storage/multipart/part", json!({ "uploadId": upload_id, "partNumber": 1 })),
        ("/api/storage/multipart/parts", json!({ "uploadId": upload_id })),
        ("/api/storage/multipart/abort", json!({ "uploadId": upload_id })),
    ] {
        let (status, answer) = s.call(Some(ALICE), endpoint, body).await;
        assert_eq!((status, answer["code"].as_str()), (404, Some("NOT_FOUND")), "{endpoint}: {answer}");
    }
    let (status, again) =
        s.call(Some(ALICE), "/api/storage/multipart/complete", json!({ "uploadId": upload_id })).await;
    assert_eq!((status, again["fileId"].as_str()), (200, Some(file_id.as_str())), "{again}");
    assert_no_temp_key(&s, &logs).await;
}

/// No log line holds the temporary key: not the token a part's answer carried, and no
/// 40-hex-digit run (the emulator's SecretKeys, and the signatures made with them).
async fn assert_no_temp_key(s: &Stack, logs: &std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    let upload = start(s, ALICE, "probe.mp4", 10).await;
    let (_, signed) = sign(s, ALICE, upload["uploadId"].as_str().unwrap(), 1).await;
    let token = signed["headers"]["x-cos-security-token"].as_str().unwrap();
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(logged.contains("multipart"), "the logs were captured");
    assert!(!logged.contains(token), "the key's token was logged");
    let hex_run = logged.split(|c: char| !c.is_ascii_hexdigit()).find(|word| word.len() >= 40);
    assert_eq!(hex_run, None, "a secret-like hex run was logged");
}

#[tokio::test]
async fn a_parts_signature_is_good_for_that_part_only() {
    let s = open_api_stack(|_| {}).await;
    let file = content(2 * MIB + 10, 3);
    let first = start(&s, ALICE, "a.mp4", file.len()).await;
    let other = start(&s, ALICE, "b.mp4", file.len()).await;
    let (id, other_id) = (first["uploadId"].as_str().unwrap(), other["uploadId"].as_str().unwrap());
    let (_, signed) = sign(&s, ALICE, id, 1).await;
    let url = signed["url"].as_str().unwrap();
    // No answer carries the key's secret: only a signature and the token COS wants with it.
    let text = signed.to_string();
    assert!(!text.contains("TmpSecretKey") && !text.contains("q-sign-algorithm=sha1&q-ak=&"), "{text}");
    let part = piece(&file, MIB, 1);
    let refused = |(status, body): (u16, String), what: &str| {
        assert!(status == 403 || status == 400, "{what}: {status} {body}");
        assert!(body.contains("SignatureDoesNotMatch") || body.contains("AccessDenied"), "{what}: {body}");
    };
    refused(send(&s, &signed, "PUT", url, part[..part.len() - 1].to_vec()).await, "a part one byte short");
    refused(
        send(&s, &signed, "PUT", &url.replace("partNumber=1", "partNumber=2"), part.clone()).await,
        "another part",
    );
    refused(send(&s, &signed, "PUT", &url.replace(id, other_id), part.clone()).await, "another upload");
    refused(send(&s, &signed, "PUT", &url.replace("a.mp4", "b.mp4"), part.clone()).await, "another key");
    let bare = url.split('?').next().unwrap();
    refused(send(&s, &signed, "GET", bare, Vec::new()).await, "a GET of the object");
    refused(send(&s, &signed, "DELETE", bare, Vec::new()).await, "a DELETE of the object");
    refused(send(&s, &signed, "PUT", &format!("{bare}?acl"), part.clone()).await, "?acl");
    refused(send(&s, &signed, "DELETE", &format!("{bare}?uploadId={id}"), Vec::new()).await, "an abort");
    let (status, body) = send(&s, &signed, "PUT", url, part).await;
    assert_eq!(status, 200, "the part itself: {body}");
    // Bob cannot use Alice's upload at all; to him it does not exist.
    for (endpoint, body) in [
        ("/api/storage/multipart/part", json!({ "uploadId": id, "partNumber": 2 })),
        ("/api/storage/multipart/parts", json!({ "uploadId": id })),
        ("/api/storage/multipart/complete", json!({ "uploadId": id })),
        ("/api/storage/multipart/abort", json!({ "uploadId": id })),
    ] {
        let (status, answer) = s.call(Some(BOB), endpoint, body).await;
        assert_eq!((status, answer["code"].as_str()), (404, Some("NOT_FOUND")), "{endpoint}: {answer}");
    }
    for (number, why) in [(0, "zero"), (4, "past the last part"), (10_001, "past COS's limit")] {
        let (status, answer) = sign(&s, ALICE, id, number).await;
        assert_eq!((status, answer["code"].as_str()), (400, Some("INVALID_ARGUMENT")), "{why}: {answer}");
    }
    let (status, answer) = sign(&s, ALICE, "made-up-upload-id", 1).await;
    assert_eq!((status, answer["code"].as_str()), (404, Some("NOT_FOUND")), "{answer}");
    let (status, answer) = s
        .call(
            Some(ALICE),
            "/api/storage/multipart/part",
            json!({ "uploadId": id, "partNumber": 2, "method": "DELETE" }),
        )
        .await;
    assert_eq!(status, 400, "a client names no method: {answer}");
    // Aborted: COS drops the parts, and nothing more is signed.
    let (status, aborted) =
        s.call(Some(ALICE), "/api/storage/multipart/abort", json!({ "uploadId": id })).await;
    assert_eq!(status, 200, "{aborted}");
    let (status, answer) = sign(&s, ALICE, id, 2).await;
    assert_eq!((status, answer["code"].as_str()), (404, Some("NOT_FOUND")), "{answer}");
}

#[tokio::test]
async fn starting_keeps_the_rules_and_limits_of_an_upload_link() {
    let s = open_api_stack(|_| {}).await;
    let (status, answer) =
        s.call(Some(ALICE), "/api/storage/multipart", json!({ "path": "../bob/x.mp4", "size": 10 })).await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = s.call(Some(ALICE), "/api/storage/multipart", json!({ "path": "x.mp4" })).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (400, Some("INVALID_ARGUMENT")),
        "a size is needed: {answer}"
    );
    let (status, _) = s.call(None, "/api/storage/multipart", json!({ "path": "x.mp4", "size": 10 })).await;
    assert_eq!(status, 401);
    // Outside 开放接口服务 there is no key to sign with: 404, saying what to do instead.
    let plain = stack_with(|_| {}, None, |_| {}).await;
    let (status, answer) =
        plain.call(Some(ALICE), "/api/storage/multipart", json!({ "path": "x.mp4", "size": 10 })).await;
    assert_eq!((status, answer["code"].as_str()), (404, Some("NOT_FOUND")), "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("开放接口服务"), "{answer}");
}

#[tokio::test]
async fn an_upload_nobody_continues_is_aborted_by_a_later_request() {
    let s = open_api_stack(|b| b.multipart_idle = Duration::from_secs(1)).await;
    let file = content(MIB + 1, 9);
    let started = start(&s, ALICE, "idle.mp4", file.len()).await;
    let id = started["uploadId"].as_str().unwrap().to_owned();
    let (_, signed) = sign(&s, ALICE, &id, 1).await;
    let (status, _) = send(&s, &signed, "PUT", signed["url"].as_str().unwrap(), piece(&file, MIB, 1)).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    // Any later multipart request sweeps: the idle upload is aborted at COS.
    start(&s, BOB, "other.mp4", 10).await;
    let mut gone = false;
    for _ in 0..50 {
        let (status, _) =
            s.call(Some(ALICE), "/api/storage/multipart/parts", json!({ "uploadId": id })).await;
        if status == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the idle upload was not aborted");
    let (status, body) =
        send(&s, &signed, "PUT", signed["url"].as_str().unwrap(), piece(&file, MIB, 1)).await;
    assert_eq!(status, 404, "COS no longer has the upload: {body}");
}

/// The SecretId a part's signature was made with (`q-ak`).
fn signing_key(signed: &Value) -> String {
    let authorization = signed["headers"]["Authorization"].as_str().unwrap();
    authorization.split('&').find_map(|pair| pair.strip_prefix("q-ak=")).unwrap().to_owned()
}

#[tokio::test]
async fn the_temporary_key_is_reused_and_replaced_before_it_expires() {
    // 1800 s keys: one key signs everything.
    let s = open_api_stack(|_| {}).await;
    let id = start(&s, ALICE, "k.mp4", MIB + 1).await["uploadId"].as_str().unwrap().to_owned();
    let (first, second) = (sign(&s, ALICE, &id, 1).await.1, sign(&s, ALICE, &id, 2).await.1);
    assert_eq!(signing_key(&first), signing_key(&second), "the cached key");
    // Keys that live 200 s are within five minutes of their end at once: each is replaced.
    let short = stack_with(
        |c| {
            c.open_api = true;
            c.temp_key_ttl = 200;
        },
        Some(Auth::OpenApi),
        |_| {},
    )
    .await;
    let id = start(&short, ALICE, "k.mp4", MIB + 1).await["uploadId"].as_str().unwrap().to_owned();
    let (first, second) = (sign(&short, ALICE, &id, 1).await.1, sign(&short, ALICE, &id, 2).await.1);
    assert_ne!(signing_key(&first), signing_key(&second), "a key near its end is fetched again");
    // And a part signed with the new key goes through.
    let file = content(MIB + 1, 1);
    let (status, body) =
        send(&short, &second, "PUT", second["url"].as_str().unwrap(), piece(&file, MIB, 2)).await;
    assert_eq!(status, 200, "{body}");
}
