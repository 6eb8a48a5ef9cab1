//! Browser suite (headless Chromium via wasm-bindgen-test): the core proven through the
//! JS-facing exports.
#![cfg(target_arch = "wasm32")]

use js_sys::Reflect;
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// One row of the key table shared with the native suite (`core/tests/keys.rs`).
#[derive(Deserialize)]
struct Case {
    key: String,
    rule: Option<String>,
    at: Option<usize>,
    why: String,
}

fn prop(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap()
}

#[wasm_bindgen_test]
fn validate_key_gives_every_table_key_its_verdict() {
    let cases: Vec<Case> = serde_json::from_str(include_str!("../core/tests/data/keys.json")).unwrap();
    assert!(cases.len() >= 40);
    for case in cases {
        let result = wx_cloud_storage::validate_key(JsValue::from_str(&case.key));
        match (&case.rule, result) {
            (None, Ok(())) => {}
            (None, Err(e)) => panic!("{} ({:?}) refused: {:?}", case.why, case.key, prop(&e, "message")),
            (Some(rule), Ok(())) => panic!("{} ({:?}) accepted, expected {rule}", case.why, case.key),
            (Some(rule), Err(e)) => {
                let error = e.dyn_ref::<js_sys::Error>().expect("a real Error");
                assert_eq!(String::from(error.name()), "StorageError");
                assert_eq!(prop(&e, "code").as_string().unwrap(), "INVALID_KEY");
                assert_eq!(&prop(&e, "rule").as_string().unwrap(), rule, "{}", case.why);
                assert_eq!(prop(&e, "byteOffset").as_f64().map(|n| n as usize), case.at, "{}", case.why);
                let message = String::from(error.message());
                if let Some(at) = case.at {
                    assert!(message.starts_with(&format!("byte {at}: ")), "{message}");
                }
                assert!(prop(&e, "stack").is_string(), "errors carry a stack");
            }
        }
    }
}

#[wasm_bindgen_test]
fn validate_key_refuses_non_strings_as_invalid_argument() {
    for value in [JsValue::from(5), JsValue::NULL, JsValue::UNDEFINED] {
        let e = wx_cloud_storage::validate_key(value).unwrap_err();
        assert!(e.is_instance_of::<js_sys::Error>());
        assert_eq!(prop(&e, "code").as_string().unwrap(), "INVALID_ARGUMENT");
    }
}
