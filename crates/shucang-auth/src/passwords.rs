//! Argon2id password hashes, computed on the blocking pool under one
//! concurrency cap with a bounded wait queue, in working memory that is
//! kept for reuse.

use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;
use rand::rngs::OsRng;
use shucang_types::{FailedLogin, UnixMillis};
use tokio::sync::Semaphore;

use crate::{LockoutPolicy, LoginCheck, Refusal, StoredLogin};

/// Password hashes computed at once, at most. Each Argon2id run holds
/// `memory_kib` of memory (19 MiB by default), so without this bound a
/// burst of logins could take the process's memory.
pub const HASHING_CONCURRENCY_MAX: usize = 4;

/// Callers waiting for a hashing slot, at most; one more is refused with
/// [`PasswordError::Busy`]. 64 waiting behind 4 running is about half a
/// second of work at the default parameters.
pub const HASHING_QUEUE_MAX: usize = 64;

/// How long a caller refused with [`PasswordError::Busy`] should wait before
/// trying again, in seconds (the web layer's `Retry-After`).
pub const BUSY_RETRY_AFTER_S: u64 = 1;

/// Argon2id's cost parameters (parallelism is always 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingParams {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
}

impl Default for HashingParams {
    /// OWASP's recommendation for Argon2id: 19 MiB, 2 iterations.
    fn default() -> HashingParams {
        HashingParams {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

/// How much hashing may run and wait at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashes computed at once (at least 1).
    pub concurrency_max: usize,
    /// Callers waiting for a slot before the next is refused.
    pub queue_max: usize,
}

impl Default for HashingLimits {
    /// [`HASHING_CONCURRENCY_MAX`] running, [`HASHING_QUEUE_MAX`] waiting.
    fn default() -> HashingLimits {
        HashingLimits {
            concurrency_max: HASHING_CONCURRENCY_MAX,
            queue_max: HASHING_QUEUE_MAX,
        }
    }
}

/// Every hashing slot is taken and the queue is full; try again after
/// [`BUSY_RETRY_AFTER_S`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks at once; try again shortly")]
pub struct Busy;

/// Why a password could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Every hashing slot is taken and the queue is full; try again after
    /// [`BUSY_RETRY_AFTER_S`].
    #[error("too many password checks at once; try again shortly")]
    Busy,
    /// The hasher failed or its task was lost (a bug, or shutdown).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl From<Busy> for PasswordError {
    fn from(_: Busy) -> PasswordError {
        PasswordError::Busy
    }
}

/// Hashes and verifies passwords: Argon2id PHC strings, computed off the
/// async threads, [`HashingLimits`] bounding the work in flight.
///
/// Each hash needs `memory_kib` of working memory. Rather than asking the
/// allocator for it every time (glibc then keeps the freed blocks, and a
/// burst of a few hundred logins left the process at 0.7–2 GiB), the blocks
/// of up to `concurrency_max` hashes are kept and reused: at most 4 × 19 MiB
/// by default, allocated on first use.
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// One permit per hash computed at once.
    running: Arc<Semaphore>,
    /// One permit per caller running or waiting.
    admitted: Arc<Semaphore>,
    /// Working memory of finished hashes, for the next ones (never more
    /// buffers than slots).
    memory: Arc<Mutex<Vec<Memory>>>,
    /// A valid hash of a random password, verified against when the user is
    /// unknown so that both failures take the same time.
    dummy_hash: String,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("running_available", &self.running.available_permits())
            .field("admitted_available", &self.admitted.available_permits())
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher with these costs and limits. Computes one hash (the dummy)
    /// on the calling thread, so it takes a few tens of milliseconds.
    pub fn new(
        params: HashingParams,
        limits: HashingLimits,
    ) -> Result<PasswordHasher, PasswordError> {
        let params = Params::new(params.memory_kib, params.iterations, 1, None)
            .map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut random = [0u8; 16];
        OsRng.fill_bytes(&mut random);
        // Its memory is given back: an idle server holds none.
        let dummy_hash = hash_in(&argon2, &hex::encode(random), &mut Memory::default())?;
        let concurrency_max = limits.concurrency_max.max(1);
        Ok(PasswordHasher {
            argon2,
            running: Arc::new(Semaphore::new(concurrency_max)),
            admitted: Arc::new(Semaphore::new(concurrency_max + limits.queue_max)),
            memory: Arc::new(Mutex::new(Vec::with_capacity(concurrency_max))),
            dummy_hash,
        })
    }

    /// The PHC string of `password` under a fresh random salt.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let password = password.to_owned();
        let argon2 = self.argon2.clone();
        self.run(move |memory| hash_in(&argon2, &password, memory))
            .await?
    }

    /// Whether `password` matches `stored`; with no stored hash (an unknown
    /// user) the dummy hash is checked, at the same cost, and the answer is
    /// `false`. A stored hash that does not parse is a mismatch, and so is a
    /// check whose task was lost (logged), as a wrong password would be.
    pub async fn verify(&self, stored: Option<&str>, password: &str) -> Result<bool, Busy> {
        let known = stored.is_some();
        let hash = stored.unwrap_or(&self.dummy_hash).to_owned();
        let password = password.to_owned();
        let kept_blocks_max = self.argon2.params().block_count();
        let matches = self
            .run(move |memory| verify_in(&hash, &password, memory, kept_blocks_max))
            .await;
        match matches {
            Ok(matches) => Ok(known && matches),
            Err(PasswordError::Busy) => Err(Busy),
            Err(PasswordError::Hashing(e)) => {
                tracing::error!(error = %e, "password check failed");
                Ok(false)
            }
        }
    }

    /// The password step of a login, in the order both applications keep:
    /// a lock in force (`locked_until` after `now`) refuses at once without
    /// hashing; otherwise the password is checked against the stored hash
    /// — an unknown user (`None`) against the dummy hash, so it costs the
    /// same and answers the same as a wrong password.
    pub async fn check_login(
        &self,
        stored: Option<(&str, Option<UnixMillis>)>,
        password: &str,
        now: UnixMillis,
    ) -> Result<LoginCheck, Busy> {
        let locked_until = stored.and_then(|(_, until)| until);
        if let Some(until) = crate::LockoutPolicy::lock_in_force(locked_until, now) {
            return Ok(LoginCheck::Locked { until });
        }
        let valid = self.verify(stored.map(|(hash, _)| hash), password).await?;
        Ok(match (stored, valid) {
            (Some(_), true) => LoginCheck::Valid,
            (Some(_), false) => LoginCheck::WrongPassword,
            (None, _) => LoginCheck::UnknownUser,
        })
    }

    /// A whole login's decision, the same in both applications: the
    /// password step of [`Self::check_login`]; a wrong password is counted
    /// by `record_failure` (the store's one atomic statement, which answers
    /// the lock it set or found); a right one is admitted only if `admit`
    /// (again atomic, in the store) finds no lock at `now`, because the row
    /// read before hashing may predate a lock set by parallel failures.
    pub async fn decide_login<E: From<Busy>>(
        &self,
        stored: Option<StoredLogin<'_>>,
        password: &str,
        policy: &LockoutPolicy,
        now: UnixMillis,
        record_failure: impl AsyncFnOnce(i64, FailedLogin) -> Result<Option<UnixMillis>, E>,
        admit: impl AsyncFnOnce(i64) -> Result<Option<UnixMillis>, E>,
    ) -> Result<Result<(), Refusal>, E> {
        let row = stored.map(|s| (s.password_hash, s.locked_until));
        let check = self.check_login(row, password, now).await?;
        let locked = match (stored, check) {
            (_, LoginCheck::Locked { until }) => Some(until),
            (Some(s), LoginCheck::WrongPassword) => {
                let locked = record_failure(s.id, policy.failed_login(now)).await?;
                if locked.is_some() {
                    tracing::warn!(id = s.id, "login locked after failed attempts");
                }
                locked
            }
            (Some(s), LoginCheck::Valid) => admit(s.id).await?,
            (None, _) | (Some(_), LoginCheck::UnknownUser) => {
                return Ok(Err(Refusal::InvalidCredentials));
            }
        };
        Ok(match (locked, check) {
            (Some(until), _) => Err(Refusal::Locked { until }),
            (None, LoginCheck::Valid) => Ok(()),
            (None, _) => Err(Refusal::InvalidCredentials),
        })
    }

    /// Runs `job` on the blocking pool once admitted and given a slot, with
    /// kept working memory. The permits travel with the job, so a caller
    /// that gives up while the job runs does not free its slot early.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let admission = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| PasswordError::Busy)?;
        let slot = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let kept = self.memory.clone();
        tokio::task::spawn_blocking(move || {
            let _permits = (admission, slot);
            // Never held while hashing, so a panicking job cannot poison it.
            let take = || kept.lock().unwrap_or_else(|e| e.into_inner());
            let mut memory = take().pop().unwrap_or_default();
            let result = job(&mut memory);
            take().push(memory);
            result
        })
        .await
        .map_err(|e| PasswordError::Hashing(e.to_string()))
    }
}

/// Argon2's working memory for one hash at a time.
#[derive(Default)]
struct Memory(Vec<Block>);

impl Memory {
    /// The first `count` blocks, grown to that many if need be.
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            self.0.reserve_exact(count - self.0.len());
            self.0.resize(count, Block::default());
        }
        &mut self.0[..count]
    }
}

/// The PHC string of `password` under a fresh salt, computed in `memory`.
fn hash_in(
    argon2: &Argon2<'_>,
    password: &str,
    memory: &mut Memory,
) -> Result<String, PasswordError> {
    let failed = |e: argon2::password_hash::Error| PasswordError::Hashing(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf).map_err(failed)?;
    let params = argon2.params();
    let blocks = memory.blocks(params.block_count());
    let output = compute(
        argon2,
        password,
        salt_bytes,
        Params::DEFAULT_OUTPUT_LEN,
        blocks,
    )
    .map_err(failed)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored`, computed in
/// `memory` — or, for a hash wanting more than `kept_blocks_max` blocks, in
/// memory of its own that is given back (a stored hash cannot grow what is
/// kept).
fn verify_in(stored: &str, password: &str, memory: &mut Memory, kept_blocks_max: usize) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::V0x13), Version::try_from) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let count = params.block_count();
    let mut own = Memory::default();
    let memory = if count <= kept_blocks_max {
        memory
    } else {
        &mut own
    };
    let blocks = memory.blocks(count);
    let argon2 = Argon2::new(algorithm, version, params);
    // `Output`'s equality is constant-time.
    compute(&argon2, password, salt_bytes, expected.len(), blocks)
        .is_ok_and(|computed| computed == expected)
}

/// Argon2 of `password` and `salt` into an output of `len` bytes, in the
/// given working memory.
fn compute(
    argon2: &Argon2<'_>,
    password: &str,
    salt: &[u8],
    len: usize,
    blocks: &mut [Block],
) -> Result<Output, argon2::password_hash::Error> {
    Output::init_with(len, |out| {
        Ok(argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, blocks)?)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    use super::*;

    /// Argon2's smallest memory cost, so tests run fast.
    const CHEAP: HashingParams = HashingParams {
        memory_kib: 8,
        iterations: 1,
    };

    fn hasher(concurrency_max: usize, queue_max: usize) -> Arc<PasswordHasher> {
        let limits = HashingLimits {
            concurrency_max,
            queue_max,
        };
        Arc::new(PasswordHasher::new(CHEAP, limits).unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashes_verify_and_unknown_users_never_match() {
        let h = hasher(4, 64);
        let stored = h.hash("Correct#Horse9").await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=8,t=1,p=1$"),
            "{stored}"
        );
        assert_ne!(
            stored,
            h.hash("Correct#Horse9").await.unwrap(),
            "fresh salt"
        );
        assert!(h.verify(Some(&stored), "Correct#Horse9").await.unwrap());
        assert!(!h.verify(Some(&stored), "Correct#Horse8").await.unwrap());
        assert!(!h.verify(None, "Correct#Horse9").await.unwrap());
        assert!(!h.verify(Some("not a PHC string"), "x").await.unwrap());
        // The default parameters are the ones accounts were hashed with.
        let default = PasswordHasher::new(HashingParams::default(), HashingLimits::default());
        assert!(
            default
                .unwrap()
                .dummy_hash
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_login_check_refuses_a_lock_first_then_checks_the_password() {
        let h = hasher(4, 64);
        let stored = h.hash("Correct#Horse9").await.unwrap();
        let now = UnixMillis(1_000);
        let check = |locked: Option<i64>, password: &'static str| {
            let h = h.clone();
            let stored = stored.clone();
            async move {
                h.check_login(Some((&stored, locked.map(UnixMillis))), password, now)
                    .await
                    .unwrap()
            }
        };
        // A lock in force refuses even the right password.
        assert_eq!(
            check(Some(1_001), "Correct#Horse9").await,
            LoginCheck::Locked {
                until: UnixMillis(1_001)
            }
        );
        // A lock that has ended is no lock.
        assert_eq!(
            check(Some(1_000), "Correct#Horse9").await,
            LoginCheck::Valid
        );
        assert_eq!(
            check(None, "Correct#Horse8").await,
            LoginCheck::WrongPassword
        );
        assert_eq!(
            h.check_login(None, "Correct#Horse9", now).await.unwrap(),
            LoginCheck::UnknownUser
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashes_are_standard_phc_strings_both_ways() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let h = hasher(4, 64);
        // A hash made by the argon2 crate's own API (as stored accounts
        // were) verifies here, and one made here verifies there.
        let argon2 = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(CHEAP.memory_kib, CHEAP.iterations, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let theirs = argon2
            .hash_password(b"Correct#Horse9", &salt)
            .unwrap()
            .to_string();
        assert!(h.verify(Some(&theirs), "Correct#Horse9").await.unwrap());
        assert!(!h.verify(Some(&theirs), "Correct#Horse8").await.unwrap());
        let ours = h.hash("Correct#Horse9").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(argon2.verify_password(b"Correct#Horse9", &parsed).is_ok());
        assert!(argon2.verify_password(b"Correct#Horse8", &parsed).is_err());
        // A hash with other costs still verifies, in memory of its own.
        let bigger = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        );
        let stored = bigger.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(h.verify(Some(&stored), "pw").await.unwrap());
        let kept = h.memory.lock().unwrap();
        assert!(kept.len() <= 4);
        assert!(
            kept.iter().all(|m| m.0.len() == 8),
            "8 blocks of 1 KiB each"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_cap_holds_under_a_parallel_burst() {
        let h = hasher(HASHING_CONCURRENCY_MAX, HASHING_QUEUE_MAX);
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let burst = HASHING_CONCURRENCY_MAX + HASHING_QUEUE_MAX;
        let tasks: Vec<_> = (0..burst)
            .map(|_| {
                let (h, now, peak) = (h.clone(), now.clone(), peak.clone());
                tokio::spawn(async move {
                    h.run(move |_| {
                        let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(running, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(5));
                        now.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        let mut done = 0;
        for t in tasks {
            // Tasks start one by one, so none can find the queue full.
            t.await.unwrap().unwrap();
            done += 1;
        }
        assert_eq!(done, burst);
        let peak = peak.load(Ordering::SeqCst);
        assert!(
            (2..=HASHING_CONCURRENCY_MAX).contains(&peak),
            "{peak} at once"
        );
        assert_eq!(h.running.available_permits(), HASHING_CONCURRENCY_MAX);
        assert_eq!(h.admitted.available_permits(), burst);
        assert!(h.memory.lock().unwrap().len() <= HASHING_CONCURRENCY_MAX);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_answers_busy_at_once() {
        let h = hasher(1, 2);
        // A gate the running job waits on, so the queue stays full.
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let waiting: Vec<_> = (0..3)
            .map(|_| {
                let (h, gate) = (h.clone(), gate.clone());
                tokio::spawn(async move {
                    h.run(move |_| {
                        let (open, cv) = &*gate;
                        let mut open = open.lock().unwrap();
                        while !*open {
                            open = cv.wait(open).unwrap();
                        }
                    })
                    .await
                })
            })
            .collect();
        while h.admitted.available_permits() > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(h.verify(None, "x").await, Err(Busy));
        assert_eq!(h.hash("x").await, Err(PasswordError::Busy));
        {
            let (open, cv) = &*gate;
            *open.lock().unwrap() = true;
            cv.notify_all();
        }
        for w in waiting {
            w.await.unwrap().unwrap();
        }
        // Room again once the queue drains.
        assert!(!h.verify(None, "x").await.unwrap());
    }
}
