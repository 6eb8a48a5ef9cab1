//! The key table (shared with the browser suite in `tests/web.rs`) and property tests.

use proptest::prelude::*;
use serde::Deserialize;
use wx_cloud_storage_core::{key::FORBIDDEN_CHARS, validate_key};

/// One row of `tests/data/keys.json`.
#[derive(Debug, Deserialize)]
struct Case {
    key: String,
    /// `None` for a valid key, else the rule it must break.
    rule: Option<String>,
    /// The byte offset the error must report, for rules about one place.
    at: Option<usize>,
    why: String,
}

fn table() -> Vec<Case> {
    serde_json::from_str(include_str!("data/keys.json")).expect("keys.json parses")
}

#[test]
fn the_table_covers_every_rule_and_enough_keys() {
    let cases = table();
    assert!(cases.len() >= 40, "only {} keys", cases.len());
    assert!(cases.iter().filter(|c| c.rule.is_none()).count() >= 10);
    for rule in [
        "EMPTY",
        "TOO_LONG",
        "LEADING_SLASH",
        "DOUBLE_SLASH",
        "DOT_SEGMENT",
        "DOLLAR",
        "CONTROL_CHAR",
        "FORBIDDEN_CHAR",
    ] {
        assert!(cases.iter().any(|c| c.rule.as_deref() == Some(rule)), "no case breaks {rule}");
    }
    for ch in FORBIDDEN_CHARS {
        assert!(
            cases.iter().any(|c| c.rule.as_deref() == Some("FORBIDDEN_CHAR") && c.key.contains(*ch)),
            "no case for {ch:?}"
        );
    }
}

#[test]
fn every_key_in_the_table_gets_its_verdict() {
    for case in table() {
        let result = validate_key(&case.key);
        match (&case.rule, result) {
            (None, Ok(())) => {}
            (None, Err(e)) => panic!("{} ({:?}) was refused: {e}", case.why, case.key),
            (Some(rule), Ok(())) => panic!("{} ({:?}) was accepted, expected {rule}", case.why, case.key),
            (Some(rule), Err(e)) => {
                assert_eq!(e.rule(), rule, "{}: {e}", case.why);
                assert_eq!(e.byte_offset(), case.at, "{}: {e}", case.why);
                if let Some(at) = case.at {
                    assert!(e.to_string().starts_with(&format!("byte {at}: ")), "{e}");
                }
            }
        }
    }
}

fn is_forbidden(ch: char) -> bool {
    ch == '$' || ch.is_ascii_control() || FORBIDDEN_CHARS.contains(&ch)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Any UTF-8 at all: validation returns, and accepts nothing with a forbidden character.
    #[test]
    fn never_panics_and_never_accepts_forbidden_characters(key in any::<String>()) {
        if validate_key(&key).is_ok() {
            prop_assert!(!key.chars().any(is_forbidden), "accepted {key:?}");
            prop_assert!(!key.is_empty() && key.len() <= 850);
            prop_assert!(!key.starts_with('/') && !key.contains("//"));
            prop_assert!(!key.split('/').any(|s| s == "." || s == ".."));
        }
    }

    /// Keys built mostly of path-ish characters, so the segment rules get exercised too.
    #[test]
    fn path_like_keys_obey_every_rule(key in "[a./$#\\\\\u{0}头 ]{0,12}") {
        let verdict = validate_key(&key);
        let clean = !key.is_empty()
            && !key.starts_with('/')
            && !key.contains("//")
            && !key.split('/').any(|s| s == "." || s == "..")
            && !key.chars().any(is_forbidden)
            && !key.starts_with('\\');
        prop_assert_eq!(verdict.is_ok(), clean, "{:?} → {:?}", key, verdict);
        if let Err(e) = verdict {
            if let Some(at) = e.byte_offset() {
                prop_assert!(key.is_char_boundary(at) && at < key.len());
            }
        }
    }

    /// Inserting one forbidden character anywhere into a valid key makes it invalid.
    #[test]
    fn one_forbidden_character_anywhere_is_refused(
        prefix in "[a-z头]{1,8}",
        suffix in "[a-z0-9]{0,8}",
        bad in prop::sample::select(FORBIDDEN_CHARS.iter().copied().chain(['$', '\u{0}', '\u{1f}', '\u{7f}']).collect::<Vec<_>>()),
    ) {
        let key = format!("{prefix}{bad}{suffix}");
        let err = validate_key(&key).unwrap_err();
        prop_assert_eq!(err.byte_offset(), Some(prefix.len()));
    }
}
