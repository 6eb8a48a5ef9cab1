//! What an operator reads from `wxcs serve`: `/metrics` (parsed by `prometheus-parse`, a
//! real Prometheus text-format parser) counting exactly the requests made, `/readyz`, and
//! JSON log lines that carry each request's ID and no credential.

mod support;

use reqwest::Client;
use serde_json::{json, Value};
use support::{
    instances::call,
    process::{spawn, spawn_backend_logging},
    temp_dir,
};

const USERS: &str = "alice-token=alice";

/// The value of the sample of `name` whose labels include all of `labels`.
fn sample(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.iter().map(|b| b.count).fold(0.0, f64::max)
            }
            prometheus_parse::Value::Summary(_) => 0.0,
        })
        .sum()
}

async fn scrape(http: &Client, url: &str, token: Option<&str>) -> (u16, Option<prometheus_parse::Scrape>) {
    let mut request = http.get(format!("{url}/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let parsed = (status == 200)
        .then(|| prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap());
    (status, parsed)
}

#[tokio::test]
async fn metrics_count_the_requests_made() {
    let http = Client::new();
    let emulator = spawn(&temp_dir("metrics-emu")).await;
    let data = temp_dir("metrics-state");
    let backend =
        spawn_backend_logging(&emulator.wx, USERS, &["--data-dir", data.to_str().unwrap()], None).await;
    for i in 0..3 {
        let body = json!({"path": format!("m{i}.png"), "size": 16, "contentType": "image/png"});
        assert_eq!(
            call(&http, &backend.url, "alice-token", "/api/storage/upload-credentials", body).await.0,
            200
        );
    }
    for _ in 0..2 {
        let body = json!({"path": "users/bob/x.png", "size": 16, "contentType": "image/png"});
        assert_eq!(
            call(&http, &backend.url, "alice-token", "/api/storage/upload-credentials", body).await.0,
            403
        );
    }
    assert_eq!(call(&http, &backend.url, "wrong-token", "/api/storage/list", json!({})).await.0, 401);
    assert_eq!(call(&http, &backend.url, "alice-token", "/api/storage/list", json!({})).await.0, 200);
    assert_eq!(http.get(format!("{}/readyz", backend.url)).send().await.unwrap().status(), 200);

    let (status, scrape) = scrape(&http, &backend.url, None).await;
    assert_eq!(status, 200, "loopback may read the metrics without a token");
    let s = scrape.unwrap();
    let requests =
        |route, status| sample(&s, "wxcs_http_requests_total", &[("route", route), ("status", status)]);
    assert_eq!(requests("upload-credentials", "200"), 3.0);
    assert_eq!(requests("upload-credentials", "403"), 2.0);
    assert_eq!(requests("list", "401"), 1.0);
    assert_eq!(requests("list", "200"), 1.0);
    assert_eq!(requests("readyz", "200"), 1.0);
    assert_eq!(sample(&s, "wxcs_refusals_total", &[("code", "FORBIDDEN")]), 2.0);
    assert_eq!(sample(&s, "wxcs_refusals_total", &[("code", "UNAUTHORIZED")]), 1.0);
    assert_eq!(sample(&s, "wxcs_wechat_calls_total", &[("api", "tcb/uploadfile"), ("outcome", "ok")]), 3.0);
    assert_eq!(sample(&s, "wxcs_token_refreshes_total", &[("outcome", "ok")]), 1.0, "one token for all");
    assert_eq!(
        sample(&s, "wxcs_http_request_duration_seconds_count", &[("route", "upload-credentials")]),
        5.0
    );
    assert_eq!(sample(&s, "wxcs_files", &[("state", "pending")]), 3.0, "three links, nothing uploaded");
    assert_eq!(sample(&s, "wxcs_pending_checks", &[]), 3.0);
}

#[tokio::test]
async fn metrics_need_their_token_when_one_is_set() {
    let http = Client::new();
    let emulator = spawn(&temp_dir("metrics-token-emu")).await;
    let data = temp_dir("metrics-token-state");
    let args = ["--data-dir", data.to_str().unwrap(), "--metrics-token", "scrape-secret"];
    let backend = spawn_backend_logging(&emulator.wx, USERS, &args, None).await;
    for token in [None, Some("wrong"), Some("alice-token"), Some("scrape-secre"), Some("scrape-secretx")] {
        assert_eq!(scrape(&http, &backend.url, token).await.0, 403, "{token:?}");
    }
    assert_eq!(scrape(&http, &backend.url, Some("scrape-secret")).await.0, 200);
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_no_credential() {
    let http = Client::new();
    let emulator = spawn(&temp_dir("logs-emu")).await;
    let dir = temp_dir("logs-state");
    let log = dir.join("serve.log");
    let args = ["--data-dir", dir.to_str().unwrap(), "--log-format", "json"];
    let backend = spawn_backend_logging(&emulator.wx, USERS, &args, Some(&log)).await;
    let sent = http
        .post(format!("{}/api/storage/upload-credentials", backend.url))
        .bearer_auth("alice-token")
        .header("x-request-id", "trace-42.a_b")
        .json(&json!({"path": "a.png", "size": 16, "contentType": "image/png"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.headers()["x-request-id"], "trace-42.a_b", "an incoming ID is kept");
    let forged = http
        .post(format!("{}/api/storage/list", backend.url))
        .bearer_auth("alice-token")
        .header("x-request-id", "x\", \"level\": \"ERROR")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let made = forged.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(
        made.len() == 32 && made.bytes().all(|b| b.is_ascii_hexdigit()),
        "a forged ID is replaced: {made}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let of = |id: &str| lines.iter().filter(|l| l["span"]["id"] == id).count();
    assert!(of("trace-42.a_b") >= 1, "the request's lines carry its ID: {text}");
    assert!(of(&made) >= 1, "{text}");
    for secret in ["alice-token", "emulator-app-secret", "access_token"] {
        assert!(!text.contains(secret), "{secret} in the log");
    }
}
