//! `validate_key` against a plain reference of the rules (architecture.md, "Key rules"):
//! the same verdict for every string, and the same first broken rule at the same byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wx_cloud_storage_core::{key::MAX_KEY_BYTES, validate_key};

/// Every broken rule as (byte offset, rule), by the rules' own words; the first is the one
/// to report. Written differently from the library on purpose: segments by `split`.
fn reference(key: &str) -> Option<(usize, &'static str)> {
    if key.is_empty() {
        return Some((0, "EMPTY"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Some((0, "TOO_LONG"));
    }
    if key.starts_with('/') || key.starts_with('\\') {
        return Some((0, "LEADING_SLASH"));
    }
    let mut broken = Vec::new();
    for (at, ch) in key.char_indices() {
        if ch == '$' {
            broken.push((at, "DOLLAR"));
        } else if (ch as u32) < 0x20 || ch as u32 == 0x7f {
            broken.push((at, "CONTROL_CHAR"));
        } else if "`^\"\\{}[]~%#<>|?".contains(ch) {
            broken.push((at, "FORBIDDEN_CHAR"));
        }
    }
    let segments: Vec<&str> = key.split('/').collect();
    let mut start = 0;
    for (i, segment) in segments.iter().enumerate() {
        let last = i == segments.len() - 1;
        if segment.is_empty() && !last {
            broken.push((start, "DOUBLE_SLASH")); // the `/` right after the previous one
        } else if *segment == "." || *segment == ".." {
            broken.push((start, "DOT_SEGMENT"));
        }
        start += segment.len() + 1;
    }
    broken.into_iter().min()
}

fuzz_target!(|key: &str| {
    let got = validate_key(key).err().map(|e| (e.byte_offset().unwrap_or(0), e.rule()));
    assert_eq!(got, reference(key), "{key:?}");
});
