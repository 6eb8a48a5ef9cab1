//! A 200 MiB upload does not grow wasm memory: the Blob goes into FormData as is. In its
//! own test binary, so no other test's allocations share the wasm instance.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Object, Reflect, Uint8Array, WebAssembly};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::Blob;
use wx_cloud_storage::StorageClient;

wasm_bindgen_test_configure!(run_in_browser);

fn wasm_memory_bytes() -> f64 {
    let memory: WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64
}

#[wasm_bindgen_test]
async fn a_200_mib_upload_grows_wasm_memory_by_less_than_1_mib() {
    let Some(backend) = option_env!("WXCS_TEST_BACKEND") else {
        panic!("run through scripts/test.sh, which starts wxcs dev and sets WXCS_TEST_BACKEND")
    };
    let options = Object::new();
    Reflect::set(&options, &"endpoint".into(), &backend.into()).unwrap();
    let headers = Object::new();
    Reflect::set(&headers, &"Authorization".into(), &"Bearer demo-token".into()).unwrap();
    Reflect::set(&options, &"headers".into(), &headers).unwrap();
    let storage = StorageClient::new(options.into()).unwrap();
    // Warm up: the first upload allocates what any upload needs.
    storage.upload(Blob::new().unwrap().into(), "t/warm.bin".into(), JsValue::UNDEFINED).await.unwrap();

    let chunk = Uint8Array::new_with_length(1024 * 1024);
    let parts: Array = (0..200).map(|_| JsValue::from(&chunk)).collect();
    let file = Blob::new_with_u8_array_sequence(&parts).unwrap();
    let before = wasm_memory_bytes();
    let result = storage.upload(file.into(), "t/two-hundred.bin".into(), JsValue::UNDEFINED).await.unwrap();
    let after = wasm_memory_bytes();
    assert_eq!(Reflect::get(&result, &"size".into()).unwrap().as_f64(), Some(200.0 * 1024.0 * 1024.0));
    web_sys::console::log_1(
        &format!("wasm memory: {before} B before, {after} B after a 200 MiB upload").into(),
    );
    assert!(after - before < 1024.0 * 1024.0, "wasm memory grew {} bytes", after - before);
}
