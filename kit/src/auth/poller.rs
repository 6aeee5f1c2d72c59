//! Revocation across processes on SQLite: every revocation logs the revoked token hashes in the
//! same transaction (`revocation_log`), and each server polls the log and evicts them from its
//! cache, so a `revoke` from the command line (or a second server on the same file) is honoured
//! within a fraction of a second.
//!
//! The poll is cheap: `PRAGMA data_version` on a connection of its own says whether anyone has
//! committed since the last look, and only then is the log read (by id, from where it stopped).
//! Nothing of this runs on the request path. While the poller has no connection, the cache is
//! distrusted, as on PostgreSQL while the listener is down.

use super::Auth;
use crate::store::revocations;
use rocket::tokio::time::{sleep, Duration};
use rocket::Shutdown;
use sqlx::{AnyConnection, Connection};

/// Time between two looks: a revocation elsewhere is honoured within about this long.
pub const POLL: Duration = Duration::from_millis(100);
/// Polls between two prunings of the log: small deletes often, rather than one large delete per
/// sweep (which filled a connection's page cache at once, and kept it).
const PRUNE_EVERY: u32 = 50;
/// Pause between two attempts to connect.
const RETRY: Duration = Duration::from_millis(500);

/// The poller's own connection, and where it stands in the log.
struct Reader {
    conn: AnyConnection,
    version: i64,
    last: i64,
}

async fn connect(url: &str) -> sqlx::Result<Reader> {
    let mut conn = AnyConnection::connect(url).await?;
    sqlx::query("PRAGMA busy_timeout = 5000")
        .execute(&mut conn)
        .await?;
    let version = revocations::data_version(&mut conn).await?;
    let last = revocations::last_logged(&mut conn).await?;
    Ok(Reader {
        conn,
        version,
        last,
    })
}

impl Reader {
    /// Deletes what no cache can still hold (as the sweep does, but a few seconds' worth at a
    /// time). A failure (the writer busy for long) only waits for the next turn.
    async fn prune(&mut self, auth: &Auth) {
        let before = auth.clock.now() - 2 * super::ENTRY_TTL.as_secs() as i64;
        if let Err(e) = revocations::prune_log(&mut self.conn, before).await {
            rocket::warn!("revocation poller could not prune the log: {e}");
        }
    }

    /// Evicts what was logged since the last look, if anyone has committed since.
    async fn catch_up(&mut self, auth: &Auth) -> sqlx::Result<()> {
        let version = revocations::data_version(&mut self.conn).await?;
        if version == self.version {
            return Ok(());
        }
        self.version = version;
        let logged = revocations::logged_since(&mut self.conn, self.last).await?;
        if let Some((last, _)) = logged.last() {
            self.last = *last;
            let hashes: Vec<_> = logged.into_iter().map(|(_, hash)| hash).collect();
            auth.cache.evict(&hashes);
        }
        Ok(())
    }
}

/// Runs until shutdown, keeping this server's cache in step with the other processes.
pub async fn run(auth: Auth, shutdown: Shutdown) {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let connected = rocket::tokio::select! {
            _ = &mut shutdown => return,
            connected = connect(auth.db.url()) => connected,
        };
        let mut reader = match connected {
            Ok(reader) => reader,
            Err(e) => {
                auth.cache.distrust();
                rocket::warn!("revocation poller cannot connect: {e}");
                rocket::tokio::select! {
                    _ = &mut shutdown => return,
                    _ = sleep(RETRY) => continue,
                }
            }
        };
        if !auth.cache.is_trusted() {
            auth.cache.trust();
        }
        let mut polls = 0u32;
        loop {
            rocket::tokio::select! {
                _ = &mut shutdown => return,
                _ = sleep(POLL) => {}
            }
            polls = (polls + 1) % PRUNE_EVERY;
            if polls == 0 {
                reader.prune(&auth).await;
            }
            if let Err(e) = reader.catch_up(&auth).await {
                // Until the log is read again, nothing may be served from memory.
                auth.cache.distrust();
                rocket::warn!("revocation poller lost its connection ({e}); reconnecting");
                break;
            }
        }
    }
}
