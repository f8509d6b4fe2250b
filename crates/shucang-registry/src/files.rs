//! Uploaded documents: images (PNG, JPEG) and PDF only, recognised by
//! their content — the leading signature and the structure at the end —
//! never by the name; a name whose extension says otherwise is refused.
//! Stored by content hash under the registry's data directory (durably,
//! through `shucang-files`), outside anything served directly.

use std::path::Path;

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

/// Files by content hash in one directory.
#[derive(Debug, Clone)]
pub struct FileStore {
    files: ContentStore,
}

impl FileStore {
    /// Files under `dir` (created on first write).
    pub fn new(dir: &Path) -> FileStore {
        FileStore {
            files: ContentStore::new(dir),
        }
    }

    /// Writes `bytes` durably (temporary file, fsync, rename, fsync of the
    /// directory); returns the hex SHA-256 it is stored under.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        self.files.put(bytes)
    }

    /// The bytes stored under `hash`; an error when nothing is.
    pub fn get(&self, hash: &str) -> std::io::Result<Vec<u8>> {
        self.files.read(hash)?.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("no file {hash:?}"))
        })
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
}
