//! The emulator's check of COS signatures: any `authorization` string is answered without
//! a panic; a signature made for one key, secret and window verifies for exactly those.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wx_cloud_storage_server::cos_sign::{sign, verify, SignatureError};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    authorization: &'a str,
    key: &'a str,
    other_key: &'a str,
    secret: &'a str,
    start: u32,
    length: u16,
    now: u32,
}

fuzz_target!(|input: Input| {
    let Input { authorization, key, other_key, secret, start, length, now } = input;
    let (start, now) = (u64::from(start), u64::from(now));
    let end = start + u64::from(length);
    let _ = verify("AKIDfuzz", secret, "post", key, authorization, now);

    let signed = sign("AKIDfuzz", secret, "post", key, start, end);
    let expected = if (start..=end).contains(&now) { Ok(()) } else { Err(SignatureError::Expired { end }) };
    assert_eq!(verify("AKIDfuzz", secret, "post", key, &signed, now), expected);
    assert_eq!(verify("AKIDother", secret, "post", key, &signed, start), Err(SignatureError::UnknownKeyId));
    if other_key != key {
        assert_eq!(
            verify("AKIDfuzz", secret, "post", other_key, &signed, start),
            Err(SignatureError::Mismatch)
        );
    }
});
