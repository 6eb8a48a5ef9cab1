//! The COS POST Object upload form, built from a `tcb/uploadfile` response.
//!
//! COS is strict about this form, and hand-written uploads get it wrong: `file` must be
//! the very last part (else `400 MalformedPOSTRequest`), `key` must be exactly the path
//! the link was issued for, and `x-cos-meta-fileid` must be present (else the object
//! uploads but later fails to download). [`UploadForm`] makes those mistakes
//! unrepresentable: it holds only the text fields, in order, has no way to add one, and
//! cannot be built without a non-empty `cos_file_id`. It is generic over the field
//! values ([`FieldValue`]), so the browser library builds it from JavaScript strings
//! without copying them into wasm memory. The transport appends [`FILE_FIELD`]
//! after the last text field, so `file` is always last.

use crate::{key::validate_key, protocol::UploadCredentials, ErrorCode, KeyError};

/// The name of the file part, which the transport appends after every text field.
pub const FILE_FIELD: &str = "file";

/// Why an upload form could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// The key (requested, or rewritten by the backend) breaks a key rule.
    Key(KeyError),
    /// The credential response lacks a field the form needs.
    MissingField(&'static str),
    /// The content type is empty or contains control characters (header injection).
    ContentType(String),
}

impl From<KeyError> for FormError {
    fn from(e: KeyError) -> FormError {
        FormError::Key(e)
    }
}

impl FormError {
    /// The JS error code for this failure.
    pub const fn code(&self) -> ErrorCode {
        match self {
            FormError::Key(_) => ErrorCode::InvalidKey,
            FormError::MissingField(_) => ErrorCode::CredentialsFailed,
            FormError::ContentType(_) => ErrorCode::InvalidArgument,
        }
    }

    /// What is wrong and what to do (assembled without `core::fmt`; `Display` prints it).
    pub fn message(&self) -> String {
        match self {
            FormError::Key(e) => ["invalid key: ", &e.message()].concat(),
            FormError::MissingField(name) => [
                "the upload credentials lack a non-empty `",
                name,
                "`: the backend must forward the tcb/uploadfile response unchanged",
            ]
            .concat(),
            FormError::ContentType(value) => {
                ["contentType `", value, "` is not a valid MIME type such as `image/png`"].concat()
            }
        }
    }
}

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for FormError {}

/// A form field's value: a Rust `String` on the server; in the browser library, a
/// JavaScript string that the form passes through without copying it into wasm memory.
pub trait FieldValue: Clone + for<'a> From<&'a str> {
    /// Whether the value is empty or missing (a credential field must not be).
    fn is_missing(&self) -> bool;
}

impl FieldValue for String {
    fn is_missing(&self) -> bool {
        self.is_empty()
    }
}

/// The ordered text fields of one COS POST upload, and where to send them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadForm<V = String> {
    url: V,
    key: String,
    fields: Vec<(&'static str, V)>,
}

impl<V: FieldValue> UploadForm<V> {
    /// Builds the form for uploading to `requested_key` with `credentials`.
    ///
    /// When the backend rewrote the path (the response carries `key`), that key is the
    /// one the link was signed for and the one sent. `content_type`, when given, is sent
    /// as the `Content-Type` form field: COS ignores the MIME type on the file part.
    /// Every credential field must be present, `file_id` too: it is the caller's only
    /// handle on the object afterwards.
    pub fn new(
        credentials: &UploadCredentials<V>,
        requested_key: &str,
        content_type: Option<&str>,
    ) -> Result<UploadForm<V>, FormError> {
        let key = credentials.key.as_deref().unwrap_or(requested_key);
        validate_key(key)?;
        let required = [
            ("url", &credentials.url),
            ("authorization", &credentials.authorization),
            ("token", &credentials.token),
            ("cos_file_id", &credentials.cos_file_id),
            ("file_id", &credentials.file_id),
        ];
        if let Some((name, _)) = required.iter().find(|(_, value)| value.is_missing()) {
            return Err(FormError::MissingField(name));
        }
        let mut fields = vec![
            ("key", V::from(key)),
            ("Signature", credentials.authorization.clone()),
            ("x-cos-security-token", credentials.token.clone()),
            ("x-cos-meta-fileid", credentials.cos_file_id.clone()),
        ];
        if let Some(content_type) = content_type {
            if !is_sendable_content_type(content_type) {
                return Err(FormError::ContentType(content_type.into()));
            }
            fields.push(("Content-Type", V::from(content_type)));
        }
        Ok(UploadForm { url: credentials.url.clone(), key: key.into(), fields })
    }

    /// Where to POST the form.
    pub fn url(&self) -> &V {
        &self.url
    }

    /// The key being written (the `key` field's value).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The name to give the file part: the key's last segment. (COS reads it only to
    /// replace `${filename}` in keys, which the key rules refuse.)
    pub fn file_name(&self) -> &str {
        let after_slash = self.key.as_bytes().iter().rposition(|&b| b == b'/').map_or(0, |at| at + 1);
        &self.key[after_slash..]
    }

    /// The text fields, in the order they must be sent. [`FILE_FIELD`] follows them.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, &V)> + '_ {
        self.fields.iter().map(|(name, value)| (*name, value))
    }
}

/// Whether `value` can be sent as a `Content-Type`: not blank, and no control character
/// (a CR or LF in it would start a new header or form part wherever it is copied).
pub fn is_sendable_content_type(value: &str) -> bool {
    let blank = value.bytes().all(|b| b == b' ' || b == b'\t');
    !blank && !value.chars().any(char::is_control)
}
