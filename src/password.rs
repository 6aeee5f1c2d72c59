//! Password hashing off the async workers.
//!
//! One bcrypt verify at cost 12 takes a few hundred milliseconds of CPU. Running it on an async
//! worker would stall every request that worker holds, so it runs in `spawn_blocking`, behind a
//! semaphore that leaves a core free for everything else (SPEC §10: a login flood must not raise
//! the latency of authenticated requests).

use std::sync::Arc;
use tokio::sync::Semaphore;

/// Longest password bcrypt can take without truncating it.
pub const MAX_PASSWORD_BYTES: usize = 72;
/// Shortest password accepted at signup.
pub const MIN_PASSWORD_BYTES: usize = 8;

/// Hashes and verifies passwords at a fixed cost, a bounded number at a time.
pub struct Hasher {
    cost: u32,
    permits: Arc<Semaphore>,
    /// Verified against when the user is unknown, so that case costs the same as a wrong password.
    dummy_hash: String,
}

impl Hasher {
    /// Builds a hasher; computes its dummy hash once, off the async workers.
    pub async fn new(cost: u32) -> Result<Hasher, String> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let dummy_hash = tokio::task::spawn_blocking(move || {
            bcrypt::hash(crate::token::random_bytes::<16>(), cost)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        Ok(Hasher {
            cost,
            permits: Arc::new(Semaphore::new(cores.saturating_sub(1).max(1))),
            dummy_hash,
        })
    }

    /// A new hash of `password`; the caller has checked it with [`check_new_password`].
    pub async fn hash(&self, password: String) -> Result<String, String> {
        let cost = self.cost;
        // check_new_password refused anything over 72 bytes, so nothing is cut here (bcrypt's
        // non_truncating_* functions count the NUL terminator and would refuse 72 bytes).
        self.blocking(move || bcrypt::hash(password, cost).map_err(|e| e.to_string()))
            .await
    }

    /// Whether `password` matches `hash`; with no hash, burns the same time and returns false.
    /// A password over 72 bytes never matches: no such password can have been set.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let fits = password.len() <= MAX_PASSWORD_BYTES;
        let (hash, real) = match hash {
            Some(h) if fits => (h, true),
            _ => (self.dummy_hash.clone(), false),
        };
        let matched = self
            .blocking(move || Ok(bcrypt::verify(password, &hash).unwrap_or(false)))
            .await
            .unwrap_or(false);
        real && matched
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let _permit = self.permits.acquire().await.map_err(|e| e.to_string())?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| e.to_string())?
    }
}

/// Why a new password is refused, or `None` when it is acceptable.
pub fn check_new_password(password: &str) -> Option<&'static str> {
    if password.len() < MIN_PASSWORD_BYTES {
        Some("password must be at least 8 bytes")
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some("password must be at most 72 bytes (bcrypt would silently truncate it)")
    } else if password.contains('\0') {
        Some("password must not contain NUL characters")
    } else {
        None
    }
}
