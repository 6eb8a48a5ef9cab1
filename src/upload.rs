//! One upload's rules: what may be uploaded where, and the COS form built from the link.
//!
//! The form comes from the core's plan ([`UploadForm`]): `key`, `Signature`,
//! `x-cos-security-token`, `x-cos-meta-fileid`, optional `Content-Type`, and the
//! transport appends `file` after them, so `file` is last by construction. The link's
//! values stay JavaScript strings ([`JsText`]): they pass through the plan without being
//! copied into wasm memory and back.

use js_sys::{Array, Object};
use wasm_bindgen::JsValue;
use wx_cloud_storage_core::{
    form::FieldValue, protocol::UploadCredentials, text::signed_decimal, validate_key, ErrorCode, UploadForm,
};

use crate::{
    failure::Failure,
    js_value::{get, set, string},
};

/// COS POST Object's size limit, bytes.
const MAX_OBJECT_BYTES: f64 = 5.0 * 1024.0 * 1024.0 * 1024.0;

/// A form field's value as the JavaScript value the backend sent; anything but a
/// non-empty string counts as missing.
#[derive(Debug, Clone)]
struct JsText(JsValue);

impl From<&str> for JsText {
    fn from(text: &str) -> JsText {
        JsText(text.into())
    }
}

impl FieldValue for JsText {
    fn is_missing(&self) -> bool {
        !(self.0.is_string() && self.0.is_truthy())
    }
}

/// Checks an upload before any request: the path is a string that passes every key rule,
/// and the file fits in one COS POST.
pub(crate) fn check(path: &JsValue, size: f64) -> Result<(), Failure> {
    let path = path.as_string().ok_or_else(|| Failure::invalid("upload: path must be a string"))?;
    validate_key(&path).map_err(Failure::invalid_key)?;
    if size > MAX_OBJECT_BYTES {
        return Err(Failure::new(ErrorCode::TooLarge, "the file is over COS's 5 GB limit for one upload"));
    }
    Ok(())
}

/// The form for uploading to `path` with the backend's (or callback's) `answer`:
/// `{url, key, fileId, fileName, fields: [[name, value], …]}`; the transport appends the
/// `file` part after the fields. A WeChat error in the answer is `WECHAT_API`; a missing
/// field is `CREDENTIALS_FAILED`, saying what the backend must do.
pub(crate) fn form(answer: &JsValue, path: &str, content_type: Option<String>) -> Result<JsValue, Failure> {
    let errcode = get(answer, "errcode").as_f64().unwrap_or(0.0) as i64;
    if errcode != 0 {
        let errmsg = string(answer, "errmsg").unwrap_or_default();
        return Err(Failure::new(
            ErrorCode::WechatApi,
            ["WeChat errcode ", &signed_decimal(errcode), ": ", &errmsg].concat(),
        )
        .with_errcode(errcode));
    }
    let text = |name| JsText(get(answer, name));
    let credentials = UploadCredentials {
        url: text("url"),
        token: text("token"),
        authorization: text("authorization"),
        file_id: text("file_id"),
        cos_file_id: text("cos_file_id"),
        key: string(answer, "key"),
    };
    let form = UploadForm::new(&credentials, path, content_type.as_deref())
        .map_err(|e| Failure::new(e.code(), e.message()))?;
    let fields: Array = form.fields().map(|(name, value)| Array::of2(&name.into(), &value.0)).collect();
    let out: JsValue = Object::new().into();
    set(&out, "url", form.url().0.clone());
    set(&out, "key", form.key().into());
    set(&out, "fileName", form.file_name().into());
    set(&out, "fileId", get(answer, "file_id"));
    set(&out, "fields", fields.into());
    Ok(out)
}
