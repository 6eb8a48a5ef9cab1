//! A folder's limits on what lands in it: the largest object, the allowed content types,
//! uploads per user per minute. Checked twice: on what an upload declares (before its link
//! is issued) and on the object that really landed (its length, the type it is served
//! with, and what its first bytes are).

use wx_cloud_storage_core::form::is_sendable_content_type;

use super::media_type::{essence, is_markup, starts_like_markup};

use crate::backend::Refusal;

/// A folder's limits. Every field has a documented default ([`Limits::default`]: none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest object, bytes; `None` for no limit of the backend's own (COS's 5 GB holds).
    /// When set, every upload must declare its size, and the stored object is checked.
    pub max_size: Option<u64>,
    /// Allowed content types: exact (`image/png`), family (`image/*`, which never admits
    /// `image/svg+xml` unless it is named) or `*`. When limited, every upload must declare
    /// its type, and the stored object is checked. Default `*`.
    pub types: Vec<String>,
    /// Upload links per user (or, for callers not signed in, per address) per minute in this
    /// folder, on top of the backend's own rate. Default none.
    pub rate_per_minute: Option<u32>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_size: None, types: vec!["*".into()], rate_per_minute: None }
    }
}

/// What is known of the stored object when it is checked against the limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject<'a> {
    /// Its length in bytes.
    pub size: u64,
    /// The `Content-Type` it is served with.
    pub content_type: Option<&'a str>,
    /// Its first bytes (a few KiB at most).
    pub head: &'a [u8],
}

impl Limits {
    /// Whether these limits bound what lands (size or type): then every upload is checked
    /// after it lands, and the backend tells the library so.
    pub fn checks_uploads(&self) -> bool {
        self.max_size.is_some() || !self.types.iter().any(|t| t == "*")
    }

    /// Checks the declared size and type of an upload. When the policy limits them, both
    /// must be declared (the library always does): they are checked again on the object.
    pub fn check_upload(&self, size: Option<u64>, content_type: Option<&str>) -> Result<(), Refusal> {
        if let Some(content_type) =
            content_type.filter(|t| !is_sendable_content_type(t) || essence(t).is_none())
        {
            return Err(Refusal::invalid_argument(format!(
                "contentType {content_type:?} is not one MIME type such as `image/png` (no lists, no quotes)"
            )));
        }
        if let Some(max) = self.max_size {
            let Some(size) = size else {
                return Err(Refusal::invalid_argument(format!(
                    "size is required: this backend accepts files up to {max} bytes"
                )));
            };
            if size > max {
                return Err(Refusal::too_large(format!(
                    "{size} bytes is over this folder's limit of {max} bytes"
                )));
            }
        }
        if self.types.iter().any(|t| t == "*") {
            return Ok(());
        }
        let Some(content_type) = content_type else {
            return Err(Refusal::invalid_argument(format!(
                "contentType is required; allowed: {}",
                self.types.join(", ")
            )));
        };
        self.check_type(content_type)
    }

    /// Whether a content type is allowed: read strictly ([`essence`]); a family (`image/*`)
    /// never admits markup (`image/svg+xml`, `text/html`, any `+xml`), which browsers run
    /// scripts in, unless it is named.
    fn check_type(&self, content_type: &str) -> Result<(), Refusal> {
        let Some(essence) = essence(content_type) else {
            return Err(Refusal::forbidden(format!("content type {content_type:?} is not one MIME type")));
        };
        let (family, _) = essence.split_once('/').unwrap_or_default();
        let allowed = self.types.iter().any(|t| {
            let t = t.to_ascii_lowercase();
            match t.strip_suffix("/*") {
                _ if t == "*" => true,
                Some(allowed_family) => family == allowed_family && !is_markup(&essence),
                None => essence == t,
            }
        });
        if allowed {
            Ok(())
        } else {
            Err(Refusal::forbidden(format!(
                "content type {content_type} is not allowed; allowed: {}",
                self.types.join(", ")
            )))
        }
    }

    /// Checks an object that has landed: its real length, the type it is served with, and
    /// what its first bytes say it is (when they say anything). Content is not scanned.
    pub fn check_object(&self, object: &StoredObject<'_>) -> Result<(), Refusal> {
        if let Some(max) = self.max_size.filter(|max| object.size > *max) {
            return Err(Refusal::too_large(format!(
                "the uploaded object is {} bytes, over this folder's limit of {max} bytes: it was deleted",
                object.size
            )));
        }
        if self.types.iter().any(|t| t == "*") {
            return Ok(());
        }
        let served = object.content_type.unwrap_or("application/octet-stream");
        self.check_type(served).map_err(|e| Refusal::forbidden(format!("{}: it was deleted", e.message)))?;
        if starts_like_markup(object.head) && !essence(served).is_some_and(|e| is_markup(&e)) {
            return Err(Refusal::forbidden(format!(
                "the uploaded bytes are markup (HTML, XML or SVG) served as {served}: it was deleted"
            )));
        }
        if let Some(sniffed) = infer::get(object.head).map(|kind| kind.mime_type()) {
            self.check_type(sniffed).map_err(|_| {
                Refusal::forbidden(format!(
                    "the uploaded bytes are {sniffed}, which is not allowed: it was deleted"
                ))
            })?;
            let essence = served.split(';').next().unwrap_or_default().trim();
            if !essence.eq_ignore_ascii_case(sniffed) && has_signature(essence) {
                return Err(Refusal::forbidden(format!(
                    "the object is served as {essence} but its bytes are {sniffed}: it was deleted"
                )));
            }
        } else if has_signature(served.split(';').next().unwrap_or_default().trim()) {
            return Err(Refusal::forbidden(format!(
                "the object is served as {served} but its bytes are not: it was deleted"
            )));
        }
        Ok(())
    }
}

/// Whether files of this type always start with a signature `infer` knows (so bytes that
/// lack it are not of this type).
fn has_signature(mime: &str) -> bool {
    let mime = mime.to_ascii_lowercase();
    [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/heif",
        "image/avif",
        "application/pdf",
        "application/zip",
        "video/mp4",
    ]
    .contains(&mime.as_str())
}

#[cfg(test)]
mod tests {
    use wx_cloud_storage_core::ErrorCode;

    use super::*;

    #[test]
    fn declared_sizes_and_types() {
        let p = Limits {
            types: vec!["image/*".into(), "application/pdf".into()],
            max_size: Some(10),
            ..Limits::default()
        };
        assert!(p.checks_uploads());
        assert!(!Limits::default().checks_uploads(), "no limit: no check after the upload");
        assert!(p.check_upload(Some(10), Some("image/png")).is_ok());
        assert!(p.check_upload(Some(3), Some("application/pdf; q=1")).is_ok());
        assert_eq!(p.check_upload(Some(11), Some("image/png")).unwrap_err().code, ErrorCode::TooLarge);
        assert_eq!(
            p.check_upload(None, Some("image/png")).unwrap_err().code,
            ErrorCode::InvalidArgument,
            "size required"
        );
        assert_eq!(p.check_upload(Some(1), Some("text/html")).unwrap_err().code, ErrorCode::Forbidden);
        assert_eq!(p.check_upload(Some(1), Some("image")).unwrap_err().code, ErrorCode::InvalidArgument);
        for list in ["image/png,text/html", "image/png;,text/html"] {
            assert_eq!(
                p.check_upload(Some(1), Some(list)).unwrap_err().code,
                ErrorCode::InvalidArgument,
                "{list}"
            );
        }
        assert_eq!(
            Limits { types: vec!["application/*".into()], ..Limits::default() }
                .check_upload(Some(1), Some("application/xhtml+xml"))
                .unwrap_err()
                .code,
            ErrorCode::Forbidden,
            "+xml is markup, not a family member"
        );
        assert_eq!(
            p.check_upload(Some(1), Some("image/svg+xml")).unwrap_err().code,
            ErrorCode::Forbidden,
            "svg is not image/*"
        );
        assert_eq!(p.check_upload(Some(1), None).unwrap_err().code, ErrorCode::InvalidArgument);
        let svg = Limits { types: vec!["image/svg+xml".into()], ..Limits::default() };
        assert!(svg.check_upload(Some(1), Some("image/svg+xml")).is_ok(), "unless named");
    }

    #[test]
    fn stored_objects_are_checked_by_length_type_and_bytes() {
        let p = Limits { types: vec!["image/*".into()], max_size: Some(100), ..Limits::default() };
        let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
        let object = |size, content_type, head| StoredObject { size, content_type, head };
        assert!(p.check_object(&object(16, Some("image/png"), &png)).is_ok());
        assert_eq!(
            p.check_object(&object(101, Some("image/png"), &png)).unwrap_err().code,
            ErrorCode::TooLarge
        );
        assert_eq!(
            p.check_object(&object(16, Some("text/html"), b"<html>")).unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            p.check_object(&object(16, Some("image/png"), b"<html><script>")).unwrap_err().code,
            ErrorCode::Forbidden,
            "not a PNG"
        );
        assert_eq!(
            p.check_object(&object(16, Some("image/png"), b"%PDF-1.7")).unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            p.check_object(&object(16, None, &png)).unwrap_err().code,
            ErrorCode::Forbidden,
            "served as octet-stream"
        );
    }
}
