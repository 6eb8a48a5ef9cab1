//! Who may do an operation in a folder: `owner` (the folder's `{uid}` is the caller's ID),
//! `signed-in`, `anyone` (no login at all), `role:NAME` (a role the login gave the caller;
//! NAME may use the folder's captures: `role:{shop}-editor`), or a list of these. No value
//! means no one: deny by default.

use super::Captures;
use crate::backend::Identity;

/// One kind of caller a permission admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// The caller's ID equals the folder's `{uid}` capture.
    Owner,
    /// Any signed-in caller.
    SignedIn,
    /// Anyone, signed in or not.
    Anyone,
    /// A caller with this role (captures filled in).
    Role(String),
}

impl Who {
    /// Parses one value, saying what to write instead of a wrong one.
    pub fn parse(value: &str) -> Result<Who, String> {
        match value {
            "owner" => Ok(Who::Owner),
            "signed-in" => Ok(Who::SignedIn),
            "anyone" => Ok(Who::Anyone),
            _ => match value.split_once(':') {
                Some(("role", name)) if !name.is_empty() && !name.contains(char::is_whitespace) => {
                    Ok(Who::Role(name.to_owned()))
                }
                Some(("role", _)) => Err(format!("{value:?}: a role needs a name without spaces, like role:editor")),
                Some((source, _)) => Err(format!(
                    "{value:?}: unknown kind {source:?}; write owner, signed-in, anyone, role:NAME, or a list of these"
                )),
                None => Err(format!(
                    "{value:?} is not a permission; write owner, signed-in, anyone, role:NAME, or a list of these"
                )),
            },
        }
    }

    /// How it reads in rules and explanations.
    pub fn describe(&self) -> String {
        match self {
            Who::Owner => "owner".into(),
            Who::SignedIn => "signed-in".into(),
            Who::Anyone => "anyone".into(),
            Who::Role(name) => format!("role:{name}"),
        }
    }

    /// Whether this admits `caller` in a folder with `captures`; why, in words.
    fn admits(&self, caller: Option<&Identity>, captures: &Captures<'_>) -> Result<String, String> {
        match (self, caller) {
            (Who::Anyone, _) => Ok("anyone may".into()),
            (_, None) => Err("the caller is not signed in".into()),
            (Who::SignedIn, Some(_)) => Ok("the caller is signed in".into()),
            (Who::Owner, Some(caller)) => {
                let owner = captures.iter().find(|(name, _)| name == "uid").map(|(_, value)| *value);
                match owner {
                    Some(uid) if uid == caller.uid => Ok(format!("{{uid}} = {uid:?} is the caller")),
                    Some(uid) => Err(format!("{{uid}} = {uid:?} is not the caller ({:?})", caller.uid)),
                    None => Err("the folder has no {uid}".into()),
                }
            }
            (Who::Role(name), Some(caller)) => {
                let role = fill(name, captures);
                if caller.roles.contains(&role) {
                    Ok(format!("the caller has the role {role:?}"))
                } else {
                    Err(format!("the caller's roles ({}) do not include {role:?}", caller.roles.join(", ")))
                }
            }
        }
    }
}

/// A role name with the folder's captures filled in (`{shop}-editor` → `7-editor`).
fn fill(name: &str, captures: &Captures<'_>) -> String {
    let mut role = name.to_owned();
    for (capture, value) in captures {
        role = role.replace(&format!("{{{capture}}}"), value);
    }
    role
}

/// Who may do one operation: any of these. Empty: no one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permission(pub Vec<Who>);

impl Permission {
    /// Whether `caller` may: `Ok(why)` with the first kind that admits them, or `Err(why
    /// not)`, naming each kind that did not.
    pub fn admits(&self, caller: Option<&Identity>, captures: &Captures<'_>) -> Result<String, String> {
        if self.0.is_empty() {
            return Err("no one may (the rule names no one)".into());
        }
        let mut refusals = Vec::new();
        for who in &self.0 {
            match who.admits(caller, captures) {
                Ok(why) => return Ok(format!("{}: {why}", who.describe())),
                Err(why) => refusals.push(format!("{}: {why}", who.describe())),
            }
        }
        Err(refusals.join("; "))
    }

    /// Whether it names anyone at all (a folder whose every permission is empty is useless).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether it admits callers who are not signed in.
    pub fn admits_anonymous(&self) -> bool {
        self.0.contains(&Who::Anyone)
    }

    /// Whether it needs the folder's `{uid}`.
    pub fn needs_uid(&self) -> bool {
        self.0.contains(&Who::Owner)
    }

    /// How it reads in rules and explanations.
    pub fn describe(&self) -> String {
        match self.0.as_slice() {
            [] => "no one".into(),
            [one] => one.describe(),
            many => format!("[{}]", many.iter().map(Who::describe).collect::<Vec<_>>().join(", ")),
        }
    }
}
