//! What lands is what the policy allows: declared sizes and types, checked again on the
//! object that landed, reported or not.

use super::*;

/// Hole 3: the limits hold for the object that lands, not only for what was declared.
#[tokio::test]
async fn declared_limits_are_checked_on_the_object_that_lands() {
    let s = watched(&["image/*"], 900, Duration::from_secs(60)).await;
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
        // The report is answered at once; the check runs behind it.
        let (status, answer) =
            s.call(Some(ALICE), "/api/storage/verify", json!({"file_id": link["file_id"]})).await;
        assert_eq!((status, answer["check"].as_str()), (200, Some("pending")), "{answer}");
        let (_, urls) = s.call(Some(ALICE), URLS, json!({"file_ids": [link["file_id"]]})).await;
        assert_eq!(urls["file_list"][0]["code"], code, "{posted_type}: {urls}");
        assert_eq!(s.stats().await["objects"], 0, "{posted_type}: the object was deleted");
    }
    // A real PNG under the limit passes, and is served.
    let (_, link) = s.call(Some(ALICE), CREDS, declare).await;
    post_as(&s, &link, "users/alice/x.png", PNG.to_vec(), "image/png").await;
    let (status, _) = s.call(Some(ALICE), "/api/storage/verify", json!({"file_id": link["file_id"]})).await;
    assert_eq!(status, 200);
    let (_, urls) = s.call(Some(ALICE), URLS, json!({"file_ids": [link["file_id"]]})).await;
    assert_eq!(urls["file_list"][0]["status"], 0, "{urls}");
    // Nobody reports another user's file.
    let (status, _) = s.call(Some(BOB), "/api/storage/verify", json!({"file_id": link["file_id"]})).await;
    assert_eq!(status, 403);
}

/// Hole 3, continued: a client that never reports its upload is caught once its link has
/// ended, by the checks later requests sweep.
#[tokio::test]
async fn an_unreported_upload_is_checked_after_its_link_expires() {
    let s = watched(&["image/*"], 2, Duration::from_secs(1)).await;
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
        // Any signed-in request sweeps a few due checks.
        let _ = s.call(Some(BOB), "/api/storage/exists", json!({"paths": ["x.png"]})).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, urls) = s.call(Some(ALICE), URLS, json!({"file_ids": [link["file_id"], good["file_id"]]})).await;
    assert_eq!(urls["file_list"][0]["code"], "NOT_FOUND", "the bad one went: {urls}");
    assert_eq!(urls["file_list"][1]["status"], 0, "the good one stayed");
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
                    b.policy =
                        Policy::limited(Limits { max_size: Some(1000), types: allowed, ..Limits::default() });
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
