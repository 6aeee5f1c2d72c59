//! Failed-login records, kept in the database so that every instance sees the same counts.

use sqlx::AnyConnection;

/// The throttle key of a username (already lower-cased) and of a client IP.
pub fn user_key(username_key: &str) -> String {
    format!("user:{username_key}")
}

pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// Seconds until `key` may try again, or `None` while it has at most `max` failures within the
/// window ending at `now`, counting the caller's own reservation (see [`reserve`]).
pub async fn retry_after(
    conn: &mut AnyConnection,
    key: &str,
    max: u32,
    window: u64,
    now: i64,
) -> sqlx::Result<Option<u64>> {
    // Past the caller's own row (the newest), the max-th most recent failure: once it leaves the
    // window, a new attempt is allowed again.
    let oldest_counted: Option<(i64,)> = sqlx::query_as(
        "SELECT failed_at FROM login_failures WHERE key = $1 AND failed_at > $2 \
         ORDER BY failed_at DESC LIMIT 1 OFFSET $3",
    )
    .bind(key)
    .bind(now - window as i64)
    .bind(i64::from(max))
    .fetch_optional(conn)
    .await?;
    Ok(oldest_counted.map(|(at,)| (at + window as i64 - now).max(1) as u64))
}

/// Records a failure of `key` for the attempt `attempt` before its password is checked; the
/// attempt [`release`]s it if the password was right.
pub async fn reserve(
    conn: &mut AnyConnection,
    key: &str,
    attempt: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO login_failures (key, failed_at, attempt) VALUES ($1, $2, $3)")
        .bind(key)
        .bind(now)
        .bind(attempt)
        .execute(conn)
        .await
        .map(drop)
}

/// Withdraws an attempt's reserved failures (right password, or refused before any check).
pub async fn release(conn: &mut AnyConnection, attempt: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE attempt = $1")
        .bind(attempt)
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
