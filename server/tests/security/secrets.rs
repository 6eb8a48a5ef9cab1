//! Secrets never leave: no AppSecret, token or key in a `Debug` print, a log line or an
//! error body, at any log level.

use super::*;

/// Hole 8: no `Debug` print shows the AppSecret, a cached access token, a cloudbase token,
/// bearer tokens or the emulator's signing key.
#[tokio::test]
async fn debug_prints_redact_every_secret() {
    let s = stack().await;
    s.upload(ALICE, "d.png", vec![1], "image/png").await; // the client caches a token
    let token = s.stable_token(false).await;
    let client = StorageClient::new(
        s.emu.wx_url(),
        s.config.env.clone(),
        Auth::AppSecret { appid: s.config.appid.clone(), secret: s.config.secret.clone() },
    );
    client.upload_link("users/alice/debug.png").await.unwrap(); // now it caches the same stable token
    let with_token = client.with_cloudbase_token(&token);
    let backend = Backend::new(
        client.clone(),
        Box::new(BearerTokens::parse(&format!("{ALICE}=alice")).unwrap()),
        Policy::default(),
    );
    let printed =
        [format!("{client:?}"), format!("{with_token:?}"), format!("{backend:?}"), format!("{:?}", s.config)];
    for text in &printed {
        for secret in
            [s.config.secret.expose_secret(), token.as_str(), ALICE, s.config.cos_secret_key.expose_secret()]
        {
            assert!(!text.contains(secret), "a secret in a Debug print: {text}");
        }
        assert!(text.to_lowercase().contains("redacted") || text.contains("users"), "{text}");
    }
}

/// Also found: WeChat's errmsg (40164 names the server's egress IP) stays in the server's
/// log; the page gets the code. And keys with control characters reach the developer's
/// terminal escaped.
#[tokio::test]
async fn wechat_details_stay_in_the_log_and_keys_are_escaped_there() {
    let logs = captured_logs();
    let s = stack_with(
        |_| {},
        Some(Auth::AppSecret { appid: "wx0000000000emulator".into(), secret: "a-wrong-secret".into() }),
        |_| {},
    )
    .await;
    let (status, answer) = s.call(Some(ALICE), CREDS, json!({"path": "a.png"})).await;
    assert_eq!(answer["code"], "WECHAT_API", "{answer}");
    assert_eq!(status, 502);
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("errcode") && message.contains("server's log"), "{message}");
    assert!(!message.contains("invalid appsecret"), "WeChat's errmsg is not passed on: {message}");

    let emu = support::start().await;
    let token = emu.token().await;
    let key = "esc/\u{1b}[31mred\u{7}.bin";
    let link = emu.upload_link(&token, key).await;
    let form = Form::new()
        .text("key", key)
        .text("Signature", link["authorization"].as_str().unwrap().to_owned())
        .text("x-cos-security-token", link["token"].as_str().unwrap().to_owned())
        .part("file", Part::bytes(vec![1]));
    assert_eq!(emu.post_form(&link, form).await.status(), 204);
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("invalid appsecret"), "the detail is in the log");
    assert!(logs.contains("esc/\\u{1b}[31mred\\u{7}.bin"), "the key is logged escaped");
    assert!(!logs.contains('\u{1b}'), "no raw escape reached the log");
}

/// At TRACE, with every crate's log on, on the success path and on failures (WeChat down,
/// refused calls), no secret reaches a log line or an answer's body.
#[tokio::test]
async fn no_secret_reaches_any_log_line_or_error_body_at_trace() {
    let logs = captured_logs();
    let s = stack().await;
    let credentials = s.upload(ALICE, "trace.bin", vec![7; 10], "application/octet-stream").await;
    s.fetch(ALICE, &credentials.file_id).await;
    let wx = s.emu.wx_url();
    let token =
        support::stable_token(&s.http, &wx, &s.config.appid, s.config.secret.expose_secret(), false).await;
    let mut bodies = Vec::new();
    for (user, endpoint, body) in [
        (Some("wrong-token"), CREDS, json!({"path": "a.png"})),
        (Some(ALICE), CREDS, json!({"path": "../x"})),
        (Some(ALICE), URLS, json!({"file_ids": [credentials.file_id.replace("alice", "bob")]})),
    ] {
        bodies.push(s.call(user, endpoint, body).await.1.to_string());
    }
    let Stack { emu, config, url, http } = s;
    emu.shutdown().await; // WeChat is gone: the backend's calls (with its cached token) fail
    for (endpoint, body) in
        [(CREDS, json!({"path": "b.png"})), (URLS, json!({"file_ids": [&credentials.file_id]}))]
    {
        let response =
            http.post(format!("{url}{endpoint}")).bearer_auth(ALICE).json(&body).send().await.unwrap();
        assert!(response.status().is_server_error(), "{endpoint}: {}", response.status());
        bodies.push(response.text().await.unwrap());
    }
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("TRACE"), "trace lines are captured");
    for secret in [
        config.secret.expose_secret(),
        token.as_str(),
        config.cos_secret_key.expose_secret(),
        credentials.token.as_str(),
        credentials.authorization.as_str(),
        ALICE,
    ] {
        assert!(!logs.contains(secret), "a credential reached the logs");
        for body in &bodies {
            assert!(!body.contains(secret), "a credential reached an answer: {body}");
        }
    }
}
