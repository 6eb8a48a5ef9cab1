//! The credential backend's request bodies, through its real router (no network in front;
//! WeChat behind it is a closed port): any body, headers and endpoint get a JSON answer
//! with a code, never a 500; and the policy's decisions keep every key it accepts inside
//! the caller's folder.
#![no_main]

use std::{net::SocketAddr, sync::OnceLock};

use arbitrary::Arbitrary;
use axum::{body::Body, extract::ConnectInfo, http::Request, Router};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use wx_cloud_storage_core::{protocol::FileId, validate_key};
use wx_cloud_storage_server::{
    backend::{Backend, BearerTokens, Identity, Op, Policy},
    client::{Auth, StorageClient},
};

const USERS: [&str; 4] = ["alice", "bob", "alic", "a-b_1"];
const ENDPOINTS: [&str; 5] = [
    "/api/storage/upload-credentials",
    "/api/storage/download-urls",
    "/api/storage/delete",
    "/api/storage/verify",
    "/api/demo/grayscale",
];

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// A request to the router.
    Request {
        endpoint: u8,
        user: u8,
        json: bool,
        body: &'a [u8],
    },
    /// A path to upload to, or a file ID to use, decided by the policy alone.
    Path {
        user: u8,
        path: &'a str,
    },
    FileId {
        user: u8,
        env_is_ours: bool,
        bucket_is_ours: bool,
        key: &'a str,
    },
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
    })
}

fn router() -> Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER
        .get_or_init(|| {
            let _guard = runtime().enter();
            // WeChat is a closed port: every forwarded call fails fast, as an outage would.
            let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
            let client = StorageClient::new(
                format!("http://{dead}"),
                "env",
                Auth::AppSecret { appid: "wxfuzz".into(), secret: "fuzz-secret".into() },
            );
            let tokens = USERS.iter().map(|u| format!("{u}-token={u}")).collect::<Vec<_>>().join(",");
            let mut backend =
                Backend::new(client, Box::new(BearerTokens::parse(&tokens).unwrap()), Policy::default());
            backend.demo_endpoints = true;
            backend.router()
        })
        .clone()
}

fuzz_target!(|input: Input| match input {
    Input::Request { endpoint, user, json, body } => {
        let mut request = Request::post(ENDPOINTS[endpoint as usize % ENDPOINTS.len()])
            .header("authorization", format!("Bearer {}-token", USERS[user as usize % USERS.len()]))
            .header("content-type", if json { "application/json" } else { "text/plain" })
            .body(Body::from(body.to_vec()))
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
        let (status, answer) = runtime().block_on(async {
            let response = router().oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            (status, axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap())
        });
        assert_ne!(status, 500, "a panic or an unhandled case: {}", String::from_utf8_lossy(&answer));
        if status != 200 {
            let answer: serde_json::Value = serde_json::from_slice(&answer).expect("errors are JSON");
            assert!(answer["code"].is_string() && answer["message"].is_string(), "{answer}");
        }
    }
    Input::Path { user, path } => {
        let uid = USERS[user as usize % USERS.len()];
        let policy = Policy::default();
        let caller = Identity::user(uid);
        if let Ok(key) = policy.rules.resolve(path, Some(&caller)) {
            let own = format!("users/{uid}/");
            assert!(validate_key(&key).is_ok(), "{path:?} -> {key:?}");
            assert!(key == path || key == format!("{own}{path}"), "{path:?} -> {key:?}");
            if policy.rules.require(Op::Upload, &key, Some(&caller)).is_ok() {
                assert!(key.starts_with(&own), "{path:?} -> {key:?} allowed");
            }
        }
    }
    Input::FileId { user, env_is_ours, bucket_is_ours, key } => {
        let uid = USERS[user as usize % USERS.len()];
        let env = if env_is_ours { "env" } else { "env2" };
        let bucket = if bucket_is_ours { "bucket-1" } else { "bucket-2" };
        let file_id = format!("cloud://{env}.{bucket}/{key}");
        let policy = Policy::default();
        let caller = Identity::user(uid);
        if policy.check_file_id(Some(&caller), Op::Read, &file_id, "env", Some("bucket-1")).is_ok() {
            let id = FileId::parse(&file_id).unwrap();
            assert!(env_is_ours && bucket_is_ours, "{file_id}");
            assert!(
                id.key.starts_with(&format!("users/{uid}/")) && validate_key(id.key).is_ok(),
                "{file_id}"
            );
        }
    }
});
