//! The state store on both real engines, SQLite (a file) and MariaDB (a private server,
//! `support/mariadb.rs`), each test run on each, with two stores on one database standing
//! for two instances: counters are atomic, each due check is held by one instance, a dead
//! instance's leases are taken over, an outcome is written only by its holder and for its
//! link, the share is per owner, listing pages are stable under concurrent writes, and the
//! migrations run again harmlessly.

mod support;

use std::{collections::HashSet, sync::Arc, time::Duration};

use support::{mariadb::mariadb, temp_dir};
use wx_cloud_storage_server::backend::state::{
    now_ms, IssueError, Issued, ListOrder, ListQuery, Location, MultipartUpload, Outcome, Store, Verdict,
};

/// A fresh database of each engine.
fn locations(tag: &str) -> [(&'static str, Location); 2] {
    [
        ("sqlite", Location::Sqlite(temp_dir(tag).join("wxcs.sqlite"))),
        ("mariadb", Location::MySql(mariadb().database_url(tag).into())),
    ]
}

/// Two stores (two "instances") on one fresh database of each engine.
async fn engines(tag: &str) -> Vec<(&'static str, Arc<Store>, Arc<Store>)> {
    let mut out = Vec::new();
    for (name, location) in locations(tag) {
        let a = Store::open(&location).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let b = Store::open(&location).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name, Arc::new(a), Arc::new(b)));
    }
    out
}

fn link<'a>(file_id: &'a str, key: &'a str, due_at: i64, link_ends_at: i64) -> Issued<'a> {
    Issued {
        file_id,
        key,
        owner: "user:alice",
        declared_size: Some(16),
        declared_type: Some("image/png"),
        due_at,
        link_ends_at,
    }
}

fn stored() -> Outcome {
    Outcome {
        verdict: Verdict::Stored { size: 16, content_type: Some("image/png".into()), crc64: None },
        next: None,
    }
}

/// Records `key` as stored (a link, its check claimed and passed).
async fn store_file(store: &Store, key: &str) -> String {
    let file_id = format!("cloud://env.bucket/{key}");
    let now = now_ms();
    store.issued(&link(&file_id, key, now, now), Some(1_000_000)).await.unwrap();
    let check = store.claim(&file_id, Duration::from_secs(30)).await.unwrap().expect("claimable");
    assert!(store.complete(&check, &stored()).await.unwrap());
    file_id
}

#[tokio::test]
async fn counters_are_atomic_across_instances() {
    for (engine, a, b) in engines("counters").await {
        // Two names counted at once from both instances: the counts that arrive together are
        // written together, and each name still lets exactly its limit through.
        let mut tasks = Vec::new();
        for i in 0..128 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let name = if i % 4 < 2 { "rate:user:alice" } else { "rate:user:carol" };
            tasks.push(tokio::spawn(async move { (name, store.count(name, 20).await.unwrap().is_ok()) }));
        }
        let mut allowed = std::collections::HashMap::new();
        for task in tasks {
            let (name, ok) = task.await.unwrap();
            *allowed.entry(name).or_insert(0) += usize::from(ok);
        }
        assert_eq!(allowed["rate:user:alice"], 20, "{engine}: exactly the limit gets through");
        assert_eq!(allowed["rate:user:carol"], 20, "{engine}: exactly the limit gets through");
        let wait = a.count("rate:user:alice", 20).await.unwrap().unwrap_err();
        assert!((1..=60).contains(&wait), "{engine}: {wait}");
        assert!(b.count("rate:user:bob", 20).await.unwrap().is_ok(), "{engine}: per name");
    }
}

#[tokio::test]
async fn each_due_check_is_claimed_by_one_instance() {
    for (engine, a, b) in engines("claims").await {
        let now = now_ms();
        for i in 0..40 {
            let id = format!("cloud://env.bucket/users/alice/{i}.png");
            a.issued(&link(&id, &id[19..], now - 1, now - 1), Some(1000)).await.unwrap();
        }
        let claim = |store: Arc<Store>| async move {
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_due(3, Duration::from_secs(30)).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|c| c.file_id));
            }
        };
        let (from_a, from_b) = tokio::join!(claim(a.clone()), claim(b.clone()));
        let (set_a, set_b): (HashSet<_>, HashSet<_>) = (from_a.iter().collect(), from_b.iter().collect());
        assert_eq!(from_a.len() + from_b.len(), 40, "{engine}: every check claimed once");
        assert!(set_a.is_disjoint(&set_b), "{engine}: no check claimed by both");
        assert!(!from_a.is_empty() && !from_b.is_empty(), "{engine}: both instances took some");
    }
}

#[tokio::test]
async fn a_dead_instances_lease_is_taken_over_and_its_late_outcome_is_dropped() {
    for (engine, a, b) in engines("leases").await {
        let now = now_ms();
        let id = "cloud://env.bucket/users/alice/a.png";
        a.issued(&link(id, "users/alice/a.png", now - 1, now + 60_000), Some(1000)).await.unwrap();
        let held = a.claim_due(10, Duration::from_millis(800)).await.unwrap();
        assert_eq!(held.len(), 1, "{engine}");
        assert!(b.claim_due(10, Duration::from_secs(30)).await.unwrap().is_empty(), "{engine}: held by a");
        assert!(b.claim(id, Duration::from_secs(30)).await.unwrap().is_none(), "{engine}: held by a");
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let taken = b.claim_due(10, Duration::from_secs(30)).await.unwrap();
        assert_eq!(taken.len(), 1, "{engine}: b took over after the lease");
        assert!(!a.complete(&held[0], &stored()).await.unwrap(), "{engine}: a's lease is gone");
        assert!(b.complete(&taken[0], &stored()).await.unwrap(), "{engine}: b's outcome is written");
        assert_eq!(a.file(id).await.unwrap().unwrap().state, "stored", "{engine}");
        assert!(!a.has_check(id).await.unwrap(), "{engine}: done once");
    }
}

#[tokio::test]
async fn a_new_link_voids_the_outcome_of_a_check_in_flight() {
    for (engine, a, _) in engines("relink").await {
        let now = now_ms();
        let id = "cloud://env.bucket/users/alice/b.png";
        a.issued(&link(id, "users/alice/b.png", now - 1, now + 1000), Some(1000)).await.unwrap();
        let held = a.claim(id, Duration::from_secs(30)).await.unwrap().unwrap();
        a.issued(&link(id, "users/alice/b.png", now + 5000, now + 5000), Some(1000)).await.unwrap();
        assert!(!a.complete(&held, &stored()).await.unwrap(), "{engine}: the old link's check is void");
        assert!(a.has_check(id).await.unwrap(), "{engine}: the new link's check stands");
        assert_eq!(a.file(id).await.unwrap().unwrap().state, "pending", "{engine}");
    }
}

#[tokio::test]
async fn unreported_links_count_against_their_owners_share_only() {
    for (engine, a, b) in engines("share").await {
        let now = now_ms();
        for i in 0..3 {
            let id = format!("cloud://env.bucket/users/alice/s{i}");
            a.issued(&link(&id, &id[19..], now + 60_000, now + 60_000), Some(3)).await.unwrap();
        }
        let over =
            a.issued(&link("cloud://env.bucket/users/alice/s3", "users/alice/s3", now, now), Some(3)).await;
        assert_eq!(over, Err(IssueError::Full(3)), "{engine}");
        let bob =
            Issued { owner: "user:bob", ..link("cloud://env.bucket/users/bob/s", "users/bob/s", now, now) };
        assert!(a.issued(&bob, Some(3)).await.is_ok(), "{engine}: bob has his own share");
        // Links nobody will report (a folder without limits) count toward no share.
        for i in 4..8 {
            let id = format!("cloud://env.bucket/users/alice/free{i}");
            assert!(a.issued(&link(&id, &id[19..], now, now), None).await.is_ok(), "{engine}");
        }
        let still =
            a.issued(&link("cloud://env.bucket/users/alice/s9", "users/alice/s9", now, now), Some(3)).await;
        assert_eq!(still, Err(IssueError::Full(3)), "{engine}: only the counted ones are counted");
        // Links asked for at once are recorded together, and the share still holds.
        let mut tasks = Vec::new();
        for i in 0..12 {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                let id = format!("cloud://env.bucket/users/dave/d{i}");
                let dave = Issued { owner: "user:dave", ..link(&id, &id[19..], now, now) };
                store.issued(&dave, Some(5)).await
            }));
        }
        let mut admitted = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => admitted += 1,
                Err(IssueError::Full(n)) => assert!(n >= 5, "{engine}: {n}"),
                Err(e) => panic!("{engine}: {e:?}"),
            }
        }
        assert!((5..=10).contains(&admitted), "{engine}: {admitted} admitted past a share of 5");
        let mut recorded = 0;
        for i in 0..12 {
            recorded +=
                usize::from(b.has_check(&format!("cloud://env.bucket/users/dave/d{i}")).await.unwrap());
        }
        assert_eq!(recorded, admitted, "{engine}: every admitted link is recorded, no refused one");
    }
}

/// Walks every page of `prefix` in `order`, `limit` at a time.
async fn walk(store: &Store, prefix: &str, order: ListOrder, limit: u32) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let query = ListQuery { prefix: prefix.into(), contains: None, after: after.clone(), limit, order };
        let page = store.list(&query).await.unwrap();
        seen.extend(page.iter().map(|row| row.key.clone()));
        if page.len() < limit as usize {
            return seen;
        }
        let last = page.last().unwrap();
        after = Some((last.created_at, last.key.clone()));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn paging_never_repeats_or_skips_a_file_there_for_the_whole_walk() {
    for (engine, a, b) in engines("paging").await {
        let mut stable = Vec::new();
        for i in 0..150 {
            let key = format!("users/alice/stable-{i:03}.png");
            store_file(&a, &key).await;
            stable.push(key);
            let churn = format!("users/alice/churn-{i:03}.png");
            store_file(&a, &churn).await;
        }
        for order in [ListOrder::Name, ListOrder::Newest] {
            let writer = {
                let b = b.clone();
                tokio::spawn(async move {
                    for i in 0..150 {
                        store_file(&b, &format!("users/alice/new-{i:03}-{}.png", now_ms())).await;
                        b.mark_deleted(&format!("cloud://env.bucket/users/alice/churn-{i:03}.png"))
                            .await
                            .unwrap();
                    }
                })
            };
            let seen = walk(&a, "users/alice/", order, 17).await;
            writer.await.unwrap();
            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(unique.len(), seen.len(), "{engine} {order:?}: a file listed twice");
            for key in &stable {
                assert!(unique.contains(key), "{engine} {order:?}: {key} skipped");
            }
            let same = walk(&b, "users/alice/", order, 1000).await;
            assert_eq!(
                same,
                walk(&a, "users/alice/", order, 1000).await,
                "{engine}: both instances list alike"
            );
        }
        let named = walk(&a, "users/alice/stable-", ListOrder::Name, 1000).await;
        assert_eq!(named, stable, "{engine}: by name, bytewise, within the prefix");
    }
}

#[tokio::test]
async fn migrations_run_again_harmlessly() {
    for (engine, location) in locations("migrations") {
        store_file(&Store::open(&location).await.unwrap(), "users/alice/kept.png").await;
        let again = Store::open(&location).await.unwrap_or_else(|e| panic!("{engine}: {e}"));
        let row = again.file("cloud://env.bucket/users/alice/kept.png").await.unwrap();
        assert_eq!(row.map(|r| r.state).as_deref(), Some("stored"), "{engine}: kept across a second start");
    }
}

#[tokio::test]
async fn cloud_runs_mysql_variables_find_the_server_and_a_missing_database_is_created() {
    let server = mariadb();
    // SAFETY: this test binary reads these variables nowhere else.
    unsafe {
        std::env::set_var("MYSQL_ADDRESS", &server.address);
        std::env::set_var("MYSQL_USERNAME", support::mariadb::USER);
        std::env::set_var("MYSQL_PASSWORD", support::mariadb::PASSWORD);
    }
    let name = support::mariadb::database_name("cloudrun");
    let location = Location::from_cloud_run_env(&name).expect("MYSQL_ADDRESS is set");
    assert!(!location.describe().contains(support::mariadb::PASSWORD), "never the password");
    let store = Store::open(&location).await.unwrap();
    store.ping().await.unwrap();
    assert_eq!(store.engine(), "mysql");
}

fn multipart(upload_id: &str, key: &str) -> MultipartUpload {
    MultipartUpload {
        upload_id: upload_id.into(),
        file_id: format!("cloud://env.bucket/{key}"),
        key: key.into(),
        url: format!("http://cos/bucket/{key}"),
        owner: "user:alice".into(),
        size: 20 << 20,
        part_size: 8 << 20,
        content_type: Some("video/mp4".into()),
        link_ends_at: now_ms() + 60_000,
        state: "open".into(),
    }
}

#[tokio::test]
async fn a_multipart_upload_leaves_open_once_and_idle_ones_are_claimed_by_one_instance() {
    let lease = Duration::from_millis(300);
    for (engine, a, b) in engines("uploads").await {
        let started = multipart("u1", "users/alice/v.mp4");
        a.upload_started(&started).await.unwrap();
        assert_eq!(
            b.multipart_upload("u1").await.unwrap(),
            Some(started),
            "{engine}: the other instance reads it"
        );
        assert_eq!(b.multipart_upload("u9").await.unwrap(), None, "{engine}");
        // Two completes at once (one per instance): exactly one moves it.
        let (x, y) = tokio::join!(
            a.move_upload("u1", "open", "completing", lease),
            b.move_upload("u1", "open", "completing", lease)
        );
        assert_eq!(u8::from(x.unwrap()) + u8::from(y.unwrap()), 1, "{engine}");
        assert!(!a.touch_upload("u1").await.unwrap(), "{engine}: no part is signed while it completes");
        // Idle ones: claimed by one instance; one whose holder died is claimed again after its lease.
        for id in ["u2", "u3"] {
            a.upload_started(&multipart(id, &format!("users/alice/{id}"))).await.unwrap();
        }
        assert!(a.touch_upload("u3").await.unwrap(), "{engine}");
        let idle_before = now_ms() + 1;
        let (x, y) = tokio::join!(
            a.claim_idle_uploads(idle_before, 10, lease),
            b.claim_idle_uploads(idle_before, 10, lease)
        );
        let mut claimed: Vec<String> =
            x.unwrap().into_iter().chain(y.unwrap()).map(|u| u.upload_id).collect();
        claimed.sort();
        assert_eq!(claimed, ["u2", "u3"], "{engine}: each idle upload once, the completing one still held");
        assert!(!a.touch_upload("u2").await.unwrap(), "{engine}: an upload being aborted signs nothing");
        tokio::time::sleep(Duration::from_millis(400)).await;
        let mut again: Vec<String> =
            b.claim_idle_uploads(0, 10, lease).await.unwrap().into_iter().map(|u| u.upload_id).collect();
        again.sort();
        assert_eq!(again, ["u1", "u2", "u3"], "{engine}: held past their leases, claimed again");
        assert!(b.move_upload("u2", "aborting", "aborted", lease).await.unwrap(), "{engine}");
        assert_eq!(a.open_uploads().await.unwrap(), 0, "{engine}");
    }
}
