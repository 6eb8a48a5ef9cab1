//! What a caller may do: the folder [`Rules`] (which keys, by whom, what may land) and the
//! backend-wide limits (how often, how long a download link may live). Every check returns
//! a [`Refusal`] (a code and a message), never an HTTP status.

use wx_cloud_storage_core::{protocol::FileId, validate_key, ErrorCode};

use super::{
    rules::{Folder, Limits, Op, Rules},
    Identity, Refusal,
};

/// Each user's folder, and where bare names go, when nothing else is configured.
pub const DEFAULT_PREFIX: &str = "users/{uid}/";

/// The backend's policy; every field has a documented default ([`Policy::default`]).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Who may do what where, and what may land there. Default: one folder per user,
    /// `users/{uid}/`, owner-only, no limits.
    pub rules: Rules,
    /// Requests per caller (user, or address when not signed in) per minute, over all
    /// endpoints. Default 600.
    pub rate_per_minute: u32,
    /// Failed sign-ins per client address per minute before 429. Default 30.
    pub failed_logins_per_minute: u32,
    /// Longest download-link lifetime a page may ask for, seconds. Default 86400.
    pub max_link_age: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::limited(Limits::default())
    }
}

impl Policy {
    /// The default policy, with `limits` on each user's folder.
    pub fn limited(limits: Limits) -> Policy {
        Policy {
            rules: Rules::single_folder(DEFAULT_PREFIX, limits).expect("the default prefix is a folder"),
            rate_per_minute: 600,
            failed_logins_per_minute: 30,
            max_link_age: 86_400,
        }
    }

    /// Whether any folder limits what lands: then uploads are checked after they land,
    /// and the backend tells the library so.
    pub fn checks_uploads(&self) -> bool {
        self.rules.checks_uploads()
    }

    /// The key `file_id` names, and its folder, if `caller` may do `op` on it: a well-formed
    /// ID of this environment (and bucket, when known), whose key passes the same rules as
    /// an upload path (so no `..`, `%2e`, `\`, `?`, `#` or control character can make a
    /// path-normalising hop reach another file), in a folder whose rules allow it.
    pub fn check_file_id<'i>(
        &self,
        caller: Option<&Identity>,
        op: Op,
        file_id: &'i str,
        env: &str,
        bucket: Option<&str>,
    ) -> Result<(&'i str, &Folder), Refusal> {
        let Some(id) = FileId::parse(file_id) else {
            return Err(Refusal::new(
                ErrorCode::InvalidArgument,
                "not a file ID of the form cloud://<env>.<bucket>/<key>",
            ));
        };
        if id.env != env || bucket.is_some_and(|bucket| bucket != id.bucket) {
            return Err(Refusal::forbidden("this file ID belongs to another environment or bucket"));
        }
        validate_key(id.key).map_err(|e| Refusal::invalid_key(&e))?;
        let folder = self.rules.require(op, id.key, caller)?;
        Ok((id.key, folder))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: &str) -> Identity {
        Identity::user(uid)
    }

    #[test]
    fn file_ids_are_the_callers_only_when_every_rule_holds() {
        let p = Policy::default();
        let alice = user("alice");
        let ok = |id: &str| p.check_file_id(Some(&alice), Op::Read, id, "env1", Some("b-1")).map(|_| ());
        assert_eq!(ok("cloud://env1.b-1/users/alice/a.png"), Ok(()));
        for (id, code) in [
            ("cloud://env1.b-1/users/alice/../bob/b.png", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice/%2e%2e/bob/b.png", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice/..%2fbob/b.png", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice\\..\\bob\\b.png", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice/a.png?x=1", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice/a.png#frag", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice/a.png\n", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alice/./a.png", ErrorCode::InvalidKey),
            ("cloud://env1.b-1/users/alicex/a.png", ErrorCode::Forbidden),
            ("cloud://env1.b-1/users/bob/a.png", ErrorCode::Forbidden),
            ("cloud://env2.b-1/users/alice/a.png", ErrorCode::Forbidden),
            ("cloud://env1.b-2/users/alice/a.png", ErrorCode::Forbidden),
            ("https://env1.b-1/users/alice/a.png", ErrorCode::InvalidArgument),
            ("cloud://env1/users/alice/a.png", ErrorCode::InvalidArgument),
        ] {
            assert_eq!(ok(id).map_err(|e| e.code), Err(code), "{id:?}");
        }
        let unknown_bucket =
            p.check_file_id(Some(&alice), Op::Read, "cloud://env1.other/users/alice/a.png", "env1", None);
        assert!(unknown_bucket.is_ok(), "bucket not known yet");
        let anonymous = p.check_file_id(None, Op::Read, "cloud://env1.b-1/users/alice/a.png", "env1", None);
        assert_eq!(anonymous.map(|_| ()).map_err(|e| e.code), Err(ErrorCode::Unauthorized));
    }
}
