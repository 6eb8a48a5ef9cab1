//! Folder patterns: `users/{uid}/`, `shops/{shop}/products/`, `public/`. Each is whole
//! segments, fixed names or `{captures}`, ending with `/`; the empty pattern is the whole
//! bucket. A key is in a folder when its first segments match the pattern's (a capture
//! matches any one non-empty segment) and at least one more segment follows. Keys are
//! compared as bytes, as COS compares them, after they passed the key rules (no `.`, `..`,
//! `//`, `%`, `\`, control characters), so no spelling of a key can reach another folder.

use wx_cloud_storage_core::validate_key;

/// One segment of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Fixed(String),
    Capture(String),
}

/// A parsed folder pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    segments: Vec<Segment>,
}

/// The values a key gave a pattern's captures, by name.
pub type Captures<'k> = Vec<(String, &'k str)>;

impl Pattern {
    /// Parses `text`, saying what is wrong and what to write instead.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        if text.is_empty() {
            return Ok(Pattern { text: String::new(), segments: Vec::new() });
        }
        let Some(body) = text.strip_suffix('/') else {
            return Err(format!(
                "{text:?} must end with '/', so that a folder is whole path segments (e.g. \"users/{{uid}}/\")"
            ));
        };
        let mut segments = Vec::new();
        for segment in body.split('/') {
            segments.push(Self::segment(text, segment, &segments)?);
        }
        if matches!(segments.first(), Some(Segment::Capture(_))) {
            return Err(format!(
                "{text:?} starts with a capture: a folder starts with a fixed name (e.g. \"users/{{uid}}/\"), \
                 so that a bare file name is never taken for a folder"
            ));
        }
        Ok(Pattern { text: text.to_owned(), segments })
    }

    fn segment(text: &str, segment: &str, before: &[Segment]) -> Result<Segment, String> {
        if segment.is_empty() {
            return Err(format!("{text:?} has an empty segment: no leading '/' and no '//'"));
        }
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let good = !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && name.as_bytes()[0].is_ascii_lowercase();
            if !good {
                return Err(format!(
                    "{text:?}: a capture is a whole segment named with a-z, 0-9 and _, like {{uid}}"
                ));
            }
            if before.contains(&Segment::Capture(name.to_owned())) {
                return Err(format!("{text:?} names the capture {{{name}}} twice"));
            }
            return Ok(Segment::Capture(name.to_owned()));
        }
        if segment.contains(['{', '}']) {
            return Err(format!("{text:?}: a capture must be a whole segment, like users/{{uid}}/"));
        }
        validate_key(segment)
            .map_err(|e| format!("{text:?}: the segment {segment:?} is not a valid key: {}", e.message()))?;
        Ok(Segment::Fixed(segment.to_owned()))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The captures' names, in order.
    pub fn captures(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Capture(name) => Some(name.as_str()),
            Segment::Fixed(_) => None,
        })
    }

    /// The captures `key` gives this folder, if `key` is in it. `key` passed the key rules.
    pub fn matches<'k>(&self, key: &'k str) -> Option<Captures<'k>> {
        let mut parts = key.split('/');
        let mut captures = Vec::new();
        for segment in &self.segments {
            let part = parts.next()?;
            match segment {
                Segment::Fixed(name) if name == part => {}
                Segment::Fixed(_) => return None,
                Segment::Capture(_) if part.is_empty() => return None,
                Segment::Capture(name) => captures.push((name.clone(), part)),
            }
        }
        // A file, not the folder itself: something non-empty follows.
        parts.next().filter(|rest| !rest.is_empty())?;
        Some(captures)
    }

    /// Whether `path` starts with this pattern's fixed segments before its first capture
    /// (`users/` for `users/{uid}/`): such a path names a place inside this folder's space
    /// and is never moved into the caller's home.
    pub fn claims(&self, path: &str) -> bool {
        let fixed: Vec<&str> = self
            .segments
            .iter()
            .map_while(|s| match s {
                Segment::Fixed(name) => Some(name.as_str()),
                Segment::Capture(_) => None,
            })
            .collect();
        let parts: Vec<&str> = path.split('/').collect();
        !fixed.is_empty() && parts.len() > fixed.len() && parts[..fixed.len()] == fixed[..]
    }

    /// The pattern with its captures replaced (`{uid}` → `42`); `None` if one has no value.
    pub fn fill(&self, value: impl Fn(&str) -> Option<String>) -> Option<String> {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Fixed(name) => out.push_str(name),
                Segment::Capture(name) => out.push_str(&value(name)?),
            }
            out.push('/');
        }
        Some(out)
    }

    /// How specific the folder is: more segments first, then more fixed ones. The most
    /// specific folder a key is in decides for it.
    pub fn specificity(&self) -> (usize, usize) {
        let fixed = self.segments.iter().filter(|s| matches!(s, Segment::Fixed(_))).count();
        (self.segments.len(), fixed)
    }

    /// Whether some key could be in both folders with neither more specific (so no one
    /// could tell which decides): same specificity, and segment by segment the same fixed
    /// name or a capture on either side.
    pub fn ambiguous_with(&self, other: &Pattern) -> bool {
        self.specificity() == other.specificity()
            && self.segments.iter().zip(&other.segments).all(|pair| match pair {
                (Segment::Fixed(a), Segment::Fixed(b)) => a == b,
                _ => true,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_whole_segments() {
        for good in ["users/{uid}/", "public/", "shops/{shop}/products/", "", "a/b/c/"] {
            assert!(Pattern::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "users/{uid}",
            "users/u{uid}/",
            "/users/",
            "users//",
            "{uid}/files/",
            "users/{UID}/",
            "users/{}/",
            "a/{x}/{x}/",
            "a/../",
            "a/%2e/",
            "a/$x/",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_match_by_whole_segments() {
        let p = Pattern::parse("users/{uid}/").unwrap();
        assert_eq!(p.matches("users/42/a.png"), Some(vec![("uid".into(), "42")]));
        assert_eq!(p.matches("users/42/x/y.png"), Some(vec![("uid".into(), "42")]));
        assert_eq!(p.matches("users/42/"), None, "the folder itself is no file");
        assert_eq!(p.matches("users/42"), None);
        assert_eq!(p.matches("usersx/42/a"), None);
        assert_eq!(p.matches("Users/42/a"), None, "bytes, as COS compares");
        assert!(
            p.claims("users/a.png") && p.claims("users/7/a.png") && !p.claims("a.png") && !p.claims("users")
        );
        let root = Pattern::parse("").unwrap();
        assert_eq!(root.matches("anything/at/all"), Some(vec![]));
        assert!(!root.claims("a.png"));
    }

    #[test]
    fn specificity_and_ambiguity() {
        let users = Pattern::parse("users/{uid}/").unwrap();
        let public = Pattern::parse("users/public/").unwrap();
        assert!(!users.ambiguous_with(&public), "a fixed name is more specific than a capture");
        assert!(public.specificity() > users.specificity());
        let a = Pattern::parse("shops/{shop}/x/").unwrap();
        let b = Pattern::parse("shops/{id}/x/").unwrap();
        assert!(a.ambiguous_with(&b));
        assert_eq!(users.fill(|_| Some("42".into())).as_deref(), Some("users/42/"));
    }
}
