//! The auth machinery: [`Auth`], managed by the auth stage, owns the config, the password hasher,
//! the validation cache and the background tasks; the request guard [`CurrentSession`] is what
//! a new route puts in its signature.
//!
//! The kit's handlers never take the whole machinery: each takes the narrow handle it needs
//! (`Sessions`, `SignIns`, `Tokens`, `Accounts`, `Recovery`, `TwoFactor`, `Settings`; see
//! `handles.rs`), a request guard on the managed [`Auth`]. `Auth` itself (the sweep, disabling an
//! account, revoking by id, the hasher) serves the command line, the stages and the guards.

mod access;
mod activity;
mod addresses;
mod attempts;
mod cache;
mod client;
mod email_change;
mod email_errors;
mod errors;
mod fairing;
mod guard;
mod handles;
mod links;
mod listener;
mod notices;
mod poller;
mod reauth;
mod recovery;
mod reset_gate;
mod second_factor;
mod second_step;
mod sessions;
mod sign_in;
mod signups;
mod tokens;
mod two_factor;

pub use crate::store::links::LinkKind;
pub use access::{CarriesPassword, Mfa, Scoped, Sudo, SudoOrPassword, SudoProof, Unscoped};
pub use cache::{CachedSession, ENTRY_TTL};
pub use client::ClientInfo;
pub use email_errors::{EmailError, RecoveryError};
pub use errors::{SignInError, SignUpError, TokenError};
pub use fairing::stage;
pub use guard::{AuthError, CurrentSession, SignupOpen};
pub use handles::{Accounts, Recovery, Sessions, Settings, SignIns, Tokens, TwoFactor};
pub use links::LinkError;
#[cfg(feature = "testing")]
pub use links::{IssuedLink, UsedLink};
pub use notices::mask_email;
pub use second_factor::SecondFactorError;
pub use second_step::{SecondStep, SignedIn};
pub use tokens::TokenRequest;
pub use two_factor::{TotpSetup, TwoFactorError};

use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::db::{Backend, DbPool};
use crate::events::{AuthEvent, EndReason, EventBus};
use crate::mail::Mailer;
use crate::password::Hasher;
use crate::scopes::Access;
use crate::store::activity::Activity;
use crate::store::history::EndedSession;
use crate::store::revocations;
use crate::store::sessions::{AuthRow, Expiry, Session};
use crate::store::throttle;
use crate::token::TokenHash;
use crate::two_factor::SealingKey;
use cache::SessionCache;
use sqlx::{Any, AnyConnection, Transaction};
use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicI64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock};

/// The auth machinery, as managed state (a handler takes a narrow handle of it instead, see
/// [`Sessions`] and its siblings). Cloning it is cheap (one shared [`Machinery`]).
#[derive(Clone)]
pub struct Auth(Arc<Machinery>);

/// A pending `last_used_at` write: when, and from which address.
type Touch = (i64, Option<IpAddr>);

/// What every clone of [`Auth`] shares.
pub struct Machinery {
    pub config: AuthConfig,
    pub hasher: Hasher,
    /// The app's event bus (also managed state of its own; see [`crate::events`]).
    pub events: EventBus,
    /// The time every lifetime is measured by (a manual one in tests).
    pub clock: Clock,
    db: DbPool,
    cache: SessionCache,
    /// Pending `last_used_at` writes (with the address of that use), by session id, flushed in
    /// batches off the request path.
    touches: Mutex<HashMap<Arc<str>, Touch>>,
    /// Backend pid of the PostgreSQL revocation listener; 0 while it is down (or on SQLite).
    listener_pid: AtomicI64,
    /// Wakes the sign-ins waiting for their turn (see `attempts`) when a password check ends.
    attempt_settled: tokio::sync::Notify,
    /// Password checks answered, by outcome (read by the metrics).
    checks: attempts::CheckCounts,
    /// Activity entries being written after their request's answer.
    late: activity::LateEntries,
    /// The key that seals two-factor secrets (none on the command line, which sets none up).
    sealing_key: Option<SealingKey>,
    /// The mail machinery, for notices (handed over by the mail stage).
    mailer: OnceLock<Mailer>,
}

impl Deref for Auth {
    type Target = Machinery;

    fn deref(&self) -> &Machinery {
        &self.0
    }
}

impl Auth {
    pub async fn new(
        config: AuthConfig,
        db: DbPool,
        events: EventBus,
        clock: Clock,
        sealing_key: Option<SealingKey>,
    ) -> Result<Auth, String> {
        Ok(Auth(Arc::new(Machinery {
            hasher: Hasher::new(&config).await?,
            events,
            clock,
            // On PostgreSQL the cache serves only while the revocation listener is up.
            cache: SessionCache::new(config.cache_capacity, db.backend() != Backend::Postgres),
            touches: Mutex::new(HashMap::new()),
            listener_pid: AtomicI64::new(0),
            attempt_settled: tokio::sync::Notify::new(),
            checks: attempts::CheckCounts::default(),
            late: activity::LateEntries::default(),
            sealing_key,
            mailer: OnceLock::new(),
            config,
            db,
        })))
    }

    pub fn db(&self) -> &DbPool {
        &self.db
    }

    pub fn expiry(&self, now: i64) -> Expiry {
        Expiry::at(now, self.config.idle_timeout)
    }

    /// The session behind a well-formed token hash: from the cache, or from the database.
    /// `ip` is the client's, noted as the session's last address with the batched write.
    pub async fn validate(
        &self,
        hash: &TokenHash,
        ip: Option<IpAddr>,
    ) -> Result<Arc<CachedSession>, AuthError> {
        let now = self.clock.now();
        if let Some(session) = self.cache.get(hash) {
            let last_used = session.last_used_at.load(SeqCst);
            if !self
                .expiry(now)
                .has_ended(session.kind, last_used, session.expires_at)
            {
                self.touch(&session, now, ip);
                return Ok(session);
            }
            // Idle in this process's view; another instance may have seen it used: re-read.
        }
        let epoch = self.cache.epoch();
        let mut conn = self.db.acquire().await.map_err(AuthError::from_db)?;
        let row = Session::find_for_auth(&mut conn, hash)
            .await
            .map_err(AuthError::from_db)?
            .ok_or(AuthError::InvalidToken)?;
        if self
            .expiry(now)
            .has_ended(row.kind, row.last_used_at, row.expires_at)
        {
            // Refused either way; deleting it now is housekeeping, so a failure here is moot.
            if self.revoke_ended(&mut conn, hash).await.is_ok() {
                self.events.emit(AuthEvent::SessionRevoked {
                    user_id: Some(row.user_id),
                    session_id: Some(row.id),
                    reason: EndReason::Expired,
                    sessions_ended: 1,
                });
            }
            return Err(AuthError::InvalidToken);
        }
        let session = Arc::new(cached(row));
        self.cache.fill(*hash, session.clone(), epoch);
        self.touch(&session, now, ip);
        Ok(session)
    }

    /// Notes a use of the session; the row is written at most once per `touch_interval`.
    fn touch(&self, session: &CachedSession, now: i64, ip: Option<IpAddr>) {
        // The idle timeout counts from the last use, known in memory at once...
        session.last_used_at.fetch_max(now, SeqCst);
        // ...while the row is written at most once per touch_interval.
        let written = session.last_written_at.load(SeqCst);
        if now - written >= self.config.touch_interval as i64
            && session
                .last_written_at
                .compare_exchange(written, now, SeqCst, SeqCst)
                .is_ok()
        {
            let mut touches = self.touches.lock().unwrap_or_else(|e| e.into_inner());
            touches.insert(session.session_id.clone(), (now, ip));
        }
    }

    /// Writes the pending `last_used_at` values in one transaction.
    pub async fn flush_touches(&self) -> sqlx::Result<()> {
        let pending = std::mem::take(&mut *self.touches.lock().unwrap_or_else(|e| e.into_inner()));
        if pending.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        for (id, (at, ip)) in &pending {
            let ip = ip.map(|ip| ip.to_string());
            Session::touch(&mut tx, id, *at, ip.as_deref()).await?;
        }
        tx.commit().await
    }

    /// Announces revoked hashes to the other processes (a NOTIFY on PostgreSQL, the revocation
    /// log on SQLite), commits, then evicts them from this process's cache. The
    /// eviction follows the commit, so a concurrent cache fill either sees the row gone or gives
    /// way to the eviction's epoch bump.
    pub async fn commit_revocation(
        &self,
        mut tx: Transaction<'_, Any>,
        gone: &[TokenHash],
    ) -> sqlx::Result<()> {
        match self.db.backend() {
            Backend::Postgres => revocations::notify(&mut tx, gone).await?,
            Backend::Sqlite => revocations::log(&mut tx, gone, self.clock.now()).await?,
        }
        tx.commit().await?;
        self.cache.evict(gone);
        Ok(())
    }

    /// The PostgreSQL backend pid of this instance's revocation listener, while it listens.
    pub fn listener_pid(&self) -> Option<i64> {
        Some(self.listener_pid.load(SeqCst)).filter(|&pid| pid != 0)
    }

    /// Whether the cache serves requests now (false while the PostgreSQL listener, or the SQLite
    /// revocation poller, is down).
    pub fn cache_is_trusted(&self) -> bool {
        self.cache.is_trusted()
    }

    /// Validation cache lookups so far: (hits, misses).
    pub fn cache_stats(&self) -> (u64, u64) {
        self.cache.stats()
    }

    /// Ends expired and idle sessions, and deletes history, activity, failed-login, sign-up,
    /// link, mail-count and half-done sign-in records past their retention; returns how many
    /// sessions ended.
    pub async fn sweep(&self) -> sqlx::Result<usize> {
        // Uses not yet written would make sessions in use look idle.
        self.flush_touches().await?;
        let now = self.clock.now();
        let expiry = self.expiry(now);
        let mut conn = self.db.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let history = self.config.history_retention > 0;
        let ended = Session::delete_ended(&mut tx, expiry, history).await?;
        self.commit_revocation(tx, &ended).await?;
        throttle::prune(&mut conn, self.config.login_failure_window, now).await?;
        crate::store::signups::prune(&mut conn, now).await?;
        crate::store::links::prune(&mut conn, now).await?;
        crate::store::mail_sends::prune(&mut conn, now).await?;
        crate::store::two_factor::prune_pending(&mut conn, now).await?;
        // Past twice an entry's lifetime, no cache holds what the log could still evict.
        revocations::prune_log(&mut conn, now - 2 * ENTRY_TTL.as_secs() as i64).await?;
        EndedSession::prune(&mut conn, now - self.config.history_retention as i64).await?;
        Activity::prune(&mut conn, now - self.config.activity_retention as i64).await?;
        if !ended.is_empty() {
            self.events.emit(AuthEvent::SessionRevoked {
                user_id: None,
                session_id: None,
                reason: EndReason::Expired,
                sessions_ended: ended.len(),
            });
        }
        Ok(ended.len())
    }

    async fn revoke_ended(&self, conn: &mut AnyConnection, hash: &TokenHash) -> sqlx::Result<()> {
        let mut tx = sqlx::Connection::begin(conn).await?;
        let ending = self.ending(EndReason::Expired);
        let gone = Session::delete_by_hash(&mut tx, hash, ending, self.expiry(ending.at)).await?;
        self.commit_revocation(tx, &gone).await
    }
}

fn cached(row: AuthRow) -> CachedSession {
    CachedSession {
        session_id: row.id.into(),
        user_id: row.user_id,
        username: row.username.into(),
        email: row.email.map(Into::into),
        email_verified: row.email_verified != 0,
        mfa: row.mfa != 0,
        two_factor: row.two_factor != 0,
        recovery_codes_left: row.recovery_codes_left,
        kind: row.kind,
        access: Access::from_column(row.scopes.as_deref()),
        expires_at: row.expires_at,
        sudo_until: row.sudo_until.unwrap_or(0).into(),
        last_used_at: row.last_used_at.into(),
        last_written_at: row.last_used_at.into(),
    }
}
