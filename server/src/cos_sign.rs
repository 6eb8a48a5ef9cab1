//! COS request signatures (the `authorization` string of `tcb/uploadfile`).
//!
//! The algorithm is COS's XML-API request signature, as Tencent's SDKs implement it
//! (wechat-storage-facts.md §3.9). WeChat's upload links sign no headers and no query
//! parameters, so what is signed is `post\n/<key>\n\n\n`.

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
    let key_time = format!("{start};{end}");
    let signature = signature(secret_key, method, key, &key_time);
    format!(
        "q-sign-algorithm=sha1&q-ak={secret_id}&q-sign-time={key_time}&q-key-time={key_time}\
         &q-header-list=&q-url-param-list=&q-signature={signature}"
    )
}

fn signature(secret_key: &str, method: &str, key: &str, key_time: &str) -> String {
    let sign_key = hmac_sha1_hex(secret_key.as_bytes(), key_time);
    let http_string = format!("{}\n/{key}\n\n\n", method.to_ascii_lowercase());
    let string_to_sign = format!("sha1\n{key_time}\n{}\n", hex::encode(Sha1::digest(http_string.as_bytes())));
    hmac_sha1_hex(sign_key.as_bytes(), &string_to_sign)
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
    let field = |name: &str| {
        authorization.split('&').find_map(|pair| pair.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    };
    let (Some("sha1"), Some(ak), Some(key_time), Some(given)) =
        (field("q-sign-algorithm"), field("q-ak"), field("q-sign-time"), field("q-signature"))
    else {
        return Err(SignatureError::Malformed);
    };
    if ak != secret_id {
        return Err(SignatureError::UnknownKeyId);
    }
    let (start, end) = key_time
        .split_once(';')
        .and_then(|(s, e)| Some((s.parse::<u64>().ok()?, e.parse::<u64>().ok()?)))
        .ok_or(SignatureError::Malformed)?;
    if now < start || now > end {
        return Err(SignatureError::Expired { end });
    }
    if signature(secret_key, method, key, key_time) != given {
        return Err(SignatureError::Mismatch);
    }
    Ok(())
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
}
