//! The in-process validation cache: token hash → session, so that an authenticated request served
//! from it runs no SQL at all.
//!
//! Revocation must win every race against a concurrent cache fill: a request that read the row
//! just before it was deleted must not put it back into the cache after the eviction. Every
//! eviction bumps an epoch, and a fill that saw the epoch move while it was reading gives way.

use crate::scopes::Access;
use crate::store::sessions::Kind;
use crate::token::{Prehashed, TokenHash};
use moka::sync::Cache;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// How long an entry may serve before it is read again from the database: the last line of
/// defence should an eviction message from another instance or process ever be lost.
pub const ENTRY_TTL: Duration = Duration::from_secs(30);

/// What validation needs to know about a session, without a query.
#[derive(Debug)]
pub struct CachedSession {
    pub session_id: Arc<str>,
    pub user_id: i64,
    pub username: Arc<str>,
    /// The user's email address and whether it is verified, as of the fill: a change to either
    /// commits through [`super::Auth::commit_account_change`], which evicts the user's entries.
    pub email: Option<Arc<str>>,
    pub email_verified: bool,
    /// Whether the session's sign-in passed a second factor.
    pub mfa: bool,
    /// The user's two-factor standing as of the fill (changes commit through
    /// `commit_account_change` too): on or off, and the recovery codes left.
    pub two_factor: bool,
    pub recovery_codes_left: i64,
    pub kind: Kind,
    /// Full access (a sign-in), or a personal token's scopes.
    pub access: Access,
    pub expires_at: Option<i64>,
    /// Until when the session is in sudo mode, as far as this instance knows (0: not).
    pub sudo_until: AtomicI64,
    /// The newest known use, in memory ahead of the row; the idle timeout counts from it.
    pub last_used_at: AtomicI64,
    /// The newest use written (or queued to be written) to the row (see `touch_interval`).
    pub last_written_at: AtomicI64,
}

pub struct SessionCache {
    entries: Option<Cache<TokenHash, Arc<CachedSession>, Prehashed>>,
    epoch: AtomicU64,
    /// False while evictions from elsewhere could be missed (PostgreSQL listener down): then
    /// every request reads the database.
    trusted: AtomicBool,
    /// Lookups answered from memory, and lookups that had to read the database (metrics).
    hits: AtomicU64,
    misses: AtomicU64,
}

impl SessionCache {
    /// A cache of `capacity` sessions; 0 turns caching off.
    pub fn new(capacity: u64, trusted: bool) -> SessionCache {
        let entries = (capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ENTRY_TTL)
                .build_with_hasher(Prehashed)
        });
        SessionCache {
            entries,
            epoch: AtomicU64::new(0),
            trusted: AtomicBool::new(trusted),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn get(&self, hash: &TokenHash) -> Option<Arc<CachedSession>> {
        let found = match self.trusted.load(SeqCst) {
            true => self.entries.as_ref().and_then(|entries| entries.get(hash)),
            false => None,
        };
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Relaxed);
        found
    }

    /// Lookups so far: (answered from memory, sent to the database).
    pub fn stats(&self) -> (u64, u64) {
        (self.hits.load(Relaxed), self.misses.load(Relaxed))
    }

    /// The epoch to pass to [`SessionCache::fill`]; read it before reading the database.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(SeqCst)
    }

    /// Caches a session read from the database, unless an eviction happened since `epoch`.
    pub fn fill(&self, hash: TokenHash, session: Arc<CachedSession>, epoch: u64) {
        let Some(entries) = &self.entries else { return };
        if !self.trusted.load(SeqCst) || self.epoch.load(SeqCst) != epoch {
            return;
        }
        entries.insert(hash, session);
        // An eviction may have slipped in between the check and the insert: undo ours.
        if self.epoch.load(SeqCst) != epoch {
            entries.invalidate(&hash);
        }
    }

    pub fn evict(&self, hashes: &[TokenHash]) {
        self.epoch.fetch_add(1, SeqCst);
        if let Some(entries) = &self.entries {
            for hash in hashes {
                entries.invalidate(hash);
            }
        }
    }

    /// Stops serving from the cache until [`SessionCache::trust`] (evictions may be missed).
    pub fn distrust(&self) {
        self.trusted.store(false, SeqCst);
        self.clear();
    }

    /// Serves from the cache again, starting empty (what it held may have been revoked).
    pub fn trust(&self) {
        self.clear();
        self.trusted.store(true, SeqCst);
    }

    pub fn is_trusted(&self) -> bool {
        self.trusted.load(SeqCst)
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.epoch.fetch_add(1, SeqCst);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }
}
