//! The auth machinery: one fairing that owns the config, the password hasher, the validation
//! cache and the background tasks, and the request guard that new routes put in their signature.

mod cache;
mod guard;
mod listener;
mod service;

pub use cache::{CachedSession, ENTRY_TTL};
pub use guard::{AuthError, CurrentSession, SignupOpen};
pub use service::{ClientInfo, SignInError, SignUpError};

use crate::config::AuthConfig;
use crate::db::{Backend, Db, DbPool};
use crate::events::{AuthEvent, EventBus, RevokeReason};
use crate::password::Hasher;
use crate::store::sessions::{AuthRow, Expiry, Session};
use crate::store::{now, throttle};
use crate::token::TokenHash;
use cache::SessionCache;
use rocket::fairing::{self, AdHoc, Fairing, Info, Kind};
use rocket::{Build, Orbit, Rocket};
use rocket_db_pools::Database;
use sqlx::{Any, AnyConnection, Transaction};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// PostgreSQL channel on which revoked token hashes are announced to every instance.
pub const REVOCATION_CHANNEL: &str = "multitoken_revoked";

/// The state the fairing manages; reach it with `&State<Auth>` or through the guards.
pub struct Auth {
    pub config: AuthConfig,
    pub hasher: Hasher,
    /// Subscribe with [`crate::events::subscriber`].
    pub events: EventBus,
    db: DbPool,
    cache: SessionCache,
    /// Pending `last_used_at` writes, by session id, flushed in batches off the request path.
    touches: Mutex<HashMap<Arc<str>, i64>>,
    /// Backend pid of the PostgreSQL revocation listener; 0 while it is down (or on SQLite).
    listener_pid: AtomicI64,
}

impl Auth {
    pub async fn new(config: AuthConfig, db: DbPool) -> Result<Auth, String> {
        Ok(Auth {
            hasher: Hasher::new(config.bcrypt_cost).await?,
            events: EventBus::default(),
            // On PostgreSQL the cache serves only while the revocation listener is up.
            cache: SessionCache::new(config.cache_capacity, db.backend() != Backend::Postgres),
            touches: Mutex::new(HashMap::new()),
            listener_pid: AtomicI64::new(0),
            config,
            db,
        })
    }

    pub fn db(&self) -> &DbPool {
        &self.db
    }

    pub fn expiry(&self, now: i64) -> Expiry {
        Expiry::at(now, self.config.idle_timeout)
    }

    /// The session behind a well-formed token hash: from the cache, or from the database.
    pub async fn validate(&self, hash: &TokenHash) -> Result<Arc<CachedSession>, AuthError> {
        let now = now();
        if let Some(session) = self.cache.get(hash) {
            let last_used = session.last_used_at.load(SeqCst);
            if !self.expiry(now).has_ended(last_used, session.expires_at) {
                self.touch(&session, now);
                return Ok(session);
            }
            // Idle in this process's view; another instance may have seen it used: re-read.
        }
        let epoch = self.cache.epoch();
        let mut conn = self
            .db
            .acquire()
            .await
            .map_err(|_| AuthError::Unavailable)?;
        let row = Session::find_for_auth(&mut conn, hash)
            .await
            .map_err(|_| AuthError::Unavailable)?
            .ok_or(AuthError::InvalidToken)?;
        if self.expiry(now).has_ended(row.last_used_at, row.expires_at) {
            // Refused either way; deleting it now is housekeeping, so a failure here is moot.
            if self.revoke_ended(&mut conn, hash).await.is_ok() {
                self.events.emit(AuthEvent::SessionRevoked {
                    user_id: Some(row.user_id),
                    session_id: Some(row.id),
                    reason: RevokeReason::Expired,
                    sessions_ended: 1,
                });
            }
            return Err(AuthError::InvalidToken);
        }
        let session = Arc::new(cached(row));
        self.cache.fill(*hash, session.clone(), epoch);
        self.touch(&session, now);
        Ok(session)
    }

    /// Notes a use of the session; the row is written at most once per `touch_interval`.
    fn touch(&self, session: &CachedSession, now: i64) {
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
            touches.insert(session.session_id.clone(), now);
        }
    }

    /// Writes the pending `last_used_at` values in one transaction.
    pub async fn flush_touches(&self) -> sqlx::Result<()> {
        let pending = std::mem::take(&mut *self.touches.lock().unwrap_or_else(|e| e.into_inner()));
        if pending.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        for (id, at) in &pending {
            Session::touch(&mut tx, id, *at).await?;
        }
        tx.commit().await
    }

    /// Announces revoked hashes (PostgreSQL), commits, then evicts them from the cache. The
    /// eviction follows the commit, so a concurrent cache fill either sees the row gone or gives
    /// way to the eviction's epoch bump.
    pub async fn commit_revocation(
        &self,
        mut tx: Transaction<'_, Any>,
        gone: &[TokenHash],
    ) -> sqlx::Result<()> {
        if self.db.backend() == Backend::Postgres {
            for chunk in gone.chunks(100) {
                let payload = chunk
                    .iter()
                    .map(TokenHash::to_hex)
                    .collect::<Vec<_>>()
                    .join(",");
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(REVOCATION_CHANNEL)
                    .bind(payload)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        self.cache.evict(gone);
        Ok(())
    }

    /// The PostgreSQL backend pid of this instance's revocation listener, while it listens.
    pub fn listener_pid(&self) -> Option<i64> {
        Some(self.listener_pid.load(SeqCst)).filter(|&pid| pid != 0)
    }

    /// Whether the cache serves requests now (false on PostgreSQL while the listener is down).
    pub fn cache_is_trusted(&self) -> bool {
        self.cache.is_trusted()
    }

    /// Deletes ended sessions and old failed-login records; returns the sessions deleted.
    pub async fn sweep(&self) -> sqlx::Result<usize> {
        let now = now();
        let expiry = self.expiry(now);
        let mut conn = self.db.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let ended = Session::delete_ended(&mut tx, expiry).await?;
        self.commit_revocation(tx, &ended).await?;
        throttle::prune(&mut conn, self.config.login_failure_window, now).await?;
        if !ended.is_empty() {
            self.events.emit(AuthEvent::SessionRevoked {
                user_id: None,
                session_id: None,
                reason: RevokeReason::Expired,
                sessions_ended: ended.len(),
            });
        }
        Ok(ended.len())
    }

    async fn revoke_ended(&self, conn: &mut AnyConnection, hash: &TokenHash) -> sqlx::Result<()> {
        let mut tx = sqlx::Connection::begin(conn).await?;
        let gone = Session::delete_by_hash(&mut tx, hash).await?;
        self.commit_revocation(tx, &gone).await
    }
}

fn cached(row: AuthRow) -> CachedSession {
    CachedSession {
        session_id: row.id.into(),
        user_id: row.user_id,
        username: row.username.into(),
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at.into(),
        last_written_at: row.last_used_at.into(),
    }
}

/// The fairing: builds [`Auth`] at ignition (failing it on bad config), runs the touch flusher
/// and the expiry sweep from liftoff, and flushes pending writes at shutdown.
struct AuthFairing;

#[rocket::async_trait]
impl Fairing for AuthFairing {
    fn info(&self) -> Info {
        Info {
            name: "Auth",
            kind: Kind::Ignite | Kind::Liftoff | Kind::Shutdown,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let config = match AuthConfig::from_figment(rocket.figment()) {
            Ok(config) => config,
            Err(e) => {
                rocket::error!("{e}");
                return Err(rocket);
            }
        };
        let Some(db) = Db::fetch(&rocket).map(|db| (**db).clone()) else {
            rocket::error!("the Auth fairing needs the database fairing attached first");
            return Err(rocket);
        };
        match Auth::new(config, db).await {
            Ok(auth) => Ok(rocket.manage(Arc::new(auth))),
            Err(e) => {
                rocket::error!("cannot start the auth machinery: {e}");
                Err(rocket)
            }
        }
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let Some(auth) = rocket.state::<Arc<Auth>>().cloned() else {
            return;
        };
        let shutdown = rocket.shutdown();
        if auth.db.backend() == Backend::Postgres {
            rocket::tokio::spawn(listener::run(auth.clone(), shutdown.clone()));
        }
        let flush_every = Duration::from_secs(auth.config.touch_interval.clamp(1, 5));
        let sweep_every = auth.config.sweep_interval;
        rocket::tokio::spawn(async move {
            let mut flush = rocket::tokio::time::interval(flush_every);
            let mut sweep = rocket::tokio::time::interval(Duration::from_secs(sweep_every.max(1)));
            let mut shutdown = std::pin::pin!(shutdown);
            loop {
                rocket::tokio::select! {
                    _ = &mut shutdown => break,
                    _ = flush.tick() => {
                        if let Err(e) = auth.flush_touches().await {
                            rocket::warn!("could not write last-used times: {e}");
                        }
                    }
                    _ = sweep.tick(), if sweep_every > 0 => {
                        if let Err(e) = auth.sweep().await {
                            rocket::warn!("expired-session sweep failed: {e}");
                        }
                    }
                }
            }
        });
    }

    async fn on_shutdown(&self, rocket: &Rocket<Orbit>) {
        if let Some(auth) = rocket.state::<Arc<Auth>>() {
            if let Err(e) = auth.flush_touches().await {
                rocket::warn!("could not write last-used times at shutdown: {e}");
            }
            // The pool closes here, after the last write (see `DbPool::close`).
            auth.db.close().await;
        }
    }
}

/// Attaches the auth machinery; attach it after `db::stage()`.
pub fn stage() -> AdHoc {
    // Attached from inside ignition so that it runs after the database fairings it needs.
    AdHoc::on_ignite("Auth stage", |rocket| async { rocket.attach(AuthFairing) })
}
