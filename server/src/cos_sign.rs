//! COS request signatures (the `authorization` string of `tcb/uploadfile`, and of requests
//! signed with a temporary key from `/_/cos/getauth`): the emulator verifies them, and the
//! backend makes them for the multipart requests it allows.
//!
//! The algorithm is COS's XML-API request signature, as Tencent's SDKs implement it
//! (wechat-storage-facts.md §3.9). WeChat's upload links sign no headers and no query
//! parameters, so what is signed is `post\n/<key>\n\n\n` ([`sign`], [`verify`]). A
//! multipart request signs its method, path, and the query parameters and headers it lists
//! in `q-url-param-list` and `q-header-list` ([`sign_request`], [`verify_request`]): COS
//! checks only what is listed, so whoever signs decides what a signature is good for.

use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};

fn hmac_sha1_hex(key: &[u8], message: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The signature for `method` on `/<key>`, valid from `start` to `end` (Unix seconds),
/// with no signed headers or parameters: exactly the `authorization` WeChat issues.
pub fn sign(secret_id: &str, secret_key: &str, method: &str, key: &str, start: u64, end: u64) -> String {
    sign_request(secret_id, secret_key, &Request::bare(method, &format!("/{key}")), start, end)
}

/// The value of `name` in a COS signature string.
fn field<'a>(authorization: &'a str, name: &str) -> Option<&'a str> {
    authorization.split('&').find_map(|pair| pair.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
}

/// Whether `now` is inside the window `start;end` of `key_time`.
fn within(key_time: &str, now: u64) -> Result<(), SignatureError> {
    let (start, end) = key_time
        .split_once(';')
        .and_then(|(s, e)| Some((s.parse::<u64>().ok()?, e.parse::<u64>().ok()?)))
        .ok_or(SignatureError::Malformed)?;
    if now < start || now > end {
        return Err(SignatureError::Expired { end });
    }
    Ok(())
}

/// Why a signature was refused, in COS's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// Not a COS signature string (`AccessDenied`).
    Malformed,
    /// Signed with a SecretId COS does not know (`InvalidAccessKeyId`, as COS answers it:
    /// COS error-code table 436/7730 and its 403 troubleshooting page).
    UnknownKeyId,
    /// Outside its `q-sign-time` window (`AccessDenied`, "Request has expired").
    Expired {
        /// The end of the window.
        end: u64,
    },
    /// Well-formed and current, but not for this key or secret (`SignatureDoesNotMatch`).
    Mismatch,
}

/// Checks `authorization` for `method` on `/<key>` at time `now`.
pub fn verify(
    secret_id: &str,
    secret_key: &str,
    method: &str,
    key: &str,
    authorization: &str,
    now: u64,
) -> Result<(), SignatureError> {
    let field = |name: &str| field(authorization, name);
    let (Some("sha1"), Some(ak), Some(key_time), Some(given)) =
        (field("q-sign-algorithm"), field("q-ak"), field("q-sign-time"), field("q-signature"))
    else {
        return Err(SignatureError::Malformed);
    };
    if ak != secret_id {
        return Err(SignatureError::UnknownKeyId);
    }
    within(key_time, now)?;
    let path = format!("/{key}");
    if request_signature(secret_key, &Request::bare(method, &path), key_time) != given {
        return Err(SignatureError::Mismatch);
    }
    Ok(())
}

/// A request as COS signs it: its method, its path (decoded, from `/`), and the query
/// parameters and headers to sign (names in any case; they are signed lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// `PUT`, `POST`, … (signed lowercased).
    pub method: &'a str,
    /// The path, decoded, from `/` (`/<key>` on a bucket's host; path-style: `/<key>` too,
    /// the bucket being the host's).
    pub path: &'a str,
    /// Query parameters to sign.
    pub params: Vec<(String, String)>,
    /// Headers to sign.
    pub headers: Vec<(String, String)>,
}

impl<'a> Request<'a> {
    /// `method` on `path`, signing no parameters and no headers (WeChat's upload links).
    fn bare(method: &'a str, path: &'a str) -> Request<'a> {
        Request { method, path, params: Vec::new(), headers: Vec::new() }
    }
}

/// COS's encoding of names and values in what is signed (every byte but unreserved ones).
const SIGNED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// `name=value&…` of `pairs` sorted by name, lowercased and encoded; and the `;`-list of
/// their names.
fn canonical(pairs: &[(String, String)]) -> (String, String) {
    let encode = |text: &str| percent_encoding::utf8_percent_encode(text, SIGNED).to_string();
    let mut encoded: Vec<(String, String)> =
        pairs.iter().map(|(name, value)| (encode(&name.to_ascii_lowercase()), encode(value))).collect();
    encoded.sort();
    let joined = encoded.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&");
    let names = encoded.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    (joined, names)
}

fn request_signature(secret_key: &str, request: &Request<'_>, key_time: &str) -> String {
    let sign_key = hmac_sha1_hex(secret_key.as_bytes(), key_time);
    let (params, _) = canonical(&request.params);
    let (headers, _) = canonical(&request.headers);
    let http_string =
        format!("{}\n{}\n{params}\n{headers}\n", request.method.to_ascii_lowercase(), request.path);
    let string_to_sign = format!("sha1\n{key_time}\n{}\n", hex::encode(Sha1::digest(http_string.as_bytes())));
    hmac_sha1_hex(sign_key.as_bytes(), &string_to_sign)
}

/// The `Authorization` for `request`, signing all its parameters and headers, valid from
/// `start` to `end` (Unix seconds).
pub fn sign_request(
    secret_id: &str,
    secret_key: &str,
    request: &Request<'_>,
    start: u64,
    end: u64,
) -> String {
    let key_time = format!("{start};{end}");
    let (_, param_list) = canonical(&request.params);
    let (_, header_list) = canonical(&request.headers);
    let signature = request_signature(secret_key, request, &key_time);
    format!(
        "q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={key_time}&q-key-time={key_time}\
         &q-header-list={header_list}&q-url-param-list={param_list}&q-signature={signature}"
    )
}

/// Checks `authorization` for a request of `method` on `path` whose query parameters and
/// headers are `params` and `headers` (all of them; the ones the signature lists are
/// signed, and a listed one the request lacks is a mismatch), at time `now`. `secret_of`
/// gives the SecretKey of a SecretId. Returns the SecretId that signed.
pub fn verify_request(
    secret_of: impl Fn(&str) -> Option<String>,
    method: &str,
    path: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
    authorization: &str,
    now: u64,
) -> Result<String, SignatureError> {
    let field = |name: &str| field(authorization, name);
    let (Some("sha1"), Some(ak), Some(key_time), Some(header_list), Some(param_list), Some(given)) = (
        field("q-sign-algorithm"),
        field("q-ak"),
        field("q-sign-time"),
        field("q-header-list"),
        field("q-url-param-list"),
        field("q-signature"),
    ) else {
        return Err(SignatureError::Malformed);
    };
    let secret_key = secret_of(ak).ok_or(SignatureError::UnknownKeyId)?;
    within(key_time, now)?;
    let listed = |list: &str, pairs: &[(String, String)]| -> Result<Vec<(String, String)>, SignatureError> {
        let (_, encoded_names) = canonical(pairs);
        let present: Vec<&str> = encoded_names.split(';').collect();
        let names: Vec<&str> = list.split(';').filter(|n| !n.is_empty()).collect();
        if names.iter().any(|name| !present.contains(name)) {
            return Err(SignatureError::Mismatch);
        }
        let chosen = pairs
            .iter()
            .filter(|(name, _)| {
                let encoded = canonical(&[(name.clone(), String::new())]).1;
                names.contains(&encoded.as_str())
            })
            .cloned()
            .collect();
        Ok(chosen)
    };
    let request =
        Request { method, path, params: listed(param_list, params)?, headers: listed(header_list, headers)? };
    if request_signature(&secret_key, &request, key_time) != given {
        return Err(SignatureError::Mismatch);
    }
    Ok(ak.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_exactly_the_signed_key() {
        let auth = sign("AKIDtest", "secret", "POST", "users/42/头像.png", 1000, 1900);
        assert!(auth.starts_with("q-sign-algorithm=sha1&q-ak=AKIDtest&q-sign-time=1000;1900&q-key-time=1000;1900&q-header-list=&q-url-param-list=&q-signature="));
        assert_eq!(verify("AKIDtest", "secret", "post", "users/42/头像.png", &auth, 1500), Ok(()));
        assert_eq!(
            verify("AKIDtest", "secret", "post", "/users/42/头像.png", &auth, 1500),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("AKIDtest", "other", "post", "users/42/头像.png", &auth, 1500),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("AKIDtest", "secret", "post", "users/42/头像.png", &auth, 1901),
            Err(SignatureError::Expired { end: 1900 })
        );
        assert_eq!(
            verify("AKIDother", "secret", "post", "users/42/头像.png", &auth, 1500),
            Err(SignatureError::UnknownKeyId)
        );
        assert_eq!(
            verify("AKIDtest", "secret", "post", "k", "garbage", 1500),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn matches_an_independent_computation() {
        // Computed step by step with Python's hmac/hashlib from the algorithm in §3.9:
        // sign_key = hmac_sha1("secret", "1000;1900"); http = "post\n/a.png\n\n\n"; ...
        let auth = sign("AK", "secret", "post", "a.png", 1000, 1900);
        assert!(auth.ends_with("&q-signature=4a8092afac0e54276081a6e584a5a83bb8d6a263"), "{auth}");
    }

    #[test]
    fn a_request_signature_covers_what_it_lists_and_nothing_else() {
        let params =
            vec![("partNumber".to_owned(), "3".to_owned()), ("uploadId".to_owned(), "u1".to_owned())];
        let headers = vec![("Host".to_owned(), "cos.example".to_owned())];
        let request = Request {
            method: "PUT",
            path: "/users/42/视频.mp4",
            params: params.clone(),
            headers: headers.clone(),
        };
        let auth = sign_request("AKIDtmp", "secret", &request, 1000, 1900);
        assert!(auth.contains("&q-header-list=host&q-url-param-list=partnumber;uploadid&"), "{auth}");
        let secret = |ak: &str| (ak == "AKIDtmp").then(|| "secret".to_owned());
        let check = |method: &str, path: &str, params: &[(String, String)], now| {
            verify_request(secret, method, path, params, &headers, &auth, now)
        };
        assert_eq!(check("put", "/users/42/视频.mp4", &params, 1500), Ok("AKIDtmp".into()));
        let other_upload =
            vec![("partNumber".to_owned(), "3".to_owned()), ("uploadId".to_owned(), "u2".to_owned())];
        assert_eq!(check("put", "/users/42/视频.mp4", &other_upload, 1500), Err(SignatureError::Mismatch));
        assert_eq!(check("put", "/users/42/other.mp4", &params, 1500), Err(SignatureError::Mismatch));
        assert_eq!(check("delete", "/users/42/视频.mp4", &params, 1500), Err(SignatureError::Mismatch));
        assert_eq!(
            check("put", "/users/42/视频.mp4", &params[..1], 1500),
            Err(SignatureError::Mismatch),
            "a listed parameter missing"
        );
        let mut more = params.clone();
        more.push(("acl".to_owned(), String::new()));
        assert_eq!(
            check("put", "/users/42/视频.mp4", &more, 1500),
            Ok("AKIDtmp".into()),
            "unlisted parameters are not checked, as in COS"
        );
        assert_eq!(
            check("put", "/users/42/视频.mp4", &params, 1901),
            Err(SignatureError::Expired { end: 1900 })
        );
        let unknown = verify_request(|_| None, "put", "/users/42/视频.mp4", &params, &headers, &auth, 1500);
        assert_eq!(unknown, Err(SignatureError::UnknownKeyId));
    }
}
