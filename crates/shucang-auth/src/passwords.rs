//! Argon2id password hashes, computed on the blocking pool under one
//! concurrency cap with a bounded wait queue.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use rand::rngs::OsRng;
use tokio::sync::Semaphore;

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
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// One permit per hash computed at once.
    running: Arc<Semaphore>,
    /// One permit per caller running or waiting.
    admitted: Arc<Semaphore>,
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
        let dummy_hash = hash_with(&argon2, &hex::encode(random))?;
        let concurrency_max = limits.concurrency_max.max(1);
        Ok(PasswordHasher {
            argon2,
            running: Arc::new(Semaphore::new(concurrency_max)),
            admitted: Arc::new(Semaphore::new(concurrency_max + limits.queue_max)),
            dummy_hash,
        })
    }

    /// The PHC string of `password` under a fresh random salt.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let password = password.to_owned();
        self.run(move |argon2| hash_with(argon2, &password)).await?
    }

    /// Whether `password` matches `stored`; with no stored hash (an unknown
    /// user) the dummy hash is checked, at the same cost, and the answer is
    /// `false`. A stored hash that does not parse is a mismatch, and so is a
    /// check whose task was lost (logged), as a wrong password would be.
    pub async fn verify(&self, stored: Option<&str>, password: &str) -> Result<bool, Busy> {
        let known = stored.is_some();
        let hash = stored.unwrap_or(&self.dummy_hash).to_owned();
        let password = password.to_owned();
        let matches = self
            .run(move |argon2| {
                PasswordHash::new(&hash)
                    .map(|parsed| argon2.verify_password(password.as_bytes(), &parsed).is_ok())
                    .unwrap_or(false)
            })
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

    /// Runs `job` on the blocking pool once admitted and given a slot. The
    /// permits travel with the job, so a caller that gives up while the job
    /// runs does not free its slot early.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
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
        let argon2 = self.argon2.clone();
        tokio::task::spawn_blocking(move || {
            let _permits = (admission, slot);
            job(&argon2)
        })
        .await
        .map_err(|e| PasswordError::Hashing(e.to_string()))
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
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
