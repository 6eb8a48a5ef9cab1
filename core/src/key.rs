//! Object-key rules for WeChat Cloud Run storage (COS underneath).
//!
//! A key that breaks one of these rules either fails at COS with an opaque 4xx, or worse,
//! uploads and then misbehaves (`${filename}` substitution, a leading `/` that makes `key`
//! differ from the signed path, a `..` segment that COS SDKs later refuse to download).
//! So every key is checked here, before any request is made, and the error names the
//! rule and the byte where it is broken.
//!
//! The rules (architecture.md, "Key rules"): not empty; UTF-8 ≤ 850 bytes; no leading `/`
//! or `\`; no `//`; no `.` or `..` segment; no `$`; no ASCII control characters; none of
//! `` ` ^ " \ { } [ ] ~ % # < > | ? ``. Chinese and other non-ASCII letters are allowed.

use crate::text::{char_str, decimal, hex_byte};

/// The longest key COS accepts, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 850;

/// Printable ASCII characters that are never allowed in a key: URL-reserved or listed by
/// WeChat's naming rules as "do not use". `$` has its own rule (see [`KeyError::Dollar`]).
pub const FORBIDDEN_CHARS: &[char] =
    &['`', '^', '"', '\\', '{', '}', '[', ']', '~', '%', '#', '<', '>', '|', '?'];

/// Why a key was refused. Every variant that concerns one place carries `at`, the byte
/// offset (0-based, in the key's UTF-8) where the rule is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The key is the empty string.
    Empty,
    /// The key is longer than [`MAX_KEY_BYTES`].
    TooLong {
        /// The key's length in bytes.
        len: usize,
    },
    /// The key starts with `/` or `\`.
    LeadingSlash {
        /// The offending character.
        ch: char,
    },
    /// The key contains `//` (an empty path segment).
    DoubleSlash {
        /// Byte offset of the second `/`.
        at: usize,
    },
    /// A path segment is exactly `.` or `..`.
    DotSegment {
        /// Byte offset where the segment starts.
        at: usize,
        /// `"."` or `".."`.
        segment: &'static str,
    },
    /// The key contains `$`.
    Dollar {
        /// Byte offset of the `$`.
        at: usize,
    },
    /// The key contains an ASCII control character (0x00–0x1F or 0x7F).
    ControlChar {
        /// Byte offset of the character.
        at: usize,
        /// The character's value.
        byte: u8,
    },
    /// The key contains one of [`FORBIDDEN_CHARS`].
    ForbiddenChar {
        /// Byte offset of the character.
        at: usize,
        /// The offending character.
        ch: char,
    },
}

impl KeyError {
    /// What is wrong and what to do, e.g. ``byte 7: `$` is not allowed (…)``. Assembled
    /// without `core::fmt` (see [`crate::text`]); `Display` prints the same.
    pub fn message(&self) -> String {
        let at = |at: &usize| ["byte ", &decimal(*at as u64), ": "].concat();
        match self {
            KeyError::Empty => "the key is empty: give the object a path such as `users/42/avatar.png`".into(),
            KeyError::TooLong { len } => [
                "the key is ",
                &decimal(*len as u64),
                " bytes of UTF-8 and COS allows at most 850: shorten the path",
            ]
            .concat(),
            KeyError::LeadingSlash { ch } => [
                "byte 0: a key must not start with `",
                &char_str(*ch),
                "`; keys are relative to the bucket root (write `a/b.png`, not `/a/b.png`)",
            ]
            .concat(),
            KeyError::DoubleSlash { at: n } => [&at(n), "`//` (an empty path segment) is not allowed"].concat(),
            KeyError::DotSegment { at: n, segment } => [
                &at(n),
                "a `",
                segment,
                "` path segment is not allowed (keys are not normalised, and COS SDKs refuse such keys)",
            ]
            .concat(),
            KeyError::Dollar { at: n } => {
                [&at(n), "`$` is not allowed (COS replaces ${filename} in keys and has no escape)"].concat()
            }
            KeyError::ControlChar { at: n, byte } => {
                [&at(n), "control character 0x", &hex_byte(*byte), " is not allowed"].concat()
            }
            KeyError::ForbiddenChar { at: n, ch } => [
                &at(n),
                "`",
                &char_str(*ch),
                "` is not allowed in a key; use letters (any language), digits, `-`, `_`, `.`, `!`, `*` and `/` between segments",
            ]
            .concat(),
        }
    }

    /// A stable, machine-readable name for the rule that was broken (`"DOLLAR"`, …).
    /// It reaches JavaScript as `error.rule`.
    pub const fn rule(&self) -> &'static str {
        match self {
            KeyError::Empty => "EMPTY",
            KeyError::TooLong { .. } => "TOO_LONG",
            KeyError::LeadingSlash { .. } => "LEADING_SLASH",
            KeyError::DoubleSlash { .. } => "DOUBLE_SLASH",
            KeyError::DotSegment { .. } => "DOT_SEGMENT",
            KeyError::Dollar { .. } => "DOLLAR",
            KeyError::ControlChar { .. } => "CONTROL_CHAR",
            KeyError::ForbiddenChar { .. } => "FORBIDDEN_CHAR",
        }
    }

    /// The byte offset where the rule is broken, where the rule concerns one place.
    pub const fn byte_offset(&self) -> Option<usize> {
        match self {
            KeyError::Empty | KeyError::TooLong { .. } => None,
            KeyError::LeadingSlash { .. } => Some(0),
            KeyError::DoubleSlash { at }
            | KeyError::DotSegment { at, .. }
            | KeyError::Dollar { at }
            | KeyError::ControlChar { at, .. }
            | KeyError::ForbiddenChar { at, .. } => Some(*at),
        }
    }
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for KeyError {}

/// Checks `key` against every rule; returns the first rule broken, reading left to right
/// (after the whole-key rules: empty, too long).
///
/// ```
/// use wx_cloud_storage_core::{validate_key, KeyError};
/// assert!(validate_key("users/42/头像.png").is_ok());
/// assert_eq!(validate_key("a/${filename}"), Err(KeyError::Dollar { at: 2 }));
/// ```
pub fn validate_key(key: &str) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyError::TooLong { len: key.len() });
    }
    let mut segment_start = 0;
    for (at, ch) in key.char_indices() {
        match ch {
            '/' | '\\' if at == 0 => return Err(KeyError::LeadingSlash { ch }),
            '/' => {
                check_segment(key, segment_start, at)?;
                segment_start = at + 1;
            }
            '$' => return Err(KeyError::Dollar { at }),
            '\u{0}'..='\u{1f}' | '\u{7f}' => return Err(KeyError::ControlChar { at, byte: ch as u8 }),
            _ if FORBIDDEN_CHARS.contains(&ch) => return Err(KeyError::ForbiddenChar { at, ch }),
            _ => {}
        }
    }
    check_segment(key, segment_start, key.len())
}

/// Checks the segment `key[start..end]`, which a `/` (or the key's end) closes at `end`.
fn check_segment(key: &str, start: usize, end: usize) -> Result<(), KeyError> {
    match &key[start..end] {
        // An empty segment before a `/` is `//`. A trailing `/` (empty last segment) is
        // allowed: COS stores it as a folder marker, as its console does.
        "" if end < key.len() => Err(KeyError::DoubleSlash { at: end }),
        "." => Err(KeyError::DotSegment { at: start, segment: "." }),
        ".." => Err(KeyError::DotSegment { at: start, segment: ".." }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_rule_and_the_byte() {
        let err = validate_key("photos/$x.png").unwrap_err();
        assert_eq!(
            err.to_string(),
            "byte 7: `$` is not allowed (COS replaces ${filename} in keys and has no escape)"
        );
        assert_eq!(err.rule(), "DOLLAR");
        assert_eq!(err.byte_offset(), Some(7));
    }

    #[test]
    fn offsets_count_bytes_not_chars() {
        // "头像" is 6 bytes of UTF-8, so the `#` after it is at byte 6.
        assert_eq!(validate_key("头像#"), Err(KeyError::ForbiddenChar { at: 6, ch: '#' }));
    }

    #[test]
    fn exactly_850_bytes_is_allowed_851_is_not() {
        assert!(validate_key(&"a".repeat(850)).is_ok());
        assert_eq!(validate_key(&"a".repeat(851)), Err(KeyError::TooLong { len: 851 }));
    }
}
