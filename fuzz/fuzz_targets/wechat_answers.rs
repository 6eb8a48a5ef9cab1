//! WeChat's JSON answers as the server-side client reads them: any bytes give a typed
//! value or an error, never a panic; file IDs parse back to what they were made of; and
//! each item's status maps to an error code.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wx_cloud_storage_core::protocol::{
    item_error_code, DeleteResults, DownloadUrls, FileId, UploadCredentials, WechatStatus,
};

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    Answer(&'a [u8]),
    FileId(&'a str),
    Item { status: i64, errmsg: &'a str },
}

fuzz_target!(|input: Input| match input {
    Input::Answer(bytes) => {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else { return };
        let _ = serde_json::from_value::<WechatStatus>(value.clone()).map(|s| s.is_ok());
        let _ = serde_json::from_value::<UploadCredentials>(value.clone());
        if let Ok(urls) = serde_json::from_value::<DownloadUrls>(value.clone()) {
            for item in urls.file_list {
                let _ = FileId::parse(&item.fileid);
            }
        }
        let _ = serde_json::from_value::<DeleteResults>(value);
    }
    Input::FileId(text) => {
        if let Some(id) = FileId::parse(text) {
            assert_eq!(format!("cloud://{}.{}/{}", id.env, id.bucket, id.key), text);
            assert!(
                !id.env.contains('.') && !id.env.is_empty() && !id.bucket.is_empty() && !id.key.is_empty()
            );
        }
    }
    Input::Item { status, errmsg } => {
        let _ = item_error_code(status, errmsg);
    }
});
