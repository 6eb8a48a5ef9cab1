//! Reading a POST Object form as it streams in: the text fields up to the file part, within
//! limits enforced before anything is buffered (8 KiB a field, 2 KB an `x-cos-meta-*`
//! value, 64 parts), and whether anything follows the file part (COS requires `file` last).

use axum::{
    body::Body,
    http::{header, HeaderMap},
};

use super::errors::Refusal;

/// The largest text field read (signatures and tokens are shorter). Enforced while the
/// part streams in, before anything is authorised, so no field is ever buffered past it.
const MAX_FIELD_BYTES: u64 = 8 * 1024;
/// COS's documented limit for one `x-cos-meta-*` value.
const MAX_META_BYTES: usize = 2 * 1024;
/// The most parts one form may have (COS's documented fields number about thirty).
const MAX_PARTS: usize = 64;

/// The form's text fields, by name as sent (COS reads names case-insensitively:
/// `Signature` and `signature`).
#[derive(Debug, Default)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// The value of the first field named `name`, ignoring ASCII case.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Whether this part is the file: COS goes by the part's name, whatever its `filename=`
/// (Python's `requests` sends text fields with file names; wechatpy relied on it).
fn is_file_part(name: &str) -> bool {
    name.eq_ignore_ascii_case("file")
}

/// The form in `body`, with the limits in place: the file part up to `max_object_size`,
/// every other part up to [`MAX_FIELD_BYTES`].
pub(crate) fn open(
    headers: &HeaderMap,
    body: Body,
    max_object_size: u64,
) -> Result<multer::Multipart<'static>, Refusal> {
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok())
        .ok_or(Refusal::MalformedPost)?;
    let limits = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(max_object_size.saturating_add(MAX_PARTS as u64 * MAX_FIELD_BYTES))
            .per_field(MAX_FIELD_BYTES)
            .for_field("file", max_object_size)
            .for_field("File", max_object_size)
            .for_field("FILE", max_object_size),
    );
    Ok(multer::Multipart::with_constraints(body.into_data_stream(), boundary, limits))
}

/// Reads the text fields up to the file part: the fields, and the file part (`None` when
/// the form has none).
pub(crate) async fn read_fields(
    multipart: &mut multer::Multipart<'static>,
) -> Result<(Fields, Option<multer::Field<'static>>), Refusal> {
    let mut fields = Fields::default();
    let mut parts = 0;
    while let Some(field) = multipart.next_field().await.map_err(|e| refusal_for(&e))? {
        parts += 1;
        if parts > MAX_PARTS {
            // Guess: COS's answer to a form of hundreds of fields is undocumented.
            return Err(Refusal::MalformedPost);
        }
        let name = field.name().unwrap_or_default().to_owned();
        if is_file_part(&name) {
            return Ok((fields, Some(field)));
        }
        let value = field.text().await.map_err(|e| refusal_for(&e))?;
        // By bytes: a name may hold any UTF-8, so byte 11 need not be a char boundary.
        let is_meta = name.as_bytes().get(..11).is_some_and(|p| p.eq_ignore_ascii_case(b"x-cos-meta-"));
        if is_meta && value.len() > MAX_META_BYTES {
            return Err(Refusal::MetadataTooLarge);
        }
        fields.0.push((name, value));
    }
    Ok((fields, None))
}

/// Checks that nothing follows the file part: another file is one file too many, any other
/// part means `file` was not last.
pub(crate) async fn ensure_file_last(multipart: &mut multer::Multipart<'static>) -> Result<(), Refusal> {
    match multipart.next_field().await.map_err(|e| refusal_for(&e))? {
        None => Ok(()),
        Some(field) if is_file_part(field.name().unwrap_or_default()) => Err(Refusal::IncorrectNumberOfFiles),
        Some(_) => Err(Refusal::MalformedPost),
    }
}

/// Reads the file part to its end and throws it away.
pub(crate) async fn discard(mut file: multer::Field<'static>) -> Result<(), Refusal> {
    while file.chunk().await.map_err(|e| refusal_for(&e))?.is_some() {}
    Ok(())
}

/// COS's answer to a form that broke while it streamed in: too large, or not multipart.
pub(crate) fn refusal_for(error: &multer::Error) -> Refusal {
    match error {
        multer::Error::FieldSizeExceeded { field_name, .. }
            if field_name.as_deref().is_some_and(is_file_part) =>
        {
            Refusal::EntityTooLarge
        }
        multer::Error::StreamSizeExceeded { .. } => Refusal::EntityTooLarge,
        multer::Error::FieldSizeExceeded { .. } => Refusal::FieldTooLong,
        _ => Refusal::MalformedPost,
    }
}
