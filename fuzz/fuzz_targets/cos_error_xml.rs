//! COS's XML error bodies: `CosError::scan` (the browser library's lenient reader) never
//! panics on any text, and on every body COS could send (any field text, escaped as XML)
//! it reads what quick-xml (the server's parser) reads, which is what was written.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wx_cloud_storage_core::protocol::CosError;

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    /// Any text at all.
    Raw(&'a str),
    /// A body as COS writes one.
    Fields { code: String, message: String, resource: String, request_id: String, trace_id: String },
}

/// Text quick-xml writes and reads back unchanged: XML 1.0 characters, without line ends
/// (quick-xml reads U+0085 as a line feed, as XML 1.1 would) and surrounding spaces, which
/// COS never sends in these fields.
fn xml_text(s: String) -> String {
    s.chars()
        .filter(|&c| matches!(c, '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..))
        .filter(|&c| c != '\u{85}' && c != '\u{2028}')
        .collect::<String>()
        .trim()
        .to_owned()
}

fuzz_target!(|input: Input| match input {
    Input::Raw(text) => {
        let _ = CosError::scan(text);
    }
    Input::Fields { code, message, resource, request_id, trace_id } => {
        let written = CosError {
            code: xml_text(code),
            message: xml_text(message),
            resource: xml_text(resource),
            request_id: xml_text(request_id),
            trace_id: xml_text(trace_id),
        };
        let body = written.to_xml();
        let scanned = CosError::scan(&body);
        assert_eq!(
            (&scanned.code, &scanned.message, &scanned.request_id),
            (&written.code, &written.message, &written.request_id),
            "{body}"
        );
        assert_eq!(CosError::from_xml(&body).expect("COS's own shape parses"), written, "{body}");
    }
});
