//! Multipart uploads in progress: what COS keeps between InitiateMultipartUpload and
//! CompleteMultipartUpload or AbortMultipartUpload (the requests are in `cos/multipart.rs`).
//!
//! Each part's bytes are a file in the store's `tmp/` (kept, not committed), so an upload
//! in progress costs disk, not memory. The table itself is in memory: a restart forgets the
//! uploads in progress, and the store's start-up removes their parts with every other
//! leftover (Guess at nothing: COS keeps them until aborted or its lifecycle rule; the
//! emulator's restart is the crash of a test, after which a client must start again, and
//! is told so with `NoSuchUpload`).
//!
//! COS's rules, checked at complete: at least one part, part numbers ascending, each part
//! named with the ETag it was answered with, every part but the last at least 1 MB
//! (`EntityTooSmall`), at most 10,000 parts. The object's ETag is COS's (and S3's) for a
//! multipart upload: the MD5 of the parts' MD5s, then `-` and the number of parts.

use std::{
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    sync::Mutex,
};

use md5::{Digest, Md5};

/// The smallest part but the last (COS: 1 MB).
pub(crate) const MIN_PART: u64 = 1024 * 1024;
/// The most parts, and the highest part number (COS: 10,000).
pub(crate) const MAX_PARTS: u32 = 10_000;

/// One stored part; its file is removed when it is dropped (replaced, aborted, completed).
#[derive(Debug)]
pub(crate) struct Part {
    pub(crate) file: PathBuf,
    pub(crate) size: u64,
    /// `"<md5 hex>"`.
    pub(crate) etag: String,
    pub(crate) md5: [u8; 16],
    pub(crate) last_modified: u64,
}

impl Drop for Part {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

/// One upload in progress.
#[derive(Debug)]
pub(crate) struct Multipart {
    pub(crate) key: String,
    /// When it was initiated, Unix seconds.
    pub(crate) initiated: u64,
    pub(crate) content_type: Option<String>,
    pub(crate) file_meta: Option<String>,
    pub(crate) parts: BTreeMap<u32, Part>,
}

/// Why a complete was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompleteError {
    /// No parts named, or more than [`MAX_PARTS`].
    Malformed,
    /// Part numbers not strictly ascending.
    Order,
    /// A part not uploaded, or named with another ETag.
    InvalidPart,
    /// A part but the last under [`MIN_PART`].
    TooSmall,
}

impl Multipart {
    /// The parts named by `(number, etag)` in order, checked as COS checks them; the
    /// object's ETag.
    pub(crate) fn chosen(&self, named: &[(u32, String)]) -> Result<(Vec<&Part>, String), CompleteError> {
        if named.is_empty() || named.len() > MAX_PARTS as usize {
            return Err(CompleteError::Malformed);
        }
        if named.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
            return Err(CompleteError::Order);
        }
        let unquoted = |etag: &str| etag.trim_matches('"').to_ascii_lowercase();
        let mut parts = Vec::with_capacity(named.len());
        for (number, etag) in named {
            let part = self.parts.get(number).ok_or(CompleteError::InvalidPart)?;
            if unquoted(etag) != unquoted(&part.etag) {
                return Err(CompleteError::InvalidPart);
            }
            parts.push(part);
        }
        if parts[..parts.len() - 1].iter().any(|part| part.size < MIN_PART) {
            return Err(CompleteError::TooSmall);
        }
        let mut of_md5s = Md5::new();
        for part in &parts {
            of_md5s.update(part.md5);
        }
        let etag = format!("\"{}-{}\"", hex::encode(of_md5s.finalize()), parts.len());
        Ok((parts, etag))
    }
}

/// Every upload in progress, by upload ID.
#[derive(Debug, Default)]
pub(crate) struct Uploads(pub(crate) Mutex<HashMap<String, Multipart>>);

impl Uploads {
    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(size: u64, byte: u8) -> Part {
        let md5: [u8; 16] = Md5::digest([byte]).into();
        Part {
            file: PathBuf::from("/nonexistent/part"),
            size,
            etag: format!("\"{}\"", hex::encode(md5)),
            md5,
            last_modified: 0,
        }
    }

    #[test]
    fn complete_checks_order_etags_and_sizes_as_cos_does() {
        let mut upload = Multipart {
            key: "k".into(),
            initiated: 0,
            content_type: None,
            file_meta: None,
            parts: BTreeMap::new(),
        };
        upload.parts.insert(1, part(MIN_PART, 1));
        upload.parts.insert(2, part(MIN_PART - 1, 2));
        upload.parts.insert(3, part(10, 3));
        let named = |numbers: &[u32]| -> Vec<(u32, String)> {
            numbers.iter().map(|n| (*n, upload.parts[n].etag.clone())).collect()
        };
        assert_eq!(upload.chosen(&[]).unwrap_err(), CompleteError::Malformed);
        assert_eq!(upload.chosen(&named(&[2, 1])).unwrap_err(), CompleteError::Order);
        assert_eq!(upload.chosen(&named(&[1, 1])).unwrap_err(), CompleteError::Order);
        assert_eq!(upload.chosen(&named(&[1, 2, 3])).unwrap_err(), CompleteError::TooSmall);
        assert_eq!(upload.chosen(&[(1, "\"00\"".into())]).unwrap_err(), CompleteError::InvalidPart);
        assert_eq!(upload.chosen(&[(4, "x".into())]).unwrap_err(), CompleteError::InvalidPart);
        let (parts, etag) = upload.chosen(&named(&[1, 3])).unwrap();
        assert_eq!(parts.len(), 2);
        assert!(etag.ends_with("-2\"") && etag.len() == 32 + 4, "{etag}");
        // The last part may be small, and an ETag may come unquoted.
        let unquoted = upload.parts[&2].etag.trim_matches('"').to_owned();
        assert!(upload.chosen(&[(1, upload.parts[&1].etag.clone()), (2, unquoted)]).is_ok());
    }
}
