//! Requests signed in their `Authorization` header with a temporary key from
//! `/_/cos/getauth` (the multipart requests), checked as COS checks them: the signature
//! over the method, the path and whatever query parameters and headers it lists
//! (`cos_sign::verify_request`), then the key's security token and expiry.
//!
//! The path signed is `/<key>`, as on the bucket's own host (`<bucket>.cos.<region>…`);
//! the emulator's URLs are path-style, `/<bucket>/<key>`, and sign the same string, as its
//! POST Object links do.

use axum::http::HeaderMap;

use super::errors::Refusal;
use crate::{
    cos_sign::{self, SignatureError},
    emulator::{now, temp_keys::KeyCheck, State},
};

/// The query string's parameters, decoded (`uploads` alone is `("uploads", "")`).
pub(crate) fn query_params(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |text: &str| percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned();
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (decode(name), decode(value)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// The value of the query parameter `name`.
pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Checks a request of `method` on `key` with these query `params` and `headers`.
pub(crate) fn authorize(
    state: &State,
    method: &str,
    key: &str,
    params: &[(String, String)],
    headers: &HeaderMap,
) -> Result<(), Refusal> {
    let authorization =
        headers.get("authorization").and_then(|value| value.to_str().ok()).ok_or(Refusal::AccessDenied)?;
    let pairs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    let now = now();
    let secret_id = cos_sign::verify_request(
        |id| state.temp_keys.secret_of(id),
        method,
        &format!("/{key}"),
        params,
        &pairs,
        authorization,
        now,
    )
    .map_err(|e| match e {
        SignatureError::Malformed => Refusal::AccessDenied,
        SignatureError::UnknownKeyId => Refusal::InvalidAccessKeyId,
        SignatureError::Expired { end } => Refusal::RequestExpired { end, now },
        SignatureError::Mismatch => Refusal::SignatureDoesNotMatch,
    })?;
    let token = headers.get("x-cos-security-token").and_then(|value| value.to_str().ok());
    match state.temp_keys.check(&secret_id, token, now) {
        KeyCheck::Valid => Ok(()),
        KeyCheck::Expired => Err(Refusal::ExpiredToken),
        KeyCheck::WrongToken => Err(Refusal::InvalidAccessKeyId),
    }
}
