//! Folder rules: who may upload, read (download links), delete and list where, and what may
//! land there.
//!
//! Declarative, like Firebase Storage rules, CloudBase's storage security rules and
//! Supabase's storage policies, and easier to check (`wxcs rules explain`): a rules file
//! (`file.rs`) names folders by path patterns with captures (`pattern.rs`: `users/{uid}/`,
//! `shops/{shop}/products/`), each with a [`Permission`] per operation (`permission.rs`:
//! `owner`, `signed-in`, `anyone`, `role:NAME`, or a list) and its [`Limits`]
//! (`limits.rs`). The most specific folder a key is in decides for it; a key in no folder
//! is no one's. Without a rules file the rules are the flags' single folder (`users/{uid}/`,
//! owner-only), so nothing changes for a user who sets nothing.
//!
//! Where a requested path goes ([`Rules::resolve`]): a path inside a folder's space (it
//! starts with a folder's fixed segments, `users/…`, `products/…`) is taken as it is and
//! must be one the caller may use; any other, a bare name, goes to the caller's home folder
//! (`a.png` → `users/42/a.png`). Every path and key passes the key rules first, and keys
//! are compared as bytes: look-alike and encoded paths cannot cross from one folder into
//! another.

mod explain;
mod file;
mod limits;
mod media_type;
mod pattern;
mod permission;

use wx_cloud_storage_core::{validate_key, ErrorCode};

pub use file::RulesError;
pub use limits::{Limits, StoredObject};
pub use pattern::{Captures, Pattern};
pub use permission::{Permission, Who};

use super::{Identity, Refusal};

/// An operation the rules decide on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Getting an upload link (and reporting the upload).
    Upload,
    /// Getting download links (and asking whether a key exists).
    Read,
    /// Deleting.
    Delete,
    /// Listing what is stored.
    List,
}

impl Op {
    /// Every operation.
    pub const ALL: [Op; 4] = [Op::Upload, Op::Read, Op::Delete, Op::List];

    /// Its name in a rules file.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Upload => "upload",
            Op::Read => "read",
            Op::Delete => "delete",
            Op::List => "list",
        }
    }

    /// Parses a name of a rules file.
    pub fn parse(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == name)
    }
}

/// One folder: its pattern, who may do what, its limits, and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// Where its keys are.
    pub pattern: Pattern,
    /// Who may upload, read, delete and list (in [`Op::ALL`]'s order).
    pub permissions: [Permission; 4],
    /// What may land in it.
    pub limits: Limits,
    /// Where it was written (`rules.toml line 7`), for explanations.
    pub source: String,
}

impl Folder {
    /// Who may do `op` here.
    pub fn permission(&self, op: Op) -> &Permission {
        &self.permissions[op as usize]
    }
}

/// The decision on one operation on one key, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'r> {
    /// Whether the caller may.
    pub allowed: bool,
    /// The folder that decided (none when the key is in no folder).
    pub folder: Option<&'r Folder>,
    /// Why, in words: the rule and how it applied.
    pub why: String,
}

/// The backend's folder rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Where a bare name goes: the caller's folder (`users/{uid}/`), its captures all
    /// `{uid}`; `None` when bare names are refused.
    pub home: Option<Pattern>,
    /// The folders, most specific first.
    folders: Vec<Folder>,
}

impl Rules {
    /// Rules of `folders` (sorted here, most specific first) and `home`.
    pub fn new(home: Option<Pattern>, mut folders: Vec<Folder>) -> Rules {
        folders.sort_by_key(|folder| std::cmp::Reverse(folder.pattern.specificity()));
        Rules { home, folders }
    }

    /// Today's rules from the flags: one folder, `prefix` (`users/{uid}/`, or `""` for one
    /// shared space), where its owner (every signed-in caller, for a prefix without
    /// `{uid}`) may do everything, with `limits`; bare names go into it.
    pub fn single_folder(prefix: &str, limits: Limits) -> Result<Rules, String> {
        let pattern = Pattern::parse(prefix).map_err(|e| format!("--path-prefix {e}"))?;
        if pattern.captures().any(|name| name != "uid") {
            return Err(format!("--path-prefix {prefix:?}: the only capture a prefix may have is {{uid}}"));
        }
        let who = if pattern.captures().next().is_some() { Who::Owner } else { Who::SignedIn };
        let permission = Permission(vec![who]);
        let folder = Folder {
            pattern: pattern.clone(),
            permissions: [permission.clone(), permission.clone(), permission.clone(), permission],
            limits,
            source: format!("--path-prefix {prefix:?}"),
        };
        Ok(Rules::new(Some(pattern), vec![folder]))
    }

    /// The folders, most specific first.
    pub fn folders(&self) -> &[Folder] {
        &self.folders
    }

    /// The folder `key` is in, with its captures: the most specific one.
    pub fn folder_of<'k>(&self, key: &'k str) -> Option<(&Folder, Captures<'k>)> {
        self.folders.iter().find_map(|folder| folder.pattern.matches(key).map(|captures| (folder, captures)))
    }

    /// Whether any folder lets callers who are not signed in do anything.
    pub fn admits_anonymous(&self) -> bool {
        self.folders.iter().any(|folder| folder.permissions.iter().any(Permission::admits_anonymous))
    }

    /// Whether any folder limits what lands (then uploads are checked after they land).
    pub fn checks_uploads(&self) -> bool {
        self.folders.iter().any(|folder| folder.limits.checks_uploads())
    }

    /// May `caller` do `op` on `key` (which passed the key rules)?
    pub fn decide(&self, op: Op, key: &str, caller: Option<&Identity>) -> Decision<'_> {
        let Some((folder, captures)) = self.folder_of(key) else {
            return Decision {
                allowed: false,
                folder: None,
                why: format!("{key} is in no folder of the rules"),
            };
        };
        let permission = folder.permission(op);
        let rule = format!("{} = {}", op.as_str(), permission.describe());
        match permission.admits(caller, &captures) {
            Ok(why) => Decision { allowed: true, folder: Some(folder), why: format!("{rule}; {why}") },
            Err(why) => Decision { allowed: false, folder: Some(folder), why: format!("{rule}; {why}") },
        }
    }

    /// The key a requested `path` names for `caller` (see the module's doc): the path
    /// itself inside a folder's space, else the path in the caller's home folder.
    pub fn resolve(&self, path: &str, caller: Option<&Identity>) -> Result<String, Refusal> {
        validate_key(path).map_err(|e| Refusal::invalid_key(&e))?;
        if self.folder_of(path).is_some() || self.folders.iter().any(|folder| folder.pattern.claims(path)) {
            return Ok(path.to_owned());
        }
        let (Some(home), Some(caller)) = (&self.home, caller) else {
            return Err(if caller.is_none() && self.home.is_some() {
                Refusal::new(ErrorCode::Unauthorized, "sign in first: a bare name goes into your own folder")
            } else {
                Refusal::forbidden(format!("{path} is in no folder: name a folder you may use"))
            });
        };
        let folder = home.fill(|name| (name == "uid").then(|| caller.uid.clone())).unwrap_or_default();
        let key = format!("{folder}{path}");
        validate_key(&key).map_err(|e| Refusal::invalid_key(&e))?;
        Ok(key)
    }

    /// `decide`, as the refusal a request gets when it is not allowed: `UNAUTHORIZED` for
    /// a caller who is not signed in (signing in might help), else `FORBIDDEN`.
    pub fn require(&self, op: Op, key: &str, caller: Option<&Identity>) -> Result<&Folder, Refusal> {
        let decision = self.decide(op, key, caller);
        match decision.folder {
            Some(folder) if decision.allowed => Ok(folder),
            _ if caller.is_none() => Err(Refusal::new(
                ErrorCode::Unauthorized,
                format!("sign in first: you may not {} {key} without signing in", op.as_str()),
            )),
            _ => {
                tracing::debug!(op = op.as_str(), "refused by the rules: {}", decision.why);
                let folder =
                    decision.folder.map_or("no folder".into(), |f| format!("folder {}", f.pattern.as_str()));
                Err(Refusal::forbidden(format!("you may not {} {key} ({folder})", op.as_str())))
            }
        }
    }
}

#[cfg(test)]
mod tests;
