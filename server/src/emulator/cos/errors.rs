//! Every refusal the COS port answers, in one table: its HTTP status, COS's `Code` and
//! COS's `Message` (the texts are COS's own where its documentation or logged answers give
//! them; the ones marked "Guess" are not documented).
//!
//! The body is COS's XML `<Error>` with all five children COS's error-code page shows:
//! `Code`, `Message`, `Resource`, `RequestId`, `TraceId`; the same request ID is sent as
//! `x-cos-request-id`. Every refusal is counted in the emulator's stats by its code.

use axum::{
    http::{header, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use wx_cloud_storage_core::protocol::CosError;

use crate::emulator::{random_hex, State};

// The messages too long for one line of the table.
const MALFORMED: &str = "The body of your POST request is not well-formed multipart/form-data.";
const UNKNOWN_KEY: &str = "The Access Key Id you provided does not exist in our records.";
const TOO_LARGE: &str = "Your proposed upload exceeds the maximum allowed object size.";
const METADATA_TOO_LARGE: &str = "Your metadata headers exceed the maximum allowed metadata size.";
const BAD_DIGEST: &str = "The Content-MD5 you specified did not match what we received.";
const INTERNAL: &str = "We encountered an internal error. Please try again.";
const NOT_ALLOWED: &str = "The specified method is not allowed against this resource.";
const NO_SUCH_UPLOAD: &str = "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.";
const INVALID_PART: &str = "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.";
const PART_ORDER: &str =
    "The list of parts was not in ascending order. Parts must be ordered by part number.";
const TOO_SMALL: &str = "Your proposed upload is smaller than the minimum allowed object size.";
const MALFORMED_XML: &str =
    "The XML you provided was not well-formed or did not validate against our published schema.";
const CORS_REFUSED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evaluation of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

/// Why COS refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not multipart/form-data, or `file` not the last part.
    MalformedPost,
    /// No file part, or more than one.
    IncorrectNumberOfFiles,
    /// A form without `key`.
    MissingKey,
    /// No signature, or not a COS signature string.
    AccessDenied,
    /// A SecretId or security token COS does not know.
    InvalidAccessKeyId,
    /// Well-formed and current, but not for this key or secret.
    SignatureDoesNotMatch,
    /// The signature's time window has passed.
    RequestExpired { end: u64, now: u64 },
    /// The security token has expired.
    ExpiredToken,
    /// Over the 5 GB object limit (or the emulator's `max_object_size`).
    EntityTooLarge,
    /// An `x-cos-meta-*` value over 2 KB.
    MetadataTooLarge,
    /// A text field longer than the emulator reads.
    FieldTooLong,
    /// A `Content-MD5` that is not base64 of 16 bytes.
    InvalidDigest,
    /// A `Content-MD5` that differs from the body's.
    BadDigest,
    /// Another bucket than the environment's.
    NoSuchBucket,
    /// No object at that key.
    NoSuchKey,
    /// A `Range` outside the object.
    InvalidRange,
    /// The `fail_next` / `fail_rate` fault.
    ServiceUnavailable,
    /// The store failed.
    InternalError,
    /// A method COS does not serve on this resource.
    MethodNotAllowed,
    /// A CORS preflight from an origin the bucket's rule does not allow.
    CorsForbidden,
    /// A multipart upload ID that is not (or no longer) in progress.
    NoSuchUpload,
    /// A complete naming a part not uploaded, or with another ETag.
    InvalidPart,
    /// A complete whose part numbers are not ascending.
    InvalidPartOrder,
    /// A complete with a part but the last under 1 MB.
    EntityTooSmall,
    /// A complete body that is not the XML COS expects.
    MalformedXml,
    /// A part number outside 1–10,000.
    InvalidPartNumber,
}

impl Refusal {
    /// The refusal's row of the table: status, `Code`, `Message` (an expired request's
    /// message is made in [`Refusal::message`], with its times).
    fn row(&self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            Refusal::MalformedPost => (S::BAD_REQUEST, "MalformedPOSTRequest", MALFORMED),
            Refusal::IncorrectNumberOfFiles => (
                S::BAD_REQUEST,
                "IncorrectNumberOfFilesInPostRequest",
                "POST requires exactly one file upload per request.",
            ),
            Refusal::MissingKey => {
                (S::BAD_REQUEST, "InvalidArgument", "Bucket POST must contain a field named 'key'.")
            }
            Refusal::AccessDenied => (S::FORBIDDEN, "AccessDenied", "Access Denied."),
            Refusal::InvalidAccessKeyId => (S::FORBIDDEN, "InvalidAccessKeyId", UNKNOWN_KEY),
            Refusal::SignatureDoesNotMatch => {
                (S::FORBIDDEN, "SignatureDoesNotMatch", "The Signature you specified is invalid.")
            }
            Refusal::RequestExpired { .. } => (S::FORBIDDEN, "AccessDenied", "Request has expired"),
            Refusal::ExpiredToken => (S::BAD_REQUEST, "ExpiredToken", "The provided token has expired."),
            Refusal::EntityTooLarge => (S::BAD_REQUEST, "EntityTooLarge", TOO_LARGE),
            // Guess: the 2 KB limit is documented, its error code is not (S3 says this).
            Refusal::MetadataTooLarge => (S::BAD_REQUEST, "MetadataTooLarge", METADATA_TOO_LARGE),
            // Guess: COS's answer to an oversized text field is undocumented.
            Refusal::FieldTooLong => {
                (S::BAD_REQUEST, "InvalidArgument", "A form field is longer than COS accepts.")
            }
            // S3's wording; COS's error-code page lists the code, not the message.
            Refusal::InvalidDigest => {
                (S::BAD_REQUEST, "InvalidDigest", "The Content-MD5 you specified is not valid.")
            }
            Refusal::BadDigest => (S::BAD_REQUEST, "BadDigest", BAD_DIGEST),
            Refusal::NoSuchBucket => (S::NOT_FOUND, "NoSuchBucket", "The specified bucket does not exist."),
            Refusal::NoSuchKey => (S::NOT_FOUND, "NoSuchKey", "The specified key does not exist."),
            Refusal::InvalidRange => {
                (S::RANGE_NOT_SATISFIABLE, "InvalidRange", "The requested range is not satisfiable.")
            }
            Refusal::ServiceUnavailable => {
                (S::SERVICE_UNAVAILABLE, "ServiceUnavailable", "Please reduce your request rate.")
            }
            Refusal::InternalError => (S::INTERNAL_SERVER_ERROR, "InternalError", INTERNAL),
            Refusal::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "MethodNotAllowed", NOT_ALLOWED),
            Refusal::CorsForbidden => (S::FORBIDDEN, "AccessForbidden", CORS_REFUSED),
            // The multipart codes are in COS's error-code table; the messages are S3's
            // wording (Guess: COS's texts are not documented).
            Refusal::NoSuchUpload => (S::NOT_FOUND, "NoSuchUpload", NO_SUCH_UPLOAD),
            Refusal::InvalidPart => (S::BAD_REQUEST, "InvalidPart", INVALID_PART),
            Refusal::InvalidPartOrder => (S::BAD_REQUEST, "InvalidPartOrder", PART_ORDER),
            Refusal::EntityTooSmall => (S::BAD_REQUEST, "EntityTooSmall", TOO_SMALL),
            Refusal::MalformedXml => (S::BAD_REQUEST, "MalformedXML", MALFORMED_XML),
            Refusal::InvalidPartNumber => (
                S::BAD_REQUEST,
                "InvalidArgument",
                "Part number must be an integer between 1 and 10000, inclusive.",
            ),
        }
    }

    /// The `Message`: the table's, with its times for an expired request.
    fn message(&self) -> String {
        match self {
            Refusal::RequestExpired { end, now } => {
                format!("Request has expired, expiration time: {end} but the time now : {now}")
            }
            _ => self.row().2.to_owned(),
        }
    }

    /// The XML answer, about `resource` (the bucket, and the key when there is one), counted
    /// in the stats.
    pub(crate) fn answer(&self, state: &State, resource: &str) -> Response {
        let (status, code, _) = self.row();
        state.stats.reject(code);
        let request_id = random_hex(12);
        let body = CosError {
            code: code.into(),
            message: self.message(),
            // Guess at its form: COS's examples show `<bucket>.cos.<region>.myqcloud.com/<key>`,
            // the host and path of the request; ours is path-style, so host then path.
            resource: format!("{}/{resource}", state.cos_host()),
            request_id: request_id.clone(),
            trace_id: random_hex(16),
        }
        .to_xml();
        let request_id = HeaderValue::from_str(&request_id).expect("hex");
        (
            status,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("application/xml")),
                (HeaderName::from_static("x-cos-request-id"), request_id),
            ],
            body,
        )
            .into_response()
    }
}
