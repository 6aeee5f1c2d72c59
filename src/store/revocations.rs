//! Cross-instance revocation on PostgreSQL: the `NOTIFY` every revocation commits, and what the
//! listener of each instance asks of its own connection.

use crate::token::TokenHash;
use sqlx::AnyConnection;

/// The channel on which revoked token hashes are announced to every instance.
pub const CHANNEL: &str = concat!(env!("CARGO_CRATE_NAME"), "_revoked");

/// Hashes per notification, well under PostgreSQL's 8000-byte payload limit.
const PER_MESSAGE: usize = 100;

/// Announces `gone` on [`CHANNEL`]; sent only if the surrounding transaction commits.
pub async fn notify(conn: &mut AnyConnection, gone: &[TokenHash]) -> sqlx::Result<()> {
    for chunk in gone.chunks(PER_MESSAGE) {
        let payload = chunk
            .iter()
            .map(TokenHash::to_hex)
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
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
