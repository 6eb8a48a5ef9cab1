//! Driving `wxcs serve` processes and their emulator over HTTP, as an operator's tools and
//! the library would: calls, form posts, `/metrics` read by a real Prometheus text parser,
//! the emulator's counters and faults.

use serde_json::{json, Value};

/// `POST {url}{path}` as `token`: status and JSON body.
pub async fn call(http: &reqwest::Client, url: &str, token: &str, path: &str, body: Value) -> (u16, Value) {
    let response = http.post(format!("{url}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// An upload link for `path` declaring `size` bytes of `image/png`, as `token`, from `url`.
pub async fn link(http: &reqwest::Client, url: &str, token: &str, path: &str, size: u64) -> Value {
    let body = json!({"path": path, "size": size, "contentType": "image/png"});
    let (status, link) = call(http, url, token, "/api/storage/upload-credentials", body).await;
    assert_eq!(status, 200, "{link}");
    link
}

/// Posts `bytes` as `content_type` with `link`'s form.
pub async fn post(http: &reqwest::Client, link: &Value, bytes: Vec<u8>, content_type: &str) {
    let form = super::standard_form(link, link["key"].as_str().unwrap(), bytes, Some(content_type));
    let response = http.post(link["url"].as_str().unwrap()).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 204);
}

/// The sum of the samples of metric `name` (every label set) that `url`'s `/metrics` shows.
pub async fn metric(http: &reqwest::Client, url: &str, name: &str) -> f64 {
    let text = http.get(format!("{url}/metrics")).send().await.unwrap().text().await.unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).unwrap();
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == name)
        .map(|sample| match sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// How many objects the emulator at `wx` holds.
pub async fn objects(http: &reqwest::Client, wx: &str) -> u64 {
    let stats: Value = http.get(format!("{wx}/__emulator/stats")).send().await.unwrap().json().await.unwrap();
    stats["objects"].as_u64().unwrap()
}

/// Sets the emulator's faults (the whole set).
pub async fn faults(http: &reqwest::Client, wx: &str, faults: Value) {
    let response = http.post(format!("{wx}/__emulator/faults")).json(&faults).send().await.unwrap();
    assert!(response.status().is_success());
}

/// The keys `url` lists under `prefix` for `token`, walking every page `limit` at a time.
pub async fn list_all(
    http: &reqwest::Client,
    urls: &[&str],
    token: &str,
    prefix: &str,
    limit: u32,
) -> Vec<String> {
    let (mut keys, mut cursor, mut page) = (Vec::new(), Value::Null, 0);
    loop {
        // Page by page, from each instance in turn.
        let url = urls[page % urls.len()];
        let body = json!({"prefix": prefix, "limit": limit, "cursor": cursor});
        let (status, answer) = call(http, url, token, "/api/storage/list", body).await;
        assert_eq!(status, 200, "{answer}");
        keys.extend(
            answer["files"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap().to_owned()),
        );
        cursor = answer["cursor"].clone();
        if cursor.is_null() {
            return keys;
        }
        page += 1;
    }
}

/// HTML, for objects that fail an `image/*` rule.
pub const HTML: &[u8] = b"<html><script>alert(1)</script></html>";

/// Seconds into the current minute: the rate counters' windows are whole minutes.
pub fn seconds_into_minute() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 60
}
