//! The emulator's WeChat open-API port: tokens, token checks, parameter errors, batches.

mod support;

use secrecy::ExposeSecret;
use serde_json::{json, Value};
use support::*;

#[tokio::test]
async fn cgi_bin_token_checks_the_app_and_supersedes_old_tokens_after_grace() {
    let emu = start_with(|c| c.token_grace = 1).await;
    let get = |query: String| {
        let url = emu.wx(&format!("/cgi-bin/token?{query}"));
        let http = emu.http.clone();
        async move { http.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let (appid, secret) = (&emu.config.appid, emu.config.secret.expose_secret());
    assert_eq!(get(format!("grant_type=password&appid={appid}&secret={secret}")).await["errcode"], 40002);
    assert_eq!(
        get(format!("grant_type=client_credential&appid=wxnope&secret={secret}")).await["errcode"],
        40013
    );
    let wrong = get(format!("grant_type=client_credential&appid={appid}&secret=wrong")).await;
    assert_eq!(wrong["errcode"], 40125, "invalid appsecret, as WeChat answers it");
    assert!(wrong["errmsg"].as_str().unwrap().starts_with("invalid appsecret rid: "), "{wrong}");
    assert_eq!(get(format!("grant_type=client_credential&secret={secret}")).await["errcode"], 41002);
    assert_eq!(get(format!("grant_type=client_credential&appid={appid}")).await["errcode"], 41004);

    let first = get(format!("grant_type=client_credential&appid={appid}&secret={secret}")).await;
    assert_eq!(first["expires_in"], 7200);
    let first = first["access_token"].as_str().unwrap().to_owned();
    assert!(first.len() >= 100, "WeChat tokens are long");
    let second = get(format!("grant_type=client_credential&appid={appid}&secret={secret}")).await;
    let second = second["access_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);

    let upload_link_errcode = |token: String| {
        let url = emu.wx(&format!("/tcb/uploadfile?access_token={token}"));
        let body = json!({"env": emu.config.env, "path": "a.txt"});
        let http = emu.http.clone();
        async move {
            http.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap()["errcode"].clone()
        }
    };
    assert_eq!(upload_link_errcode(first.clone()).await, 0, "still valid during the grace period");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(upload_link_errcode(first).await, 40001, "superseded after the grace period");
    assert_eq!(upload_link_errcode(second).await, 0);
    assert_eq!(emu.stats().await["token_calls"], 7);
}

#[tokio::test]
async fn stable_token_is_reused_until_force_refresh() {
    let emu = start().await;
    let a = emu.token().await;
    assert_eq!(emu.token().await, a, "same token while valid");
    let body = json!({"grant_type": "client_credential", "appid": emu.config.appid, "secret": emu.config.secret.expose_secret(), "force_refresh": true});
    let forced = emu.post_json(&emu.wx("/cgi-bin/stable_token"), body).await;
    let b = forced["access_token"].as_str().unwrap();
    assert_ne!(a, b);
    let url = emu.wx(&format!("/tcb/uploadfile?access_token={a}"));
    let old = emu.post_json(&url, json!({"env": emu.config.env, "path": "a"})).await;
    assert_eq!(old["errcode"], 40001, "force_refresh invalidates the old token");
    let wrong = emu
        .post_json(
            &emu.wx("/cgi-bin/stable_token"),
            json!({"grant_type": "client_credential", "appid": emu.config.appid, "secret": "x"}),
        )
        .await;
    assert_eq!(wrong["errcode"], 40125);
    let missing = emu
        .post_json(
            &emu.wx("/cgi-bin/stable_token"),
            json!({"grant_type": "client_credential", "appid": emu.config.appid}),
        )
        .await;
    assert_eq!(missing["errcode"], 41004);
    let get: Value =
        emu.http.get(emu.wx("/cgi-bin/stable_token")).send().await.unwrap().json().await.unwrap();
    assert_eq!(get["errcode"], 43002, "POST only");
    assert_eq!(emu.stats().await["stable_token_calls"], 5);
}

#[tokio::test]
async fn tcb_calls_check_the_token_like_wechat() {
    let emu = start_with(|c| c.token_ttl = 1).await;
    let call = |query: String| {
        let url = emu.wx(&format!("/tcb/uploadfile{query}"));
        let body = json!({"env": emu.config.env, "path": "a.txt"});
        let http = emu.http.clone();
        async move {
            http.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap()["errcode"].clone()
        }
    };
    assert_eq!(call(String::new()).await, 41001);
    assert_eq!(call("?access_token=nope".into()).await, 40014);
    assert_eq!(call(format!("?access_token={}", "a".repeat(136))).await, 40001);
    let token = emu.token().await;
    assert_eq!(call(format!("?access_token={token}")).await, 0);
    assert_eq!(call(format!("?cloudbase_access_token={token}")).await, 0);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(call(format!("?access_token={token}")).await, 42001);
    let stats = emu.stats().await;
    assert_eq!(stats["rejected"]["41001"], 1);
    assert_eq!(stats["rejected"]["42001"], 1);
}

#[tokio::test]
async fn open_api_mode_needs_no_token_and_marks_responses() {
    let emu = start_with(|c| c.open_api = true).await;
    let response = emu
        .http
        .post(emu.wx("/tcb/uploadfile"))
        .json(&json!({"env": emu.config.env, "path": "a.txt"}))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("x-openapi-seqid"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errcode"], 0);
}

#[tokio::test]
async fn bad_bodies_and_parameters_get_wechats_errcodes() {
    let emu = start().await;
    let token = emu.token().await;
    let raw = |path: &str, body: &'static str| {
        let url = emu.wx(&format!("{path}?access_token={token}"));
        let http = emu.http.clone();
        async move {
            http.post(url).body(body).send().await.unwrap().json::<Value>().await.unwrap()["errcode"].clone()
        }
    };
    assert_eq!(raw("/tcb/uploadfile", "").await, 44002);
    assert_eq!(raw("/tcb/uploadfile", "{not json").await, 47001);
    assert_eq!(raw("/tcb/uploadfile", "[1]").await, 47001);
    assert_eq!(raw("/tcb/uploadfile", r#"{"path":"a"}"#).await, 40101);
    assert_eq!(raw("/tcb/uploadfile", r#"{"env":"other-env","path":"a"}"#).await, -501005);
    let env = &emu.config.env;
    let with_env = |path: &str, body: Value| {
        let url = emu.wx(&format!("{path}?access_token={token}"));
        let http = emu.http.clone();
        async move {
            http.post(url).json(&body).send().await.unwrap().json::<Value>().await.unwrap()["errcode"].clone()
        }
    };
    assert_eq!(with_env("/tcb/uploadfile", json!({"env": env})).await, 40101);
    assert_eq!(with_env("/tcb/uploadfile", json!({"env": env, "path": "/lead"})).await, 40097);
    assert_eq!(with_env("/tcb/uploadfile", json!({"env": env, "path": "a//b"})).await, 40097);
    assert_eq!(with_env("/tcb/uploadfile", json!({"env": env, "path": 5})).await, 40097);
    assert_eq!(with_env("/tcb/batchdownloadfile", json!({"env": env})).await, 40101);
    let many: Vec<Value> =
        (0..51).map(|i| json!({"fileid": format!("cloud://x.y/{i}"), "max_age": 60})).collect();
    assert_eq!(with_env("/tcb/batchdownloadfile", json!({"env": env, "file_list": many})).await, -501007);
    assert_eq!(
        with_env("/tcb/batchdownloadfile", json!({"env": env, "file_list": [{"fileid": "cloud://a.b/c"}]}))
            .await,
        40097
    );
    let many: Vec<String> = (0..51).map(|i| format!("cloud://x.y/{i}")).collect();
    assert_eq!(with_env("/tcb/batchdeletefile", json!({"env": env, "fileid_list": many})).await, -501007);
    assert_eq!(with_env("/tcb/batchdeletefile", json!({"env": env})).await, 40101);
    let get: Value = emu.http.get(emu.wx("/tcb/uploadfile")).send().await.unwrap().json().await.unwrap();
    assert_eq!(get["errcode"], 43002);
}

#[tokio::test]
async fn upload_links_are_shaped_like_wechats() {
    let emu = start().await;
    let token = emu.token().await;
    let link = emu.upload_link(&token, "users/42/头像.png").await;
    let bucket = emu.config.bucket();
    assert!(bucket.starts_with("6465-dev-emulator-"), "{bucket}: hex of the env's first two chars");
    assert_eq!(link["url"], format!("{}/{bucket}/users/42/头像.png", emu.running.cos_url()));
    assert_eq!(link["file_id"], format!("cloud://{}.{bucket}/users/42/头像.png", emu.config.env));
    let auth = link["authorization"].as_str().unwrap();
    assert!(
        auth.starts_with(&format!("q-sign-algorithm=sha1&q-ak={}&q-sign-time=", emu.config.cos_secret_id)),
        "{auth}"
    );
    assert!(auth.contains("&q-header-list=&q-url-param-list=&q-signature="));
    let window: Vec<u64> = auth
        .split("q-sign-time=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .split(';')
        .map(|t| t.parse().unwrap())
        .collect();
    assert_eq!(window[1] - window[0], 900, "links last 900 s by default");
    assert!(!link["token"].as_str().unwrap().is_empty());
    assert!(!link["cos_file_id"].as_str().unwrap().is_empty());
    assert_eq!(link["errmsg"], "ok");
}

#[tokio::test]
async fn batches_report_each_item() {
    let emu = start().await;
    let token = emu.token().await;
    let stored = emu.upload(&token, "a.txt", b"hello".to_vec()).await;
    let stored_id = stored["file_id"].as_str().unwrap();
    let missing_id = format!("cloud://{}.{}/missing.txt", emu.config.env, emu.config.bucket());
    let url = emu.wx(&format!("/tcb/batchdownloadfile?access_token={token}"));
    let answer = emu
        .post_json(&url, json!({"env": emu.config.env, "file_list": [
            {"fileid": stored_id, "max_age": 60}, {"fileid": missing_id, "max_age": 60}, {"fileid": "not-a-file-id", "max_age": 60}]}))
        .await;
    assert_eq!(answer["errcode"], 0, "the call succeeds while items fail");
    let items = answer["file_list"].as_array().unwrap();
    assert_eq!(items[0]["status"], 0);
    assert_eq!(items[1]["status"], -503003);
    assert_eq!(items[1]["errmsg"], "STORAGE_FILE_NONEXIST");
    assert_eq!(items[2]["status"], -503003);
    assert_eq!(items[1]["fileid"], missing_id.as_str());

    let url = emu.wx(&format!("/tcb/batchdeletefile?access_token={token}"));
    let answer =
        emu.post_json(&url, json!({"env": emu.config.env, "fileid_list": [stored_id, missing_id]})).await;
    let items = answer["delete_list"].as_array().unwrap();
    assert_eq!((items[0]["status"].as_i64(), items[1]["status"].as_i64()), (Some(0), Some(-503003)));
    assert_eq!(emu.stats().await["objects"], 0);
}
