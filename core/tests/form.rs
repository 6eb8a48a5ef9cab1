//! The upload form: exact field order and values, and what it refuses.

use wx_cloud_storage_core::{
    form::FormError, protocol::UploadCredentials, ErrorCode, KeyError, UploadForm, FILE_FIELD,
};

fn credentials() -> UploadCredentials {
    // Shaped like WeChat's documented example response.
    serde_json::from_str(
        r#"{"errcode":0,"errmsg":"ok",
            "url":"https://cos.ap-shanghai.myqcloud.com/7465-test2-4a89da-1258717764/users/42/头像.png",
            "token":"TOKEN-abc","authorization":"q-sign-algorithm=sha1&q-ak=AKID&q-sign-time=1557307130;1557308030&q-key-time=1557307130;1557308030&q-header-list=&q-url-param-list=&q-signature=0f3c",
            "file_id":"cloud://test2-4a89da.7465-test2-4a89da-1258717764/users/42/头像.png",
            "cos_file_id":"HDze32/qZENCwWi5N5akgoHSiHQIz/Jv4pTQ3mIn"}"#,
    )
    .unwrap()
}

#[test]
fn fields_come_in_cos_order_with_the_exact_values() {
    let form = UploadForm::new(&credentials(), "users/42/头像.png", Some("image/png")).unwrap();
    let fields: Vec<(&str, &str)> = form.fields().map(|(name, value)| (name, value.as_str())).collect();
    assert_eq!(
        fields,
        [
            ("key", "users/42/头像.png"),
            ("Signature", "q-sign-algorithm=sha1&q-ak=AKID&q-sign-time=1557307130;1557308030&q-key-time=1557307130;1557308030&q-header-list=&q-url-param-list=&q-signature=0f3c"),
            ("x-cos-security-token", "TOKEN-abc"),
            ("x-cos-meta-fileid", "HDze32/qZENCwWi5N5akgoHSiHQIz/Jv4pTQ3mIn"),
            ("Content-Type", "image/png"),
        ]
    );
    assert_eq!(
        form.url(),
        "https://cos.ap-shanghai.myqcloud.com/7465-test2-4a89da-1258717764/users/42/头像.png"
    );
    assert_eq!(form.key(), "users/42/头像.png");
    assert_eq!(form.file_name(), "头像.png");
    assert_eq!(FILE_FIELD, "file");
    assert!(form.fields().all(|(name, _)| name != FILE_FIELD), "file is the transport's, appended last");
}

#[test]
fn content_type_is_optional() {
    let form = UploadForm::new(&credentials(), "a.bin", None).unwrap();
    let names: Vec<&str> = form.fields().map(|(n, _)| n).collect();
    assert_eq!(names, ["key", "Signature", "x-cos-security-token", "x-cos-meta-fileid"]);
}

#[test]
fn a_backend_rewritten_key_is_the_one_sent() {
    let mut creds = credentials();
    creds.key = Some("users/7/a.png".into());
    let form = UploadForm::new(&creds, "a.png", None).unwrap();
    assert_eq!(form.key(), "users/7/a.png");
    assert_eq!(form.file_name(), "a.png");
}

#[test]
fn refuses_what_would_break_the_upload() {
    let creds = credentials();
    let err = UploadForm::new(&creds, "/a.png", None).unwrap_err();
    assert_eq!(err, FormError::Key(KeyError::LeadingSlash { ch: '/' }));
    assert_eq!(err.code(), ErrorCode::InvalidKey);

    let mut no_meta = creds.clone();
    no_meta.cos_file_id.clear();
    let err = UploadForm::new(&no_meta, "a.png", None).unwrap_err();
    assert_eq!(err, FormError::MissingField("cos_file_id"));
    assert_eq!(err.code(), ErrorCode::CredentialsFailed);

    let mut no_id = creds.clone();
    no_id.file_id.clear();
    assert_eq!(UploadForm::new(&no_id, "a.png", None).unwrap_err(), FormError::MissingField("file_id"));

    let err = UploadForm::new(&creds, "a.png", Some("text/plain\r\nX-Evil: 1")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(UploadForm::new(&creds, "a.png", Some(" ")).is_err());
}

#[test]
fn credentials_without_cos_file_id_do_not_even_parse() {
    let err = serde_json::from_str::<UploadCredentials>(
        r#"{"url":"u","token":"t","authorization":"a","file_id":"cloud://e.b/k"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("cos_file_id"), "{err}");
}
