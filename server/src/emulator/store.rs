//! Objects on disk, with atomic writes.
//!
//! Layout under the data directory:
//!
//! - `.wxcs-store`: the marker that says the directory is a store (the store refuses a
//!   non-empty directory without it, and never deletes anything it did not create);
//! - `tmp/`: uploads in progress; its files are removed at start (a crash leaves nothing
//!   visible);
//! - `objects/<random id>`: object bytes, never rewritten in place;
//! - `meta/<sha1 of key>.json`: the object's metadata, naming its bytes file.
//!
//! An upload streams into `tmp/`, is synced, moved into `objects/`, and only then becomes
//! visible by an atomic rename of its metadata file. A failed, aborted or crashed upload
//! therefore never shows a partial object, and an overwrite swaps whole objects. Making an
//! object visible, deleting one and opening one for reading are serialised, so the index
//! and `meta/` always agree, and no reader finds its bytes file gone.

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

/// An upload being written to `tmp/`. Dropped before its commit (refused, failed, or its
/// request cancelled because the client went away mid-body), it removes its file.
pub(crate) struct Upload {
    file: fs::File,
    /// The file in `tmp/`; `None` once committed.
    path: Option<PathBuf>,
    size: u64,
    md5: Md5,
    crc: crc::Digest<'static, u64>,
    /// The ETag the object gets instead of its MD5's (a multipart upload's).
    etag: Option<String>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload").field("path", &self.path).field("size", &self.size).finish_non_exhaustive()
    }
}

impl Upload {
    /// The MD5 of the bytes written so far (what `Content-MD5` is checked against).
    pub(crate) fn md5(&self) -> [u8; 16] {
        self.md5.clone().finalize().into()
    }

    /// COS's CRC-64 of the bytes written so far, decimal.
    pub(crate) fn crc64(&self) -> String {
        self.crc.clone().finalize().to_string()
    }

    /// The bytes written so far.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Gives the object this ETag when it is committed (COS's for a multipart upload).
    pub(crate) fn set_etag(&mut self, etag: String) {
        self.etag = Some(etag);
    }

    /// Keeps the bytes written (synced) in `tmp/` without making an object of them: a
    /// multipart upload's part. The caller owns the file from here (and removes it); a
    /// restart removes it with every leftover.
    pub(crate) async fn keep(mut self) -> std::io::Result<PathBuf> {
        self.file.sync_all().await?;
        Ok(self.path.take().expect("an upload is kept once"))
    }

    /// Appends a chunk.
    pub(crate) async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.file.write_all(chunk).await?;
        self.size += chunk.len() as u64;
        self.md5.update(chunk);
        self.crc.update(chunk);
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // Synchronous on purpose: a cancelled request's future is dropped, never polled
        // again, so an async removal could not run. Unlinking one file is quick.
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The object store of one bucket.
#[derive(Debug)]
pub(crate) struct Store {
    root: PathBuf,
    index: Mutex<HashMap<String, ObjectMeta>>,
    /// Held while an object becomes visible, is deleted or is opened for reading.
    visibility: tokio::sync::Mutex<()>,
}

fn meta_name(key: &str) -> String {
    format!("{}.json", hex::encode(Sha1::digest(key.as_bytes())))
}

/// The file that marks a directory as a store.
const MARKER: &str = ".wxcs-store";
/// The folders a store keeps (stores made before the marker existed hold only these).
const FOLDERS: [&str; 3] = ["tmp", "objects", "meta"];

/// Whether `name` has the exact shape of the names the store gives its files
/// (`random_hex(16)`): only such files are ever removed or read as object bytes.
fn is_store_name(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `name` is a metadata file name the store writes (`<sha1 hex>.json`).
fn is_meta_name(name: &str) -> bool {
    name.strip_suffix(".json")
        .is_some_and(|hash| hash.len() == 40 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

fn not_a_store(root: &Path, why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("{} is not a wxcs store ({why}): give --data-dir a new or empty directory", root.display()),
    )
}

/// Checks that `root` is a store, a directory a store may be made in (absent or empty), or
/// a store from before the marker; marks it. An unmarked directory is adopted only when it
/// holds exactly the three folders, as real directories, and every file in `meta/` is
/// metadata the store wrote: anything less may be someone's files that happen to have hex
/// names, and a store removes files.
async fn claim(root: &Path) -> std::io::Result<()> {
    if fs::try_exists(root.join(MARKER)).await? {
        return Ok(());
    }
    if fs::try_exists(root).await? {
        let mut names = Vec::new();
        let mut entries = fs::read_dir(root).await?;
        while let Some(entry) = entries.next_entry().await? {
            names.push(entry.file_name());
        }
        if !names.is_empty() {
            if names.len() != FOLDERS.len() || !FOLDERS.iter().all(|folder| names.iter().any(|n| n == folder))
            {
                return Err(not_a_store(root, &format!("it is not empty and has no {MARKER}")));
            }
            ensure_real_folders(root).await?;
            ensure_old_metadata(root).await?;
        }
    }
    fs::create_dir_all(root).await?;
    fs::write(root.join(MARKER), "wx-cloud-storage emulator store; wxcs manages tmp/, objects/ and meta/\n")
        .await
}

/// Refuses a store whose folders are symlinks (or files): the store never follows a link
/// out of its own directory.
async fn ensure_real_folders(root: &Path) -> std::io::Result<()> {
    for folder in FOLDERS {
        if !fs::symlink_metadata(root.join(folder)).await?.file_type().is_dir() {
            return Err(not_a_store(root, &format!("{folder}/ is not a plain directory")));
        }
    }
    Ok(())
}

/// Refuses an unmarked store whose `meta/` holds anything but the store's metadata.
async fn ensure_old_metadata(root: &Path) -> std::io::Result<()> {
    let mut entries = fs::read_dir(root.join("meta")).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name();
        let ours = name.to_str().is_some_and(is_meta_name) && entry.file_type().await?.is_file();
        let parses = ours
            && serde_json::from_slice::<ObjectMeta>(&fs::read(entry.path()).await?)
                .is_ok_and(|meta| is_store_name(&meta.data));
        if !parses {
            return Err(not_a_store(root, &format!("meta/{} is not its metadata", name.to_string_lossy())));
        }
    }
    Ok(())
}

/// Reads every object's metadata. Metadata naming a bytes file of another shape (a path
/// out of `objects/`, say) is skipped with a warning: it is not the store's.
async fn read_index(root: &Path) -> std::io::Result<HashMap<String, ObjectMeta>> {
    let mut index = HashMap::new();
    let mut entries = fs::read_dir(root.join("meta")).await?;
    while let Some(entry) = entries.next_entry().await? {
        let Ok(bytes) = fs::read(entry.path()).await else { continue };
        match serde_json::from_slice::<ObjectMeta>(&bytes) {
            Ok(meta) if is_store_name(&meta.data) => {
                index.insert(meta.key.clone(), meta);
            }
            Ok(_) => {
                tracing::warn!(file = %entry.path().display(), "metadata names a file outside objects/; skipped")
            }
            Err(_) => {}
        }
    }
    Ok(index)
}

impl Store {
    /// Opens (or creates) the store under `root`, removing leftover partial uploads.
    pub(crate) async fn open(root: &Path) -> std::io::Result<Store> {
        claim(root).await?;
        for dir in FOLDERS {
            fs::create_dir_all(root.join(dir)).await?;
        }
        ensure_real_folders(root).await?;
        // Only plain files with the names the store writes are removed, never a folder.
        let mut leftovers = fs::read_dir(root.join("tmp")).await?;
        while let Some(entry) = leftovers.next_entry().await? {
            let is_ours = entry.file_name().to_str().is_some_and(is_store_name);
            if is_ours && entry.file_type().await?.is_file() {
                let _ = fs::remove_file(entry.path()).await;
            }
        }
        let index = read_index(root).await?;
        // Bytes no metadata names: a crash after an upload's bytes moved into objects/ and
        // before its metadata did, or before an overwrite removed the bytes it replaced.
        let named: std::collections::HashSet<&str> = index.values().map(|meta| meta.data.as_str()).collect();
        let mut objects = fs::read_dir(root.join("objects")).await?;
        while let Some(entry) = objects.next_entry().await? {
            let name = entry.file_name();
            let ours = name.to_str().filter(|n| is_store_name(n));
            if ours.is_some_and(|n| !named.contains(n)) && entry.file_type().await?.is_file() {
                let _ = fs::remove_file(entry.path()).await;
            }
        }
        Ok(Store { root: root.to_path_buf(), index: Mutex::new(index), visibility: Default::default() })
    }

    /// Starts writing a new upload in `tmp/`.
    pub(crate) async fn begin(&self) -> std::io::Result<Upload> {
        let path = self.root.join("tmp").join(random_hex(16));
        // Synchronous, so there is no await between creating the file and owning it: a
        // request cancelled inside an async create would leave the file behind, unowned.
        let file = fs::File::from_std(std::fs::File::create(&path)?);
        Ok(Upload { file, path: Some(path), size: 0, md5: Md5::new(), crc: CRC64.digest(), etag: None })
    }

    /// Makes `upload` the object at `key`, atomically replacing any previous one. Several
    /// steps: callers whose future may be dropped (a request handler) run it detached.
    pub(crate) async fn commit(
        &self,
        mut upload: Upload,
        key: &str,
        content_type: Option<String>,
        file_meta: Option<String>,
    ) -> std::io::Result<ObjectMeta> {
        upload.file.sync_all().await?;
        let data = random_hex(16);
        let path = upload.path.as_ref().expect("an upload is committed once");
        fs::rename(path, self.root.join("objects").join(&data)).await?;
        upload.path = None;
        let meta = ObjectMeta {
            key: key.to_owned(),
            size: upload.size,
            content_type,
            etag: upload.etag.take().unwrap_or_else(|| {
                format!("\"{}\"", hex::encode(std::mem::take(&mut upload.md5).finalize()))
            }),
            crc64: std::mem::replace(&mut upload.crc, CRC64.digest()).finalize().to_string(),
            file_meta,
            data,
        };
        let tmp = self.root.join("tmp").join(random_hex(16));
        let mut file = fs::File::create(&tmp).await?;
        file.write_all(&serde_json::to_vec(&meta).expect("metadata serialises")).await?;
        file.sync_all().await?;
        // The rename (what a restart sees), the index (what requests see) and the removal
        // of the replaced bytes happen as one step against other commits and deletes.
        let _visible = self.visibility.lock().await;
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

    /// The object at `key` and its bytes, opened: once open, the bytes stay readable even
    /// if the object is overwritten or deleted meanwhile.
    pub(crate) async fn open_object(&self, key: &str) -> std::io::Result<Option<(ObjectMeta, fs::File)>> {
        let _visible = self.visibility.lock().await;
        let Some(meta) = self.get(key) else { return Ok(None) };
        let file = fs::File::open(self.data_path(&meta)).await?;
        Ok(Some((meta, file)))
    }

    /// Where an object's bytes are.
    pub(crate) fn data_path(&self, meta: &ObjectMeta) -> PathBuf {
        self.root.join("objects").join(&meta.data)
    }

    /// Deletes the object at `key`; `false` if there was none.
    pub(crate) async fn delete(&self, key: &str) -> std::io::Result<bool> {
        let _visible = self.visibility.lock().await;
        let Some(meta) = self.get(key) else { return Ok(false) };
        fs::remove_file(self.root.join("meta").join(meta_name(key))).await?;
        self.index.lock().unwrap().remove(key);
        let _ = fs::remove_file(self.data_path(&meta)).await;
        Ok(true)
    }

    /// How many objects are stored.
    pub(crate) fn len(&self) -> usize {
        self.index.lock().unwrap().len()
    }

    /// How many files are in `tmp/`: uploads being received and metadata being written.
    /// Zero whenever the emulator is idle; anything else is a leak.
    pub(crate) fn partial_files(&self) -> usize {
        std::fs::read_dir(self.root.join("tmp")).map_or(0, |dir| dir.count())
    }
}
