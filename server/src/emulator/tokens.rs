//! Access tokens with WeChat's semantics.
//!
//! - `/cgi-bin/token` issues a new token each call; the previous one keeps working for a
//!   grace period (~5 min) and then stops: several instances calling it clobber each other.
//! - `/cgi-bin/stable_token` returns the same token while it is valid; `force_refresh`
//!   replaces it at once. Its tokens are a separate pool.
//! - Any valid token may also be presented as `cloudbase_access_token`.

use std::{collections::HashMap, sync::Mutex};

use super::random_hex;

/// Why a presented token was refused, as WeChat's errcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenError {
    /// 40001: well-formed but not a current token (superseded or never issued).
    Invalid,
    /// 40014: not even shaped like a token (guess: WeChat's "invalid access_token").
    Malformed,
    /// 42001: past its lifetime.
    Expired,
}

impl TokenError {
    pub(crate) fn errcode(self) -> (i64, &'static str) {
        match self {
            TokenError::Invalid => (40001, "invalid credential, access_token is invalid or not latest"),
            TokenError::Malformed => (40014, "invalid access_token"),
            TokenError::Expired => (42001, "access_token expired"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Issued {
    /// After this time (Unix s) the token is expired.
    expires_at: u64,
}

#[derive(Debug, Default)]
struct Pools {
    /// Every token ever issued (both pools), with its possibly shortened expiry.
    issued: HashMap<String, Issued>,
    /// The newest `/cgi-bin/token` token.
    latest_plain: Option<String>,
    /// The current stable token.
    stable: Option<String>,
}

/// All tokens the emulator has issued (until they expire and are pruned).
#[derive(Default)]
pub(crate) struct Tokens {
    pools: Mutex<Pools>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens are credentials: only their number is shown.
        write!(f, "Tokens({} issued)", self.pools.lock().unwrap().issued.len())
    }
}

/// Tokens are 136 characters like WeChat's (which asks for ≥512 bytes of storage).
const TOKEN_HEX_BYTES: usize = 68;

impl Tokens {
    /// `/cgi-bin/token`: a new token; the previous one lives `grace` more seconds at most.
    pub(crate) fn issue_plain(&self, now: u64, ttl: u64, grace: u64) -> (String, u64) {
        let mut pools = self.pools.lock().unwrap();
        if let Some(old) = pools.latest_plain.take() {
            if let Some(issued) = pools.issued.get_mut(&old) {
                issued.expires_at = issued.expires_at.min(now + grace);
            }
        }
        let token = random_hex(TOKEN_HEX_BYTES);
        pools.issued.insert(token.clone(), Issued { expires_at: now + ttl });
        pools.latest_plain = Some(token.clone());
        (token, ttl)
    }

    /// `/cgi-bin/stable_token`: the current stable token with its remaining lifetime, or a
    /// new one when there is none, it has expired, or `force_refresh` is set.
    pub(crate) fn issue_stable(&self, now: u64, ttl: u64, force_refresh: bool) -> (String, u64) {
        let mut pools = self.pools.lock().unwrap();
        if let Some(current) = pools.stable.clone() {
            let expires_at = pools.issued[&current].expires_at;
            if force_refresh {
                pools.issued.get_mut(&current).unwrap().expires_at = now;
            } else if expires_at > now {
                return (current, expires_at - now);
            }
        }
        let token = random_hex(TOKEN_HEX_BYTES);
        pools.issued.insert(token.clone(), Issued { expires_at: now + ttl });
        pools.stable = Some(token.clone());
        (token, ttl)
    }

    /// Forgets tokens that expired before `now` (a forgotten token is "invalid", 40001,
    /// where WeChat may say "expired": clients treat both alike, by fetching a new one).
    /// The current plain and stable tokens are kept, so they still answer 42001.
    pub(crate) fn prune(&self, now: u64) {
        let mut pools = self.pools.lock().unwrap();
        let Pools { issued, latest_plain, stable } = &mut *pools;
        issued.retain(|token, t| {
            t.expires_at >= now || latest_plain.as_deref() == Some(token) || stable.as_deref() == Some(token)
        });
    }

    /// How many tokens are remembered.
    pub(crate) fn len(&self) -> usize {
        self.pools.lock().unwrap().issued.len()
    }

    /// Checks a presented token.
    pub(crate) fn check(&self, token: &str, now: u64) -> Result<(), TokenError> {
        let pools = self.pools.lock().unwrap();
        match pools.issued.get(token) {
            Some(issued) if issued.expires_at > now => Ok(()),
            // A superseded token (grace over) is "invalid or not latest", not "expired".
            Some(_)
                if pools.latest_plain.as_deref() != Some(token) && pools.stable.as_deref() != Some(token) =>
            {
                Err(TokenError::Invalid)
            }
            Some(_) => Err(TokenError::Expired),
            None if token.len() < 32
                || !token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                Err(TokenError::Malformed)
            }
            None => Err(TokenError::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tokens_clobber_each_other_after_the_grace_period() {
        let tokens = Tokens::default();
        let (a, _) = tokens.issue_plain(1000, 7200, 300);
        let (b, _) = tokens.issue_plain(1100, 7200, 300);
        assert_ne!(a, b);
        assert_eq!(tokens.check(&a, 1399), Ok(()));
        assert_eq!(tokens.check(&a, 1400), Err(TokenError::Invalid));
        assert_eq!(tokens.check(&b, 8299), Ok(()));
        assert_eq!(tokens.check(&b, 8300), Err(TokenError::Expired));
    }

    #[test]
    fn stable_tokens_are_reused_until_expiry_or_forced() {
        let tokens = Tokens::default();
        let (a, ttl) = tokens.issue_stable(1000, 7200, false);
        assert_eq!(ttl, 7200);
        let (again, left) = tokens.issue_stable(1500, 7200, false);
        assert_eq!((again.as_str(), left), (a.as_str(), 6700));
        let (c, _) = tokens.issue_stable(1600, 7200, true);
        assert_ne!(a, c);
        assert_eq!(tokens.check(&a, 1600), Err(TokenError::Invalid));
        let (d, _) = tokens.issue_stable(8800, 7200, false);
        assert_ne!(c, d, "an expired stable token is replaced");
        assert_eq!(tokens.check("short", 0), Err(TokenError::Malformed));
        assert_eq!(tokens.check(&"0".repeat(136), 0), Err(TokenError::Invalid));
    }

    #[test]
    fn expired_tokens_are_pruned_but_the_current_ones_kept() {
        let tokens = Tokens::default();
        let (old, _) = tokens.issue_plain(1000, 100, 10);
        let (current, _) = tokens.issue_plain(1050, 100, 10);
        let (stable, _) = tokens.issue_stable(1000, 100, false);
        assert_eq!(tokens.len(), 3);
        tokens.prune(2000);
        assert_eq!(tokens.len(), 2, "the superseded plain token is forgotten");
        assert_eq!(tokens.check(&old, 2000), Err(TokenError::Invalid));
        assert_eq!(tokens.check(&current, 2000), Err(TokenError::Expired));
        assert_eq!(tokens.check(&stable, 2000), Err(TokenError::Expired));
        assert!(!format!("{tokens:?}").contains(&current), "Debug shows no token");
    }
}
