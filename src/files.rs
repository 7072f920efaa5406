//! Attachment storage: files are named by their SHA-256 (`ab/cdef…`), in a folder
//! (`<data-dir>/files` by default) or in S3-compatible object storage; their metadata is in the
//! `files` table. Uploads are checked by content, not by name.
//!
//! A file is complete and durable before its row can commit: the folder store writes it to a
//! temporary file in `.tmp/` beside the store (same file system), fsyncs it, renames it into
//! place and fsyncs the folder; an S3 PUT is complete when it answers. Temporary files are
//! removed on every error path, and at start-up what a killed process left (see
//! [`FileStore::sweep_temp`]). Which stored files no row references, and when they may be
//! removed, is `workflow::files`'s business.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use sha2::{Digest, Sha256};

use crate::config::FilesArgs;
use crate::keys::KeyRing;

pub const MAX_UPLOAD: usize = 10 * 1024 * 1024;

/// Where files are kept: cheap to clone (one store shared by every request).
#[derive(Clone, Debug)]
pub struct FileStore {
    backend: Backend,
    /// The keys files are sealed with (issue 18); without them files are stored as given
    /// (tools that copy stored files as they are).
    keys: Option<Arc<KeyRing>>,
}

/// Whether a stored file's content is to be replaced when a file is already stored under its
/// name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Existing {
    Keep,
    Replace,
}

#[derive(Clone, Debug)]
enum Backend {
    Local(Arc<Local>),
    S3(Arc<S3>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Jpeg,
    Png,
    Rtf,
    /// Office Open XML (docx, xlsx): a zip container.
    Ooxml,
    /// Legacy Word or Excel (doc, xls): an OLE compound file.
    Ole,
}

impl Kind {
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Rtf => "application/rtf",
            Kind::Ooxml => "application/octet-stream",
            Kind::Ole => "application/octet-stream",
        }
    }
}

/// Detects the file type from its bytes. A PDF must start with `%PDF-` and carry `%%EOF`
/// near its end; images are recognised by their signatures.
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"%PDF-") {
        let tail = &bytes[bytes.len().saturating_sub(1024)..];
        if tail.windows(5).any(|w| w == b"%%EOF") {
            return Some(Kind::Pdf);
        }
        return None;
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Kind::Jpeg);
    }
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some(Kind::Png);
    }
    if bytes.starts_with(b"{\\rtf") {
        return Some(Kind::Rtf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Some(Kind::Ooxml);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some(Kind::Ole);
    }
    None
}

/// Why an upload was refused, worded for the person uploading.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UploadError {
    #[error("请选择要上传的文件")]
    Empty,
    #[error("文件超过10MB，请压缩后再上传")]
    TooLarge,
    #[error("文件内容不是有效的PDF，请上传PDF格式的扫描件")]
    NotPdf,
    #[error("文件内容不是有效的PDF、JPEG或PNG")]
    NotScan,
    #[error("模板须为PDF、Word、Excel或RTF文件")]
    NotTemplate,
}

/// Checks that an upload is a non-empty PDF of at most 10 MB.
pub fn check_pdf(bytes: &[u8]) -> Result<Kind, UploadError> {
    check(bytes, &[Kind::Pdf], UploadError::NotPdf)
}

/// Checks that an upload is a PDF, JPEG or PNG of at most 10 MB.
pub fn check_scan(bytes: &[u8]) -> Result<Kind, UploadError> {
    check(
        bytes,
        &[Kind::Pdf, Kind::Jpeg, Kind::Png],
        UploadError::NotScan,
    )
}

/// Checks a template file: PDF, Word, Excel or RTF of at most 10 MB.
pub fn check_template(bytes: &[u8]) -> Result<Kind, UploadError> {
    check(
        bytes,
        &[Kind::Pdf, Kind::Rtf, Kind::Ooxml, Kind::Ole],
        UploadError::NotTemplate,
    )
}

fn check(bytes: &[u8], allowed: &[Kind], wrong: UploadError) -> Result<Kind, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    if bytes.len() > MAX_UPLOAD {
        return Err(UploadError::TooLarge);
    }
    match sniff(bytes) {
        Some(k) if allowed.contains(&k) => Ok(k),
        _ => Err(wrong),
    }
}

/// The hex SHA-256 of `bytes`: a stored file's name.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn valid_sha(sha: &str) -> bool {
    sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit())
}

fn bad_hash() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad file hash")
}

/// A stored file as a listing shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub sha256: String,
    pub modified: SystemTime,
}

impl FileStore {
    /// A store in the folder `root` (created when the first file is written).
    pub fn new(root: PathBuf) -> Self {
        FileStore {
            backend: Backend::Local(Arc::new(Local {
                root,
                tmp: Mutex::new(None),
            })),
            keys: None,
        }
    }

    /// The same store, sealing what it writes with `keys` (SM4-GCM, bound to the file's name)
    /// and opening what it reads.
    pub fn sealed_with(mut self, keys: Arc<KeyRing>) -> FileStore {
        self.keys = Some(keys);
        self
    }

    /// The context a file's content is sealed under: its name, so that a sealed file moved to
    /// another name does not open.
    fn context(sha: &str) -> String {
        format!("files/{sha}")
    }

    /// The store the configuration names: `--files-url` absent or `file:PATH` is a folder
    /// (default `<data-dir>/files`), `s3://BUCKET[/PREFIX]` S3-compatible object storage.
    pub fn open(args: &FilesArgs, data_dir: &Path) -> anyhow::Result<FileStore> {
        let url = args.files_url.as_deref().unwrap_or("").trim();
        if url.is_empty() {
            return Ok(FileStore::new(data_dir.join("files")));
        }
        if let Some(path) = url.strip_prefix("file:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            anyhow::ensure!(!path.is_empty(), "--files-url file: needs a folder");
            return Ok(FileStore::new(PathBuf::from(path)));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            anyhow::ensure!(!bucket.is_empty(), "--files-url s3:// needs a bucket");
            let prefix = prefix.trim_matches('/');
            return Ok(FileStore {
                backend: Backend::S3(Arc::new(S3::open(bucket, prefix, args)?)),
                keys: None,
            });
        }
        anyhow::bail!("unsupported --files-url {url:?} (use file:PATH or s3://BUCKET[/PREFIX])")
    }

    /// Where the files are, for logs.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Local(l) => l.root.display().to_string(),
            Backend::S3(s) => format!("s3://{}/{}", s.bucket, s.prefix),
        }
    }

    /// The folder of a folder store (None for object storage).
    pub fn local_root(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Local(l) => Some(&l.root),
            Backend::S3(_) => None,
        }
    }

    /// Writes the bytes (if not already stored) and returns their hex SHA-256. The file is
    /// complete and durable when this returns.
    pub async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = sha256_hex(bytes);
        self.put_as(&sha, bytes).await?;
        Ok(sha)
    }

    /// Stores `bytes` under `sha` (their hash, from [`sha256_hex`]), sealed; true when this call
    /// created the file, false when it was already there.
    pub async fn put_as(&self, sha: &str, bytes: &[u8]) -> std::io::Result<bool> {
        Ok(self.put_sealed(sha, bytes).await?.is_some())
    }

    /// [`FileStore::put_as`], saying under which data key the file was written: `None` when
    /// it was stored already, `Some(0)` when written without keys.
    pub async fn put_sealed(&self, sha: &str, bytes: &[u8]) -> std::io::Result<Option<u32>> {
        let (stored, key) = match &self.keys {
            Some(k) => {
                let keys = k.get();
                (keys.seal(bytes, &Self::context(sha)), keys.current())
            }
            None => (bytes.to_vec(), 0),
        };
        let created = self.write(sha, stored, Existing::Keep).await?;
        Ok(created.then_some(key))
    }

    /// Stores a file's content exactly as given (sealed already: a restore); true when this
    /// call created it.
    pub async fn put_raw_as(&self, sha: &str, stored: Vec<u8>) -> std::io::Result<bool> {
        self.write(sha, stored, Existing::Keep).await
    }

    /// Replaces the stored content of `sha` at once (a reader sees the old or the new content,
    /// never part of either): the sealing job sealing it under another key.
    pub async fn replace_raw(&self, sha: &str, stored: Vec<u8>) -> std::io::Result<()> {
        self.write(sha, stored, Existing::Replace).await.map(|_| ())
    }

    async fn write(&self, sha: &str, bytes: Vec<u8>, existing: Existing) -> std::io::Result<bool> {
        if !valid_sha(sha) {
            return Err(bad_hash());
        }
        match &self.backend {
            Backend::Local(l) => {
                let l = l.clone();
                let sha = sha.to_string();
                blocking(move || l.put(&sha, &bytes, existing)).await
            }
            Backend::S3(s) => s.put(sha, bytes, existing).await,
        }
    }

    /// A stored file's content, opened.
    pub async fn get(&self, sha: &str) -> std::io::Result<Vec<u8>> {
        let stored = self.get_raw(sha).await?;
        self.open_stored(sha, stored)
    }

    /// Opens the stored content of `sha`: sealed content with the keys, a file stored in clear
    /// by an earlier version as it is.
    pub fn open_stored(&self, sha: &str, stored: Vec<u8>) -> std::io::Result<Vec<u8>> {
        if !crate::keys::Keys::is_sealed(&stored) {
            return Ok(stored);
        }
        let Some(k) = &self.keys else {
            return Err(std::io::Error::other(format!(
                "stored file {sha} is sealed and no key file was given"
            )));
        };
        k.open_file(stored, &Self::context(sha))
            .map_err(|e| std::io::Error::other(format!("stored file {sha}: {e}")))
    }

    /// Seals the stored file `sha` under the current key unless it is sealed under it already
    /// (a file stored in clear by an earlier version, or sealed under an older key). Checks the
    /// content against its name first: a damaged file is left as it is. Returns the key the file
    /// is now sealed under.
    pub async fn reseal(&self, sha: &str) -> std::io::Result<u32> {
        let Some(keys) = &self.keys else {
            return Err(std::io::Error::other("no keys to seal files with"));
        };
        let stored = self.get_raw(sha).await?;
        let current = keys.current();
        if crate::keys::Keys::key_of(&stored) == Some(current) {
            return Ok(current);
        }
        let plain = self.open_stored(sha, stored)?;
        if sha256_hex(&plain) != sha {
            return Err(std::io::Error::other(format!(
                "stored file {sha} is damaged: its content does not have that hash"
            )));
        }
        let k = keys.get();
        let sealed = k.seal(&plain, &Self::context(sha));
        self.replace_raw(sha, sealed).await?;
        Ok(k.current())
    }

    /// A stored file's content as stored (sealed).
    pub async fn get_raw(&self, sha: &str) -> std::io::Result<Vec<u8>> {
        if !valid_sha(sha) {
            return Err(bad_hash());
        }
        match &self.backend {
            Backend::Local(l) => tokio::fs::read(l.path_for(sha)).await,
            Backend::S3(s) => s.get(sha).await,
        }
    }

    /// Whether a file is stored under `sha`.
    pub async fn exists(&self, sha: &str) -> std::io::Result<bool> {
        if !valid_sha(sha) {
            return Err(bad_hash());
        }
        match &self.backend {
            Backend::Local(l) => tokio::fs::try_exists(l.path_for(sha)).await,
            Backend::S3(s) => s.exists(sha).await,
        }
    }

    /// Removes the file stored under `sha` (done when there is none). Callers make sure no
    /// row references it and none can meanwhile (see `workflow::files`).
    pub async fn delete(&self, sha: &str) -> std::io::Result<()> {
        if !valid_sha(sha) {
            return Err(bad_hash());
        }
        match &self.backend {
            Backend::Local(l) => match tokio::fs::remove_file(l.path_for(sha)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            Backend::S3(s) => s.delete(sha).await,
        }
    }

    /// Every stored file with its modification time.
    pub async fn list(&self) -> std::io::Result<Vec<Stored>> {
        match &self.backend {
            Backend::Local(l) => {
                let l = l.clone();
                blocking(move || l.list()).await
            }
            Backend::S3(s) => s.list().await,
        }
    }

    /// The store is reachable: the folder exists and takes a file, the bucket answers.
    pub async fn ready(&self) -> std::io::Result<()> {
        match &self.backend {
            Backend::Local(l) => {
                let l = l.clone();
                blocking(move || l.ready()).await
            }
            Backend::S3(s) => s.ready().await,
        }
    }

    /// Removes what killed processes left while writing: the temporary folders in `.tmp/` of
    /// processes that are gone (a live process holds a lock on its own, so two instances may
    /// share the folder), and temporary files of older versions (`ab/cdef….tmpNNNN`). Returns
    /// how many files were removed. Nothing to do for object storage (a PUT that did not end
    /// leaves nothing).
    pub async fn sweep_temp(&self) -> std::io::Result<usize> {
        match &self.backend {
            Backend::Local(l) => {
                let l = l.clone();
                blocking(move || l.sweep_temp()).await
            }
            Backend::S3(_) => Ok(0),
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(std::io::Error::other)?
}

/// The folder store.
#[derive(Debug)]
struct Local {
    root: PathBuf,
    /// This process's temporary folder, made at the first write.
    tmp: Mutex<Option<Arc<ProcessTmp>>>,
}

/// A process's own folder for temporary files, `.tmp/<id>/`, and the lock it holds on
/// `.tmp/<id>.lock` while it lives (the kernel releases it when the process dies, `kill -9`
/// included): a sweep removes only folders whose lock it can take.
#[derive(Debug)]
struct ProcessTmp {
    dir: PathBuf,
    lock_path: PathBuf,
    _lock: File,
}

impl Drop for ProcessTmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Removes a temporary file unless it was renamed into place.
struct TempGuard(Option<PathBuf>);

impl TempGuard {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

const TMP_DIR: &str = ".tmp";

impl Local {
    fn path_for(&self, sha: &str) -> PathBuf {
        let (a, b) = sha.split_at(2);
        self.root.join(a).join(b)
    }

    fn tmp_root(&self) -> PathBuf {
        self.root.join(TMP_DIR)
    }

    /// This process's temporary folder, made (and locked) the first time.
    fn process_tmp(&self) -> std::io::Result<Arc<ProcessTmp>> {
        let mut slot = self
            .tmp
            .lock()
            .map_err(|_| std::io::Error::other("temporary folder lock poisoned"))?;
        if let Some(t) = slot.as_ref() {
            if t.dir.is_dir() {
                return Ok(t.clone());
            }
        }
        let tmp_root = self.tmp_root();
        std::fs::create_dir_all(&tmp_root)?;
        let id = format!("{}-{:016x}", std::process::id(), rand::random::<u64>());
        // The lock file is locked under a name no sweep looks at, then renamed: a sweep never
        // sees it unlocked.
        let pending = tmp_root.join(format!("{id}.new"));
        let lock = File::create(&pending)?;
        if let Err(e) = lock.try_lock() {
            let _ = std::fs::remove_file(&pending);
            return Err(std::io::Error::other(format!(
                "locking {}: {e}",
                pending.display()
            )));
        }
        let lock_path = tmp_root.join(format!("{id}.lock"));
        std::fs::rename(&pending, &lock_path)?;
        let dir = tmp_root.join(&id);
        std::fs::create_dir_all(&dir)?;
        let t = Arc::new(ProcessTmp {
            dir,
            lock_path,
            _lock: lock,
        });
        *slot = Some(t.clone());
        Ok(t)
    }

    fn put(&self, sha: &str, bytes: &[u8], existing: Existing) -> std::io::Result<bool> {
        let path = self.path_for(sha);
        let there = path.is_file();
        if there && existing == Existing::Keep {
            return Ok(false);
        }
        let Some(dir) = path.parent() else {
            return Err(bad_hash());
        };
        std::fs::create_dir_all(dir)?;
        let tmp = self.process_tmp()?;
        let tmp_path = tmp.dir.join(format!("{sha}.{:08x}", rand::random::<u32>()));
        let mut guard = TempGuard(Some(tmp_path.clone()));
        let mut f = File::create_new(&tmp_path)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp_path, &path)?;
        guard.disarm();
        // The rename is durable once the folder is.
        File::open(dir)?.sync_all()?;
        Ok(!there)
    }

    fn list(&self) -> std::io::Result<Vec<Stored>> {
        let mut out = Vec::new();
        let top = match std::fs::read_dir(&self.root) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for a in top {
            let a = a?;
            let an = a.file_name().to_string_lossy().to_string();
            if an.len() != 2 || !a.file_type()?.is_dir() {
                continue;
            }
            for b in std::fs::read_dir(a.path())? {
                let b = b?;
                let sha = format!("{an}{}", b.file_name().to_string_lossy());
                if !valid_sha(&sha) {
                    continue;
                }
                let meta = b.metadata()?;
                if meta.is_file() {
                    out.push(Stored {
                        sha256: sha,
                        modified: meta.modified()?,
                    });
                }
            }
        }
        Ok(out)
    }

    fn ready(&self) -> std::io::Result<()> {
        let tmp = self.process_tmp()?;
        let probe = tmp.dir.join(format!("ready.{:08x}", rand::random::<u32>()));
        let _guard = TempGuard(Some(probe.clone()));
        std::fs::write(&probe, b"ok")?;
        Ok(())
    }

    fn sweep_temp(&self) -> std::io::Result<usize> {
        let mut removed = 0;
        let tmp_root = self.tmp_root();
        let own = self
            .tmp
            .lock()
            .ok()
            .and_then(|t| t.as_ref().map(|t| t.dir.clone()));
        if let Ok(entries) = std::fs::read_dir(&tmp_root) {
            for e in entries.flatten() {
                let path = e.path();
                let name = e.file_name().to_string_lossy().to_string();
                if Some(&path) == own.as_ref() {
                    continue;
                }
                if let Some(id) = name.strip_suffix(".lock") {
                    // Held by a live process: keep its folder.
                    let Ok(f) = File::open(&path) else { continue };
                    if f.try_lock().is_err() {
                        continue;
                    }
                    removed += remove_tree(&tmp_root.join(id));
                    let _ = std::fs::remove_file(&path);
                } else if name.ends_with(".new") {
                    // A lock being made: old ones are from a process that died making it.
                    let old = e
                        .metadata()
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|m| m.elapsed().ok())
                        .is_some_and(|age| age > Duration::from_secs(60));
                    if old {
                        let _ = std::fs::remove_file(&path);
                    }
                } else if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    // A folder whose lock file is gone is no live process's.
                    if !tmp_root.join(format!("{name}.lock")).exists() {
                        removed += remove_tree(&path);
                    }
                } else if std::fs::remove_file(&path).is_ok() {
                    removed += 1;
                }
            }
        }
        // Older versions wrote `ab/cdef….tmpNNNN` beside the final name.
        if let Ok(top) = std::fs::read_dir(&self.root) {
            for a in top.flatten() {
                let an = a.file_name().to_string_lossy().to_string();
                if an.len() != 2 || !a.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    continue;
                }
                let Ok(inner) = std::fs::read_dir(a.path()) else {
                    continue;
                };
                for b in inner.flatten() {
                    if b.file_name().to_string_lossy().contains(".tmp")
                        && std::fs::remove_file(b.path()).is_ok()
                    {
                        removed += 1;
                    }
                }
            }
        }
        Ok(removed)
    }
}

/// Removes a folder and what it holds; returns how many files were in it.
fn remove_tree(dir: &Path) -> usize {
    let n = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
    match std::fs::remove_dir_all(dir) {
        Ok(()) => n,
        Err(_) => 0,
    }
}

/// The endpoint URL to give the S3 client, and whether it is plain HTTP. Virtual-hosted style
/// wants the bucket in the endpoint's host name (`https://BUCKET.oss-cn-hangzhou.aliyuncs.com`).
fn s3_endpoint(
    endpoint: &str,
    bucket: &str,
    virtual_hosted: bool,
) -> anyhow::Result<(String, bool)> {
    let endpoint = endpoint.trim().trim_end_matches('/');
    let Some((scheme, host)) = endpoint.split_once("://") else {
        anyhow::bail!("LAIHUA_S3_ENDPOINT must start with http:// or https://");
    };
    anyhow::ensure!(
        (scheme == "http" || scheme == "https") && !host.is_empty(),
        "LAIHUA_S3_ENDPOINT must start with http:// or https://"
    );
    let endpoint = if virtual_hosted && !host.starts_with(&format!("{bucket}.")) {
        format!("{scheme}://{bucket}.{host}")
    } else {
        endpoint.to_string()
    };
    Ok((endpoint, scheme == "http"))
}

/// S3-compatible object storage: the file `ab/cdef…` is the object `PREFIX/ab/cdef…`.
#[derive(Debug)]
struct S3 {
    store: AmazonS3,
    bucket: String,
    prefix: String,
}

/// How long a readiness check may take.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

impl S3 {
    fn open(bucket: &str, prefix: &str, args: &FilesArgs) -> anyhow::Result<S3> {
        // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (and AWS_SESSION_TOKEN…).
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_virtual_hosted_style_request(args.s3_virtual_hosted)
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(60)),
            )
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
                ..RetryConfig::default()
            });
        let region = args
            .s3_region
            .clone()
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "us-east-1".into());
        b = b.with_region(region);
        if let Some(k) = args.s3_access_key_id.as_deref().filter(|k| !k.is_empty()) {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = args
            .s3_secret_access_key
            .as_deref()
            .filter(|k| !k.is_empty())
        {
            b = b.with_secret_access_key(k);
        }
        if let Some(endpoint) = args.s3_endpoint.as_deref().filter(|e| !e.is_empty()) {
            let (endpoint, allow_http) = s3_endpoint(endpoint, bucket, args.s3_virtual_hosted)?;
            b = b.with_endpoint(endpoint).with_allow_http(allow_http);
        }
        let store = b.build()?;
        Ok(S3 {
            store,
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    fn key(&self, sha: &str) -> ObjectPath {
        let (a, b) = sha.split_at(2);
        if self.prefix.is_empty() {
            ObjectPath::from(format!("{a}/{b}"))
        } else {
            ObjectPath::from(format!("{}/{a}/{b}", self.prefix))
        }
    }

    async fn exists(&self, sha: &str) -> std::io::Result<bool> {
        match self.store.head(&self.key(sha)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(io_error(e)),
        }
    }

    async fn put(&self, sha: &str, bytes: Vec<u8>, existing: Existing) -> std::io::Result<bool> {
        let there = self.exists(sha).await?;
        if there && existing == Existing::Keep {
            return Ok(false);
        }
        // A PUT replaces an object at once.
        self.store
            .put(&self.key(sha), bytes.into())
            .await
            .map_err(io_error)?;
        Ok(!there)
    }

    async fn get(&self, sha: &str) -> std::io::Result<Vec<u8>> {
        let got = self.store.get(&self.key(sha)).await.map_err(io_error)?;
        Ok(got.bytes().await.map_err(io_error)?.to_vec())
    }

    async fn delete(&self, sha: &str) -> std::io::Result<()> {
        match self.store.delete(&self.key(sha)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    async fn list(&self) -> std::io::Result<Vec<Stored>> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let mut stream = self.store.list(prefix.as_ref());
        let mut out = Vec::new();
        while let Some(meta) = stream.next().await {
            let meta = meta.map_err(io_error)?;
            let parts: Vec<String> = meta
                .location
                .parts()
                .map(|p| p.as_ref().to_string())
                .collect();
            let n = parts.len();
            if n < 2 {
                continue;
            }
            let sha = format!("{}{}", parts[n - 2], parts[n - 1]);
            if parts[n - 2].len() != 2 || !valid_sha(&sha) || self.key(&sha) != meta.location {
                continue;
            }
            out.push(Stored {
                sha256: sha,
                modified: meta.last_modified.into(),
            });
        }
        Ok(out)
    }

    async fn ready(&self) -> std::io::Result<()> {
        // A HEAD of a name never stored: "not found" is the bucket answering.
        let probe = if self.prefix.is_empty() {
            ObjectPath::from(".ready")
        } else {
            ObjectPath::from(format!("{}/.ready", self.prefix))
        };
        match tokio::time::timeout(READY_TIMEOUT, self.store.head(&probe)).await {
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "object storage did not answer",
            )),
            Ok(Ok(_)) | Ok(Err(object_store::Error::NotFound { .. })) => Ok(()),
            Ok(Err(e)) => Err(io_error(e)),
        }
    }
}

/// An object storage error as an I/O error of the matching kind (callers treat a full store,
/// `StorageFull`, as "cannot store data now").
fn io_error(e: object_store::Error) -> std::io::Error {
    use std::io::ErrorKind;
    let kind = match &e {
        object_store::Error::NotFound { .. } => ErrorKind::NotFound,
        object_store::Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => ErrorKind::PermissionDenied,
        object_store::Error::NotSupported { .. } | object_store::Error::NotImplemented { .. } => {
            ErrorKind::Unsupported
        }
        object_store::Error::InvalidPath { .. } => ErrorKind::InvalidInput,
        _ => {
            let text = e.to_string();
            // 507 Insufficient Storage, or a quota the service names.
            if text.contains("507")
                || text.contains("Insufficient Storage")
                || text.contains("QuotaExceeded")
                || text.contains("XMinioStorageFull")
            {
                ErrorKind::StorageFull
            } else if text.contains("timed out") || text.contains("timeout") {
                ErrorKind::TimedOut
            } else {
                ErrorKind::Other
            }
        }
    };
    std::io::Error::new(kind, e)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        std::env::temp_dir().join(format!("laihua-files-{:016x}", rand::random::<u64>()))
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    #[tokio::test]
    async fn a_sweep_removes_dead_writers_temporary_files_and_keeps_a_live_ones() {
        let root = scratch();
        let live = FileStore::new(root.clone());
        let sha = live.put(b"%PDF-1.4 live %%EOF").await.unwrap();
        let tmp = root.join(TMP_DIR);
        let own = entries(&tmp);
        assert_eq!(own.len(), 2, "{own:?}");
        // A dead process's folder and lock (unlocked), a folder without a lock, an old
        // version's temporary file.
        std::fs::write(tmp.join("dead.lock"), b"").unwrap();
        std::fs::create_dir_all(tmp.join("dead")).unwrap();
        std::fs::write(tmp.join("dead").join("partial"), b"%PDF").unwrap();
        std::fs::create_dir_all(tmp.join("nolock")).unwrap();
        std::fs::write(tmp.join("nolock").join("partial"), b"%PDF").unwrap();
        let legacy = root.join(&sha[..2]).join(format!("{}.tmp4242", &sha[2..]));
        std::fs::write(&legacy, b"%PDF").unwrap();

        let other = FileStore::new(root.clone());
        assert_eq!(other.sweep_temp().await.unwrap(), 3);
        assert_eq!(entries(&tmp), own, "the live writer's folder and lock stay");
        assert!(!legacy.exists());
        assert_eq!(live.get(&sha).await.unwrap(), b"%PDF-1.4 live %%EOF");
        let again = live.put(b"%PDF-1.4 again %%EOF").await.unwrap();
        assert_eq!(other.get(&again).await.unwrap(), b"%PDF-1.4 again %%EOF");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn a_failed_write_leaves_no_temporary_file() {
        let root = scratch();
        let store = FileStore::new(root.clone());
        let bytes = b"%PDF-1.4 blocked %%EOF";
        let sha = sha256_hex(bytes);
        // The final name is taken by a folder: the rename fails.
        std::fs::create_dir_all(root.join(&sha[..2]).join(&sha[2..]).join("x")).unwrap();
        assert!(store.put(bytes).await.is_err());
        let tmp = root.join(TMP_DIR);
        for e in entries(&tmp) {
            if !e.ends_with(".lock") {
                assert!(entries(&tmp.join(&e)).is_empty(), "left in {e}");
            }
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn s3_endpoints_path_style_or_virtual_hosted() {
        assert_eq!(
            s3_endpoint("http://127.0.0.1:9000/", "b", false).unwrap(),
            ("http://127.0.0.1:9000".to_string(), true)
        );
        assert_eq!(
            s3_endpoint("https://oss-cn-hangzhou.aliyuncs.com", "laihua", true).unwrap(),
            (
                "https://laihua.oss-cn-hangzhou.aliyuncs.com".to_string(),
                false
            )
        );
        assert_eq!(
            s3_endpoint(
                "https://laihua.oss-cn-hangzhou.aliyuncs.com",
                "laihua",
                true
            )
            .unwrap()
            .0,
            "https://laihua.oss-cn-hangzhou.aliyuncs.com"
        );
        assert!(s3_endpoint("oss-cn-hangzhou.aliyuncs.com", "b", true).is_err());
        assert!(s3_endpoint("ftp://x", "b", false).is_err());
    }

    #[test]
    fn files_urls() {
        let dir = Path::new("/srv/laihua");
        let open = |url: &str| {
            FileStore::open(
                &FilesArgs {
                    files_url: Some(url.into()),
                    s3_access_key_id: Some("k".into()),
                    s3_secret_access_key: Some("s".into()),
                    ..FilesArgs::default()
                },
                dir,
            )
        };
        assert_eq!(
            FileStore::open(&FilesArgs::default(), dir)
                .unwrap()
                .describe(),
            "/srv/laihua/files"
        );
        assert_eq!(open("file:/mnt/f").unwrap().describe(), "/mnt/f");
        assert_eq!(open("file:///mnt/f").unwrap().describe(), "/mnt/f");
        assert_eq!(
            open("s3://bucket/a/b/").unwrap().describe(),
            "s3://bucket/a/b"
        );
        assert!(open("s3:///x").is_err());
        assert!(open("gs://x").is_err());
    }

    #[tokio::test]
    async fn put_is_idempotent_and_lists_what_it_stored() {
        let root = scratch();
        let store = FileStore::new(root.clone());
        let sha = sha256_hex(b"one");
        assert!(store.put_as(&sha, b"one").await.unwrap());
        assert!(!store.put_as(&sha, b"one").await.unwrap());
        assert!(store.exists(&sha).await.unwrap());
        let listed = store.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].sha256, sha);
        store.ready().await.unwrap();
        store.delete(&sha).await.unwrap();
        store.delete(&sha).await.unwrap();
        assert!(!store.exists(&sha).await.unwrap());
        assert_eq!(
            store.get(&sha).await.unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
        assert!(store.put_as("../../etc", b"x").await.is_err());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn text_renamed_to_pdf_is_refused() {
        assert_eq!(check_pdf(b"hello, I am text"), Err(UploadError::NotPdf));
    }

    #[test]
    fn pdf_without_trailer_is_refused() {
        assert_eq!(check_pdf(b"%PDF-1.4\n1 0 obj"), Err(UploadError::NotPdf));
    }

    #[test]
    fn minimal_pdf_is_accepted() {
        assert_eq!(check_pdf(b"%PDF-1.4\n%%EOF\n"), Ok(Kind::Pdf));
    }

    #[test]
    fn oversized_pdf_is_refused() {
        let mut big = b"%PDF-1.4\n".to_vec();
        big.resize(MAX_UPLOAD + 1, b' ');
        big.extend_from_slice(b"%%EOF");
        assert_eq!(check_pdf(&big), Err(UploadError::TooLarge));
    }

    #[test]
    fn images_pass_scan_check_but_not_pdf_check() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0];
        assert_eq!(check_scan(&png), Ok(Kind::Png));
        assert_eq!(check_pdf(&png), Err(UploadError::NotPdf));
        assert_eq!(check_scan(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok(Kind::Jpeg));
    }
}
