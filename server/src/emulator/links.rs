//! The links the emulator issues: upload links, remembered by their security token until
//! they expire, and download links, whose `sign` is an HMAC of the key and expiry.

use std::collections::HashMap;

use super::{now, State};

/// The upload links the emulator issued, by security token.
#[derive(Default)]
pub(crate) struct Links {
    by_token: HashMap<String, Link>,
    /// The size at which the next insert first forgets expired links.
    prune_at: usize,
}

impl Links {
    /// Remembers `link`. Between the timed prunes, a burst of links also prunes (each time
    /// the map has doubled), so memory follows the links alive, not the links ever issued.
    pub(crate) fn insert(&mut self, token: String, link: Link) {
        if self.by_token.len() >= self.prune_at {
            self.prune(now());
            self.prune_at = (self.by_token.len() * 2).max(1024);
        }
        self.by_token.insert(token, link);
    }

    pub(crate) fn get(&self, token: &str) -> Option<&Link> {
        self.by_token.get(token)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_token.len()
    }

    pub(crate) fn prune(&mut self, now: u64) {
        self.by_token.retain(|_, link| link.expires_at >= now);
    }
}

/// An upload link the emulator issued, looked up by its security token.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub(crate) key: String,
    pub(crate) expires_at: u64,
}

/// The `sign` of a download URL for `key` expiring at `t`: 32 hex characters, like the
/// real `*.tcb.qcloud.la` links (how WeChat computes its own is undocumented).
pub(crate) fn download_sign(state: &State, key: &str, t: u64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(state.config.cos_secret_key().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(format!("{}/{key}\n{t}", state.bucket).as_bytes());
    hex::encode(mac.finalize().into_bytes())[..32].to_owned()
}
