//! The rules file (`--rules rules.toml`): read, checked, and refused at start with the line
//! of what is wrong and what to write instead.
//!
//! ```toml
//! home = "users/{uid}/"            # where a bare name goes
//! [[folder]]
//! path = "users/{uid}/"
//! upload = "owner"
//! read = "owner"
//! delete = "owner"
//! list = "owner"
//! max_size = "20 MB"
//! types = ["image/*", "application/pdf"]
//! rate = 60                        # upload links per user per minute in this folder
//! [[folder]]
//! path = "products/"
//! upload = "role:editor"
//! delete = "role:editor"
//! read = "anyone"
//! list = "signed-in"
//! ```

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{Folder, Limits, Pattern, Permission, Rules, Who};

/// Why a rules file was refused: where (its line) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesError(pub String);

impl std::fmt::Display for RulesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RulesError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    home: Option<Spanned<String>>,
    #[serde(default)]
    folder: Vec<Spanned<FolderEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FolderEntry {
    path: Spanned<String>,
    upload: Option<Spanned<OneOrMany>>,
    read: Option<Spanned<OneOrMany>>,
    delete: Option<Spanned<OneOrMany>>,
    list: Option<Spanned<OneOrMany>>,
    max_size: Option<Spanned<Size>>,
    types: Option<Spanned<Vec<String>>>,
    rate: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Size {
    Bytes(u64),
    Text(String),
}

/// A place in the file, to name in messages.
struct Source<'a> {
    name: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        self.text[..span.start.min(self.text.len())].matches('\n').count() + 1
    }

    fn at(&self, span: Range<usize>, message: impl std::fmt::Display) -> RulesError {
        RulesError(format!("{} line {}: {message}", self.name, self.line(span)))
    }
}

impl Rules {
    /// The rules in `text`, the file `name`. Refused, with the line, when the file does not
    /// parse, names an unknown kind of caller or a bad pattern, size or type, has a folder no
    /// one can use or two folders that could both decide for one key, or a home folder the
    /// rules do not cover.
    pub fn parse(name: &str, text: &str) -> Result<Rules, RulesError> {
        let source = Source { name, text };
        let file: RulesFile = toml::from_str(text).map_err(|e| match e.span() {
            Some(span) => source.at(span, e.message()),
            None => RulesError(format!("{name}: {}", e.message())),
        })?;
        let mut folders = Vec::new();
        for entry in file.folder {
            let span = entry.span();
            let folder = folder(&source, entry.into_inner(), span)?;
            if let Some(other) = folders.iter().find(|other: &&Folder| {
                other.pattern.as_str() == folder.pattern.as_str()
                    || other.pattern.ambiguous_with(&folder.pattern)
            }) {
                return Err(RulesError(format!(
                    "{}: folders {:?} ({}) and {:?} could both hold the same file, and neither is more specific: make one of them more specific, or merge them",
                    folder.source, other.pattern.as_str(), other.source, folder.pattern.as_str()
                )));
            }
            folders.push(folder);
        }
        if folders.is_empty() {
            return Err(RulesError(format!(
                "{name}: no [[folder]]: with no folder no one may store anything"
            )));
        }
        let home = file.home.map(|home| self::home(&source, home, &folders)).transpose()?;
        Ok(Rules::new(home, folders))
    }
}

fn home(source: &Source<'_>, home: Spanned<String>, folders: &[Folder]) -> Result<Pattern, RulesError> {
    let span = home.span();
    let pattern =
        Pattern::parse(home.get_ref()).map_err(|e| source.at(span.clone(), format!("home = {e}")))?;
    if pattern.captures().any(|name| name != "uid") {
        return Err(source.at(span, "home: the only capture a home folder may have is {uid}"));
    }
    // A file in it must be in a folder where its owner may upload.
    let sample = pattern.fill(|_| Some("uid".into())).unwrap_or_default() + "file";
    let uploadable = folders.iter().find(|f| f.pattern.matches(&sample).is_some()).is_some_and(|f| {
        f.permission(super::Op::Upload)
            .admits(
                Some(&crate::backend::Identity { uid: "uid".into(), roles: Vec::new() }),
                &f.pattern.matches(&sample).unwrap_or_default(),
            )
            .is_ok()
    });
    if !uploadable {
        return Err(source.at(
            span,
            format!("home = {:?}: no folder lets a signed-in user upload there; add a [[folder]] with upload = \"owner\"", pattern.as_str()),
        ));
    }
    Ok(pattern)
}

fn folder(source: &Source<'_>, entry: FolderEntry, span: Range<usize>) -> Result<Folder, RulesError> {
    let path_span = entry.path.span();
    let pattern =
        Pattern::parse(entry.path.get_ref()).map_err(|e| source.at(path_span, format!("path = {e}")))?;
    let permissions = [entry.upload, entry.read, entry.delete, entry.list]
        .into_iter()
        .zip(["upload", "read", "delete", "list"])
        .map(|(value, op)| permission(source, &pattern, op, value))
        .collect::<Result<Vec<_>, _>>()?;
    let permissions: [Permission; 4] = permissions.try_into().expect("four operations");
    let where_ = format!("{} line {}", source.name, source.line(span.clone()));
    if permissions.iter().all(Permission::is_empty) {
        return Err(source.at(
            span,
            format!(
                "folder {:?} lets no one upload, read, delete or list: give it at least one of upload, read, delete, list",
                pattern.as_str()
            ),
        ));
    }
    let limits = limits(source, entry.max_size, entry.types, entry.rate)?;
    Ok(Folder { pattern, permissions, limits, source: where_ })
}

fn permission(
    source: &Source<'_>,
    pattern: &Pattern,
    op: &str,
    value: Option<Spanned<OneOrMany>>,
) -> Result<Permission, RulesError> {
    let Some(value) = value else { return Ok(Permission::default()) };
    let span = value.span();
    let values = match value.into_inner() {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    };
    let mut kinds = Vec::new();
    for text in &values {
        let who = Who::parse(text).map_err(|e| source.at(span.clone(), format!("{op} = {e}")))?;
        if who == Who::Anyone && (op == "upload" || op == "delete") {
            return Err(source.at(
                span,
                format!(
                    "{op} = \"anyone\": callers who are not signed in may only read or list; write signed-in"
                ),
            ));
        }
        if who == Who::Owner && !pattern.captures().any(|name| name == "uid") {
            return Err(source.at(
                span,
                format!("{op} = \"owner\": folder {:?} has no {{uid}} to own it; write the folder as …/{{uid}}/ or use signed-in or role:NAME", pattern.as_str()),
            ));
        }
        if let Who::Role(name) = &who {
            // `role:{shop}-editor`: every capture it names must be the folder's.
            for part in name.split('{').skip(1) {
                let capture = part.split('}').next().unwrap_or_default();
                if !pattern.captures().any(|c| c == capture) {
                    return Err(source.at(
                        span,
                        format!(
                            "{op} = {text:?}: folder {:?} has no capture {{{capture}}}",
                            pattern.as_str()
                        ),
                    ));
                }
            }
        }
        kinds.push(who);
    }
    Ok(Permission(kinds))
}

fn limits(
    source: &Source<'_>,
    max_size: Option<Spanned<Size>>,
    types: Option<Spanned<Vec<String>>>,
    rate: Option<Spanned<u32>>,
) -> Result<Limits, RulesError> {
    let mut limits = Limits::default();
    if let Some(size) = max_size {
        let span = size.span();
        limits.max_size = Some(match size.into_inner() {
            Size::Bytes(bytes) => bytes,
            Size::Text(text) => {
                parse_size(&text).map_err(|e| source.at(span, format!("max_size = {text:?}: {e}")))?
            }
        });
    }
    if let Some(types) = types {
        let span = types.span();
        let list = types.into_inner();
        if list.is_empty() {
            return Err(source.at(span, "types = []: no type may land; name at least one, or \"*\""));
        }
        for kind in &list {
            let (family, subtype) = kind.split_once('/').unwrap_or((kind, ""));
            let token = |t: &str| {
                !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
            };
            if kind != "*" && !(token(family) && (subtype == "*" || token(subtype))) {
                return Err(
                    source.at(span, format!("types: {kind:?} is not a type such as image/png, image/* or *"))
                );
            }
        }
        limits.types = list;
    }
    if let Some(rate) = rate {
        if *rate.get_ref() == 0 {
            return Err(
                source.at(rate.span(), "rate = 0: no one could upload; leave it out for no folder rate")
            );
        }
        limits.rate_per_minute = Some(rate.into_inner());
    }
    Ok(limits)
}

/// `"20 MB"`, `"512 KiB"`, `"1GB"`, `"100"` (bytes): decimal units are powers of 1000,
/// binary ones (KiB, MiB, GiB) of 1024.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 =
        number.parse().map_err(|_| "write a whole number and a unit, like \"20 MB\"".to_owned())?;
    let unit = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "mb" => 1000 * 1000,
        "gb" => 1000 * 1000 * 1000,
        "kib" => 1024,
        "mib" => 1024 * 1024,
        "gib" => 1024 * 1024 * 1024,
        other => return Err(format!("unknown unit {other:?}; use B, KB, MB, GB, KiB, MiB or GiB")),
    };
    number.checked_mul(unit).ok_or_else(|| "too large".to_owned())
}
