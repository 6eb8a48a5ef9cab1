//! The README's server-side snippets, as a user would use them: every folder-rules example
//! is checked by `wxcs rules check` and decides as its text says (`wxcs rules explain`), and
//! every `wxcs serve` configuration starts, with its variables and flags as written, and
//! answers `/readyz`. (The browser and mini program snippets run in tests/browser and
//! tests/miniprogram.)

mod support;

use std::{path::Path, process::Command};

use support::{
    process::{free_port, spawn, wxcs},
    temp_dir,
};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap()
}

/// The first ```` ```language ```` block after each `<!-- marker` comment.
fn blocks(marker: &str, language: &str) -> Vec<String> {
    let text = readme();
    let fence = format!("```{language}\n");
    text.match_indices(&format!("<!-- {marker}"))
        .map(|(at, _)| {
            let start = at + text[at..].find(&fence).unwrap() + fence.len();
            text[start..start + text[start..].find("```").unwrap()].to_owned()
        })
        .collect()
}

/// `wxcs rules explain` of `rules`: whether it allows.
fn allows(rules: &Path, who: &[&str], op: &str, path: &str) -> bool {
    let output = Command::new(wxcs())
        .args(["rules", "explain", "--rules"])
        .arg(rules)
        .args(who)
        .args([op, path])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("allow") || text.starts_with("deny"),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.status.success()
}

#[test]
fn the_folder_rules_examples_are_valid_and_decide_as_described() {
    let examples = blocks("rules-example", "toml");
    assert_eq!(examples.len(), 3, "the shop, the teams and the inbox");
    let dir = temp_dir("readme-rules");
    let files: Vec<_> = examples
        .iter()
        .enumerate()
        .map(|(i, toml)| {
            let file = dir.join(format!("rules-{i}.toml"));
            std::fs::write(&file, toml).unwrap();
            let check = Command::new(wxcs()).args(["rules", "check", "--rules"]).arg(&file).output().unwrap();
            assert!(check.status.success(), "example {i}: {}", String::from_utf8_lossy(&check.stderr));
            file
        })
        .collect();
    let (customer, editor) = (["--uid", "42"].as_slice(), ["--uid", "7", "--roles", "editor"].as_slice());
    let shop = &files[0];
    assert!(allows(shop, customer, "upload", "a.png"), "a bare name goes home");
    assert!(!allows(shop, &["--uid", "7"], "read", "users/42/a.png"));
    assert!(!allows(shop, customer, "upload", "products/a.png"));
    assert!(allows(shop, editor, "upload", "products/a.png"));
    assert!(allows(shop, &[], "read", "products/a.png"), "anyone may see products");
    assert!(!allows(shop, &[], "list", "products/"), "listing needs a sign-in");
    assert!(allows(shop, customer, "list", "products/"));
    let teams = &files[1];
    let red = ["--uid", "1", "--roles", "team-red"].as_slice();
    assert!(allows(teams, red, "upload", "teams/red/plan.pdf"));
    assert!(!allows(teams, red, "upload", "teams/blue/plan.pdf"));
    assert!(allows(teams, &["--uid", "9", "--roles", "admin"], "list", "teams/blue/"));
    assert!(!allows(teams, red, "list", "teams/blue/"));
    assert!(!allows(teams, &["--uid", "9", "--roles", "admin"], "delete", "teams/blue/plan.pdf"));
    let inbox = &files[2];
    assert!(allows(inbox, &["--uid", "5"], "upload", "cv.pdf"));
    assert!(!allows(inbox, &["--uid", "5"], "read", "inbox/5/cv.pdf"), "handed in, not read back");
    assert!(allows(inbox, &["--uid", "8", "--roles", "reviewer"], "read", "inbox/5/cv.pdf"));
}

/// One `wxcs serve` configuration from the README: `VAR=value` words before `wxcs serve`
/// become its environment, the rest its arguments.
fn configuration(block: &str) -> (Vec<(String, String)>, Vec<String>) {
    let words: Vec<String> = block.replace("\\\n", " ").split_whitespace().map(str::to_owned).collect();
    let at = words.iter().position(|w| w == "wxcs").expect("a wxcs command");
    assert_eq!(words[at + 1], "serve");
    let env = words[..at]
        .iter()
        .map(|w| w.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).expect("VAR=value"))
        .collect();
    (env, words[at + 2..].to_vec())
}

#[tokio::test]
async fn the_serve_configurations_start_as_written() {
    let examples = blocks("serve-config", "sh");
    assert!(examples.len() >= 4, "the H5, admin, mini program and forward-auth recipes");
    let emulator = spawn(&temp_dir("readme-emulator")).await;
    let work = temp_dir("readme-serve");
    // What the recipes name as the user's own files.
    std::fs::write(work.join("rules.toml"), &blocks("rules-example", "toml")[0]).unwrap();
    let secret = work.join("jwt-hs256");
    std::fs::write(&secret, "a shared HS256 secret of at least thirty-two bytes").unwrap();
    for block in examples {
        let (env, args) = configuration(&block);
        let port = free_port();
        let mut command = Command::new(wxcs());
        command.current_dir(&work).arg("serve").args(&args);
        for (name, value) in env {
            let value =
                if value == "/run/secrets/jwt-hs256" { secret.to_str().unwrap().to_owned() } else { value };
            command.env(name, value);
        }
        let mut child = command
            .args(["--port", &port.to_string(), "--wx-base", &emulator.wx, "--data-dir"])
            .arg(work.join(format!("data-{port}")))
            .env_remove("MYSQL_ADDRESS")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let http = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..100 {
            if let Ok(answer) = http.get(format!("http://127.0.0.1:{port}/readyz")).send().await {
                ready = answer.status() == 200;
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        assert!(ready, "{block}\ndid not start: {}", String::from_utf8_lossy(&output.stderr));
    }
}
