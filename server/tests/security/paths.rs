//! Who may touch which file: file IDs, paths, folders. Every look-alike, encoded or
//! foreign spelling stays inside the caller's folder or is refused per item, before any
//! call to WeChat.

use super::*;

/// Hole 1: a file ID counts as the caller's only if its key passes the key rules, it is in
/// the caller's folder by whole segments, and its env and bucket are the backend's; every
/// other spelling is refused per item, with a code, and never forwarded to WeChat.
#[tokio::test]
async fn file_ids_that_are_not_the_callers_never_reach_wechat() {
    let s = stack().await;
    let bobs = s.upload(BOB, "b.png", vec![1, 2, 3], "image/png").await;
    let alices = s.upload(ALICE, "a.png", vec![4], "image/png").await;
    let id = |key: &str| alices.file_id.replace("users/alice/a.png", key);
    let other_env = alices.file_id.replacen(&s.config.env, "prod-other", 1);
    let bucket = alices.file_id.split('/').nth(2).unwrap().split_once('.').unwrap().1.to_owned();
    let other_bucket = alices.file_id.replacen(&bucket, "7072-prod-1300000000", 1);
    let attacks = [
        (id("users/alice/../bob/b.png"), "INVALID_KEY"),
        (id("users/alice/%2e%2e/bob/b.png"), "INVALID_KEY"),
        (id("users/alice/..%2fbob/b.png"), "INVALID_KEY"),
        (id("users/alice/%2E%2E%2Fbob%2Fb.png"), "INVALID_KEY"),
        (id("users/alice\\..\\bob\\b.png"), "INVALID_KEY"),
        (id("users/alice/./../bob/b.png"), "INVALID_KEY"),
        (id("users/alice/a.png?x=1"), "INVALID_KEY"),
        (id("users/alice/a.png#frag"), "INVALID_KEY"),
        (id("users/alice/a.png\n"), "INVALID_KEY"),
        (id("users/alice//a.png"), "INVALID_KEY"),
        (id("users/alicex/a.png"), "FORBIDDEN"),
        (id("users/bob/b.png"), "FORBIDDEN"),
        (other_env, "FORBIDDEN"),
        (other_bucket, "FORBIDDEN"),
        ("cloud://nodot/users/alice/a.png".to_owned(), "INVALID_ARGUMENT"),
        ("users/alice/a.png".to_owned(), "INVALID_ARGUMENT"),
    ];
    let before = s.stats().await;
    for endpoint in [URLS, DELETE] {
        let ids: Vec<&str> = attacks.iter().map(|(id, _)| id.as_str()).collect();
        let (status, answer) = s.call(Some(ALICE), endpoint, json!({"file_ids": ids})).await;
        assert_eq!(status, 200, "{answer}");
        let list = answer[if endpoint == URLS { "file_list" } else { "delete_list" }].as_array().unwrap();
        for ((id, code), item) in attacks.iter().zip(list) {
            assert_eq!(item["code"], *code, "{endpoint} {id:?}: {item}");
            assert_ne!(item["status"], 0);
        }
    }
    let after = s.stats().await;
    assert_eq!(after["download_links"], before["download_links"], "no link was asked of WeChat");
    assert_eq!(after["deletes"], before["deletes"]);
    assert_eq!(after["objects"], 2, "bob's file survived");
    let (_, answer) =
        s.call(Some(ALICE), "/api/demo/grayscale", json!({"file_id": id("users/alice/../bob/b.png")})).await;
    assert_eq!(answer["code"], "INVALID_KEY", "the demo endpoint checks the same way: {answer}");
    let (status, _) = s.call(Some(ALICE), "/api/demo/grayscale", json!({"file_id": bobs.file_id})).await;
    assert_eq!(status, 403);
    drop(bobs);
}

/// Hole 2: a path prefix without its trailing `/` would give user `alic` alice's folder;
/// such a prefix is refused at start, with what to write instead.
#[tokio::test]
async fn a_prefix_that_is_not_a_whole_folder_is_refused_at_start() {
    let emu = support::start().await;
    for bad in ["users/{uid}", "u{uid}/", "/users/{uid}/"] {
        let output = Command::new(wxcs())
            .args(["serve", "--bind", "127.0.0.1", "--port", &free_port().to_string(), "--path-prefix", bad])
            .env("WX_API_BASE", emu.running.wx_url())
            .env("WX_ENV", &emu.config.env)
            .env("WX_APPID", &emu.config.appid)
            .env("WX_SECRET", emu.config.secret.expose_secret())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{bad} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--path-prefix") && stderr.contains("users/{uid}/"), "{bad}: {stderr}");
    }
    // And by segments, the default prefix keeps `alic` out of `alice`.
    let p = Policy::default();
    let alic = Identity::user("alic");
    assert!(p.check_file_id(Some(&alic), Op::Read, "cloud://e.b/users/alice/a.png", "e", None).is_err());
}

/// Every spelling of a path that might reach another folder: refused with a code, or kept
/// inside the caller's folder byte for byte. COS compares keys as bytes (no case folding,
/// no Unicode normalisation), so the backend does too: a look-alike is another name.
#[tokio::test]
async fn look_alike_and_encoded_paths_stay_in_the_callers_folder() {
    let s = stack().await;
    let bobs = s.upload(BOB, "b.png", vec![1, 2, 3], "image/png").await;
    let paths = [
        "../bob/x.png",
        "%2e%2e/bob/x.png",
        "..%2Fbob%2Fx.png",
        "..\\bob\\x.png",
        "/users/bob/x.png",
        "users/alice/../bob/x.png",
        "users/bob/x.png",
        "users/ALICE/x.png",
        "users/ａlice/x.png",       // fullwidth a
        "users/alice\u{301}/x.png", // a combining accent: another folder name
        "users/alicé/x.png",
        "．．／bob／x.png",           // fullwidth dots and solidus: one odd name
        "\u{2024}\u{2024}/bob/x.png", // one-dot leaders
        "..\u{2215}bob\u{2215}x.png", // division slash
        "\u{202e}gnp.exe",            // right-to-left override
        "x.png\u{0}.html",
        "users/alice",
    ];
    let mut kept = 0;
    for path in paths {
        let (status, answer) = s.call(Some(ALICE), CREDS, json!({"path": path})).await;
        match status {
            200 => {
                let key = answer["key"].as_str().unwrap();
                assert!(key.starts_with("users/alice/"), "{path:?} went to {key:?}");
                assert!(answer["file_id"].as_str().unwrap().ends_with(&format!("/{key}")));
                kept += 1;
            }
            400 => assert!(["INVALID_KEY", "INVALID_ARGUMENT"].contains(&answer["code"].as_str().unwrap())),
            403 => assert_eq!(answer["code"], "FORBIDDEN", "{path:?}"),
            _ => panic!("{path:?}: {status} {answer}"),
        }
    }
    assert!(kept >= 4, "the look-alikes are names in alice's folder ({kept})");

    let id = |key: &str| bobs.file_id.replace("users/bob/b.png", key);
    let ids = [
        id("users/ａlice/a.png"),
        id("users/alice\u{301}/a.png"),
        id("users/Alice/a.png"),
        id("users/alice／../bob/b.png"),
        id("users/alice\u{2215}..\u{2215}bob/b.png"),
        id("users/bob/b.png\u{200b}"),
        id("users/bo\u{200b}b/b.png"),
    ];
    for endpoint in [URLS, DELETE] {
        let (status, answer) = s.call(Some(ALICE), endpoint, json!({"file_ids": ids})).await;
        assert_eq!(status, 200, "{answer}");
        let list = answer[if endpoint == URLS { "file_list" } else { "delete_list" }].as_array().unwrap();
        for (id, item) in ids.iter().zip(list) {
            assert_ne!(item["status"], 0, "{endpoint} {id:?}: {item}");
        }
    }
    let bytes = s.fetch(BOB, &bobs.file_id).await.bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), [1, 2, 3], "bob's file is untouched");
}
