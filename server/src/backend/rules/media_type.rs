//! Reading a `Content-Type` strictly, and telling markup apart, for the type limits.
//!
//! A type limit is only as good as the reading of the type: browsers read a `Content-Type`
//! that is a list (`image/png,text/html`, `image/png;,text/html`) by its last member, so a
//! lenient reading that takes the first would let HTML through as `image/png`. Here a type
//! is exactly one `type/subtype` of token characters with `name=value` token parameters: no
//! comma, no quote, nothing else. Markup (HTML, XML, SVG, any `+xml`) runs scripts on the
//! storage's origin, so a family (`image/*`, `text/*`) never admits it unless named, and
//! bytes that start like markup are markup whatever type they were given (the HTML
//! signatures of the WHATWG MIME Sniffing standard, and `<?xml`, `<svg`).

/// The essence (`type/subtype`, lowercase) of a strictly read `Content-Type`; `None` when it
/// is not exactly one type with token parameters.
pub(crate) fn essence(content_type: &str) -> Option<String> {
    if content_type.contains([',', '"']) {
        return None;
    }
    let mut parts = content_type.split(';');
    let essence = parts.next()?.trim();
    let (kind, subtype) = essence.split_once('/')?;
    if !is_token(kind) || !is_token(subtype) {
        return None;
    }
    for parameter in parts {
        let (name, value) = parameter.trim().split_once('=')?;
        if !is_token(name) || !is_token(value) {
            return None;
        }
    }
    Some(essence.to_ascii_lowercase())
}

/// RFC 9110 token characters, at least one.
fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether a type's essence is markup a browser may run scripts in.
pub(crate) fn is_markup(essence: &str) -> bool {
    essence.ends_with("+xml")
        || ["text/html", "text/xml", "application/xml", "application/xhtml+xml", "text/xsl"]
            .contains(&essence)
}

/// HTML signatures (WHATWG MIME Sniffing, "identifying a resource with an unknown MIME
/// type"), each followed by a space or `>`.
const HTML_TAGS: [&[u8]; 17] = [
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<body",
    b"<br",
    b"<p",
    b"<svg",
];

/// Whether `head` (an object's first bytes) starts like markup, after a byte-order mark and
/// whitespace: an HTML or SVG tag, an HTML comment, or an XML declaration.
pub(crate) fn starts_like_markup(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start =
        head.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0C)).unwrap_or(head.len());
    let head = &head[start..];
    let lower: Vec<u8> = head.iter().take(16).map(u8::to_ascii_lowercase).collect();
    if lower.starts_with(b"<?xml") || lower.starts_with(b"<!--") {
        return true;
    }
    HTML_TAGS.iter().any(|tag| {
        lower.starts_with(tag)
            && matches!(lower.get(tag.len()), Some(b' ' | b'>' | b'\t' | b'\n' | b'\r' | b'/'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_is_one_type_with_token_parameters() {
        assert_eq!(essence("image/PNG").as_deref(), Some("image/png"));
        assert_eq!(essence("text/plain; charset=utf-8").as_deref(), Some("text/plain"));
        for bad in [
            "image/png;,text/html",
            "image/png,text/html",
            "image/png, image/svg+xml",
            "image/png; a=\"b,text/html\"",
            "image/png; a=\"b\"",
            "image/png;",
            "image/png; charset",
            "image",
            "image/",
            "/png",
            "image/png text/html",
            "image/png/x",
            "",
        ] {
            assert_eq!(essence(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn markup_is_told_by_type_and_by_first_bytes() {
        assert!(is_markup("image/svg+xml") && is_markup("application/xhtml+xml") && is_markup("text/html"));
        assert!(!is_markup("image/png") && !is_markup("application/pdf"));
        for markup in [
            &b"<html><script>"[..],
            b"\xEF\xBB\xBF  \n<!DOCTYPE HTML>",
            b"<?xml version='1.0'?>",
            b"<svg xmlns='x'/>",
            b"<SCRIPT>alert(1)",
            b"<!-- x -->",
            b"<p>hi",
        ] {
            assert!(starts_like_markup(markup), "{:?}", String::from_utf8_lossy(markup));
        }
        for not in [&b"\x89PNG\r\n"[..], b"%PDF-1.7", b"hello <html>", b"<abbr>", b"GIF89a<script>"] {
            assert!(!starts_like_markup(not), "{:?}", String::from_utf8_lossy(not));
        }
    }
}
