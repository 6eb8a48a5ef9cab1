//! `Range` requests (RFC 7233) against an object of known size: one byte range, the rest
//! ignored as HTTP allows, and 416 for a well-formed range outside the object.

/// What a `Range` header asks of an object.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RangeAsked {
    /// Serve the whole object: another unit, a malformed spec, or several ranges
    /// (RFC 7233 §3.1: a server ignores a range unit it does not understand, and may ignore
    /// the header otherwise; several ranges served whole is a guess, also legal HTTP).
    Whole,
    /// `(start, length)` of the object.
    Part(u64, u64),
    /// A well-formed `bytes=` range outside the object: 416.
    Unsatisfiable,
}

/// Reads a `Range` header against an object of `size` bytes.
pub(crate) fn parse_range(spec: &str, size: u64) -> RangeAsked {
    let Some(spec) = spec.trim().strip_prefix("bytes=") else { return RangeAsked::Whole };
    let spec = spec.trim();
    let Some((first, last)) = spec.split_once('-').filter(|_| !spec.contains(',')) else {
        return RangeAsked::Whole;
    };
    let number = |text: &str| text.trim().parse::<u64>().ok();
    let (start, end) = match (first.trim(), last.trim()) {
        ("", suffix) => match number(suffix) {
            Some(n) if n > 0 && size > 0 => (size - n.min(size), size - 1),
            // `bytes=-0`, or any suffix of an empty object.
            Some(_) => return RangeAsked::Unsatisfiable,
            None => return RangeAsked::Whole,
        },
        (first, "") => match number(first) {
            Some(start) => (start, size.saturating_sub(1)),
            None => return RangeAsked::Whole,
        },
        (first, last) => match (number(first), number(last)) {
            (Some(start), Some(end)) if start <= end => (start, end.min(size.saturating_sub(1))),
            // `last < first` is invalid syntax (RFC 7233 §2.1): ignored, not refused.
            _ => return RangeAsked::Whole,
        },
    };
    if start < size {
        RangeAsked::Part(start, end - start + 1)
    } else {
        RangeAsked::Unsatisfiable
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_range, RangeAsked::*};

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Part(0, 10));
        assert_eq!(parse_range("bytes=90-", 100), Part(90, 10));
        assert_eq!(parse_range("bytes=-10", 100), Part(90, 10));
        assert_eq!(parse_range("bytes=-200", 100), Part(0, 100));
        assert_eq!(parse_range("bytes=95-200", 100), Part(95, 5));
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), Unsatisfiable);
        // Ignored, so the whole object (RFC 7233 §3.1).
        assert_eq!(parse_range("items=0-1", 100), Whole);
        assert_eq!(parse_range("bytes=5-2", 100), Whole);
        assert_eq!(parse_range("bytes=a-b", 100), Whole);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Whole);
    }
}
