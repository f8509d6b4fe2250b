//! Uploaded documents: images (PNG, JPEG) and PDF only, recognised by
//! their content — the leading signature and the structure at the end —
//! never by the name; a name whose extension says otherwise is refused.
//! Stored by content hash under the registry's data directory (durably,
//! through `shucang-files`), outside anything served directly.

use std::path::Path;

use std::sync::Arc;

use sha2::{Digest, Sha256};
use shucang_auth::PiiCipher;
use shucang_files::ContentStore;

/// Largest file accepted, in bytes.
pub const UPLOAD_BYTES_MAX: usize = 10 * 1024 * 1024;

/// A file type we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// PDF.
    Pdf,
}

impl FileType {
    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
            FileType::Pdf => "application/pdf",
        }
    }

    /// The type with this MIME type.
    pub fn from_mime(mime: &str) -> Option<FileType> {
        [FileType::Png, FileType::Jpeg, FileType::Pdf]
            .into_iter()
            .find(|t| t.mime() == mime)
    }

    fn extensions(self) -> &'static [&'static str] {
        match self {
            FileType::Png => &["png"],
            FileType::Jpeg => &["jpg", "jpeg"],
            FileType::Pdf => &["pdf"],
        }
    }
}

/// Why an upload is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Empty, or larger than [`UPLOAD_BYTES_MAX`].
    #[error("a file must hold between 1 byte and 10 MiB")]
    Size,
    /// Not a complete PNG, JPEG or PDF.
    #[error("only PNG and JPEG images and PDF documents are accepted (checked by content)")]
    Type,
    /// The name's extension says another type than the content.
    #[error("the file name's extension does not match its content")]
    NameMismatch,
}

/// The type of `bytes`, checking the structure at both ends, and that
/// `file_name`'s extension (if any) agrees.
pub fn sniff(file_name: &str, bytes: &[u8]) -> Result<FileType, FileError> {
    if bytes.is_empty() || bytes.len() > UPLOAD_BYTES_MAX {
        return Err(FileError::Size);
    }
    let kind = if is_png(bytes) {
        FileType::Png
    } else if is_jpeg(bytes) {
        FileType::Jpeg
    } else if is_pdf(bytes) {
        FileType::Pdf
    } else {
        return Err(FileError::Type);
    };
    if let Some((_, ext)) = file_name.rsplit_once('.') {
        let ext = ext.to_ascii_lowercase();
        if !kind.extensions().contains(&ext.as_str()) {
            return Err(FileError::NameMismatch);
        }
    }
    Ok(kind)
}

/// The PNG signature, an `IHDR` chunk first and an `IEND` chunk last.
fn is_png(b: &[u8]) -> bool {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    const IEND: &[u8] = b"\0\0\0\0IEND\xae\x42\x60\x82";
    b.len() >= 8 + 25 + 12
        && b.starts_with(SIGNATURE)
        && &b[8..16] == b"\0\0\0\x0dIHDR"
        && b.ends_with(IEND)
}

/// Start-of-image first, end-of-image last.
fn is_jpeg(b: &[u8]) -> bool {
    b.len() >= 4 && b.starts_with(&[0xff, 0xd8, 0xff]) && b.ends_with(&[0xff, 0xd9])
}

/// `%PDF-1.x` or `%PDF-2.x` first, `%%EOF` within the last KiB.
fn is_pdf(b: &[u8]) -> bool {
    let tail = &b[b.len().saturating_sub(1024)..];
    b.len() >= 16
        && (b.starts_with(b"%PDF-1.") || b.starts_with(b"%PDF-2."))
        && tail.windows(5).any(|w| w == b"%%EOF")
}

/// What an encrypted upload starts with; no PNG, JPEG or PDF does.
const SEALED_MAGIC: &[u8] = b"shucang-sealed-v1\n";

/// Uploads by content hash in one directory, encrypted: ID scans and
/// licences are personal data. Each file holds AES-256-GCM ciphertext
/// bound to its plaintext's SHA-256, under which it is named and found.
#[derive(Clone)]
pub struct FileStore {
    files: ContentStore,
    cipher: Arc<PiiCipher>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.files.dir())
            .finish()
    }
}

impl FileStore {
    /// Files under `dir` (created on first write, mode 0700), encrypted
    /// with the PII `cipher`.
    pub fn new(dir: &Path, cipher: Arc<PiiCipher>) -> FileStore {
        FileStore {
            files: ContentStore::new(dir),
            cipher,
        }
    }

    fn context(hash: &str) -> String {
        format!("reg_attachments.file:{hash}")
    }

    /// Encrypts `bytes` and writes them durably (temporary file of mode
    /// 0600, fsync, rename, fsync of the directory); returns the hex
    /// SHA-256 of the plaintext, which names the file.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let hash = hex::encode(Sha256::digest(bytes));
        let mut sealed = SEALED_MAGIC.to_vec();
        sealed.extend(self.cipher.encrypt(&Self::context(&hash), bytes));
        self.files.put_as(&hash, &sealed)?;
        Ok(hash)
    }

    /// The plaintext stored under `hash`; an error when nothing is, or
    /// when what is there does not decrypt to it. A file written before
    /// uploads were encrypted is read as it is if its hash matches.
    pub fn get(&self, hash: &str) -> std::io::Result<Vec<u8>> {
        use std::io::{Error, ErrorKind};
        let stored = self
            .files
            .read(hash)?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("no file {hash:?}")))?;
        let plain = match stored.strip_prefix(SEALED_MAGIC) {
            Some(sealed) => self.cipher.decrypt(&Self::context(hash), sealed).ok(),
            None => Some(stored),
        };
        plain
            .filter(|p| hex::encode(Sha256::digest(p)) == hash)
            .ok_or_else(|| Error::new(ErrorKind::InvalidData, format!("file {hash:?} is damaged")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn png() -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&[
            0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
        ]);
        b.extend_from_slice(b"\0\0\0\0IEND\xae\x42\x60\x82");
        b
    }

    #[test]
    fn content_decides_and_names_must_agree() {
        let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n".to_vec();
        assert_eq!(sniff("scan.pdf", &pdf), Ok(FileType::Pdf));
        assert_eq!(sniff("scan", &pdf), Ok(FileType::Pdf));
        assert_eq!(sniff("id.PNG", &png()), Ok(FileType::Png));
        assert_eq!(sniff("id.pdf", &png()), Err(FileError::NameMismatch));
        assert_eq!(sniff("id.exe", &png()), Err(FileError::NameMismatch));
        // An executable behind a PNG signature: no IHDR, no IEND.
        let mut disguised = b"\x89PNG\r\n\x1a\n".to_vec();
        disguised.extend_from_slice(b"\x7fELF\x02\x01\x01\0");
        disguised.extend_from_slice(&[0x90; 200]);
        assert_eq!(sniff("scan.pdf", &disguised), Err(FileError::Type));
        assert_eq!(sniff("scan.png", &disguised), Err(FileError::Type));
        assert_eq!(sniff("a.pdf", b"MZ\x90\0"), Err(FileError::Type));
        assert_eq!(
            sniff("a.pdf", b"%PDF-1.4 no end of file marker"),
            Err(FileError::Type)
        );
        assert_eq!(sniff("a.pdf", b""), Err(FileError::Size));
    }

    #[test]
    fn uploads_are_stored_encrypted_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let files = FileStore::new(dir.path(), Arc::new(PiiCipher::new(&[5; 32])));
        let scan = png();
        let hash = files.put(&scan).unwrap();
        assert_eq!(hash, hex::encode(Sha256::digest(&scan)));
        let raw = std::fs::read(dir.path().join(&hash)).unwrap();
        assert!(raw.starts_with(SEALED_MAGIC));
        assert!(
            !raw.windows(4).any(|w| w == b"IHDR"),
            "no plaintext on disk"
        );
        assert_eq!(files.get(&hash).unwrap(), scan);
        // Another key cannot read it; a damaged file is refused.
        let other = FileStore::new(dir.path(), Arc::new(PiiCipher::new(&[6; 32])));
        assert_eq!(
            other.get(&hash).unwrap_err().kind(),
            std::io::ErrorKind::InvalidData
        );
        let mut damaged = raw.clone();
        *damaged.last_mut().unwrap() ^= 1;
        std::fs::write(dir.path().join(&hash), &damaged).unwrap();
        assert!(files.get(&hash).is_err());
        // A file from before encryption is read if it matches its name.
        let legacy = b"%PDF-1.4 legacy".to_vec();
        let legacy_hash = hex::encode(Sha256::digest(&legacy));
        std::fs::write(dir.path().join(&legacy_hash), &legacy).unwrap();
        assert_eq!(files.get(&legacy_hash).unwrap(), legacy);
    }
}
