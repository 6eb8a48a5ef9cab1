//! Wire types parse WeChat's documented examples, tolerate new fields, refuse missing ones.

use wx_cloud_storage_core::{
    protocol::{
        item_error_code, BackendError, CosError, DeleteResults, DownloadUrls, FileId,
        UploadCredentialsRequest, WechatStatus,
    },
    ErrorCode,
};

#[test]
fn batchdownloadfile_example_parses_with_unknown_fields() {
    let body = r#"{"errcode":0,"errmsg":"ok","new_field":[1,2],"file_list":[{"fileid":"cloud://test2-4a89da.7465-test2-4a89da/A.png","download_url":"https://7465-test2-4a89da-1258717764.tcb.qcloud.la/A.png","status":0,"errmsg":"ok","extra":true}]}"#;
    let parsed: DownloadUrls = serde_json::from_str(body).unwrap();
    assert_eq!(parsed.file_list.len(), 1);
    assert_eq!(parsed.file_list[0].download_url, "https://7465-test2-4a89da-1258717764.tcb.qcloud.la/A.png");
    let status: WechatStatus = serde_json::from_str(body).unwrap();
    assert!(status.is_ok());
}

#[test]
fn batchdeletefile_example_parses_and_missing_lists_are_refused() {
    let parsed: DeleteResults = serde_json::from_str(
        r#"{"errcode":0,"errmsg":"ok","delete_list":[{"fileid":"cloud://e.b/a","status":0,"errmsg":"ok"}]}"#,
    )
    .unwrap();
    assert_eq!(parsed.delete_list[0].fileid, "cloud://e.b/a");
    assert!(serde_json::from_str::<DeleteResults>(r#"{"errcode":0}"#).is_err());
}

#[test]
fn wechat_errors_parse() {
    let status: WechatStatus =
        serde_json::from_str(r#"{"errcode":40001,"errmsg":"invalid credential"}"#).unwrap();
    assert!(!status.is_ok());
    assert_eq!(status.errcode, 40001);
}

#[test]
fn upload_request_uses_camel_case_content_type() {
    let req = UploadCredentialsRequest {
        path: "a.png".into(),
        size: Some(3),
        content_type: Some("image/png".into()),
    };
    assert_eq!(
        serde_json::to_string(&req).unwrap(),
        r#"{"path":"a.png","size":3,"contentType":"image/png"}"#
    );
    let bare: UploadCredentialsRequest = serde_json::from_str(r#"{"path":"a"}"#).unwrap();
    assert_eq!(bare.size, None);
}

#[test]
fn backend_error_body_is_strict() {
    let e: BackendError = serde_json::from_str(r#"{"code":"FORBIDDEN","message":"no"}"#).unwrap();
    assert_eq!(ErrorCode::parse(&e.code), Some(ErrorCode::Forbidden));
    assert!(serde_json::from_str::<BackendError>(r#"{"message":"no"}"#).is_err());
}

#[test]
fn item_statuses_map_to_codes() {
    assert_eq!(item_error_code(-503003, "STORAGE_FILE_NONEXIST"), ErrorCode::NotFound);
    assert_eq!(item_error_code(1, "file not exist"), ErrorCode::NotFound);
    assert_eq!(item_error_code(-503002, "no permission"), ErrorCode::Forbidden);
    assert_eq!(item_error_code(-1, "system error"), ErrorCode::WechatApi);
}

#[test]
fn expired_link_errors_are_recognised() {
    let expired = |code: &str, message: &str| {
        CosError { code: code.into(), message: message.into(), ..Default::default() }.is_expired_link()
    };
    assert!(expired("ExpiredToken", "Token expired"));
    assert!(expired(
        "AccessDenied",
        "You post object request has been expired, expiration time: 1 but the time now : 2"
    ));
    assert!(!expired("AccessDenied", "Access Denied."));
    assert!(!expired("SignatureDoesNotMatch", "The Signature you specified is invalid."));
}

#[test]
fn cos_errors_map_to_codes() {
    let error = |code: &str, message: &str| CosError {
        code: code.into(),
        message: message.into(),
        ..Default::default()
    };
    assert_eq!(error("ExpiredToken", "").error_code(400), ErrorCode::CredentialsExpired);
    assert_eq!(error("AccessDenied", "Request has expired").error_code(403), ErrorCode::CredentialsExpired);
    assert_eq!(error("EntityTooLarge", "").error_code(400), ErrorCode::TooLarge);
    assert_eq!(error("ServiceUnavailable", "").error_code(503), ErrorCode::Server);
    assert_eq!(error("", "").error_code(502), ErrorCode::Server, "a 5xx without an XML body");
    assert_eq!(error("MalformedPOSTRequest", "").error_code(400), ErrorCode::UploadRejected);
    assert_eq!(error("SignatureDoesNotMatch", "").error_code(403), ErrorCode::UploadRejected);
}

#[test]
fn file_ids_parse_and_print() {
    let id = FileId::parse("cloud://prod-1a.7072-prod-1a-1300/users/42/头像.png").unwrap();
    assert_eq!((id.env, id.bucket, id.key), ("prod-1a", "7072-prod-1a-1300", "users/42/头像.png"));
    assert_eq!(id.to_string(), "cloud://prod-1a.7072-prod-1a-1300/users/42/头像.png");
    for bad in ["", "cloud://", "cloud://env/key", "cloud://env.bucket/", "http://e.b/k", "cloud://.b/k"] {
        assert!(FileId::parse(bad).is_none(), "{bad}");
    }
}

#[cfg(feature = "xml")]
#[test]
fn cos_xml_errors_round_trip() {
    let xml = "<?xml version='1.0' encoding='utf-8' ?>\n<Error><Code>MalformedPOSTRequest</Code><Message>The body of your POST request is not well-formed multipart/form-data.</Message><Resource>b/k</Resource><RequestId>NjA=</RequestId><TraceId>OGVm</TraceId></Error>";
    let e = CosError::from_xml(xml).unwrap();
    assert_eq!(e.code, "MalformedPOSTRequest");
    assert_eq!(e.request_id, "NjA=");
    assert_eq!(CosError::from_xml(&e.to_xml()).unwrap(), e);
}

/// The browser library reads COS errors with `CosError::scan` (no XML parser in the wasm);
/// it must read every body the way the server's quick-xml parser does.
#[cfg(feature = "xml")]
#[test]
fn the_lenient_scan_reads_cos_errors_like_the_xml_parser() {
    let bodies = [
        "<?xml version='1.0' encoding='utf-8' ?>\n<Error><Code>MalformedPOSTRequest</Code><Message>The body of your POST request is not well-formed multipart/form-data.</Message><Resource>b/k</Resource><RequestId>NjA=</RequestId><TraceId>OGVm</TraceId></Error>",
        "<?xml version=\"1.0\"?>\n<Error>\n  <Code>AccessDenied</Code>\n  <Message>Request has expired, expiration time: 1 but the time now : 2</Message>\n  <RequestId>id</RequestId>\n</Error>",
        "<Error><Code>InvalidArgument</Code><Message>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;</Message><RequestId></RequestId></Error>",
        "<Error><Code>NoSuchKey</Code></Error>",
    ];
    for xml in bodies {
        let parsed = CosError::from_xml(xml).unwrap();
        let scanned = CosError::scan(xml);
        assert_eq!(
            (scanned.code, scanned.message, scanned.request_id),
            (parsed.code, parsed.message, parsed.request_id),
            "{xml}"
        );
    }
    for not_an_error in ["", "<html>502 Bad Gateway</html>", "{\"code\":1}", "<Error"] {
        assert_eq!(CosError::scan(not_an_error), CosError::default(), "{not_an_error}");
    }
}
