//! Objects on disk, with atomic writes.
//!
//! Layout under the data directory:
//!
//! - `tmp/`: uploads in progress; cleared at start (a crash leaves nothing visible);
//! - `objects/<random id>`: object bytes, never rewritten in place;
//! - `meta/<sha1 of key>.json`: the object's metadata, naming its bytes file.
//!
//! An upload streams into `tmp/`, is synced, moved into `objects/`, and only then becomes
//! visible by an atomic rename of its metadata file. A failed, aborted or crashed upload
//! therefore never shows a partial object, and an overwrite swaps whole objects.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Mutex,
};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use tokio::{fs, io::AsyncWriteExt};

use super::random_hex;

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_XZ);

/// What is known about a stored object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectMeta {
    pub(crate) key: String,
    pub(crate) size: u64,
    /// The `Content-Type` form field, if one was sent.
    pub(crate) content_type: Option<String>,
    /// `"<md5 hex>"`, as COS gives for a simple upload.
    pub(crate) etag: String,
    /// CRC-64/ECMA-182 (as COS's `x-cos-hash-crc64ecma`), decimal.
    pub(crate) crc64: String,
    /// The `x-cos-meta-fileid` field; `None` when the uploader forgot it.
    pub(crate) file_meta: Option<String>,
    /// Name of the bytes file under `objects/`.
    data: String,
}

/// An upload being written to `tmp/`.
pub(crate) struct Upload {
    file: fs::File,
    path: PathBuf,
    size: u64,
    md5: Md5,
    crc: crc::Digest<'static, u64>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload").field("path", &self.path).field("size", &self.size).finish_non_exhaustive()
    }
}

impl Upload {
    /// Appends a chunk.
    pub(crate) async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.file.write_all(chunk).await?;
        self.size += chunk.len() as u64;
        self.md5.update(chunk);
        self.crc.update(chunk);
        Ok(())
    }

    /// Bytes written so far.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Throws the upload away.
    pub(crate) async fn discard(self) {
        drop(self.file);
        let _ = fs::remove_file(&self.path).await;
    }
}

/// The object store of one bucket.
#[derive(Debug)]
pub(crate) struct Store {
    root: PathBuf,
    index: Mutex<HashMap<String, ObjectMeta>>,
}

fn meta_name(key: &str) -> String {
    format!("{}.json", hex::encode(Sha1::digest(key.as_bytes())))
}

impl Store {
    /// Opens (or creates) the store under `root`, dropping any leftover partial uploads.
    pub(crate) async fn open(root: &Path) -> std::io::Result<Store> {
        let _ = fs::remove_dir_all(root.join("tmp")).await;
        for dir in ["tmp", "objects", "meta"] {
            fs::create_dir_all(root.join(dir)).await?;
        }
        let mut index = HashMap::new();
        let mut entries = fs::read_dir(root.join("meta")).await?;
        while let Some(entry) = entries.next_entry().await? {
            let Ok(bytes) = fs::read(entry.path()).await else { continue };
            if let Ok(meta) = serde_json::from_slice::<ObjectMeta>(&bytes) {
                index.insert(meta.key.clone(), meta);
            }
        }
        Ok(Store { root: root.to_path_buf(), index: Mutex::new(index) })
    }

    /// Starts writing a new upload in `tmp/`.
    pub(crate) async fn begin(&self) -> std::io::Result<Upload> {
        let path = self.root.join("tmp").join(random_hex(16));
        let file = fs::File::create(&path).await?;
        Ok(Upload { file, path, size: 0, md5: Md5::new(), crc: CRC64.digest() })
    }

    /// Makes `upload` the object at `key`, atomically replacing any previous one.
    pub(crate) async fn commit(
        &self,
        upload: Upload,
        key: &str,
        content_type: Option<String>,
        file_meta: Option<String>,
    ) -> std::io::Result<ObjectMeta> {
        upload.file.sync_all().await?;
        let data = random_hex(16);
        fs::rename(&upload.path, self.root.join("objects").join(&data)).await?;
        let meta = ObjectMeta {
            key: key.to_owned(),
            size: upload.size,
            content_type,
            etag: format!("\"{}\"", hex::encode(upload.md5.finalize())),
            crc64: upload.crc.finalize().to_string(),
            file_meta,
            data,
        };
        let tmp = self.root.join("tmp").join(random_hex(16));
        let mut file = fs::File::create(&tmp).await?;
        file.write_all(&serde_json::to_vec(&meta).expect("metadata serialises")).await?;
        file.sync_all().await?;
        fs::rename(&tmp, self.root.join("meta").join(meta_name(key))).await?;
        let previous = self.index.lock().unwrap().insert(key.to_owned(), meta.clone());
        if let Some(previous) = previous {
            let _ = fs::remove_file(self.data_path(&previous)).await;
        }
        Ok(meta)
    }

    /// The object at `key`.
    pub(crate) fn get(&self, key: &str) -> Option<ObjectMeta> {
        self.index.lock().unwrap().get(key).cloned()
    }

    /// Where an object's bytes are.
    pub(crate) fn data_path(&self, meta: &ObjectMeta) -> PathBuf {
        self.root.join("objects").join(&meta.data)
    }

    /// Deletes the object at `key`; `false` if there was none.
    pub(crate) async fn delete(&self, key: &str) -> std::io::Result<bool> {
        let Some(meta) = self.index.lock().unwrap().remove(key) else { return Ok(false) };
        fs::remove_file(self.root.join("meta").join(meta_name(key))).await?;
        let _ = fs::remove_file(self.data_path(&meta)).await;
        Ok(true)
    }

    /// How many objects are stored.
    pub(crate) fn len(&self) -> usize {
        self.index.lock().unwrap().len()
    }
}
