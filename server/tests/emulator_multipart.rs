//! The emulator's multipart uploads, as a backend holding a temporary key from
//! `/_/cos/getauth` drives them over HTTP: a whole upload that downloads like any other
//! object, and each of COS's refusals (signatures bound to their method, key, upload and
//! part; tokens; expiry; part rules at complete), with what is left on disk after each.

mod support;

use serde_json::{json, Value};
use support::{start_with, Emu};
use wx_cloud_storage_server::cos_sign::{sign_request, Request};

const KEY: &str = "users/o1/视频 1.mp4";
const MIB: usize = 1024 * 1024;

/// A temporary key: (SecretId, SecretKey, Token).
async fn temp_key(emu: &Emu) -> (String, String, String) {
    let key: Value = emu.http.get(emu.wx("/_/cos/getauth")).send().await.unwrap().json().await.unwrap();
    let field = |name: &str| key[name].as_str().unwrap().to_owned();
    assert!(key["ExpiredTime"].as_u64().unwrap() > now(), "{key}");
    (field("TmpSecretId"), field("TmpSecretKey"), field("Token"))
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A request to COS for `key`, signed over `method`, `params` and `headers`.
struct Signed<'a> {
    emu: &'a Emu,
    key: (String, String, String),
}

impl Signed<'_> {
    fn request(
        &self,
        method: &str,
        object: &str,
        params: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let owned = |pairs: &[(&str, &str)]| {
            pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect::<Vec<_>>()
        };
        let path = format!("/{object}");
        let request = Request { method, path: &path, params: owned(params), headers: owned(headers) };
        let authorization = sign_request(&self.key.0, &self.key.1, &request, now() - 10, now() + 600);
        let query: Vec<String> = params
            .iter()
            .map(|(n, v)| if v.is_empty() { n.to_string() } else { format!("{n}={}", urlencode(v)) })
            .collect();
        let url = format!(
            "{}/{}/{}?{}",
            self.emu.running.cos_url(),
            self.emu.config.bucket(),
            urlencode_path(object),
            query.join("&")
        );
        let mut builder = self
            .emu
            .http
            .request(method.parse().unwrap(), url)
            .header("authorization", authorization)
            .header("x-cos-security-token", &self.key.2);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder
    }
}

fn urlencode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn urlencode_path(key: &str) -> String {
    key.split('/').map(urlencode).collect::<Vec<_>>().join("/")
}

/// The text of `<name>` in `xml`.
fn element(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{name}> in {xml}")) + open.len();
    xml[start..start + xml[start..].find('<').unwrap()].to_owned()
}

async fn initiate(s: &Signed<'_>, meta: &str) -> String {
    let answer = s
        .request(
            "POST",
            KEY,
            &[("uploads", "")],
            &[("x-cos-meta-fileid", meta), ("content-type", "video/mp4")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    element(&answer.text().await.unwrap(), "UploadId")
}

async fn part(s: &Signed<'_>, upload_id: &str, number: u32, bytes: Vec<u8>) -> reqwest::Response {
    let number = number.to_string();
    s.request("PUT", KEY, &[("partNumber", &number), ("uploadId", upload_id)], &[])
        .body(bytes)
        .send()
        .await
        .unwrap()
}

fn complete_body(parts: &[(u32, &str)]) -> String {
    let parts: String = parts
        .iter()
        .map(|(n, etag)| format!("<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"))
        .collect();
    format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>")
}

async fn cos_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, element(&response.text().await.unwrap(), "Code"))
}

/// No upload in progress, and no part or partial file left on disk.
async fn assert_nothing_left(emu: &Emu) {
    let after = stats(emu).await;
    assert_eq!(
        (after["partial_files"].as_u64(), after["multipart_uploads"].as_u64()),
        (Some(0), Some(0)),
        "{after}"
    );
}

async fn stats(emu: &Emu) -> Value {
    emu.http.get(emu.wx("/__emulator/stats")).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_multipart_upload_becomes_one_object_that_downloads_like_any_other() {
    let emu = start_with(|c| c.open_api = true).await;
    let s = Signed { emu: &emu, key: temp_key(&emu).await };
    let encoded = emu
        .post_json(
            &emu.wx("/_/cos/metaid/encode"),
            json!({"openid": "o1", "bucket": emu.config.bucket(), "paths": [KEY]}),
        )
        .await;
    let meta = encoded["x_cos_meta_field_strs"][0].as_str().unwrap().to_owned();
    let upload_id = initiate(&s, &meta).await;
    let chunks = [vec![b'a'; MIB], vec![b'b'; MIB + 7], b"the end".to_vec()];
    let mut etags = Vec::new();
    for (i, bytes) in chunks.iter().enumerate() {
        let answer = part(&s, &upload_id, i as u32 + 1, bytes.clone()).await;
        assert_eq!(answer.status(), 200);
        etags.push(answer.headers()["etag"].to_str().unwrap().to_owned());
    }
    // A part sent again replaces the first copy.
    let again = part(&s, &upload_id, 2, chunks[1].clone()).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etags[1]);
    let listed =
        s.request("GET", KEY, &[("uploadId", &upload_id)], &[]).send().await.unwrap().text().await.unwrap();
    assert_eq!(listed.matches("<Part>").count(), 3, "{listed}");
    assert!(listed.contains(&format!("<Size>{}</Size>", MIB + 7)), "{listed}");
    let named: Vec<(u32, &str)> = etags.iter().enumerate().map(|(i, e)| (i as u32 + 1, e.as_str())).collect();
    let done = s
        .request("POST", KEY, &[("uploadId", &upload_id)], &[])
        .body(complete_body(&named))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let crc = done.headers()["x-cos-hash-crc64ecma"].to_str().unwrap().to_owned();
    let etag = element(&done.text().await.unwrap(), "ETag");
    assert!(etag.ends_with("-3&quot;") || etag.ends_with("-3\""), "{etag}");
    // Downloaded through WeChat's own call, as any uploaded file.
    let file_id = format!("cloud://{}.{}/{KEY}", emu.config.env, emu.config.bucket());
    let links = emu
        .post_json(
            &emu.wx("/tcb/batchdownloadfile"),
            json!({"env": emu.config.env, "file_list": [{"fileid": file_id, "max_age": 60}]}),
        )
        .await;
    let url = links["file_list"][0]["download_url"].as_str().unwrap();
    let body = emu.http.get(url).send().await.unwrap();
    assert_eq!(body.status(), 200);
    assert_eq!(body.headers()["x-cos-hash-crc64ecma"].to_str().unwrap(), crc);
    assert_eq!(body.headers()["content-type"].to_str().unwrap(), "video/mp4");
    assert_eq!(body.bytes().await.unwrap().to_vec(), chunks.concat());
    assert_nothing_left(&emu).await;
}

#[tokio::test]
async fn signatures_bind_method_key_upload_and_part_and_keys_their_token() {
    let emu = start_with(|c| c.open_api = true).await;
    let s = Signed { emu: &emu, key: temp_key(&emu).await };
    let upload_id = initiate(&s, "HDmeta").await;
    let other_id = initiate(&s, "HDmeta").await;
    // Signed for one upload, sent for another.
    let signed = Request {
        method: "PUT",
        path: &format!("/{KEY}"),
        params: vec![("partNumber".into(), "1".into()), ("uploadId".into(), upload_id.clone())],
        headers: vec![],
    };
    let authorization = sign_request(&s.key.0, &s.key.1, &signed, now() - 10, now() + 600);
    let url = |id: &str, key: &str, method: &str| {
        let request = emu.http.request(
            method.parse().unwrap(),
            format!(
                "{}/{}/{}?partNumber=1&uploadId={id}",
                emu.running.cos_url(),
                emu.config.bucket(),
                urlencode_path(key)
            ),
        );
        request.header("authorization", authorization.clone()).header("x-cos-security-token", &s.key.2)
    };
    assert_eq!(url(&upload_id, KEY, "PUT").body("x").send().await.unwrap().status(), 200, "as signed");
    for (id, key, method) in [
        (&other_id, KEY, "PUT"),
        (&upload_id, "users/o2/x.mp4", "PUT"),
        (&upload_id, KEY, "DELETE"),
        (&upload_id, KEY, "GET"),
    ] {
        let (status, code) = cos_code(url(id, key, method).body("x").send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (403, "SignatureDoesNotMatch"), "{method} {key} {id}");
    }
    // The token must be the key's; a signature needs a key the emulator issued.
    let forged = Signed { emu: &emu, key: (s.key.0.clone(), s.key.1.clone(), "forged".into()) };
    let answer = forged.request("GET", KEY, &[("uploadId", &upload_id)], &[]).send().await.unwrap();
    assert_eq!(cos_code(answer).await.1, "InvalidAccessKeyId");
    let unknown = Signed { emu: &emu, key: ("AKIDnobody".into(), "secret".into(), s.key.2.clone()) };
    assert_eq!(
        cos_code(unknown.request("GET", KEY, &[("uploadId", &upload_id)], &[]).send().await.unwrap()).await.1,
        "InvalidAccessKeyId"
    );
    let unsigned = emu.http.get(format!(
        "{}/{}/{}?uploadId={upload_id}",
        emu.running.cos_url(),
        emu.config.bucket(),
        urlencode_path(KEY)
    ));
    assert_eq!(cos_code(unsigned.send().await.unwrap()).await, (403, "AccessDenied".into()));
    // Part numbers outside 1–10,000.
    for number in [0, 10_001] {
        assert_eq!(cos_code(part(&s, &upload_id, number, vec![1]).await).await.1, "InvalidArgument");
    }
    // An upload ID that is not in progress.
    assert_eq!(cos_code(part(&s, "nope", 1, vec![1]).await).await, (404, "NoSuchUpload".into()));
}

#[tokio::test]
async fn complete_holds_cos_part_rules_and_abort_leaves_nothing() {
    let emu = start_with(|c| c.open_api = true).await;
    let s = Signed { emu: &emu, key: temp_key(&emu).await };
    let upload_id = initiate(&s, "HDmeta").await;
    let mut etags = Vec::new();
    for (number, size) in [(1, MIB), (2, 10), (3, MIB)] {
        let answer = part(&s, &upload_id, number, vec![number as u8; size]).await;
        etags.push(answer.headers()["etag"].to_str().unwrap().to_owned());
    }
    let complete = |body: String| s.request("POST", KEY, &[("uploadId", &upload_id)], &[]).body(body).send();
    let cases = [
        (complete_body(&[(1, &etags[0]), (2, &etags[1]), (3, &etags[2])]), "EntityTooSmall"),
        (complete_body(&[(2, &etags[1]), (1, &etags[0])]), "InvalidPartOrder"),
        (complete_body(&[(1, "\"00000000000000000000000000000000\"")]), "InvalidPart"),
        (complete_body(&[(4, &etags[0])]), "InvalidPart"),
        (complete_body(&[]), "MalformedXML"),
        ("<CompleteMultipartUpload><Part>".to_owned(), "MalformedXML"),
    ];
    for (body, code) in cases {
        assert_eq!(cos_code(complete(body.clone()).await.unwrap()).await.1, code, "{body}");
    }
    assert_eq!(stats(&emu).await["multipart_uploads"], 1, "a refused complete keeps the upload");
    // The connection dropped mid-part: nothing of it stays; the part is sent again.
    emu.post_json(&emu.wx("/__emulator/faults"), json!({"drop_next": 1})).await;
    let request = s.request("PUT", KEY, &[("partNumber", "4"), ("uploadId", &upload_id)], &[]);
    assert!(request.body(vec![4; MIB]).send().await.is_err(), "the connection was dropped");
    assert_eq!(stats(&emu).await["partial_files"], 3, "the three parts, nothing of the dropped one");
    assert_eq!(part(&s, &upload_id, 4, vec![4; MIB]).await.status(), 200, "sent again");
    let aborted = s.request("DELETE", KEY, &[("uploadId", &upload_id)], &[]).send().await.unwrap();
    assert_eq!(aborted.status(), 204);
    assert_eq!(cos_code(part(&s, &upload_id, 1, vec![1]).await).await.1, "NoSuchUpload");
    assert_nothing_left(&emu).await;
}

#[tokio::test]
async fn temporary_keys_expire_and_exist_only_in_open_api_mode() {
    let emu = start_with(|c| {
        c.open_api = true;
        c.temp_key_ttl = 1;
    })
    .await;
    let s = Signed { emu: &emu, key: temp_key(&emu).await };
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let answer =
        s.request("POST", KEY, &[("uploads", "")], &[("x-cos-meta-fileid", "HD")]).send().await.unwrap();
    assert_eq!(cos_code(answer).await, (400, "ExpiredToken".into()));
    let closed = start_with(|_| {}).await;
    let refused: Value =
        closed.http.get(closed.wx("/_/cos/getauth")).send().await.unwrap().json().await.unwrap();
    assert_eq!(refused["errcode"], 48001, "{refused}");
    let encode = closed
        .post_json(
            &closed.wx("/_/cos/metaid/encode"),
            json!({"openid": "o", "bucket": closed.config.bucket(), "paths": ["a"]}),
        )
        .await;
    assert_eq!(encode["errcode"], 48001);
}

#[tokio::test]
async fn drop_after_bytes_drops_the_connection_that_brings_them_and_counts_what_came() {
    let emu = start_with(|c| c.open_api = true).await;
    let s = Signed { emu: &emu, key: temp_key(&emu).await };
    let upload_id = initiate(&s, "HDmeta").await;
    emu.faults(serde_json::json!({ "drop_after_bytes": 3 * MIB })).await;
    let before = stats(&emu).await;
    // The first part (2 MiB) is under the mark; the second crosses it and is dropped.
    assert_eq!(part(&s, &upload_id, 1, vec![1; 2 * MIB]).await.status(), 200);
    let number = "2";
    let dropped = s
        .request("PUT", KEY, &[("partNumber", number), ("uploadId", &upload_id)], &[])
        .body(vec![2; 2 * MIB])
        .send()
        .await;
    assert!(dropped.is_err(), "the connection was dropped: {dropped:?}");
    // Spent: the part goes again, whole.
    assert_eq!(part(&s, &upload_id, 2, vec![2; 2 * MIB]).await.status(), 200);
    let after = stats(&emu).await;
    let stored = after["parts_stored"].as_u64().unwrap() - before["parts_stored"].as_u64().unwrap();
    let received =
        after["part_bytes_received"].as_u64().unwrap() - before["part_bytes_received"].as_u64().unwrap();
    assert_eq!(stored, 2, "{after}");
    assert!(
        (5 * MIB as u64..6 * MIB as u64).contains(&received),
        "1 MiB or more of the dropped part came: {received}"
    );
}

#[tokio::test]
async fn uploads_in_progress_are_listed_by_prefix_for_sdks_that_resume() {
    let emu = start_with(|c| c.open_api = true).await;
    let s = Signed { emu: &emu, key: temp_key(&emu).await };
    let upload_id = initiate(&s, "HDmeta").await;
    let list =
        |prefix: &'static str| s.request("GET", "", &[("uploads", ""), ("prefix", prefix)], &[]).send();
    let answer = list("users/o1/").await.unwrap();
    assert_eq!(answer.status(), 200);
    let text = answer.text().await.unwrap();
    assert_eq!(element(&text, "UploadId"), upload_id, "{text}");
    assert_eq!(element(&text, "Key"), KEY);
    let other = list("users/o2/").await.unwrap().text().await.unwrap();
    assert!(!other.contains("<Upload>"), "{other}");
    // Signed like every multipart request: unsigned, refused.
    let bare = emu
        .http
        .get(format!("{}/{}/?uploads", emu.running.cos_url(), emu.config.bucket()))
        .send()
        .await
        .unwrap();
    assert_eq!(cos_code(bare).await, (403, "AccessDenied".to_owned()));
}
