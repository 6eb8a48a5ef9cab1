//! `wxcs serve` as processes, as they are deployed: one on SQLite killed with `kill -9` and
//! started again, and two on one MariaDB with requests alternating between them. Nothing
//! acknowledged is lost, nothing unchecked is served, each check runs once, limits and
//! listings are shared.

mod support;

use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{json, Value};
use support::{
    instances::{call, faults, link, list_all, metric, objects, post, HTML},
    mariadb::mariadb,
    process::{spawn_backend_with, spawn_with, Backend},
    temp_dir, PNG,
};

const USERS: &str = "alice-token=alice,bob-token=bob,carol-token=carol,dave-token=dave";
const LIMITS: [&str; 8] =
    ["--max-size", "1024", "--allowed-types", "image/*", "--verify-after", "1", "--check-lease", "2"];

/// `wxcs serve` with an `image/*` limit, a 1 s grace and a 2 s lease, its state by `state`,
/// and `rate` requests per user per minute.
async fn serve(wx: &str, state: &[&str], rate: u32) -> Backend {
    let rate = rate.to_string();
    let args: Vec<&str> =
        LIMITS.iter().copied().chain(state.iter().copied()).chain(["--rate-per-minute", &rate]).collect();
    spawn_backend_with(wx, USERS, &args).await
}

/// Makes signed-in requests about something else, from each of `urls` in turn, until `done`
/// (every request sweeps a few due checks).
async fn drive(http: &Client, urls: &[&str], secs: u64, what: &str, done: impl AsyncFn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut i = 0;
    while !done().await {
        assert!(Instant::now() < deadline, "{what}");
        let _ = call(http, urls[i % urls.len()], "bob-token", "/api/storage/list", json!({})).await;
        i += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What a download-link request answers for each file: `true` when served.
async fn served(http: &Client, url: &str, token: &str, file_ids: &[Value]) -> Vec<bool> {
    let (status, answer) =
        call(http, url, token, "/api/storage/download-urls", json!({"file_ids": file_ids})).await;
    assert_eq!(status, 200, "{answer}");
    answer["file_list"].as_array().unwrap().iter().map(|item| item["status"] == 0).collect()
}

#[tokio::test]
async fn sqlite_survives_kill_9_with_checks_pending_and_in_flight() {
    let http = Client::new();
    let emulator = spawn_with(&temp_dir("kill9-emu"), &["--link-ttl", "6"]).await;
    let state = temp_dir("kill9-state");
    let data = ["--data-dir", state.to_str().unwrap()];
    let first = serve(&emulator.wx, &data, 100_000).await;
    let (mut bad, mut good) = (Vec::new(), Vec::new());
    for i in 0..8 {
        let l = link(&http, &first.url, "alice-token", &format!("bad-{i}.png"), 16).await;
        post(&http, &l, HTML.to_vec(), "image/png").await;
        bad.push(l["file_id"].clone());
        let l = link(&http, &first.url, "alice-token", &format!("good-{i}.png"), 16).await;
        post(&http, &l, PNG.to_vec(), "image/png").await;
        good.push(l["file_id"].clone());
    }
    // Half the bad ones reported: their checks start behind the answers, and hang on a slow COS.
    faults(&http, &emulator.wx, json!({"latency_ms": 3000})).await;
    for id in &bad[..4] {
        let (status, _) =
            call(&http, &first.url, "alice-token", "/api/storage/verify", json!({"file_id": id})).await;
        assert_eq!(status, 200);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut first = first;
    first.kill();
    faults(&http, &emulator.wx, json!({})).await;
    assert_eq!(objects(&http, &emulator.wx).await, 16, "the killed backend deleted nothing yet");

    let second = serve(&emulator.wx, &data, 100_000).await;
    // At once: nothing unchecked is served (the leases of the dead process expire first).
    assert_eq!(
        served(&http, &second.url, "alice-token", &bad).await,
        vec![false; 8],
        "a bad object was served"
    );
    assert_eq!(served(&http, &second.url, "alice-token", &good).await, vec![true; 8]);
    let urls = [second.url.as_str()];
    drive(&http, &urls, 20, "the checks never finished", async || {
        metric(&http, &second.url, "wxcs_pending_checks").await == 0.0
    })
    .await;
    assert_eq!(objects(&http, &emulator.wx).await, 8, "every bad object deleted, every good one kept");
    let listed = list_all(&http, &urls, "alice-token", "", 5).await;
    let expected: Vec<String> = (0..8).map(|i| format!("users/alice/good-{i}.png")).collect();
    assert_eq!(listed, expected, "the record matches the storage");
}

#[tokio::test]
async fn two_instances_on_one_mariadb_share_limits_checks_and_listing() {
    let http = Client::new();
    let emulator = spawn_with(&temp_dir("two-emu"), &["--link-ttl", "4"]).await;
    let database = mariadb().database_url("two_instances");
    let state = ["--database", database.as_str()];
    let (a, b) = (serve(&emulator.wx, &state, 300).await, serve(&emulator.wx, &state, 300).await);
    let both = [a.url.as_str(), b.url.as_str()];

    // A user's rate is shared: 300 requests alternating, then the next is refused by either.
    while support::instances::seconds_into_minute() > 45 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for i in 0..300 {
        let (status, answer) =
            call(&http, both[i % 2], "carol-token", "/api/storage/exists", json!({"paths": ["c.png"]})).await;
        assert_eq!(status, 200, "request {i}: {answer}");
    }
    for url in both {
        let (status, answer) =
            call(&http, url, "carol-token", "/api/storage/exists", json!({"paths": ["c.png"]})).await;
        assert_eq!((status, answer["code"].as_str()), (429, Some("RATE_LIMITED")), "{url}");
    }

    // Each pending check runs exactly once, whichever instance sweeps it.
    for i in 0..10 {
        let l = link(&http, both[i % 2], "alice-token", &format!("quiet-{i}.png"), 16).await;
        post(&http, &l, HTML.to_vec(), "image/png").await;
    }
    drive(&http, &both, 30, "the unreported uploads were never checked", async || {
        objects(&http, &emulator.wx).await == 0
    })
    .await;
    drive(&http, &both, 10, "checks left over", async || {
        metric(&http, &a.url, "wxcs_pending_checks").await == 0.0
    })
    .await;
    let runs =
        metric(&http, &a.url, "wxcs_checks_total").await + metric(&http, &b.url, "wxcs_checks_total").await;
    assert_eq!(runs, 10.0, "ten checks, each run once");

    // One instance dies holding leases: the other finishes its checks after the lease.
    for i in 0..5 {
        let l = link(&http, &a.url, "dave-token", &format!("held-{i}.png"), 16).await;
        post(&http, &l, HTML.to_vec(), "image/png").await;
    }
    tokio::time::sleep(Duration::from_secs(6)).await; // the links ended, the checks are due
    faults(&http, &emulator.wx, json!({"latency_ms": 4000})).await;
    for _ in 0..3 {
        let _ = call(&http, &a.url, "bob-token", "/api/storage/list", json!({})).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let mut a = a;
    a.kill();
    faults(&http, &emulator.wx, json!({})).await;
    let only_b = [b.url.as_str()];
    drive(&http, &only_b, 30, "the dead instance's checks were never taken over", async || {
        objects(&http, &emulator.wx).await == 0
    })
    .await;
    let a = serve(&emulator.wx, &state, 300).await;
    let both = [a.url.as_str(), b.url.as_str()];

    // Listing: the same pages from either instance, stable under uploads and deletes.
    let mut stable = Vec::new();
    for i in 0..40 {
        let l = link(&http, both[i % 2], "alice-token", &format!("photo-{i:02}.png"), 16).await;
        post(&http, &l, PNG.to_vec(), "image/png").await;
        let (status, _) =
            call(&http, both[i % 2], "alice-token", "/api/storage/verify", json!({"file_id": l["file_id"]}))
                .await;
        assert_eq!(status, 200);
        stable.push(l["key"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        list_all(&http, &[&a.url], "alice-token", "", 7).await,
        list_all(&http, &[&b.url], "alice-token", "", 7).await
    );
    let churn = {
        let (http, urls) = (http.clone(), [a.url.clone(), b.url.clone()]);
        tokio::spawn(async move {
            for i in 0..15 {
                let l = link(&http, &urls[i % 2], "alice-token", &format!("new-{i:02}.png"), 16).await;
                post(&http, &l, PNG.to_vec(), "image/png").await;
                let (_, _) = call(
                    &http,
                    &urls[(i + 1) % 2],
                    "alice-token",
                    "/api/storage/delete",
                    json!({"file_ids": [l["file_id"]]}),
                )
                .await;
            }
        })
    };
    let walked = list_all(&http, &both, "alice-token", "", 3).await;
    churn.await.unwrap();
    let unique: std::collections::HashSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len(), "a file listed twice: {walked:?}");
    for key in &stable {
        assert!(unique.contains(key), "{key} skipped");
    }
}
