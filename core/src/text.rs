//! Building messages without `core::fmt`.
//!
//! The browser library ships this crate as WebAssembly, where `format!` and friends pull in
//! several kilobytes of formatting machinery. Messages are therefore assembled from string
//! pieces (`[a, b, c].concat()`) with the two conversions they need: whole numbers in
//! decimal, and a byte in hex. Display impls reuse the same functions, so the server prints
//! exactly what the browser throws.

/// `n` in decimal, e.g. `"850"`.
///
/// ```
/// assert_eq!(wx_cloud_storage_core::text::decimal(0), "0");
/// assert_eq!(wx_cloud_storage_core::text::decimal(18446744073709551615), "18446744073709551615");
/// ```
pub fn decimal(mut n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[start..].iter().map(|&d| char::from(d)).collect()
}

/// `n` in decimal with a leading `-` when negative, e.g. `"-503003"`.
pub fn signed_decimal(n: i64) -> String {
    let digits = decimal(n.unsigned_abs());
    if n < 0 {
        ["-", &digits].concat()
    } else {
        digits
    }
}

/// A byte as two upper-case hex digits, e.g. `"1B"`.
pub fn hex_byte(byte: u8) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    [char::from(DIGITS[usize::from(byte >> 4)]), char::from(DIGITS[usize::from(byte & 15)])].iter().collect()
}

/// A character as a string.
pub fn char_str(ch: char) -> String {
    String::from(ch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_format() {
        for n in [0u64, 7, 10, 850, 65_535, 5_368_709_120, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
        for n in [0i64, -1, -503_003, 42, i64::MIN, i64::MAX] {
            assert_eq!(signed_decimal(n), n.to_string());
        }
        for b in [0u8, 0x1b, 0x7f, 0xff] {
            assert_eq!(hex_byte(b), format!("{b:02X}"));
        }
    }
}
