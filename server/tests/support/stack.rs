//! `wxcs serve` (as a library) in front of an emulator, on ephemeral ports, and the calls
//! a page makes to it.

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use wx_cloud_storage_core::{protocol::UploadCredentials, UploadForm, FILE_FIELD};
use wx_cloud_storage_server::{
    backend::{Backend, BearerTokens, Policy},
    client::{Auth, StorageClient},
    emulator::{self, Config, Running},
    http,
};

pub struct Stack {
    pub emu: Running,
    pub config: Config,
    pub url: String,
    pub http: reqwest::Client,
}

pub const ALICE: &str = "alice-token";
pub const BOB: &str = "bob-token";

pub async fn stack_with(
    configure_emu: impl FnOnce(&mut Config),
    auth: Option<Auth>,
    configure: impl FnOnce(&mut Backend),
) -> Stack {
    let mut config =
        Config { wx_port: 0, cos_port: 0, data_dir: super::temp_dir("backend"), ..Config::default() };
    configure_emu(&mut config);
    let emu = emulator::start(config.clone()).await.unwrap();
    let auth = auth.unwrap_or(Auth::AppSecret { appid: config.appid.clone(), secret: config.secret.clone() });
    let client = StorageClient::new(emu.wx_url(), config.env.clone(), auth);
    let users = BearerTokens::parse(&format!("{ALICE}=alice,{BOB}=bob")).unwrap();
    let mut backend = Backend::new(client, Box::new(users), Policy::default());
    backend.demo_endpoints = true;
    configure(&mut backend);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = backend.router();
    tokio::spawn(http::serve(listener, router, http::Limits::default(), std::future::pending()));
    Stack { emu, config, url, http: reqwest::Client::new() }
}

pub async fn stack() -> Stack {
    stack_with(|_| {}, None, |_| {}).await
}

impl Stack {
    pub async fn call(&self, user: Option<&str>, endpoint: &str, body: Value) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{endpoint}", self.url)).json(&body);
        if let Some(token) = user {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    /// Upload through the contract: credentials from the backend, the form from the core's
    /// plan, POSTed to COS. Returns the credentials.
    pub async fn upload(
        &self,
        user: &str,
        path: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> UploadCredentials {
        let body = json!({"path": path, "size": bytes.len(), "contentType": content_type});
        let (status, answer) = self.call(Some(user), "/api/storage/upload-credentials", body).await;
        assert_eq!(status, 200, "{answer}");
        let credentials: UploadCredentials = serde_json::from_value(answer).unwrap();
        let plan = UploadForm::new(&credentials, path, Some(content_type)).unwrap();
        let mut form = Form::new();
        for (name, value) in plan.fields() {
            form = form.text(name, value.to_owned());
        }
        form = form.part(FILE_FIELD, Part::bytes(bytes).file_name("f"));
        let response = self.http.post(plan.url()).multipart(form).send().await.unwrap();
        assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
        credentials
    }

    /// A token from the emulator's `/cgi-bin/stable_token`, as any backend would fetch one
    /// (`force_refresh` invalidates the one the backend caches).
    pub async fn stable_token(&self, force_refresh: bool) -> String {
        let secret = secrecy::ExposeSecret::expose_secret(&self.config.secret);
        super::stable_token(&self.http, &self.emu.wx_url(), &self.config.appid, secret, force_refresh).await
    }

    pub async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/__emulator/stats", self.emu.wx_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Sets the emulator's faults (`{}` clears them).
    pub async fn faults(&self, faults: Value) {
        let url = format!("{}/__emulator/faults", self.emu.wx_url());
        let response = self.http.post(url).json(&faults).send().await.unwrap();
        assert!(response.status().is_success(), "faults: {}", response.status());
    }

    pub async fn fetch(&self, user: &str, file_id: &str) -> reqwest::Response {
        let (status, answer) = self
            .call(Some(user), "/api/storage/download-urls", json!({"file_ids": [file_id], "max_age": 60}))
            .await;
        assert_eq!(status, 200, "{answer}");
        let item = &answer["file_list"][0];
        assert_eq!(item["status"], 0, "{item}");
        self.http.get(item["download_url"].as_str().unwrap()).send().await.unwrap()
    }
}
