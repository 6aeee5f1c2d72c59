//! Mails that carry a link (verification, reset), counted per key for an hour so that one
//! address, or one client, gets at most so many: `mail_max_per_hour` per address, ten times
//! that per client IP for reset requests. Keys are `email:<address key>` ([`email_key`]) or a
//! client's [`super::throttle::ip_key`].
//!
//! To decide and record in one step, call [`reserve`] in the transaction that queues the mail;
//! [`count`] and [`record`] are its parts, for callers that decide otherwise.

use sqlx::AnyConnection;

/// Seconds a mail counts against its keys.
pub const WINDOW: i64 = 3600;

/// The key of an address (already in comparison form, see [`crate::address::EmailAddress::key`]).
pub fn email_key(address_key: &str) -> String {
    format!("email:{address_key}")
}

/// Mails counted against `key` within the hour before `now` (the tests read it).
#[cfg(feature = "testing")]
pub async fn count(conn: &mut AnyConnection, key: &str, now: i64) -> sqlx::Result<u32> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM mail_sends WHERE key = $1 AND sent_at > $2")
            .bind(key)
            .bind(now - WINDOW)
            .fetch_one(conn)
            .await?;
    Ok(n as u32)
}

/// Counts one mail against `key`.
pub async fn record(conn: &mut AnyConnection, key: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO mail_sends (key, sent_at) VALUES ($1, $2)")
        .bind(key)
        .bind(now)
        .execute(conn)
        .await
        .map(drop)
}

/// In a transaction: if every `(key, max)` (max at least 1) has had fewer than `max` mails
/// within the hour, counts one more against each and returns `None`; else records nothing and
/// returns the seconds until the strictest key allows one again. Serialized per key across
/// instances (see [`super::lock_key`]), so parallel requests never get past a limit; the count
/// is kept only if the caller's transaction commits.
///
/// It writes before it reads: the new rows go in first (in a savepoint, rolled back when a key
/// is over its limit), so that on SQLite the transaction holds the write lock before its
/// count, and a parallel reservation waits for it rather than failing with "database is
/// locked" when it upgrades a read to a write.
pub async fn reserve(
    conn: &mut AnyConnection,
    limits: &[(&str, u32)],
    now: i64,
) -> sqlx::Result<Option<u64>> {
    // Always in the caller's order: callers name the address before the IP, so no deadlock.
    for (key, _) in limits {
        super::lock_key(conn, &format!("mail:{key}")).await?;
    }
    let mut savepoint = sqlx::Connection::begin(&mut *conn).await?;
    for (key, _) in limits {
        record(&mut savepoint, key, now).await?;
    }
    let mut wait = None;
    for &(key, max) in limits {
        // With this mail counted, the key is over its limit while the (max + 1)-th most recent
        // mail is within the hour.
        let table = ("mail_sends", "sent_at");
        let nth = max.max(1).saturating_add(1);
        if let Some(secs) =
            super::wait_for_nth(&mut savepoint, table, key, nth, now, WINDOW).await?
        {
            wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
        }
    }
    match wait {
        None => savepoint.commit().await?,
        Some(_) => savepoint.rollback().await?,
    }
    Ok(wait)
}

/// Deletes the rows that no longer count; returns how many.
pub async fn prune(conn: &mut AnyConnection, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM mail_sends WHERE sent_at <= $1")
        .bind(now - WINDOW)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
