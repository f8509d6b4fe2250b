//! Uploaded media: checked by content (not by name), stored under the data
//! directory by content hash (durably, through `shucang-files`), outside
//! anything served directly.

use std::path::Path;

use shucang_files::ContentStore;

/// Largest image accepted, in bytes.
pub const IMAGE_BYTES_MAX: usize = 10 * 1024 * 1024;

/// An image format we accept, recognised by its leading bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    Webp,
}

impl ImageType {
    /// The format of `bytes`, if it is one we accept.
    pub fn sniff(bytes: &[u8]) -> Option<ImageType> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageType::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(ImageType::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageType::Webp)
        } else {
            None
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Png => "image/png",
            ImageType::Jpeg => "image/jpeg",
            ImageType::Webp => "image/webp",
        }
    }

    /// The stable code stored with a work.
    pub fn code(self) -> &'static str {
        match self {
            ImageType::Png => "png",
            ImageType::Jpeg => "jpeg",
            ImageType::Webp => "webp",
        }
    }

    /// The type with this code.
    pub fn from_code(code: &str) -> Option<ImageType> {
        [ImageType::Png, ImageType::Jpeg, ImageType::Webp]
            .into_iter()
            .find(|t| t.code() == code)
    }
}

/// Why an image was refused or could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Not PNG, JPEG or WebP by content.
    #[error("the file is not a PNG, JPEG or WebP image")]
    NotAnImage,
    /// Larger than [`IMAGE_BYTES_MAX`].
    #[error("the image is larger than 10 MiB")]
    TooLarge,
    /// The file system failed.
    #[error("media storage failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Content-addressed media files under one directory.
#[derive(Debug, Clone)]
pub struct MediaStore {
    files: ContentStore,
}

impl MediaStore {
    /// Media under `dir` (created on first write).
    pub fn new(dir: &Path) -> MediaStore {
        MediaStore {
            files: ContentStore::new(dir),
        }
    }

    /// Checks and stores an image durably; returns its SHA-256 (hex) and type.
    pub fn save_image(&self, bytes: &[u8]) -> Result<(String, ImageType), MediaError> {
        if bytes.len() > IMAGE_BYTES_MAX {
            return Err(MediaError::TooLarge);
        }
        let kind = ImageType::sniff(bytes).ok_or(MediaError::NotAnImage)?;
        Ok((self.files.put(bytes)?, kind))
    }

    /// Reads a stored file by its hash.
    pub fn read(&self, hash: &str) -> Result<Option<Vec<u8>>, MediaError> {
        Ok(self.files.read(hash)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_by_content_only() {
        let dir = tempfile::tempdir().unwrap();
        let media = MediaStore::new(&dir.path().join("media"));
        let png = b"\x89PNG\r\n\x1a\n rest".to_vec();
        let (hash, kind) = media.save_image(&png).unwrap();
        assert_eq!(kind, ImageType::Png);
        assert_eq!(media.read(&hash).unwrap().unwrap(), png);
        assert!(matches!(
            media.save_image(b"GIF89a..."),
            Err(MediaError::NotAnImage)
        ));
        assert!(matches!(
            media.save_image(b"<svg/>"),
            Err(MediaError::NotAnImage)
        ));
        assert_eq!(
            ImageType::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageType::Webp)
        );
        assert_eq!(
            ImageType::sniff(&[0xff, 0xd8, 0xff, 0xe0]),
            Some(ImageType::Jpeg)
        );
        let big = [b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0; IMAGE_BYTES_MAX]].concat();
        assert!(matches!(media.save_image(&big), Err(MediaError::TooLarge)));
        assert!(media.read("../etc/passwd").unwrap().is_none());
        assert!(media.read(&"0".repeat(64)).unwrap().is_none());
    }
}
