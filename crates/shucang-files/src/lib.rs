//! Durable content-addressed files: the platform's media and the filing
//! registry's uploads are stored by their SHA-256 in one directory each.
//!
//! [`ContentStore::put`] acknowledges a file only once it is on disk: the
//! bytes go to a temporary file of its own (mode 0600) that is fsynced,
//! renamed to the hex SHA-256, and the directory is fsynced so the new name
//! survives a crash. Writing the same bytes twice stores one file. Readers
//! only ever see complete files: a name is either absent or final.
//! [`replace_durably`] is the same write for a file that is replaced in
//! place (a witness's state).
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let store = shucang_files::ContentStore::new(&dir.path().join("media"));
//! let hash = store.put(b"bytes").unwrap();
//! assert_eq!(store.read(&hash).unwrap(), Some(b"bytes".to_vec()));
//! assert_eq!(store.read("../etc/passwd").unwrap(), None);
//! ```
//!
//! **Architecture invariant:** knows nothing of what the files are (no
//! content sniffing, no domain), of HTTP or of SQL: bytes in, hash out.

use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

/// Names temporary files apart when one process writes the same bytes
/// twice at once.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Whether `name` is a stored file's name: 64 hexadecimal digits (so never
/// a path that leaves the directory).
pub fn is_sha256_hex(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Files named by their SHA-256 in one directory.
#[derive(Debug, Clone)]
pub struct ContentStore {
    dir: PathBuf,
}

impl ContentStore {
    /// Files under `dir` (created on first write).
    pub fn new(dir: &Path) -> ContentStore {
        ContentStore {
            dir: dir.to_owned(),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `bytes` durably (temporary file with mode 0600, fsync, rename
    /// to the hash, fsync of the directory) unless they are stored already;
    /// returns the hex SHA-256 they are stored under.
    pub fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let hash = hex::encode(Sha256::digest(bytes));
        self.put_as(&hash, bytes)?;
        Ok(hash)
    }

    /// Writes `bytes` durably under `hash` (64 hexadecimal digits, which
    /// the caller derived from what the bytes stand for: an encrypted
    /// file is kept under its plaintext's hash) unless something is stored
    /// there already. The directory is created with mode 0700.
    pub fn put_as(&self, hash: &str, bytes: &[u8]) -> io::Result<()> {
        if !is_sha256_hex(hash) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a stored file is named by 64 hexadecimal digits",
            ));
        }
        let path = self.dir.join(hash);
        if path.exists() {
            return Ok(());
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        replace_durably(&path, bytes)
    }

    /// The bytes stored under `hash`; `None` when nothing is, or when
    /// `hash` is not 64 hexadecimal digits.
    pub fn read(&self, hash: &str) -> io::Result<Option<Vec<u8>>> {
        if !is_sha256_hex(hash) {
            return Ok(None);
        }
        match fs::read(self.dir.join(hash)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Creates `dir` (and its missing parents) with mode 0700, or tightens it
/// to 0700 if it exists: an application's data directory, where personal
/// data and keys are kept.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// Makes `path` hold `bytes` (mode 0600) so that after a crash it holds
/// either its old content or all the new: a temporary file beside it,
/// fsync, rename over it, fsync of the directory.
pub fn replace_durably(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = write_synced(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::File::open(dir)?.sync_all()
}

/// Creates `path` (which must not exist) with mode 0600, writes `bytes`
/// and fsyncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn stored_by_sha256_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::new(&dir.path().join("files"));
        let hash = store.put(b"abc").unwrap();
        // FIPS 180-2's SHA-256 of "abc".
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(store.put(b"abc").unwrap(), hash);
        let names: Vec<_> = fs::read_dir(store.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![hash.clone()], "one file, no temporary left");
        let mode = fs::metadata(store.dir().join(&hash))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(store.dir()).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert_eq!(store.read(&hash).unwrap(), Some(b"abc".to_vec()));
        let refused = store.put_as("../escape", b"x").unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(store.read(&"0".repeat(64)).unwrap(), None);
        assert_eq!(store.read("../files").unwrap(), None);
        assert_eq!(store.read(&hash.to_uppercase()[..63]).unwrap(), None);
    }

    #[test]
    fn the_same_bytes_written_at_once_end_up_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::new(dir.path());
        let bytes = vec![7u8; 1 << 20];
        let hashes: Vec<String> = std::thread::scope(|s| {
            let writers: Vec<_> = (0..4)
                .map(|_| s.spawn(|| store.put(&bytes).unwrap()))
                .collect();
            writers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert!(hashes.iter().all(|h| *h == hashes[0]));
        assert_eq!(store.read(&hashes[0]).unwrap(), Some(bytes));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-directory");
        fs::write(&file, b"x").unwrap();
        assert!(ContentStore::new(&file).put(b"abc").is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
