//! Reading option objects from JavaScript, with a clear `INVALID_ARGUMENT` for each
//! mistake. Fields are read with `Reflect` (no serde in the wasm: smaller).

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use crate::failure::Failure;

/// `options[name]`; `undefined` when `options` is not an object.
pub(crate) fn field(options: &JsValue, name: &str) -> JsValue {
    if options.is_object() {
        Reflect::get(options, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// Checks that `options` is an object, `undefined` or `null`.
pub(crate) fn check_object(options: &JsValue, what: &str) -> Result<(), Failure> {
    if options.is_undefined() || options.is_null() || options.is_object() {
        Ok(())
    } else {
        Err(Failure::invalid(format!("{what} must be an object")))
    }
}

pub(crate) fn string(options: &JsValue, name: &str) -> Result<Option<String>, Failure> {
    let value = field(options, name);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or_else(|| Failure::invalid(format!("{name} must be a string")))
}

/// A whole number in `min..=max`. (Bounds are integers: formatting them as such keeps
/// float-printing code, ~5 KB, out of the wasm.)
pub(crate) fn number(options: &JsValue, name: &str, min: u32, max: u32) -> Result<Option<f64>, Failure> {
    let value = field(options, name);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && (f64::from(min)..=f64::from(max)).contains(&n) => Ok(Some(n)),
        _ => Err(Failure::invalid(format!("{name} must be a whole number from {min} to {max}"))),
    }
}

pub(crate) fn function(options: &JsValue, name: &str) -> Result<Option<Function>, Failure> {
    let value = field(options, name);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.dyn_into::<Function>().map(Some).map_err(|_| Failure::invalid(format!("{name} must be a function")))
}

pub(crate) fn signal(options: &JsValue) -> Result<Option<AbortSignal>, Failure> {
    let value = field(options, "signal");
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.dyn_into::<AbortSignal>().map(Some).map_err(|_| Failure::invalid("signal must be an AbortSignal"))
}
