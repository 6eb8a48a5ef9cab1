//! The emulator's COS POST Object, over loopback HTTP: forms of any parts in any order,
//! with valid and hostile values, and raw bytes after them. Every answer is a COS answer
//! (never a 5xx), no part file is left behind, and an upload is accepted only when its
//! one file part came last, and then what was stored is exactly that file.
#![no_main]

use std::{path::PathBuf, sync::OnceLock};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use md5::{Digest, Md5};
use serde_json::{json, Value};
use wx_cloud_storage_core::protocol::CosError;
use wx_cloud_storage_server::emulator::{self, Config, Running};

const BOUNDARY: &str = "fuzzb0undary";
const KEY: &str = "fuzz/k.bin";

#[derive(Arbitrary, Debug)]
enum Part<'a> {
    Key,
    Signature,
    Token,
    Meta,
    Text { name: &'a str, value: &'a str },
    File { file_name: Option<&'a str>, bytes: &'a [u8] },
    Raw(&'a [u8]),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    parts: Vec<Part<'a>>,
    close: bool,
}

struct Emulator {
    runtime: tokio::runtime::Runtime,
    _running: Running,
    data_dir: PathBuf,
    http: reqwest::Client,
    link: Value,
}

fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(|| {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let data_dir = std::env::temp_dir().join(format!("wxcs-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        // Links live for years: a long fuzzing run never sees one expire.
        let config = Config {
            wx_port: 0,
            cos_port: 0,
            data_dir: data_dir.clone(),
            link_ttl: 1 << 30,
            ..Config::default()
        };
        let (running, http, link) = runtime.block_on(async {
            let running = emulator::start(config.clone()).await.unwrap();
            let http = reqwest::Client::new();
            let wx = running.wx_url();
            let body =
                json!({"grant_type": "client_credential", "appid": config.appid, "secret": emulator::DEFAULT_SECRET});
            let token = post_json(&http, format!("{wx}/cgi-bin/stable_token"), body).await;
            let url = format!("{wx}/tcb/uploadfile?access_token={}", token["access_token"].as_str().unwrap());
            let link = post_json(&http, url, json!({"env": config.env, "path": KEY})).await;
            (running, http, link)
        });
        Emulator { runtime, _running: running, data_dir, http, link }
    })
}

async fn post_json(http: &reqwest::Client, url: String, body: Value) -> Value {
    http.post(url).json(&body).send().await.unwrap().json().await.unwrap()
}

fn text_part(body: &mut Vec<u8>, name: &str, value: &[u8]) {
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(value);
    body.extend_from_slice(b"\r\n");
}

/// Whether the form's parts are exactly the ones `input` lists, so the harness knows which
/// part COS must take as the file: no raw bytes between parts (they can end a part early or
/// glue two together, as real multipart parsing does), and no value that holds a boundary,
/// a line break or a quote (which would do the same from inside a part).
fn parts_are_as_listed(input: &Input) -> bool {
    let plain = |bytes: &[u8]| {
        !bytes.windows(BOUNDARY.len()).any(|w| w == BOUNDARY.as_bytes())
            && !bytes.iter().any(|b| matches!(b, b'\r' | b'\n' | b'"'))
    };
    input.parts.iter().all(|part| match part {
        Part::Raw(bytes) => bytes.is_empty(),
        Part::Text { name, value } => plain(name.as_bytes()) && plain(value.as_bytes()),
        Part::File { file_name, bytes } => file_name.is_none_or(|n| plain(n.as_bytes())) && plain(bytes),
        _ => true,
    })
}

fuzz_target!(|input: Input| {
    let e = emulator();
    let field = |name: &str| e.link[name].as_str().unwrap().as_bytes().to_vec();
    let mut body = Vec::new();
    let mut file_parts = Vec::new(); // (index, bytes) of the parts COS takes for the file
    for (index, part) in input.parts.iter().enumerate() {
        match part {
            Part::Key => text_part(&mut body, "key", KEY.as_bytes()),
            Part::Signature => text_part(&mut body, "Signature", &field("authorization")),
            Part::Token => text_part(&mut body, "x-cos-security-token", &field("token")),
            Part::Meta => text_part(&mut body, "x-cos-meta-fileid", &field("cos_file_id")),
            Part::Text { name, value } => {
                if name.eq_ignore_ascii_case("file") {
                    file_parts.push((index, value.as_bytes()));
                }
                text_part(&mut body, name, value.as_bytes())
            }
            Part::File { file_name, bytes } => {
                file_parts.push((index, bytes));
                let file_name = file_name.map(|n| format!("; filename=\"{n}\"")).unwrap_or_default();
                body.extend_from_slice(
                    format!(
                        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"{file_name}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
            Part::Raw(bytes) => body.extend_from_slice(bytes),
        }
    }
    if input.close {
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    }
    let url = e.link["url"].as_str().unwrap();
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let (status, etag, answer) = e.runtime.block_on(async {
        let response = e.http.post(url).header("content-type", content_type).body(body).send().await.unwrap();
        let status = response.status().as_u16();
        let etag = response.headers().get("etag").map(|v| v.to_str().unwrap().to_owned());
        (status, etag, response.text().await.unwrap())
    });
    assert!(status < 500, "{status}: {answer}");
    let leftovers = std::fs::read_dir(e.data_dir.join("tmp")).unwrap().count();
    assert_eq!(leftovers, 0, "a part file outlived its request");
    let stored = (200..300).contains(&status) || status == 303;
    if !stored {
        assert!(!CosError::scan(&answer).code.is_empty(), "{status} without a COS error: {answer}");
    }
    if !stored || !parts_are_as_listed(&input) {
        // Which parts a form with raw bytes has is up to the parser; the checks above hold.
        return;
    }
    // Empty raw parts add no bytes: the last part is the last one that does.
    let last = input.parts.iter().rposition(|p| !matches!(p, Part::Raw(_)));
    let [(index, bytes)] = file_parts.as_slice() else {
        panic!("stored with {} file parts", file_parts.len())
    };
    assert_eq!(Some(*index), last, "stored, but the file part was not last");
    let md5 = format!("\"{}\"", hex::encode(Md5::digest(bytes)));
    assert_eq!(etag.as_deref(), Some(md5.as_str()), "stored bytes differ from the file part");
});
