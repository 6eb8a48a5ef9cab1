//! `wxcs rules explain`: the decision on one operation, and the rule that made it, in words
//! (as Firebase's rules playground shows it).
//!
//! ```text
//! allow upload users/42/a.png
//!   path     a.png goes into your home folder: users/42/a.png
//!   folder   users/{uid}/ (rules.toml line 4)
//!   rule     upload = owner; owner: {uid} = "42" is the caller
//!   limits   max_size 20000000 bytes; types image/*, application/pdf
//! ```

use super::{Identity, Op, Rules};

impl Rules {
    /// The decision on `op` of `path` by `caller`, explained; and whether it was allowed.
    pub fn explain(&self, op: Op, path: &str, caller: Option<&Identity>) -> (bool, String) {
        let mut lines = Vec::new();
        let key = match self.resolve(path, caller) {
            Ok(key) => key,
            Err(refusal) => {
                return (
                    false,
                    format!(
                        "deny {} {path}\n  path     {}: {}\n",
                        op.as_str(),
                        refusal.code,
                        refusal.message
                    ),
                )
            }
        };
        if key != path {
            lines.push(format!("  path     {path} goes into your home folder: {key}"));
        }
        // A folder to list is decided as the list endpoint decides it: for a name inside.
        let decided =
            if matches!(op, Op::List) && key.ends_with('/') { format!("{key}x") } else { key.clone() };
        let decision = self.decide(op, &decided, caller);
        match decision.folder {
            Some(folder) => {
                lines.push(format!("  folder   {} ({})", display(folder.pattern.as_str()), folder.source));
                lines.push(format!("  rule     {}", decision.why));
                let limits = &folder.limits;
                let mut said = Vec::new();
                if let Some(max) = limits.max_size {
                    said.push(format!("max_size {max} bytes"));
                }
                if !limits.types.iter().any(|t| t == "*") {
                    said.push(format!("types {}", limits.types.join(", ")));
                }
                if let Some(rate) = limits.rate_per_minute {
                    said.push(format!("rate {rate} a minute"));
                }
                if op == Op::Upload && !said.is_empty() {
                    lines.push(format!("  limits   {}", said.join("; ")));
                }
            }
            None => lines.push(format!("  folder   none: {}", decision.why)),
        }
        let verdict = if decision.allowed { "allow" } else { "deny" };
        (decision.allowed, format!("{verdict} {} {key}\n{}\n", op.as_str(), lines.join("\n")))
    }
}

fn display(pattern: &str) -> &str {
    if pattern.is_empty() {
        "(the whole bucket)"
    } else {
        pattern
    }
}
