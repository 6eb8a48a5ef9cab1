//! Folder rules end to end, `wxcs serve` (as a library) in front of the emulator: every
//! operation under every kind of permission (owner, signed-in, anyone, role, a role with a
//! capture), per-folder limits, and `wxcs rules explain` / `check` as a user runs them.

mod support;

use std::{collections::HashMap, process::Command};

use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use support::{
    process::wxcs,
    stack::{stack_with, Stack},
    temp_dir,
};
use wx_cloud_storage_server::backend::{
    Authenticator, Backend, Credentials, Identity, Policy, Rules, Verdict,
};

const RULES: &str = r#"
home = "users/{uid}/"
[[folder]]
path = "users/{uid}/"
upload = "owner"
read = "owner"
delete = "owner"
list = "owner"
max_size = "1 KB"
types = ["image/*"]
[[folder]]
path = "users/{uid}/public/"
upload = "owner"
read = "anyone"
delete = "owner"
[[folder]]
path = "shops/{shop}/products/"
upload = "role:{shop}-editor"
read = "signed-in"
delete = ["role:{shop}-editor", "role:admin"]
rate = 2
"#;

/// Bearer tokens that carry roles (as a JWT would).
#[derive(Debug)]
struct Team(HashMap<&'static str, Identity>);

impl Authenticator for Team {
    fn authenticate<'a>(&'a self, request: Credentials<'a>) -> BoxFuture<'a, Verdict> {
        let token = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let verdict = match token.and_then(|t| self.0.get(t)) {
            Some(identity) => Verdict::SignedIn(identity.clone()),
            None if token.is_some() => Verdict::Refused("unknown token".into()),
            None => Verdict::NotMine,
        };
        Box::pin(async move { verdict })
    }
}

fn team() -> Team {
    let person = |uid: &str, roles: &[&str]| Identity {
        uid: uid.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    };
    Team(HashMap::from([
        ("ann", person("ann", &[])),
        ("bo", person("bo", &[])),
        ("ed3", person("ed", &["3-editor"])),
        ("root", person("root", &["admin"])),
    ]))
}

async fn shop() -> Stack {
    let rules = Rules::parse("rules.toml", RULES).unwrap();
    stack_with(
        |_| {},
        None,
        move |b: &mut Backend| {
            b.auth = Box::new(team());
            b.policy = Policy { rules, ..Policy::default() };
        },
    )
    .await
}

use support::PNG;

async fn link(s: &Stack, who: Option<&str>, path: &str) -> (u16, Value) {
    s.call(
        who,
        "/api/storage/upload-credentials",
        json!({"path": path, "size": 16, "contentType": "image/png"}),
    )
    .await
}

async fn item(s: &Stack, who: Option<&str>, endpoint: &str, file_id: &str) -> Value {
    let (status, answer) = s.call(who, endpoint, json!({"file_ids": [file_id]})).await;
    assert_eq!(status, 200, "{endpoint}: {answer}");
    answer[if endpoint.ends_with("delete") { "delete_list" } else { "file_list" }][0].clone()
}

#[tokio::test]
async fn each_operation_under_each_kind_of_permission() {
    let s = shop().await;
    // owner: a bare name goes home; another's folder is refused; no one signed in: 401.
    let mine = s.upload("ann", "a.png", PNG.to_vec(), "image/png").await;
    assert!(mine.file_id.ends_with("/users/ann/a.png"));
    assert_eq!(link(&s, Some("bo"), "users/ann/x.png").await.0, 403);
    assert_eq!(link(&s, None, "a.png").await.0, 401);
    assert_eq!(item(&s, Some("ann"), "/api/storage/download-urls", &mine.file_id).await["status"], 0);
    assert_eq!(item(&s, Some("bo"), "/api/storage/download-urls", &mine.file_id).await["code"], "FORBIDDEN");
    assert_eq!(item(&s, None, "/api/storage/download-urls", &mine.file_id).await["code"], "UNAUTHORIZED");
    assert_eq!(item(&s, Some("bo"), "/api/storage/delete", &mine.file_id).await["code"], "FORBIDDEN");
    // anyone: a public file's link for a caller who is not signed in, and it downloads.
    let public = s.upload("ann", "users/ann/public/p.png", PNG.to_vec(), "image/png").await;
    let anyone = item(&s, None, "/api/storage/download-urls", &public.file_id).await;
    assert_eq!(anyone["status"], 0, "{anyone}");
    let bytes =
        s.http.get(anyone["download_url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&bytes[..], &PNG[..]);
    assert_eq!(
        item(&s, None, "/api/storage/delete", &public.file_id).await["code"],
        "UNAUTHORIZED",
        "anyone reads, not deletes"
    );
    // role with a capture: the shop's editor uploads and deletes its products; signed-in reads.
    let product = s.upload("ed3", "shops/3/products/p.png", PNG.to_vec(), "image/png").await;
    assert_eq!(link(&s, Some("ed3"), "shops/4/products/p.png").await.0, 403, "another shop");
    assert_eq!(link(&s, Some("ann"), "shops/3/products/q.png").await.0, 403, "no role");
    assert_eq!(
        item(&s, Some("bo"), "/api/storage/download-urls", &product.file_id).await["status"],
        0,
        "signed-in reads"
    );
    assert_eq!(item(&s, None, "/api/storage/download-urls", &product.file_id).await["code"], "UNAUTHORIZED");
    assert_eq!(item(&s, Some("bo"), "/api/storage/delete", &product.file_id).await["code"], "FORBIDDEN");
    // a list of kinds: an admin deletes in any shop.
    assert_eq!(item(&s, Some("root"), "/api/storage/delete", &product.file_id).await["status"], 0);
    assert_eq!(
        item(&s, Some("ann"), "/api/storage/delete", &mine.file_id).await["status"],
        0,
        "the owner deletes"
    );
    // exists looks only where the caller may read or upload.
    let paths = ["users/ann/a.png", "x.png", "users/ann/public/p.png"];
    let (status, answer) = s.call(Some("bo"), "/api/storage/exists", json!({ "paths": paths })).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["file_list"][0]["code"], "FORBIDDEN", "{answer}");
    assert_eq!(answer["file_list"][1]["key"], "users/bo/x.png");
    assert_eq!(answer["file_list"][2]["exists"], true, "anyone may read it: {answer}");
    // No folder: refused, whoever asks.
    assert_eq!(link(&s, Some("root"), "shops/3/a.png").await.0, 403);
}

#[tokio::test]
async fn each_folder_has_its_own_limits() {
    let s = shop().await;
    let (status, answer) = s
        .call(
            Some("ann"),
            "/api/storage/upload-credentials",
            json!({"path": "big.png", "size": 1001, "contentType": "image/png"}),
        )
        .await;
    assert_eq!((status, answer["code"].as_str()), (413, Some("TOO_LARGE")), "1 KB in users/: {answer}");
    let (status, _) = s
        .call(
            Some("ann"),
            "/api/storage/upload-credentials",
            json!({"path": "a.pdf", "size": 10, "contentType": "application/pdf"}),
        )
        .await;
    assert_eq!(status, 403, "only images in users/");
    // The shop folder has no size or type limit, but a rate of 2 links a minute per user.
    for n in 0..2 {
        let (status, answer) = s
            .call(
                Some("ed3"),
                "/api/storage/upload-credentials",
                json!({"path": format!("shops/3/products/{n}.pdf")}),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.get("verify").is_none(), "no limits there: nothing to check");
    }
    let (status, answer) = s
        .call(Some("ed3"), "/api/storage/upload-credentials", json!({"path": "shops/3/products/3.pdf"}))
        .await;
    assert_eq!((status, answer["code"].as_str()), (429, Some("RATE_LIMITED")), "{answer}");
    // The rate is the folder's: the editor's own folder still takes uploads.
    assert_eq!(link(&s, Some("ed3"), "mine.png").await.0, 200);
}

fn write_rules(text: &str) -> std::path::PathBuf {
    let path = temp_dir("rules").join("rules.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn rules_explain_prints_the_decision_and_the_rule_that_made_it() {
    let rules = write_rules(RULES);
    let run = |args: &[&str]| {
        let output = Command::new(wxcs())
            .args(["rules", "explain", "--rules"])
            .arg(&rules)
            .args(args)
            .output()
            .unwrap();
        (output.status.success(), String::from_utf8(output.stdout).unwrap())
    };
    let (ok, text) = run(&["--uid", "ann", "upload", "a.png"]);
    let file = rules.display();
    assert!(ok, "{text}");
    assert_eq!(
        text,
        format!("allow upload users/ann/a.png\n  path     a.png goes into your home folder: users/ann/a.png\n  folder   users/{{uid}}/ ({file} line 3)\n  rule     upload = owner; owner: {{uid}} = \"ann\" is the caller\n  limits   max_size 1000 bytes; types image/*\n")
    );
    let (ok, text) = run(&["--uid", "ed", "--roles", "4-editor,viewer", "delete", "shops/3/products/p.png"]);
    assert!(!ok, "a denial exits non-zero");
    assert_eq!(
        text,
        format!("deny delete shops/3/products/p.png\n  folder   shops/{{shop}}/products/ ({file} line 16)\n  rule     delete = [role:{{shop}}-editor, role:admin]; role:{{shop}}-editor: the caller's roles (4-editor, viewer) do not include \"3-editor\"; role:admin: the caller's roles (4-editor, viewer) do not include \"admin\"\n")
    );
    let (ok, text) = run(&["read", "users/ann/public/p.png"]);
    assert!(ok, "{text}");
    assert!(text.contains("rule     read = anyone; anyone: anyone may"), "{text}");

    let bad = write_rules("[[folder]]\npath = \"a/\"\nread = \"group:staff\"\n");
    let output = Command::new(wxcs()).args(["rules", "check", "--rules"]).arg(&bad).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3") && stderr.contains("unknown kind \"group\""), "{stderr}");
    let output = Command::new(wxcs())
        .args(["serve", "--rules"])
        .arg(&bad)
        .env("WX_ENV", "e")
        .env("WX_OPENAPI", "1")
        .output()
        .unwrap();
    assert!(!output.status.success(), "serve refuses it at start");
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 3"));
}
