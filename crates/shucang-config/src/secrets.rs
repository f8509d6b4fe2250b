//! Secret keys: from the environment, or from 0600 files under the data
//! directory that are created on first start.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand::RngCore;

/// The secrets a platform server needs, by name. Each is 32 random bytes.
/// `session` keys the stored hashes of session tokens; `pii` encrypts
/// personal data (ID numbers) at rest; `node` is the chain node's private
/// signing key (blocks, checkpoints, operator transactions).
const SECRET_NAMES: [&str; 3] = ["session", "pii", "node"];

/// Whether an environment variable is one of the secrets (`SHUCANG_SESSION_KEY`…).
pub(crate) fn is_secret_env(name: &str) -> bool {
    SECRET_NAMES.iter().any(|s| env_name(s) == name)
}

fn env_name(secret: &str) -> String {
    format!("SHUCANG_{}_KEY", secret.to_ascii_uppercase())
}

/// A 32-byte secret key. Its `Debug` output never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// The key bytes; use them, never print them.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    fn parse_hex(text: &str) -> Option<SecretKey> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(SecretKey(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// Why the secrets could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// An environment variable holds something other than 64 hex digits.
    #[error("{0} must be 64 hexadecimal digits (32 bytes)")]
    BadEnv(String),
    /// A key file holds something other than 64 hex digits.
    #[error("secret file {0} must hold 64 hexadecimal digits (32 bytes)")]
    BadFile(PathBuf),
    /// A key file is readable or writable by others.
    #[error("secret file {path} has mode {mode:o}; it must be 600 (run: chmod 600 {path})")]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Reading or creating a file failed.
    #[error("secret file {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// The server's secret keys.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// Keys the stored hashes of session tokens.
    pub session: SecretKey,
    /// Encrypts personal data at rest.
    pub pii: SecretKey,
    /// The chain node's private key.
    pub node: SecretKey,
}

impl Secrets {
    /// Loads each secret from `SHUCANG_<NAME>_KEY` in `env` if set, else from
    /// `<data_dir>/secrets/<name>.key`, creating that file (mode 0600, in a
    /// 0700 directory) with a fresh random key if it does not exist.
    pub fn load_or_create(
        data_dir: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Secrets, SecretError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let dir = data_dir.join("secrets");
        let mut keys = Vec::with_capacity(SECRET_NAMES.len());
        for name in SECRET_NAMES {
            let var = env_name(name);
            let key = match env.iter().find(|(k, _)| *k == var) {
                Some((_, value)) => SecretKey::parse_hex(value).ok_or(SecretError::BadEnv(var))?,
                None => load_or_create_file(&dir, &dir.join(format!("{name}.key")))?,
            };
            keys.push(key);
        }
        let mut keys = keys.into_iter();
        let mut next = || keys.next().expect("one key per secret name");
        Ok(Secrets {
            session: next(),
            pii: next(),
            node: next(),
        })
    }
}

/// One key under `dir/<name>.key`, created as [`Secrets::load_or_create`]
/// creates its keys (a witness's signing key, which belongs to no site).
pub fn load_or_create_key(dir: &Path, name: &str) -> Result<SecretKey, SecretError> {
    load_or_create_file(dir, &dir.join(format!("{name}.key")))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecretError + '_ {
    move |source| SecretError::Io {
        path: path.to_owned(),
        source,
    }
}

fn load_or_create_file(dir: &Path, path: &Path) -> Result<SecretKey, SecretError> {
    match fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(SecretError::Permissions {
                    path: path.to_owned(),
                    mode,
                });
            }
            let text = fs::read_to_string(path).map_err(io(path))?;
            SecretKey::parse_hex(&text).ok_or_else(|| SecretError::BadFile(path.to_owned()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_file(dir, path),
        Err(e) => Err(io(path)(e)),
    }
}

fn create_file(dir: &Path, path: &Path) -> Result<SecretKey, SecretError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    // create_new: if another process created the file meanwhile, fail rather
    // than overwrite a key that may already be in use.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    file.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())
        .map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))?;
    Ok(SecretKey(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_mode_0600_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = Secrets::load_or_create(dir.path(), []).unwrap();
        let path = dir.path().join("secrets/session.key");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = fs::metadata(dir.path().join("secrets"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        let second = Secrets::load_or_create(dir.path(), []).unwrap();
        assert_eq!(first.session, second.session);
        assert_eq!(first.pii, second.pii);
        assert_ne!(first.session, first.pii);
        assert_eq!(format!("{:?}", first.session), "SecretKey(***)");
    }

    #[test]
    fn environment_wins_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let hex64 = "ab".repeat(32);
        let s = Secrets::load_or_create(
            dir.path(),
            [("SHUCANG_SESSION_KEY".to_owned(), hex64.clone())],
        )
        .unwrap();
        assert_eq!(s.session.expose(), &[0xab; 32]);
        assert!(!dir.path().join("secrets/session.key").exists());
        let e = Secrets::load_or_create(
            dir.path(),
            [("SHUCANG_PII_KEY".to_owned(), "abc".to_owned())],
        )
        .unwrap_err();
        assert!(e.to_string().contains("SHUCANG_PII_KEY"), "{e}");
    }

    #[test]
    fn loose_permissions_and_bad_content_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        Secrets::load_or_create(dir.path(), []).unwrap();
        let path = dir.path().join("secrets/pii.key");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let e = Secrets::load_or_create(dir.path(), []).unwrap_err();
        assert!(
            matches!(e, SecretError::Permissions { mode: 0o644, .. }),
            "{e}"
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&path, "not hex").unwrap();
        let e = Secrets::load_or_create(dir.path(), []).unwrap_err();
        assert!(matches!(e, SecretError::BadFile(_)), "{e}");
    }
}
