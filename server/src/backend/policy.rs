//! What a user may do: which paths and file IDs, how large, which types, how often.
//! Every check returns a [`Refusal`] (a code and a message), never an HTTP status.

use wx_cloud_storage_core::{form::is_sendable_content_type, protocol::FileId, validate_key, ErrorCode};

use super::Refusal;

/// The backend's policy; every field has a documented default ([`Policy::default`]).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Each user's folder: ends with `/`; `{uid}`, if present, is a whole segment and is
    /// replaced by the user ID. Default `users/{uid}/`.
    pub path_prefix: String,
    /// Largest object, bytes; `None` for no limit of the backend's own (COS's 5 GB holds).
    /// When set, every upload must declare its size, and the stored object is checked.
    /// Default `None`.
    pub max_size: Option<u64>,
    /// Allowed content types: exact (`image/png`), family (`image/*`, which never admits
    /// `image/svg+xml` unless it is named) or `*`. When limited, every upload must declare
    /// its type, and the stored object is checked. Default `*`.
    pub allowed_types: Vec<String>,
    /// Requests per user per minute, over all endpoints. Default 600.
    pub rate_per_minute: u32,
    /// Failed sign-ins per client address per minute before 429. Default 30.
    pub failed_logins_per_minute: u32,
    /// Longest download-link lifetime a page may ask for, seconds. Default 86400.
    pub max_link_age: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            path_prefix: "users/{uid}/".into(),
            max_size: None,
            allowed_types: vec!["*".into()],
            rate_per_minute: 600,
            failed_logins_per_minute: 30,
            max_link_age: 86_400,
        }
    }
}

/// What is known of the stored object when it is checked against the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject<'a> {
    /// Its length in bytes.
    pub size: u64,
    /// The `Content-Type` it is served with.
    pub content_type: Option<&'a str>,
    /// Its first bytes (a few KiB at most).
    pub head: &'a [u8],
}

impl Policy {
    /// Refuses a policy that would not do what it says, with a message saying what to
    /// write instead: a prefix without a trailing `/` (`users/{uid}` would give user `alic`
    /// alice's files), or with `{uid}` inside a segment.
    pub fn validate(&self) -> Result<(), String> {
        let prefix = &self.path_prefix;
        if !prefix.is_empty() && !prefix.ends_with('/') {
            return Err(format!(
                "--path-prefix {prefix:?} must end with '/', so that a user's folder is a whole path segment (e.g. \"users/{{uid}}/\")"
            ));
        }
        if prefix.contains("{uid}") && !prefix.split('/').any(|segment| segment == "{uid}") {
            return Err(format!(
                "--path-prefix {prefix:?}: {{uid}} must be a whole path segment (e.g. \"users/{{uid}}/\")"
            ));
        }
        if prefix.starts_with('/') || prefix.contains("//") {
            return Err(format!("--path-prefix {prefix:?} must be relative, with no empty segment"));
        }
        if self.allowed_types.is_empty() {
            return Err("--allowed-types must name at least one type, or *".into());
        }
        Ok(())
    }

    /// The user's own folder.
    pub fn user_prefix(&self, uid: &str) -> String {
        self.path_prefix.replace("{uid}", uid)
    }

    /// Whether the policy limits uploads (size or type): then every upload is checked
    /// after it lands, and the backend tells the library so.
    pub fn checks_uploads(&self) -> bool {
        self.max_size.is_some() || !self.allowed_types.iter().any(|t| t == "*")
    }

    /// The key a user's requested `path` is written to: the path itself when it is already
    /// inside the user's folder, else the path inside it. A path inside another user's
    /// folder is refused. The client's path is never trusted as is.
    pub fn resolve_upload_key(&self, uid: &str, path: &str) -> Result<String, Refusal> {
        validate_key(path).map_err(|e| Refusal::invalid_key(&e))?;
        let own = self.user_prefix(uid);
        let key = if path.starts_with(&own) {
            path.to_owned()
        } else if self.in_any_user_folder(path) {
            return Err(Refusal::forbidden(format!("{path} is in another user's folder; write under {own}")));
        } else {
            format!("{own}{path}")
        };
        validate_key(&key).map_err(|e| Refusal::invalid_key(&e))?;
        Ok(key)
    }

    /// Whether `path` starts like any user's folder (`users/…` for the default prefix).
    fn in_any_user_folder(&self, path: &str) -> bool {
        let fixed = self.path_prefix.split("{uid}").next().unwrap_or_default();
        !fixed.is_empty() && path.starts_with(fixed)
    }

    /// Checks that `file_id` is the caller's: a well-formed ID of this environment (and
    /// bucket, when known), whose key passes the same rules as an upload path (so no
    /// `..`, `%2e`, `\`, `?`, `#` or control character can make a path-normalising hop
    /// read someone else's file), inside the user's folder by whole segments.
    pub fn check_file_id(
        &self,
        uid: &str,
        file_id: &str,
        env: &str,
        bucket: Option<&str>,
    ) -> Result<(), Refusal> {
        let Some(id) = FileId::parse(file_id) else {
            return Err(Refusal::new(
                ErrorCode::InvalidArgument,
                "not a file ID of the form cloud://<env>.<bucket>/<key>",
            ));
        };
        if id.env != env || bucket.is_some_and(|bucket| bucket != id.bucket) {
            return Err(Refusal::new(
                ErrorCode::Forbidden,
                "this file ID belongs to another environment or bucket",
            ));
        }
        validate_key(id.key).map_err(|e| Refusal::new(ErrorCode::InvalidKey, e.message()))?;
        if !id.key.starts_with(&self.user_prefix(uid)) {
            return Err(Refusal::new(ErrorCode::Forbidden, "this file is not in your folder"));
        }
        Ok(())
    }

    /// Checks the declared size and type of an upload. When the policy limits them, both
    /// must be declared (the library always does): they are checked again on the object.
    pub fn check_upload(&self, size: Option<u64>, content_type: Option<&str>) -> Result<(), Refusal> {
        if let Some(content_type) = content_type.filter(|t| !is_sendable_content_type(t)) {
            return Err(Refusal::invalid_argument(format!(
                "contentType {content_type:?} is not a valid MIME type such as `image/png`"
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
                    "{size} bytes is over this backend's limit of {max} bytes"
                )));
            }
        }
        if self.allowed_types.iter().any(|t| t == "*") {
            return Ok(());
        }
        let Some(content_type) = content_type else {
            return Err(Refusal::invalid_argument(format!(
                "contentType is required; allowed: {}",
                self.allowed_types.join(", ")
            )));
        };
        self.check_type(content_type)
    }

    /// Whether a content type is allowed. `image/*` does not admit `image/svg+xml`, which
    /// browsers run scripts in, unless it is named.
    fn check_type(&self, content_type: &str) -> Result<(), Refusal> {
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let (family, subtype) = essence.split_once('/').unwrap_or((essence.as_str(), ""));
        let allowed = self.allowed_types.iter().any(|t| {
            let t = t.to_ascii_lowercase();
            match t.strip_suffix("/*") {
                _ if t == "*" => true,
                Some(allowed_family) => {
                    family == allowed_family && !subtype.is_empty() && essence != "image/svg+xml"
                }
                None => essence == t,
            }
        });
        if allowed {
            Ok(())
        } else {
            Err(Refusal::forbidden(format!(
                "content type {content_type} is not allowed; allowed: {}",
                self.allowed_types.join(", ")
            )))
        }
    }

    /// Checks an object that has landed: its real length, the type it is served with, and
    /// what its first bytes say it is (when they say anything). Content is not scanned.
    pub fn check_object(&self, object: &StoredObject<'_>) -> Result<(), Refusal> {
        if let Some(max) = self.max_size.filter(|max| object.size > *max) {
            return Err(Refusal::too_large(format!(
                "the uploaded object is {} bytes, over this backend's limit of {max} bytes: it was deleted",
                object.size
            )));
        }
        if self.allowed_types.iter().any(|t| t == "*") {
            return Ok(());
        }
        let served = object.content_type.unwrap_or("application/octet-stream");
        self.check_type(served).map_err(|e| Refusal::forbidden(format!("{}: it was deleted", e.message)))?;
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
    use super::*;

    #[test]
    fn paths_are_resolved_into_the_users_folder() {
        let p = Policy::default();
        assert_eq!(p.resolve_upload_key("42", "a.png").unwrap(), "users/42/a.png");
        assert_eq!(p.resolve_upload_key("42", "users/42/a.png").unwrap(), "users/42/a.png");
        assert_eq!(p.resolve_upload_key("42", "users/7/a.png").unwrap_err().code, ErrorCode::Forbidden);
        assert_eq!(
            p.resolve_upload_key("42", "users/420/a.png").unwrap_err().code,
            ErrorCode::Forbidden,
            "by folder"
        );
        assert_eq!(p.resolve_upload_key("42", "a/${x}").unwrap_err().code, ErrorCode::InvalidKey);
    }

    #[test]
    fn prefixes_that_are_not_whole_folders_are_refused_at_start() {
        let with = |prefix: &str| Policy { path_prefix: prefix.into(), ..Policy::default() }.validate();
        assert!(with("users/{uid}/").is_ok());
        assert!(with("").is_ok(), "no per-user folders: one shared space");
        assert!(with("tenant/{uid}/files/").is_ok());
        for bad in ["users/{uid}", "users/u{uid}/", "/users/{uid}/", "users//{uid}/"] {
            let message = with(bad).unwrap_err();
            assert!(message.contains("--path-prefix"), "{bad}: {message}");
        }
    }

    #[test]
    fn file_ids_are_the_callers_only_when_every_rule_holds() {
        let p = Policy::default();
        let ok = |id: &str| p.check_file_id("alice", id, "env1", Some("b-1"));
        assert_eq!(ok("cloud://env1.b-1/users/alice/a.png"), Ok(()));
        for (id, code) in [
            ("cloud://env1.b-1/users/alice/../bob/b.png", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice/%2e%2e/bob/b.png", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice/..%2fbob/b.png", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice\\..\\bob\\b.png", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice/a.png?x=1", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice/a.png#frag", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice/a.png\n", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice/./a.png", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alicex/a.png", ErrorCode::Forbidden),
            ("cloud://env1.b-1/users/bob/a.png", ErrorCode::Forbidden),
            ("cloud://env2.b-1/users/alice/a.png", ErrorCode::Forbidden),
            ("cloud://env1.b-2/users/alice/a.png", ErrorCode::Forbidden),
            ("https://env1.b-1/users/alice/a.png", ErrorCode::InvalidArgument),
            ("cloud://env1/users/alice/a.png", ErrorCode::InvalidArgument),
        ] {
            assert_eq!(ok(id).map_err(|e| e.code), Err(code), "{id:?}");
        }
        assert_eq!(
            p.check_file_id("alice", "cloud://env1.other/users/alice/a.png", "env1", None),
            Ok(()),
            "bucket not known yet"
        );
    }

    #[test]
    fn declared_sizes_and_types() {
        let p = Policy {
            allowed_types: vec!["image/*".into(), "application/pdf".into()],
            max_size: Some(10),
            ..Policy::default()
        };
        assert!(p.checks_uploads());
        assert!(!Policy::default().checks_uploads(), "no limit: no check after the upload");
        assert!(p.check_upload(Some(10), Some("image/png")).is_ok());
        assert!(p.check_upload(Some(3), Some("application/pdf; q=1")).is_ok());
        assert_eq!(p.check_upload(Some(11), Some("image/png")).unwrap_err().code, ErrorCode::TooLarge);
        assert_eq!(
            p.check_upload(None, Some("image/png")).unwrap_err().code,
            ErrorCode::InvalidArgument,
            "size required"
        );
        assert_eq!(p.check_upload(Some(1), Some("text/html")).unwrap_err().code, ErrorCode::Forbidden);
        assert_eq!(p.check_upload(Some(1), Some("image")).unwrap_err().code, ErrorCode::Forbidden);
        assert_eq!(
            p.check_upload(Some(1), Some("image/svg+xml")).unwrap_err().code,
            ErrorCode::Forbidden,
            "svg is not image/*"
        );
        assert_eq!(p.check_upload(Some(1), None).unwrap_err().code, ErrorCode::InvalidArgument);
        let svg = Policy { allowed_types: vec!["image/svg+xml".into()], ..Policy::default() };
        assert!(svg.check_upload(Some(1), Some("image/svg+xml")).is_ok(), "unless named");
    }

    #[test]
    fn stored_objects_are_checked_by_length_type_and_bytes() {
        let p = Policy { allowed_types: vec!["image/*".into()], max_size: Some(100), ..Policy::default() };
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
