//! Reading and writing plain JavaScript objects by property name (through `Reflect`; no
//! serde in the wasm: smaller).

use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// `value[name]`, or `undefined` (also when `value` is not an object).
pub(crate) fn get(value: &JsValue, name: &str) -> JsValue {
    if value.is_object() {
        Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// `value[name]` if it is a string.
pub(crate) fn string(value: &JsValue, name: &str) -> Option<String> {
    get(value, name).as_string()
}

/// Sets `object[name] = value`. Setting a property on a fresh object cannot fail, so the
/// result is ignored.
pub(crate) fn set(object: &JsValue, name: &str, value: JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(name), &value);
}

/// A string the package's JS passed (the wasm copies one in only when it needs to read
/// it); empty for anything else.
pub(crate) fn text(value: &JsValue) -> String {
    value.as_string().unwrap_or_default()
}

/// A non-negative whole number the package's JS passed as a JS number (`undefined`,
/// `NaN` and the like: `None`).
pub(crate) fn whole(number: f64) -> Option<u32> {
    (number >= 0.0 && number <= f64::from(u32::MAX)).then_some(number as u32)
}
