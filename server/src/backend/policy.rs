//! What a user may do: which paths, how large, which types, how often.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use wx_cloud_storage_core::{protocol::FileId, validate_key};

use super::ApiError;

/// The backend's policy; every field has a documented default ([`Policy::default`]).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Each user's folder; `{uid}` is replaced. Default `users/{uid}/`.
    pub path_prefix: String,
    /// Largest upload, bytes. Default 100 MiB.
    pub max_size: u64,
    /// Allowed content types: exact (`image/png`), family (`image/*`) or `*`. Default `*`.
    pub allowed_types: Vec<String>,
    /// Requests per user per minute, over all endpoints. Default 600.
    pub rate_per_minute: u32,
    /// Longest download-link lifetime a page may ask for, seconds. Default 86400.
    pub max_link_age: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            path_prefix: "users/{uid}/".into(),
            max_size: 100 * 1024 * 1024,
            allowed_types: vec!["*".into()],
            rate_per_minute: 600,
            max_link_age: 86_400,
        }
    }
}

impl Policy {
    /// The user's own folder.
    pub fn user_prefix(&self, uid: &str) -> String {
        self.path_prefix.replace("{uid}", uid)
    }

    /// The key a user's requested `path` is written to: the path itself when it is already
    /// inside the user's folder, else the path inside it. A path inside another user's
    /// folder is refused. The client's path is never trusted as is.
    pub fn resolve_upload_key(&self, uid: &str, path: &str) -> Result<String, ApiError> {
        validate_key(path).map_err(|e| ApiError::invalid_key(&e))?;
        let own = self.user_prefix(uid);
        let key = if path.starts_with(&own) {
            path.to_owned()
        } else if self.in_any_user_folder(path) {
            return Err(ApiError::forbidden(format!(
                "{path} is in another user's folder; write under {own}"
            )));
        } else {
            format!("{own}{path}")
        };
        validate_key(&key).map_err(|e| ApiError::invalid_key(&e))?;
        Ok(key)
    }

    /// Whether `path` starts like any user's folder (`users/…` for the default prefix).
    fn in_any_user_folder(&self, path: &str) -> bool {
        let fixed = self.path_prefix.split("{uid}").next().unwrap_or_default();
        !fixed.is_empty() && path.starts_with(fixed)
    }

    /// Whether `file_id` names an object in the user's folder.
    pub fn owns(&self, uid: &str, file_id: &str) -> bool {
        FileId::parse(file_id).is_some_and(|id| id.key.starts_with(&self.user_prefix(uid)))
    }

    /// Checks the declared size and type of an upload.
    pub fn check_upload(&self, size: Option<u64>, content_type: Option<&str>) -> Result<(), ApiError> {
        if let Some(size) = size.filter(|s| *s > self.max_size) {
            return Err(ApiError::too_large(format!(
                "{size} bytes is over this backend's limit of {} bytes",
                self.max_size
            )));
        }
        if self.allowed_types.iter().any(|t| t == "*") {
            return Ok(());
        }
        let Some(content_type) = content_type else {
            return Err(ApiError::invalid_argument(format!(
                "contentType is required; allowed: {}",
                self.allowed_types.join(", ")
            )));
        };
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let allowed = self.allowed_types.iter().any(|t| match t.strip_suffix("/*") {
            Some(family) => essence.split('/').next() == Some(family) && essence.contains('/'),
            None => essence == t.to_ascii_lowercase(),
        });
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "content type {content_type} is not allowed; allowed: {}",
                self.allowed_types.join(", ")
            )))
        }
    }
}

/// A fixed one-minute window per user.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// Counts one request; `Err(seconds to wait)` when over `per_minute`.
    pub(crate) fn check(&self, uid: &str, per_minute: u32) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap();
        let (start, count) = windows.entry(uid.to_owned()).or_insert((now, 0));
        if now.duration_since(*start) >= Duration::from_secs(60) {
            *start = now;
            *count = 0;
        }
        if *count >= per_minute {
            return Err(60u64.saturating_sub(now.duration_since(*start).as_secs()).max(1));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_resolved_into_the_users_folder() {
        let p = Policy::default();
        assert_eq!(p.resolve_upload_key("42", "a.png").unwrap(), "users/42/a.png");
        assert_eq!(p.resolve_upload_key("42", "users/42/a.png").unwrap(), "users/42/a.png");
        assert_eq!(p.resolve_upload_key("42", "users/7/a.png").unwrap_err().status, 403);
        assert_eq!(
            p.resolve_upload_key("42", "users/420/a.png").unwrap_err().status,
            403,
            "prefix match is by folder"
        );
        assert_eq!(p.resolve_upload_key("42", "a/${x}").unwrap_err().code, "INVALID_KEY");
        assert!(p.owns("42", "cloud://e.b/users/42/a.png"));
        assert!(!p.owns("42", "cloud://e.b/users/420/a.png"));
        assert!(!p.owns("42", "not an id"));
    }

    #[test]
    fn sizes_and_types() {
        let p = Policy {
            allowed_types: vec!["image/*".into(), "application/pdf".into()],
            max_size: 10,
            ..Policy::default()
        };
        assert!(p.check_upload(Some(10), Some("image/png")).is_ok());
        assert!(p.check_upload(Some(3), Some("application/pdf; q=1")).is_ok());
        assert_eq!(p.check_upload(Some(11), Some("image/png")).unwrap_err().status, 413);
        assert_eq!(p.check_upload(Some(1), Some("text/html")).unwrap_err().status, 403);
        assert_eq!(p.check_upload(Some(1), Some("image")).unwrap_err().status, 403);
        assert_eq!(p.check_upload(Some(1), None).unwrap_err().status, 400);
    }

    #[test]
    fn rate_limit_counts_per_user() {
        let limiter = RateLimiter::default();
        assert!(limiter.check("a", 2).is_ok());
        assert!(limiter.check("a", 2).is_ok());
        assert!(limiter.check("a", 2).is_err());
        assert!(limiter.check("b", 2).is_ok());
    }
}
