//! Streaming digests of a file for wx-cloud-storage's integrity checks: CRC-64/XZ (what COS
//! returns as `x-cos-hash-crc64ecma`), SHA-256 (content-addressed keys) and MD5 (the
//! `Content-MD5` form field), any of them in one pass.
//!
//! The wasm build exports a plain C ABI (no wasm-bindgen): JS copies each chunk of the
//! file into [`chunk`]'s buffer and calls [`update`], so memory holds one chunk, never the
//! file. Several digests can run at once (an `uploadMany` hashes files side by side), each
//! under its own handle.

use crc::{Crc, Digest as CrcDigest, Table, CRC_64_XZ};
use md5::Md5;
use sha2::{Digest as Hash, Sha256};

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: wasm32 without threads: one thread only.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// Which digests a handle computes (bit flags of [`begin`]).
pub const CRC64: u32 = 1;
/// SHA-256, 32 bytes.
pub const SHA256: u32 = 2;
/// MD5, 16 bytes.
pub const MD5: u32 = 4;

/// CRC-64/XZ by slicing-by-16, several times the bytewise table's speed. Its 32 KiB table is built on
/// first use, not shipped: 32 KiB of data the wasm file would otherwise carry.
fn crc64() -> &'static Crc<u64, Table<16>> {
    static CRC: std::sync::OnceLock<Box<Crc<u64, Table<16>>>> = std::sync::OnceLock::new();
    CRC.get_or_init(|| Box::new(Crc::<u64, Table<16>>::new(std::hint::black_box(&CRC_64_XZ))))
}

/// The digests of one stream of bytes.
pub struct Digests {
    crc64: Option<CrcDigest<'static, u64, Table<16>>>,
    sha256: Option<Sha256>,
    md5: Option<Md5>,
}

impl Digests {
    /// Starts the digests named by `which` ([`CRC64`] | [`SHA256`] | [`MD5`]).
    pub fn new(which: u32) -> Digests {
        Digests {
            crc64: (which & CRC64 != 0).then(|| crc64().digest()),
            sha256: (which & SHA256 != 0).then(<Sha256 as Hash>::new),
            md5: (which & MD5 != 0).then(<Md5 as Hash>::new),
        }
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        if let Some(d) = &mut self.crc64 {
            CrcDigest::<u64, Table<16>>::update(d, bytes);
        }
        if let Some(d) = &mut self.sha256 {
            Hash::update(d, bytes);
        }
        if let Some(d) = &mut self.md5 {
            Hash::update(d, bytes);
        }
    }

    /// The results, in flag order, each present digest's bytes: CRC-64 (8, big-endian),
    /// SHA-256 (32), MD5 (16).
    pub fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(56);
        if let Some(d) = self.crc64 {
            out.extend_from_slice(&CrcDigest::<u64, Table<16>>::finalize(d).to_be_bytes());
        }
        if let Some(d) = self.sha256 {
            out.extend_from_slice(&Hash::finalize(d));
        }
        if let Some(d) = self.md5 {
            out.extend_from_slice(&Hash::finalize(d));
        }
        out
    }
}

/// The wasm's C ABI. Each call is synchronous; JS is single-threaded, so one shared chunk
/// buffer serves every handle.
#[cfg(target_arch = "wasm32")]
mod exports {
    use super::Digests;
    use std::cell::RefCell;

    thread_local! {
        static CHUNK: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        static OPEN: RefCell<Vec<Option<Digests>>> = const { RefCell::new(Vec::new()) };
    }

    /// The address of a buffer of at least `len` bytes, for the next chunk (or the result).
    #[no_mangle]
    pub extern "C" fn chunk(len: usize) -> *mut u8 {
        CHUNK.with_borrow_mut(|chunk| {
            if chunk.len() < len {
                chunk.resize(len, 0);
            }
            chunk.as_mut_ptr()
        })
    }

    /// Starts digests (flags as [`Digests::new`]); the handle for [`update`] and [`finish`].
    #[no_mangle]
    pub extern "C" fn begin(which: u32) -> u32 {
        OPEN.with_borrow_mut(|open| {
            let digests = Some(Digests::new(which));
            match open.iter().position(Option::is_none) {
                Some(free) => {
                    open[free] = digests;
                    free as u32
                }
                None => {
                    open.push(digests);
                    (open.len() - 1) as u32
                }
            }
        })
    }

    /// Feeds the first `len` bytes of the chunk buffer to `handle`'s digests.
    #[no_mangle]
    pub extern "C" fn update(handle: u32, len: usize) {
        CHUNK.with_borrow(|chunk| {
            OPEN.with_borrow_mut(|open| {
                if let Some(Some(d)) = open.get_mut(handle as usize) {
                    d.update(&chunk[..len.min(chunk.len())]);
                }
            })
        })
    }

    /// Ends `handle`: its results are written at the start of the chunk buffer; their length.
    #[no_mangle]
    pub extern "C" fn finish(handle: u32) -> usize {
        let Some(digests) = OPEN.with_borrow_mut(|open| open.get_mut(handle as usize).and_then(Option::take))
        else {
            return 0;
        };
        let out = digests.finish();
        let at = chunk(out.len());
        // SAFETY: `chunk` just made the buffer at least `out.len()` bytes long.
        unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), at, out.len()) };
        out.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn check_values_of_every_digest() {
        let mut d = Digests::new(CRC64 | SHA256 | MD5);
        d.update(b"1234");
        d.update(b"56789");
        let out = d.finish();
        assert_eq!(u64::from_be_bytes(out[..8].try_into().unwrap()), 11051210869376104954);
        assert_eq!(hex(&out[8..40]), "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225");
        assert_eq!(hex(&out[40..]), "25f9e794323b453885f5181f1b624d0b");
    }

    #[test]
    fn chunking_does_not_change_the_crc() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let whole = crc::Crc::<u64>::new(&CRC_64_XZ).checksum(&data);
        for size in [1, 7, 64, 4096, 65_537] {
            let mut d = Digests::new(CRC64);
            for piece in data.chunks(size) {
                d.update(piece);
            }
            assert_eq!(u64::from_be_bytes(d.finish()[..8].try_into().unwrap()), whole, "chunks of {size}");
        }
    }

    #[test]
    fn only_the_digests_asked_for_are_returned() {
        assert_eq!(Digests::new(0).finish().len(), 0);
        assert_eq!(Digests::new(SHA256).finish().len(), 32);
        assert_eq!(Digests::new(MD5 | CRC64).finish().len(), 24);
    }
}
