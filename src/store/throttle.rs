//! Failed-login records, kept in the database so that every instance sees the same counts.

use sqlx::AnyConnection;

/// The throttle key of a username (already lower-cased) and of a client IP.
pub fn user_key(username_key: &str) -> String {
    format!("user:{username_key}")
}

pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// Seconds until `key` may try again, or `None` while it has fewer than `max` failures within the
/// window ending at `now`.
pub async fn retry_after(
    conn: &mut AnyConnection,
    key: &str,
    max: u32,
    window: u64,
    now: i64,
) -> sqlx::Result<Option<u64>> {
    // The max-th most recent failure: once it leaves the window, the count drops below max.
    let oldest_counted: Option<(i64,)> = sqlx::query_as(
        "SELECT failed_at FROM login_failures WHERE key = $1 AND failed_at > $2 \
         ORDER BY failed_at DESC LIMIT 1 OFFSET $3",
    )
    .bind(key)
    .bind(now - window as i64)
    .bind(i64::from(max) - 1)
    .fetch_optional(conn)
    .await?;
    Ok(oldest_counted.map(|(at,)| (at + window as i64 - now).max(1) as u64))
}

pub async fn record_failure(conn: &mut AnyConnection, key: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO login_failures (key, failed_at) VALUES ($1, $2)")
        .bind(key)
        .bind(now)
        .execute(conn)
        .await
        .map(drop)
}

/// Forgets the failures of `key` (after a successful login for that username).
pub async fn clear(conn: &mut AnyConnection, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(key)
        .execute(conn)
        .await
        .map(drop)
}

/// Deletes failures older than the window; returns how many.
pub async fn prune(conn: &mut AnyConnection, window: u64, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1")
        .bind(now - window as i64)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
