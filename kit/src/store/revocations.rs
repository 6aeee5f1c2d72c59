//! Revocation beyond this process: on PostgreSQL the `NOTIFY` every revocation commits, and what
//! the listener of each instance asks of its own connection; on SQLite the revocation log that
//! other processes on the same file poll.

use crate::token::TokenHash;
use sqlx::AnyConnection;

/// The channel on which revoked token hashes are announced to every instance (named after the
/// app, so that two apps on one server never hear each other).
pub fn channel() -> &'static str {
    crate::site::get().revoked_channel
}

/// Hashes per notification, well under PostgreSQL's 8000-byte payload limit.
const PER_MESSAGE: usize = 100;

/// Announces `gone` on [`channel`]; sent only if the surrounding transaction commits.
pub async fn notify(conn: &mut AnyConnection, gone: &[TokenHash]) -> sqlx::Result<()> {
    for chunk in gone.chunks(PER_MESSAGE) {
        let payload = chunk
            .iter()
            .map(TokenHash::to_hex)
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel())
            .bind(payload)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The hashes of one notification's payload (malformed parts are skipped).
pub fn parse(payload: &str) -> Vec<TokenHash> {
    payload.split(',').filter_map(TokenHash::from_hex).collect()
}

/// The PostgreSQL backend pid of the listener's connection.
pub async fn backend_pid(listener: &mut sqlx::postgres::PgListener) -> sqlx::Result<i64> {
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(listener)
        .await?;
    Ok(i64::from(pid))
}

// On SQLite, the revocation log: what other processes on the same file read to evict.

/// Logs revoked hashes, in the transaction that deletes their sessions.
pub async fn log(conn: &mut AnyConnection, gone: &[TokenHash], now: i64) -> sqlx::Result<()> {
    for hash in gone {
        sqlx::query("INSERT INTO revocation_log (token_hash, revoked_at) VALUES ($1, $2)")
            .bind(hash.0.to_vec())
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The newest entry's id (0 when the log is empty): where a reader starts.
pub async fn last_logged(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    let (id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM revocation_log")
        .fetch_one(conn)
        .await?;
    Ok(id.unwrap_or(0))
}

/// Entries after `after`, oldest first: their ids and hashes.
pub async fn logged_since(
    conn: &mut AnyConnection,
    after: i64,
) -> sqlx::Result<Vec<(i64, TokenHash)>> {
    let rows: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT id, token_hash FROM revocation_log WHERE id > $1 ORDER BY id")
            .bind(after)
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, hash)| Some((id, TokenHash::from_slice(&hash)?)))
        .collect())
}

/// Deletes entries logged at or before `before`.
pub async fn prune_log(conn: &mut AnyConnection, before: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM revocation_log WHERE revoked_at <= $1")
        .bind(before)
        .execute(conn)
        .await
        .map(drop)
}

/// SQLite's `PRAGMA data_version`: changes on this connection whenever another connection
/// commits to the file, so that a reader can tell cheaply whether to look at the log.
pub async fn data_version(conn: &mut AnyConnection) -> sqlx::Result<i64> {
    let (version,): (i64,) = sqlx::query_as("PRAGMA data_version")
        .fetch_one(conn)
        .await?;
    Ok(version)
}
