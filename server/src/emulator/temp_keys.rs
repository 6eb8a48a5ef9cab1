//! Temporary COS keys, as the Cloud Run sidecar's `/_/cos/getauth` hands them out: a
//! SecretId, a SecretKey and a security token, for the environment's whole bucket, until
//! an expiry.
//!
//! Each call issues a new key (Guess: whether the sidecar caches one per instance is not
//! documented; a new key per call is what an STS call gives). A key lives
//! `temp_key_ttl` (Guess: COS STS's default, 1800 s; the sidecar's is undocumented). COS
//! answers a request signed with an expired key `400 ExpiredToken`, and one whose
//! `x-cos-security-token` is not the key's `403 InvalidAccessKeyId` (Guess, as for a key it
//! does not know). Expired keys are forgotten when the emulator prunes.

use std::{collections::HashMap, sync::Mutex};

use secrecy::{ExposeSecret, SecretString};

use super::random_hex;

/// One issued key.
#[derive(Debug)]
struct Issued {
    secret_key: SecretString,
    token: SecretString,
    expires_at: u64,
}

/// What a signed request's key turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyCheck {
    /// Current, and the token is the key's.
    Valid,
    /// Past its expiry.
    Expired,
    /// A token other than the key's, or none.
    WrongToken,
}

/// The temporary keys issued and not yet forgotten.
#[derive(Debug, Default)]
pub(crate) struct TempKeys {
    issued: Mutex<HashMap<String, Issued>>,
}

/// A new key as `/_/cos/getauth` answers it (the caller shows it once, to the backend).
pub(crate) struct NewKey {
    pub(crate) secret_id: String,
    pub(crate) secret_key: String,
    pub(crate) token: String,
    pub(crate) expires_at: u64,
}

impl TempKeys {
    /// Issues a key valid until `now + ttl`.
    pub(crate) fn issue(&self, now: u64, ttl: u64) -> NewKey {
        let key = NewKey {
            secret_id: format!("AKIDtmp{}", random_hex(14)),
            secret_key: random_hex(20),
            token: random_hex(48),
            expires_at: now + ttl,
        };
        let issued = Issued {
            secret_key: key.secret_key.clone().into(),
            token: key.token.clone().into(),
            expires_at: key.expires_at,
        };
        self.issued.lock().unwrap().insert(key.secret_id.clone(), issued);
        key
    }

    /// The SecretKey of `secret_id`, if it was issued here (expired or not).
    pub(crate) fn secret_of(&self, secret_id: &str) -> Option<String> {
        self.issued.lock().unwrap().get(secret_id).map(|k| k.secret_key.expose_secret().to_owned())
    }

    /// Whether `secret_id` (issued here) may sign at `now` with `token`.
    pub(crate) fn check(&self, secret_id: &str, token: Option<&str>, now: u64) -> KeyCheck {
        let issued = self.issued.lock().unwrap();
        let Some(key) = issued.get(secret_id) else { return KeyCheck::WrongToken };
        if token != Some(key.token.expose_secret()) {
            KeyCheck::WrongToken
        } else if now > key.expires_at {
            KeyCheck::Expired
        } else {
            KeyCheck::Valid
        }
    }

    /// Forgets keys that expired before `now`.
    pub(crate) fn prune(&self, now: u64) {
        self.issued.lock().unwrap().retain(|_, key| key.expires_at >= now);
    }

    pub(crate) fn len(&self) -> usize {
        self.issued.lock().unwrap().len()
    }
}
