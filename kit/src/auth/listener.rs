//! Cross-instance revocation on PostgreSQL: every revocation commits a `pg_notify` with the
//! revoked token hashes, and each instance LISTENs and evicts them from its cache.
//!
//! A listener connection can drop, and sqlx's listener would silently reconnect and lose what was
//! sent in the gap. So this task manages the connection itself: while it is not listening, the
//! cache is distrusted (every request reads the database), and once LISTEN is active again the
//! cache restarts empty. Nothing revoked while the listener was down can be served from memory.

use super::Auth;
use crate::store::revocations;
use rocket::tokio::time::{sleep, Duration};
use rocket::Shutdown;
use sqlx::postgres::PgListener;
use std::sync::atomic::Ordering::SeqCst;

/// Pause between two attempts to connect the listener.
const RETRY: Duration = Duration::from_millis(500);

async fn connect(url: &str) -> sqlx::Result<(PgListener, i64)> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(revocations::channel()).await?;
    let pid = revocations::backend_pid(&mut listener).await?;
    Ok((listener, pid))
}

/// Runs until shutdown, keeping this instance's cache in step with every other instance.
pub async fn run(auth: Auth, shutdown: Shutdown) {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let connected = rocket::tokio::select! {
            _ = &mut shutdown => return,
            connected = connect(auth.db.url()) => connected,
        };
        let (mut listener, pid) = match connected {
            Ok(connected) => connected,
            Err(e) => {
                rocket::warn!("revocation listener cannot connect: {e}");
                rocket::tokio::select! {
                    _ = &mut shutdown => return,
                    _ = sleep(RETRY) => continue,
                }
            }
        };
        auth.listener_pid.store(pid, SeqCst);
        auth.cache.trust();
        loop {
            let message = rocket::tokio::select! {
                _ = &mut shutdown => return,
                message = listener.try_recv() => message,
            };
            match message {
                Ok(Some(notification)) => {
                    auth.cache
                        .evict(&revocations::parse(notification.payload()));
                }
                Ok(None) | Err(_) => {
                    // Lost: until LISTEN is back, nothing may be served from memory.
                    auth.cache.distrust();
                    auth.listener_pid.store(0, SeqCst);
                    rocket::warn!("revocation listener lost its connection; reconnecting");
                    break;
                }
            }
        }
    }
}
