//! The browser library in headless Chromium, through its public API, against the real
//! `wxcs dev` stack (emulator + credential backend) over HTTP. `scripts/test.sh` starts the
//! stack on free ports and passes its URLs at compile time.
#![cfg(target_arch = "wasm32")]

use std::{cell::Cell, rc::Rc};

use js_sys::{Array, Object, Promise, Reflect, Uint8Array, JSON};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{AbortController, Blob, BlobPropertyBag};
use wx_cloud_storage::StorageClient;

wasm_bindgen_test_configure!(run_in_browser);

const BACKEND: Option<&str> = option_env!("WXCS_TEST_BACKEND");
const EMULATOR: Option<&str> = option_env!("WXCS_TEST_EMULATOR");
/// A second backend in front of the same emulator: 1 KiB uploads, 4 requests a minute.
const STRICT_BACKEND: Option<&str> = option_env!("WXCS_TEST_STRICT_BACKEND");

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_init(url: &str, init: &JsValue) -> Promise;
}

fn backend() -> &'static str {
    BACKEND.expect("run through scripts/test.sh, which starts wxcs dev and sets WXCS_TEST_BACKEND")
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (name, value) in pairs {
        Reflect::set(&object, &JsValue::from_str(name), value).unwrap();
    }
    object.into()
}

fn get(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap()
}

/// A client for `endpoint` as the user of `token`, whose `headers` callback counts
/// backend calls.
fn counting_client(
    endpoint: &str,
    token: &str,
    calls: Rc<Cell<u32>>,
    extra: &[(&str, JsValue)],
) -> StorageClient {
    let bearer = format!("Bearer {token}");
    let headers = Closure::<dyn FnMut() -> JsValue>::new(move || {
        calls.set(calls.get() + 1);
        obj(&[("Authorization", bearer.as_str().into())])
    });
    let mut pairs = vec![("endpoint", JsValue::from_str(endpoint)), ("headers", headers.into_js_value())];
    pairs.extend(extra.iter().cloned());
    StorageClient::new(obj(&pairs)).unwrap()
}

/// A client for the demo user whose `headers` callback counts backend calls.
fn client_with(calls: Rc<Cell<u32>>, extra: &[(&str, JsValue)]) -> StorageClient {
    counting_client(backend(), "demo-token", calls, extra)
}

fn client() -> StorageClient {
    client_with(Rc::new(Cell::new(0)), &[])
}

fn blob(bytes: &[u8], content_type: &str) -> Blob {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let bag = BlobPropertyBag::new();
    bag.set_type(content_type);
    Blob::new_with_u8_array_sequence_and_options(&parts, &bag).unwrap()
}

async fn bytes_of(blob: &JsValue) -> Vec<u8> {
    let buffer = JsFuture::from(blob.unchecked_ref::<Blob>().array_buffer()).await.unwrap();
    Uint8Array::new(&buffer).to_vec()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// `fetch(url, init)`, by hand (not through the library), and its JSON answer.
async fn fetch_json(url: &str, init: &JsValue) -> JsValue {
    let response: web_sys::Response =
        JsFuture::from(fetch_with_init(url, init)).await.unwrap().unchecked_into();
    JsFuture::from(response.json().unwrap()).await.unwrap()
}

async fn emulator(path: &str, body: Option<&str>) -> JsValue {
    let url = format!("{}{path}", EMULATOR.expect("WXCS_TEST_EMULATOR"));
    let init = match body {
        Some(body) => obj(&[("method", "POST".into()), ("body", body.into())]),
        None => obj(&[]),
    };
    fetch_json(&url, &init).await
}

async fn uploads_so_far() -> f64 {
    get(&emulator("/__emulator/stats", None).await, "uploads").as_f64().unwrap()
}

/// Waits `ms` milliseconds.
async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// An upload link for `path` from the backend, fetched by hand (for tests that slow the
/// emulator down after the link is issued).
async fn link_for(path: &str) -> JsValue {
    let init = obj(&[
        ("method", "POST".into()),
        ("headers", obj(&[("Authorization", "Bearer demo-token".into())])),
        ("body", format!(r#"{{"path":"{path}"}}"#).into()),
    ]);
    fetch_json(&format!("{}/upload-credentials", backend()), &init).await
}

/// A `getUploadCredentials` callback that hands out `link` and counts its calls.
fn fixed_link(link: JsValue, calls: Rc<Cell<u32>>) -> JsValue {
    Closure::<dyn FnMut() -> JsValue>::new(move || {
        calls.set(calls.get() + 1);
        link.clone()
    })
    .into_js_value()
}

fn code(error: &JsValue) -> String {
    assert!(error.is_instance_of::<js_sys::Error>(), "a real Error");
    get(error, "code").as_string().unwrap()
}

#[wasm_bindgen_test]
async fn round_trips_are_byte_exact() {
    let storage = client();
    for (path, len) in [("t/empty.bin", 0), ("t/one.bin", 1), ("t/一兆.bin", 1024 * 1024)] {
        let data = pattern(len);
        let result = storage
            .upload(blob(&data, "application/octet-stream").into(), path.into(), JsValue::UNDEFINED)
            .await
            .unwrap();
        assert_eq!(
            get(&result, "key").as_string().unwrap(),
            format!("users/demo/{path}"),
            "the backend put it in the user's folder"
        );
        assert_eq!(get(&result, "size").as_f64(), Some(len as f64));
        let file_id = get(&result, "fileId");
        assert!(file_id.as_string().unwrap().starts_with("cloud://"));
        let downloaded = storage.download(file_id, JsValue::UNDEFINED).await.unwrap();
        assert_eq!(bytes_of(&downloaded).await, data, "{path}");
    }
}

#[wasm_bindgen_test]
async fn invalid_keys_fail_before_any_request() {
    let calls = Rc::new(Cell::new(0));
    let storage = client_with(calls.clone(), &[]);
    let before = uploads_so_far().await;
    for bad in ["/a.png", "a/${filename}", "a//b", "a/../b", "q?.png"] {
        let error = storage.upload(blob(b"x", "").into(), bad.into(), JsValue::UNDEFINED).await.unwrap_err();
        assert_eq!(code(&error), "INVALID_KEY", "{bad}");
        assert!(get(&error, "rule").is_string());
    }
    assert_eq!(calls.get(), 0, "the backend was never asked");
    assert_eq!(uploads_so_far().await, before);
    let error = storage
        .upload(JsValue::from_str("not a blob"), "a.png".into(), JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "INVALID_ARGUMENT");
}

#[wasm_bindgen_test]
async fn temp_urls_for_120_ids_take_three_calls_in_input_order() {
    let calls = Rc::new(Cell::new(0));
    let storage = client_with(calls.clone(), &[]);
    let stored = storage
        .upload(blob(b"hi", "text/plain").into(), "t/urls.txt".into(), JsValue::UNDEFINED)
        .await
        .unwrap();
    let real = get(&stored, "fileId").as_string().unwrap();
    let before = calls.get();
    let ids: Array = (0..120)
        .map(|i| {
            JsValue::from_str(&if i % 40 == 7 {
                real.clone()
            } else {
                real.replace("urls.txt", &format!("missing-{i}"))
            })
        })
        .collect();
    let results: Array =
        storage.get_temp_file_urls(ids.into(), obj(&[("maxAge", 60.into())])).await.unwrap().unchecked_into();
    assert_eq!(calls.get() - before, 3, "chunks of 50");
    assert_eq!(results.length(), 120);
    for (i, result) in results.iter().enumerate() {
        let expect_ok = i % 40 == 7;
        assert_eq!(get(&result, "ok").as_bool(), Some(expect_ok), "item {i}");
        if expect_ok {
            assert!(get(&result, "url").as_string().unwrap().starts_with("http"));
        } else {
            assert!(
                get(&result, "fileId").as_string().unwrap().ends_with(&format!("missing-{i}")),
                "input order"
            );
            assert_eq!(code(&get(&result, "error")), "NOT_FOUND");
        }
    }
}

#[wasm_bindgen_test]
async fn delete_reports_each_file() {
    let storage = client();
    let stored = storage
        .upload(blob(b"bye", "text/plain").into(), "t/delete.txt".into(), JsValue::UNDEFINED)
        .await
        .unwrap();
    let ids = Array::of1(&get(&stored, "fileId"));
    let first: Array = storage.delete(ids.clone().into()).await.unwrap().unchecked_into();
    assert_eq!(get(&first.get(0), "ok"), JsValue::TRUE);
    let again: Array = storage.delete(ids.clone().into()).await.unwrap().unchecked_into();
    assert_eq!(get(&again.get(0), "ok"), JsValue::FALSE);
    assert_eq!(code(&get(&again.get(0), "error")), "NOT_FOUND");
    let error = storage.download(ids.get(0), JsValue::UNDEFINED).await.unwrap_err();
    assert_eq!(code(&error), "NOT_FOUND");
}

#[wasm_bindgen_test]
async fn injected_5xx_are_retried_and_exhausted_retries_say_server() {
    let storage = client_with(Rc::new(Cell::new(0)), &[("retries", 3.into())]);
    emulator("/__emulator/faults", Some(r#"{"fail_next": 2}"#)).await;
    let ok = storage.upload(blob(b"retry", "").into(), "t/retry.bin".into(), JsValue::UNDEFINED).await;
    assert!(ok.is_ok(), "two 503s, then success");

    let impatient = client_with(Rc::new(Cell::new(0)), &[("retries", 1.into())]);
    emulator("/__emulator/faults", Some(r#"{"fail_next": 5}"#)).await;
    let error =
        impatient.upload(blob(b"x", "").into(), "t/fail.bin".into(), JsValue::UNDEFINED).await.unwrap_err();
    emulator("/__emulator/faults", Some("{}")).await;
    assert_eq!(code(&error), "SERVER");
    assert_eq!(get(&error, "status").as_f64(), Some(503.0));
    assert_eq!(get(&error, "cosCode").as_string().as_deref(), Some("ServiceUnavailable"));
    assert!(get(&error, "requestId").is_string());
}

#[wasm_bindgen_test]
async fn an_expired_link_is_refreshed_once() {
    let storage = client();
    emulator("/__emulator/faults", Some(r#"{"expire_next": 1}"#)).await;
    assert!(storage.upload(blob(b"late", "").into(), "t/late.bin".into(), JsValue::UNDEFINED).await.is_ok());
    emulator("/__emulator/faults", Some(r#"{"expire_next": 2}"#)).await;
    let error =
        storage.upload(blob(b"late", "").into(), "t/later.bin".into(), JsValue::UNDEFINED).await.unwrap_err();
    emulator("/__emulator/faults", Some("{}")).await;
    assert_eq!(code(&error), "CREDENTIALS_EXPIRED");
    assert_eq!(get(&error, "cosCode").as_string().as_deref(), Some("ExpiredToken"));
}

#[wasm_bindgen_test]
async fn backend_refusals_map_to_codes() {
    let anonymous = StorageClient::new(obj(&[("endpoint", backend().into())])).unwrap();
    let error =
        anonymous.upload(blob(b"x", "").into(), "a.bin".into(), JsValue::UNDEFINED).await.unwrap_err();
    assert_eq!(code(&error), "UNAUTHORIZED");
    assert_eq!(get(&error, "status").as_f64(), Some(401.0));
    let error = client()
        .upload(blob(b"x", "").into(), "users/someone-else/a.bin".into(), JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "FORBIDDEN");
}

#[wasm_bindgen_test]
async fn an_aborted_upload_is_an_abort_error_and_stores_nothing() {
    let storage = client();
    let controller = AbortController::new().unwrap();
    controller.abort();
    let before = uploads_so_far().await;
    let options = obj(&[("signal", controller.signal().into())]);
    let error = storage.upload(blob(b"x", "").into(), "t/aborted.bin".into(), options).await.unwrap_err();
    assert_eq!(code(&error), "ABORTED");
    assert_eq!(String::from(error.unchecked_ref::<js_sys::Error>().name()), "AbortError");
    assert_eq!(uploads_so_far().await, before);
}

#[wasm_bindgen_test]
fn bad_constructor_options_are_invalid_argument() {
    for options in [
        obj(&[("retries", (-1).into())]),
        obj(&[("headers", 5.into())]),
        obj(&[("credentials", "sometimes".into())]),
        obj(&[("getUploadCredentials", "not a function".into())]),
        JsValue::from_str("endpoint"),
    ] {
        let error = StorageClient::new(options.clone()).unwrap_err();
        assert_eq!(code(&error), "INVALID_ARGUMENT", "{:?}", JSON::stringify(&options));
    }
}

/// An `onProgress` callback recording `(loaded, phase)`; it throws if `throws`.
fn recorder(events: Rc<std::cell::RefCell<Vec<(f64, String)>>>, throws: bool) -> JsValue {
    Closure::<dyn FnMut(JsValue) -> Result<(), JsValue>>::new(move |event: JsValue| {
        let phase = get(&event, "phase").as_string().unwrap_or_default();
        events.borrow_mut().push((get(&event, "loaded").as_f64().unwrap(), phase));
        if throws {
            Err(JsValue::from_str("a buggy progress bar"))
        } else {
            Ok(())
        }
    })
    .into_js_value()
}

#[wasm_bindgen_test]
async fn progress_is_monotonic_and_ends_at_the_file_size_then_waits() {
    let storage = client();
    let size = 5 * 1024 * 1024;
    let data = pattern(size);
    let events = Rc::new(std::cell::RefCell::new(Vec::new()));
    let options = obj(&[("onProgress", recorder(events.clone(), false))]);
    let result =
        storage.upload(blob(&data, "image/png").into(), "t/progress.bin".into(), options).await.unwrap();
    let events = events.borrow().clone();
    assert!(events.len() >= 2, "{events:?}");
    assert!(events.windows(2).all(|w| w[0].0 <= w[1].0), "monotonic: {events:?}");
    assert!(events.iter().all(|(loaded, _)| *loaded <= size as f64));
    let last = events.last().unwrap();
    assert_eq!(
        (last.0, last.1.as_str()),
        (size as f64, "waiting"),
        "ends at the size, then waits for the server"
    );
    let downloaded = storage.download(get(&result, "fileId"), JsValue::UNDEFINED).await.unwrap();
    assert_eq!(bytes_of(&downloaded).await, data);
}

#[wasm_bindgen_test]
async fn a_throwing_progress_callback_never_breaks_the_upload() {
    let events = Rc::new(std::cell::RefCell::new(Vec::new()));
    let options = obj(&[("onProgress", recorder(events.clone(), true))]);
    let result =
        client().upload(blob(&pattern(64 * 1024), "").into(), "t/throwing.bin".into(), options).await;
    assert!(result.is_ok());
    assert!(!events.borrow().is_empty(), "the callback was called");
}

#[wasm_bindgen_test]
async fn aborting_while_the_body_is_sent_stores_nothing() {
    let storage = client();
    let before = uploads_so_far().await;
    let controller = AbortController::new().unwrap();
    let abort = {
        let controller = controller.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| controller.abort()).into_js_value()
    };
    let options = obj(&[("onProgress", abort), ("signal", controller.signal().into())]);
    let error = storage
        .upload(blob(&pattern(8 * 1024 * 1024), "").into(), "t/abort-mid.bin".into(), options)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "ABORTED");
    assert_eq!(String::from(error.unchecked_ref::<js_sys::Error>().name()), "AbortError");
    assert_eq!(uploads_so_far().await, before, "no object stored");
}

#[wasm_bindgen_test]
async fn a_batch_of_20_with_2_bad_keys_stores_18_and_reports_2() {
    let storage = client_with(Rc::new(Cell::new(0)), &[("concurrency", 4.into())]);
    let items: Array = (0..20)
        .map(|i| {
            let path = match i {
                5 => "batch/$bad.bin".to_owned(),
                13 => "/batch/leading.bin".to_owned(),
                _ => format!("batch/{i}.bin"),
            };
            obj(&[("file", blob(&pattern(1000 + i), "").into()), ("path", path.into())])
        })
        .collect();
    let events = Rc::new(std::cell::RefCell::new(Vec::new()));
    // Per item: the last (loaded, total) reported for it.
    let items_seen = Rc::new(std::cell::RefCell::new(vec![(0.0, 0.0); 20]));
    let on_progress = {
        let (events, items_seen) = (events.clone(), items_seen.clone());
        Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            events.borrow_mut().push((get(&event, "loaded").as_f64().unwrap(), String::new()));
            let item = get(&event, "item");
            let index = get(&item, "index").as_f64().unwrap() as usize;
            items_seen.borrow_mut()[index] =
                (get(&item, "loaded").as_f64().unwrap(), get(&item, "total").as_f64().unwrap());
        })
        .into_js_value()
    };
    let options = obj(&[("onProgress", on_progress)]);
    let results: Array = storage.upload_many(items.into(), options).await.unwrap().unchecked_into();
    assert_eq!(results.length(), 20);
    for (i, &(loaded, total)) in items_seen.borrow().iter().enumerate() {
        assert_eq!((loaded, total), ((1000 + i) as f64, (1000 + i) as f64), "item {i} ends at its size");
    }
    let mut stored = 0;
    for (i, result) in results.iter().enumerate() {
        if i == 5 || i == 13 {
            assert_eq!(get(&result, "ok"), JsValue::FALSE, "item {i}");
            assert_eq!(code(&get(&result, "error")), "INVALID_KEY");
        } else {
            assert_eq!(get(&result, "ok"), JsValue::TRUE, "item {i}");
            assert_eq!(get(&result, "path").as_string().unwrap(), format!("batch/{i}.bin"), "input order");
            assert_eq!(get(&result, "size").as_f64(), Some((1000 + i) as f64));
            stored += 1;
        }
    }
    assert_eq!(stored, 18);
    let total: f64 =
        (0..20).filter(|i| *i != 5 && *i != 13).map(|i| (1000 + i) as f64).sum::<f64>() + 1005.0 + 1013.0;
    let events = events.borrow().clone();
    assert!(events.windows(2).all(|w| w[0].0 <= w[1].0), "aggregate progress is monotonic");
    assert_eq!(events.last().unwrap().0, total, "and ends at the batch's total");
    let error = storage.upload_many(Array::new().into(), JsValue::UNDEFINED).await.unwrap_err();
    assert_eq!(code(&error), "INVALID_ARGUMENT");
}

#[wasm_bindgen_test]
async fn a_dropped_connection_is_retried_and_exhausted_retries_say_network() {
    emulator("/__emulator/faults", Some(r#"{"drop_next": 1}"#)).await;
    let ok = client()
        .upload(blob(&pattern(300 * 1024), "").into(), "t/dropped.bin".into(), JsValue::UNDEFINED)
        .await;
    assert!(ok.is_ok(), "retried after the connection dropped");

    let impatient = client_with(Rc::new(Cell::new(0)), &[("retries", 1.into())]);
    emulator("/__emulator/faults", Some(r#"{"drop_next": 5}"#)).await;
    let error = impatient
        .upload(blob(&pattern(300 * 1024), "").into(), "t/dropped2.bin".into(), JsValue::UNDEFINED)
        .await
        .unwrap_err();
    emulator("/__emulator/faults", Some("{}")).await;
    assert_eq!(code(&error), "NETWORK");
}

#[wasm_bindgen_test]
async fn a_server_that_refuses_this_origin_gives_network_naming_the_origin() {
    // The emulator's WeChat API port sends no CORS headers (like api.weixin.qq.com), so a
    // page calling it as its backend is refused by the browser.
    let endpoint = format!("{}/api/storage", EMULATOR.expect("WXCS_TEST_EMULATOR"));
    let storage = StorageClient::new(obj(&[("endpoint", endpoint.into()), ("retries", 0.into())])).unwrap();
    let error = storage.upload(blob(b"x", "").into(), "a.bin".into(), JsValue::UNDEFINED).await.unwrap_err();
    assert_eq!(code(&error), "NETWORK");
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    let message = String::from(error.unchecked_ref::<js_sys::Error>().message());
    assert!(message.contains(&origin) && message.contains("CORS"), "{message}");
}

#[wasm_bindgen_test]
async fn a_50_mib_round_trip_is_byte_exact() {
    const MIB: usize = 1024 * 1024;
    let chunk = pattern(MIB);
    let parts: Array = (0..50)
        .map(|i| {
            let mut part = chunk.clone();
            part[0] = i as u8; // every MiB differs
            JsValue::from(Uint8Array::from(part.as_slice()))
        })
        .collect();
    let file = Blob::new_with_u8_array_sequence(&parts).unwrap();
    let storage = client();
    let result = storage.upload(file.into(), "t/fifty.bin".into(), JsValue::UNDEFINED).await.unwrap();
    let downloaded = storage.download(get(&result, "fileId"), JsValue::UNDEFINED).await.unwrap();
    let buffer = JsFuture::from(downloaded.unchecked_ref::<Blob>().array_buffer()).await.unwrap();
    let all = Uint8Array::new(&buffer);
    assert_eq!(all.length() as usize, 50 * MIB);
    for i in 0..50 {
        let got = all.subarray((i * MIB) as u32, ((i + 1) * MIB) as u32).to_vec();
        assert_eq!(got[0], i as u8);
        assert_eq!(got[1..], chunk[1..], "MiB {i}");
    }
}

#[wasm_bindgen_test]
async fn a_stalled_backend_call_times_out_and_is_retried() {
    let calls = Rc::new(Cell::new(0));
    let storage = client_with(calls.clone(), &[("timeoutMs", 300.into()), ("retries", 1.into())]);
    emulator("/__emulator/faults", Some(r#"{"latency_ms": 1500}"#)).await;
    let error =
        storage.upload(blob(b"x", "").into(), "t/stalled.bin".into(), JsValue::UNDEFINED).await.unwrap_err();
    emulator("/__emulator/faults", Some("{}")).await;
    assert_eq!(code(&error), "TIMEOUT");
    assert!(get(&error, "message").as_string().unwrap().contains("300 ms"));
    assert_eq!(calls.get(), 2, "one retry after the first stall");
    sleep(1500).await; // let the backend's slowed calls finish before the next test
}

#[wasm_bindgen_test]
async fn a_stalled_cos_answer_times_out_with_a_fresh_link_per_attempt() {
    let link = link_for("t/stalled-cos.bin").await;
    let calls = Rc::new(Cell::new(0));
    let storage = client_with(
        Rc::new(Cell::new(0)),
        &[
            ("timeoutMs", 300.into()),
            ("retries", 1.into()),
            ("getUploadCredentials", fixed_link(link, calls.clone())),
        ],
    );
    emulator("/__emulator/faults", Some(r#"{"latency_ms": 1200}"#)).await;
    let error = storage
        .upload(blob(b"slow", "").into(), "users/demo/t/stalled-cos.bin".into(), JsValue::UNDEFINED)
        .await
        .unwrap_err();
    emulator("/__emulator/faults", Some("{}")).await;
    assert_eq!(code(&error), "TIMEOUT");
    assert_eq!(calls.get(), 2, "a fresh link for the retry");
    sleep(1500).await; // COS finishes the abandoned requests before the next test counts uploads
}

#[wasm_bindgen_test]
async fn aborting_while_waiting_for_cos_rejects_at_once() {
    let link = link_for("t/abort-waiting.bin").await;
    let storage = client_with(
        Rc::new(Cell::new(0)),
        &[("getUploadCredentials", fixed_link(link, Rc::new(Cell::new(0))))],
    );
    let controller = AbortController::new().unwrap();
    let abort_when_waiting = {
        let controller = controller.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            if get(&event, "phase").as_string().as_deref() == Some("waiting") {
                controller.abort();
            }
        })
        .into_js_value()
    };
    let before = uploads_so_far().await;
    emulator("/__emulator/faults", Some(r#"{"latency_ms": 1200}"#)).await;
    let options = obj(&[("onProgress", abort_when_waiting), ("signal", controller.signal().into())]);
    let error = storage
        .upload(blob(b"bytes all sent", "").into(), "users/demo/t/abort-waiting.bin".into(), options)
        .await
        .unwrap_err();
    // COS is still sleeping on the request: the rejection did not wait for its answer.
    let during = uploads_so_far().await;
    emulator("/__emulator/faults", Some("{}")).await;
    assert_eq!(code(&error), "ABORTED");
    assert_eq!(String::from(error.unchecked_ref::<js_sys::Error>().name()), "AbortError");
    assert_eq!(during, before, "rejected before COS answered");
    sleep(1500).await;
}

#[wasm_bindgen_test]
async fn downloads_report_progress_and_abort() {
    let storage = client();
    let size = 3 * 1024 * 1024;
    let data = pattern(size);
    let uploaded =
        storage.upload(blob(&data, "").into(), "t/download.bin".into(), JsValue::UNDEFINED).await.unwrap();
    let file_id = get(&uploaded, "fileId");
    let events = Rc::new(std::cell::RefCell::new(Vec::<(f64, f64)>::new()));
    let on_progress = {
        let events = events.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            events
                .borrow_mut()
                .push((get(&event, "loaded").as_f64().unwrap(), get(&event, "total").as_f64().unwrap()));
        })
        .into_js_value()
    };
    let downloaded = storage.download(file_id.clone(), obj(&[("onProgress", on_progress)])).await.unwrap();
    assert_eq!(bytes_of(&downloaded).await, data);
    let events = events.borrow().clone();
    assert!(events.len() >= 2, "{events:?}");
    assert!(events.windows(2).all(|w| w[0].0 < w[1].0), "monotonic: {events:?}");
    assert!(events.iter().all(|&(_, total)| total == size as f64));
    assert_eq!(events.last().unwrap().0, size as f64);

    let controller = AbortController::new().unwrap();
    let abort = {
        let controller = controller.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| controller.abort()).into_js_value()
    };
    let options = obj(&[("onProgress", abort), ("signal", controller.signal().into())]);
    let error = storage.download(file_id, options).await.unwrap_err();
    assert_eq!(code(&error), "ABORTED", "aborted mid-stream");
    assert_eq!(String::from(error.unchecked_ref::<js_sys::Error>().name()), "AbortError");
}

fn strict_client(token: &str, calls: Rc<Cell<u32>>) -> StorageClient {
    let endpoint = STRICT_BACKEND.expect("run through scripts/test.sh, which sets WXCS_TEST_STRICT_BACKEND");
    counting_client(endpoint, token, calls, &[("retries", 1.into())])
}

#[wasm_bindgen_test]
async fn a_backend_413_is_too_large_and_not_retried() {
    let calls = Rc::new(Cell::new(0));
    let storage = strict_client("big-token", calls.clone());
    let error = storage
        .upload(blob(&pattern(2048), "").into(), "big.bin".into(), JsValue::UNDEFINED)
        .await
        .unwrap_err();
    assert_eq!(code(&error), "TOO_LARGE");
    assert_eq!(get(&error, "status").as_f64(), Some(413.0));
    assert_eq!(calls.get(), 1, "4xx other than 429 is never retried");
    assert!(storage
        .upload(blob(&pattern(1024), "").into(), "ok.bin".into(), JsValue::UNDEFINED)
        .await
        .is_ok());
}

#[wasm_bindgen_test]
async fn a_backend_429_is_retried_then_reported() {
    let calls = Rc::new(Cell::new(0));
    let storage = strict_client("busy-token", calls.clone());
    for i in 0..4 {
        let path = format!("busy-{i}.bin");
        assert!(storage.upload(blob(b"x", "").into(), path.into(), JsValue::UNDEFINED).await.is_ok());
    }
    assert_eq!(calls.get(), 4);
    let error =
        storage.upload(blob(b"x", "").into(), "busy-5.bin".into(), JsValue::UNDEFINED).await.unwrap_err();
    assert_eq!(get(&error, "status").as_f64(), Some(429.0));
    assert_eq!(code(&error), "CREDENTIALS_FAILED");
    assert_eq!(calls.get(), 6, "the refused call and one retry");
}
