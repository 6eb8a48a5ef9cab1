//! Helpers for driving the emulator the way hand-written clients in the wild do:
//! token → tcb/uploadfile → multipart POST → tcb/batchdownloadfile → GET → delete.
#![allow(dead_code)] // each test binary uses a different subset

pub mod instances;
pub mod logs;
pub mod mariadb;
pub mod process;
pub mod stack;

use secrecy::ExposeSecret;
use std::path::PathBuf;

use reqwest::{
    multipart::{Form, Part},
    Response,
};
use serde_json::{json, Value};
use wx_cloud_storage_core::protocol::CosError;
use wx_cloud_storage_server::emulator::{self, Config, Running};

/// A fresh, empty data directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wxcs-test-{tag}-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{}-{nanos}", std::process::id())
}

/// An emulator on ephemeral ports, and an HTTP client for it.
pub struct Emu {
    pub running: Running,
    pub config: Config,
    pub http: reqwest::Client,
}

pub async fn start_with(configure: impl FnOnce(&mut Config)) -> Emu {
    let mut config = Config { wx_port: 0, cos_port: 0, data_dir: temp_dir("emu"), ..Config::default() };
    configure(&mut config);
    let running = emulator::start(config.clone()).await.expect("emulator starts");
    Emu { running, config, http: reqwest::Client::new() }
}

pub async fn start() -> Emu {
    start_with(|_| {}).await
}

impl Emu {
    pub fn wx(&self, path: &str) -> String {
        format!("{}{path}", self.running.wx_url())
    }

    pub async fn post_json(&self, url: &str, body: Value) -> Value {
        post_json(&self.http, url, &body).await
    }

    /// A token from `/cgi-bin/stable_token`.
    pub async fn token(&self) -> String {
        stable_token(
            &self.http,
            &self.running.wx_url(),
            &self.config.appid,
            self.config.secret.expose_secret(),
            false,
        )
        .await
    }

    /// `tcb/uploadfile` for `path`.
    pub async fn upload_link(&self, token: &str, path: &str) -> Value {
        let url = self.wx(&format!("/tcb/uploadfile?access_token={token}"));
        let link = self.post_json(&url, json!({"env": self.config.env, "path": path})).await;
        assert_eq!(link["errcode"], 0, "{link}");
        link
    }

    /// POSTs `form` to the link's URL.
    pub async fn post_form(&self, link: &Value, form: Form) -> Response {
        self.http.post(link["url"].as_str().unwrap()).multipart(form).send().await.unwrap()
    }

    /// `tcb/batchdownloadfile` for one file; the item.
    pub async fn download_item(&self, token: &str, file_id: &str, max_age: u64) -> Value {
        let url = self.wx(&format!("/tcb/batchdownloadfile?access_token={token}"));
        let body = json!({"env": self.config.env, "file_list": [{"fileid": file_id, "max_age": max_age}]});
        let answer = self.post_json(&url, body).await;
        assert_eq!(answer["errcode"], 0, "{answer}");
        answer["file_list"][0].clone()
    }

    /// `tcb/batchdeletefile` for one file; the item.
    pub async fn delete_item(&self, token: &str, file_id: &str) -> Value {
        let url = self.wx(&format!("/tcb/batchdeletefile?access_token={token}"));
        let answer = self.post_json(&url, json!({"env": self.config.env, "fileid_list": [file_id]})).await;
        assert_eq!(answer["errcode"], 0, "{answer}");
        answer["delete_list"][0].clone()
    }

    pub async fn stats(&self) -> Value {
        self.http.get(self.wx("/__emulator/stats")).send().await.unwrap().json().await.unwrap()
    }

    pub async fn faults(&self, faults: Value) {
        let r = self.http.post(self.wx("/__emulator/faults")).json(&faults).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }

    /// Uploads `bytes` to `path` the documented way; the link (with `file_id`).
    pub async fn upload(&self, token: &str, path: &str, bytes: Vec<u8>) -> Value {
        let link = self.upload_link(token, path).await;
        let response = self.post_form(&link, standard_form(&link, path, bytes, Some("image/png"))).await;
        assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
        link
    }
}

/// POSTs `body` as JSON and reads the JSON answer.
pub async fn post_json(http: &reqwest::Client, url: &str, body: &Value) -> Value {
    http.post(url).json(body).send().await.unwrap().json().await.unwrap()
}

/// A token from `POST {wx_url}/cgi-bin/stable_token`, as any backend would fetch one.
pub async fn stable_token(
    http: &reqwest::Client,
    wx_url: &str,
    appid: &str,
    secret: &str,
    force_refresh: bool,
) -> String {
    let body = json!({"grant_type": "client_credential", "appid": appid, "secret": secret, "force_refresh": force_refresh});
    let answer = post_json(http, &format!("{wx_url}/cgi-bin/stable_token"), &body).await;
    answer["access_token"].as_str().expect("a token").to_owned()
}

/// The form as WeChat documents it: key, Signature, token, meta, [Content-Type], file last.
pub fn standard_form(link: &Value, key: &str, bytes: Vec<u8>, content_type: Option<&str>) -> Form {
    form_with_file(link, key, Part::bytes(bytes).file_name("upload.bin"), content_type)
}

/// [`standard_form`] with any file part (e.g. a stream).
pub fn form_with_file(link: &Value, key: &str, file: Part, content_type: Option<&str>) -> Form {
    let mut form = Form::new()
        .text("key", key.to_owned())
        .text("Signature", link["authorization"].as_str().unwrap().to_owned())
        .text("x-cos-security-token", link["token"].as_str().unwrap().to_owned())
        .text("x-cos-meta-fileid", link["cos_file_id"].as_str().unwrap().to_owned());
    if let Some(ct) = content_type {
        form = form.text("Content-Type", ct.to_owned());
    }
    form.part("file", file)
}

/// Asserts a COS XML error with this status and code; returns it.
pub async fn expect_cos_error(response: Response, status: u16, code: &str) -> CosError {
    assert_eq!(response.status(), status, "expected {code}");
    assert_eq!(response.headers()["content-type"], "application/xml");
    let error = CosError::from_xml(&response.text().await.unwrap()).expect("COS XML error body");
    assert_eq!(error.code, code, "{error:?}");
    assert!(!error.request_id.is_empty());
    error
}

/// Deterministic test bytes.
pub fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8).collect()
}

impl Emu {
    /// POSTs `form` and returns the raw result (for tests where the request may fail).
    pub async fn post_form_result(&self, link: &Value, form: Form) -> reqwest::Result<Response> {
        self.http.post(link["url"].as_str().unwrap()).multipart(form).send().await
    }
}

/// The first 16 bytes of a PNG: enough for the type checks to take it for one.
pub const PNG: [u8; 16] =
    [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
