//! The policy flags of `serve`: the folder rules (a rules file, or the single folder the
//! older flags describe), and the backend-wide rates and timeouts.

use std::{path::PathBuf, time::Duration};

use clap::Args;
use wx_cloud_storage_server::backend::{Backend, Limits, Policy, Rules, DEFAULT_PREFIX};

#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {
    /// The folder rules (TOML; the README's "Folder rules" says how to write them). Without
    /// it, one folder per user, from --path-prefix, --max-size and --allowed-types.
    #[arg(long, env = "WXCS_RULES")]
    rules: Option<PathBuf>,
    /// Without --rules: each user's folder; must end with '/'; {uid} (a whole segment) is
    /// the user ID [default: users/{uid}/].
    #[arg(long, env = "WXCS_PATH_PREFIX")]
    path_prefix: Option<String>,
    /// Without --rules: largest object in bytes [default: no limit but COS's 5 GB]. When
    /// set, uploads must declare their size and every object that lands is checked (and
    /// deleted if over).
    #[arg(long, env = "WXCS_MAX_SIZE")]
    max_size: Option<u64>,
    /// Without --rules: allowed content types (image/png, image/*), comma-separated
    /// [default: *]. `image/*` never admits image/svg+xml unless named. When limited, uploads
    /// must declare their type and every object that lands is checked by its served type and
    /// its first bytes.
    #[arg(long, env = "WXCS_ALLOWED_TYPES", value_delimiter = ',')]
    allowed_types: Option<Vec<String>>,
    /// Requests per caller (user, or address when not signed in) per minute.
    #[arg(long, env = "WXCS_RATE_PER_MINUTE", default_value_t = Policy::default().rate_per_minute)]
    rate_per_minute: u32,
    /// Failed sign-ins per client address per minute before 429.
    #[arg(long, env = "WXCS_FAILED_LOGINS_PER_MINUTE", default_value_t = Policy::default().failed_logins_per_minute)]
    failed_logins_per_minute: u32,
    /// Origins allowed to call the backend from a browser, comma-separated (`*` for any,
    /// without cookies; named origins may also send cookies, and only their cookies are
    /// credentials; none: same-origin only).
    #[arg(long = "cors-origin", env = "WXCS_CORS_ORIGINS", value_delimiter = ',')]
    pub(crate) cors_origins: Vec<String>,
    /// Where the endpoints are mounted.
    #[arg(long, env = "WXCS_PREFIX", default_value = Backend::DEFAULT_PREFIX)]
    prefix: String,
    /// Seconds after an upload link has ended (WeChat's live 900 s) that its object is
    /// checked for the last time, reported or not: a post begun before the end may still
    /// be arriving.
    #[arg(long, env = "WXCS_VERIFY_AFTER", default_value_t = Backend::DEFAULT_VERIFY_AFTER.as_secs())]
    verify_after: u64,
    /// Upload links a user may hold, in folders with limits, whose upload was neither
    /// reported nor found (each owes a check); past it, 429.
    #[arg(long, env = "WXCS_UNCHECKED_PER_USER", default_value_t = Backend::DEFAULT_UNCHECKED_PER_USER, value_parser = clap::value_parser!(u32).range(1..))]
    unchecked_per_user: u32,
    /// Seconds an instance holds a check it started before another instance may take it
    /// over (the first died).
    #[arg(long, env = "WXCS_CHECK_LEASE", default_value_t = Backend::DEFAULT_CHECK_LEASE.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    check_lease: u64,
    /// Seconds a multipart upload may go without a part being signed before a later request
    /// aborts it at COS (its parts are dropped).
    #[arg(long, env = "WXCS_MULTIPART_IDLE", default_value_t = Backend::DEFAULT_MULTIPART_IDLE.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    multipart_idle: u64,
    /// Bearer token that /metrics answers (without it, /metrics answers this machine only).
    #[arg(long, env = "WXCS_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Seconds a client has to send a request body (at most 64 KiB).
    #[arg(long, env = "WXCS_BODY_TIMEOUT", default_value_t = Backend::DEFAULT_BODY_TIMEOUT.as_secs())]
    body_timeout: u64,
}

impl PolicyArgs {
    /// The policy these flags describe.
    pub(crate) fn policy(&self) -> Result<Policy, String> {
        let rules = match &self.rules {
            Some(path) => {
                if self.path_prefix.is_some() || self.max_size.is_some() || self.allowed_types.is_some() {
                    return Err(
                        "--rules and --path-prefix, --max-size or --allowed-types: with a rules file, \
                                write the folders and their limits (max_size, types) in it"
                            .into(),
                    );
                }
                read_rules(path)?
            }
            None => {
                let limits = Limits {
                    max_size: self.max_size,
                    types: self.allowed_types.clone().unwrap_or_else(|| Limits::default().types),
                    ..Limits::default()
                };
                if limits.types.is_empty() {
                    return Err("--allowed-types must name at least one type, or *".into());
                }
                Rules::single_folder(self.path_prefix.as_deref().unwrap_or(DEFAULT_PREFIX), limits)?
            }
        };
        Ok(Policy {
            rules,
            rate_per_minute: self.rate_per_minute,
            failed_logins_per_minute: self.failed_logins_per_minute,
            ..Policy::default()
        })
    }

    /// Sets the backend-wide settings on `backend`.
    pub(crate) fn apply(&self, backend: &mut Backend) {
        backend.allow_origins = self.cors_origins.clone();
        backend.prefix = self.prefix.clone();
        backend.verify_after = Duration::from_secs(self.verify_after);
        backend.unchecked_per_user = self.unchecked_per_user;
        backend.check_lease = Duration::from_secs(self.check_lease);
        backend.multipart_idle = Duration::from_secs(self.multipart_idle);
        backend.metrics_token = self.metrics_token.clone().map(Into::into);
        backend.body_timeout = Duration::from_secs(self.body_timeout);
    }
}

/// The rules file at `path`, refused with its line when it is wrong.
pub(crate) fn read_rules(path: &PathBuf) -> Result<Rules, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--rules {}: {e}", path.display()))?;
    Rules::parse(&path.display().to_string(), &text).map_err(|e| e.to_string())
}
