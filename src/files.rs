//! Attachment storage: files live under `<data-dir>/files/ab/cdef…` named by their SHA-256,
//! metadata in the `files` table. Uploads are checked by content, not by name.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

pub const MAX_UPLOAD: usize = 10 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct FileStore {
    root: PathBuf,
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

impl FileStore {
    pub fn new(root: PathBuf) -> Self {
        FileStore { root }
    }

    fn path_for(&self, sha: &str) -> PathBuf {
        let (a, b) = sha.split_at(2.min(sha.len()));
        self.root.join(a).join(b)
    }

    /// Writes the bytes (if not already stored) and returns their hex SHA-256.
    pub async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.path_for(&sha);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Ok(sha);
        }
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        // Write to a temporary name first so a crash never leaves a truncated file under the hash.
        let tmp = path.with_extension(format!("tmp{}", rand::random::<u32>()));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(sha)
    }

    pub async fn get(&self, sha: &str) -> std::io::Result<Vec<u8>> {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "bad file hash",
            ));
        }
        tokio::fs::read(self.path_for(sha)).await
    }

    /// The store can be written: its folder exists (made if missing) and takes a file (for
    /// `/readyz`).
    pub async fn ready(&self) -> std::io::Result<()> {
        tokio::fs::create_dir_all(&self.root).await?;
        let probe = self
            .root
            .join(format!(".ready-{:016x}", rand::random::<u64>()));
        tokio::fs::write(&probe, b"ok").await?;
        tokio::fs::remove_file(&probe).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
