//! The COS POST Object upload form, built from a `tcb/uploadfile` response.
//!
//! COS is strict about this form, and hand-written uploads get it wrong: `file` must be
//! the very last part (else `400 MalformedPOSTRequest`), `key` must be exactly the path
//! the link was issued for, and `x-cos-meta-fileid` must be present (else the object
//! uploads but later fails to download). [`UploadForm`] makes those mistakes
//! unrepresentable: it holds only the text fields, in order, has no way to add one, and
//! cannot be built without a non-empty `cos_file_id`. The transport appends [`FILE_FIELD`]
//! after the last text field, so `file` is always last.

use thiserror::Error;

use crate::{key::validate_key, protocol::UploadCredentials, ErrorCode, KeyError};

/// The name of the file part, which the transport appends after every text field.
pub const FILE_FIELD: &str = "file";

/// Why an upload form could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormError {
    /// The key (requested, or rewritten by the backend) breaks a key rule.
    #[error("invalid key: {0}")]
    Key(#[from] KeyError),
    /// The credential response lacks a field the form needs.
    #[error("the upload credentials have an empty `{0}`: the backend must forward the tcb/uploadfile response unchanged")]
    MissingField(&'static str),
    /// The content type is empty or contains control characters (header injection).
    #[error("contentType `{0}` is not a valid MIME type such as `image/png`")]
    ContentType(String),
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
}

/// The ordered text fields of one COS POST upload, and where to send them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadForm {
    url: String,
    fields: Vec<(&'static str, String)>,
}

impl UploadForm {
    /// Builds the form for uploading to `requested_key` with `credentials`.
    ///
    /// When the backend rewrote the path (the response carries `key`), that key is the
    /// one the link was signed for and the one sent. `content_type`, when given, is sent
    /// as the `Content-Type` form field: COS ignores the MIME type on the file part.
    pub fn new(
        credentials: &UploadCredentials,
        requested_key: &str,
        content_type: Option<&str>,
    ) -> Result<UploadForm, FormError> {
        let key = credentials.key.as_deref().unwrap_or(requested_key);
        validate_key(key)?;
        let required = [
            ("url", &credentials.url),
            ("authorization", &credentials.authorization),
            ("token", &credentials.token),
            ("cos_file_id", &credentials.cos_file_id),
        ];
        if let Some((name, _)) = required.iter().find(|(_, value)| value.is_empty()) {
            return Err(FormError::MissingField(name));
        }
        let mut fields = vec![
            ("key", key.to_owned()),
            ("Signature", credentials.authorization.clone()),
            ("x-cos-security-token", credentials.token.clone()),
            ("x-cos-meta-fileid", credentials.cos_file_id.clone()),
        ];
        if let Some(content_type) = content_type {
            if content_type.trim().is_empty() || content_type.chars().any(char::is_control) {
                return Err(FormError::ContentType(content_type.to_owned()));
            }
            fields.push(("Content-Type", content_type.to_owned()));
        }
        Ok(UploadForm { url: credentials.url.clone(), fields })
    }

    /// Where to POST the form.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The key being written (the first field's value).
    pub fn key(&self) -> &str {
        &self.fields[0].1
    }

    /// The text fields, in the order they must be sent. [`FILE_FIELD`] follows them.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.fields.iter().map(|(name, value)| (*name, value.as_str()))
    }
}
