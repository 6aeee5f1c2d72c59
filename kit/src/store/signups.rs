//! Sign-ups per client, in the database so that every instance sees the same counts: one row per
//! sign-up that counts, keyed by the client as the login throttle keys it
//! ([`super::throttle::ip_key`]).

use sqlx::AnyConnection;

/// Seconds a sign-up counts against its client: `signup_max_per_ip` is per hour.
pub const WINDOW: i64 = 3600;

/// Counts a sign-up of `key` as the attempt `attempt`, if the client has had fewer than `max`
/// within the hour: then its row is kept (committed) and `None` is returned; else nothing is kept
/// and the answer is the seconds until the client may sign up again.
///
/// The decision is serialized per key, across instances: by SQLite's single writer (the first
/// statement writes), or by a PostgreSQL advisory lock on the key. So parallel sign-ups never
/// get past the limit.
pub async fn reserve(
    conn: &mut AnyConnection,
    key: &str,
    max: u32,
    attempt: &str,
    now: i64,
) -> sqlx::Result<Option<u64>> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    super::lock_key(&mut tx, &format!("signup:{key}")).await?;
    sqlx::query("INSERT INTO signups (key, at, attempt) VALUES ($1, $2, $3)")
        .bind(key)
        .bind(now)
        .bind(attempt)
        .execute(&mut *tx)
        .await?;
    // With this one counted, the (max + 1)-th most recent sign-up: while it is within the hour
    // the client is over; once it leaves, a new sign-up may go.
    let wait = super::wait_for_nth(&mut tx, ("signups", "at"), key, max + 1, now, WINDOW).await?;
    match wait {
        None => tx.commit().await?,
        Some(_) => tx.rollback().await?,
    }
    Ok(wait)
}

/// Withdraws an attempt's row: the sign-up does not count after all.
pub async fn withdraw(conn: &mut AnyConnection, attempt: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM signups WHERE attempt = $1")
        .bind(attempt)
        .execute(conn)
        .await
        .map(drop)
}

/// Deletes the rows that no longer count; returns how many.
pub async fn prune(conn: &mut AnyConnection, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM signups WHERE at <= $1")
        .bind(now - WINDOW)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
