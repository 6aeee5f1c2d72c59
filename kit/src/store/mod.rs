//! SQL, one module per concept, and nowhere else in the crate. Plain `$1`-style queries through
//! `sqlx::Any`, so the same SQL serves SQLite and PostgreSQL: keep to the types both share
//! (integers, text, blobs, NULL) and store times as Unix seconds.
//!
//! Each model keeps its local methods (views, rules) apart from its database methods, which take
//! a `&mut AnyConnection` so that callers decide about pools and transactions.

pub mod activity;
pub mod history;
pub mod links;
pub mod mail_sends;
pub mod outbox;
pub mod revocations;
mod session_row;
mod session_view;
pub mod sessions;
pub mod signups;
pub mod throttle;
pub mod tokens;
pub mod users;

use sqlx::AnyConnection;

/// Asks the database for a trivial answer (readiness).
pub async fn ping(conn: &mut AnyConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT 1").execute(conn).await.map(drop)
}

/// In a transaction: waits until no other transaction holds `key`, then holds it until this one
/// ends, so that a count and the write it decides never interleave with another's. On
/// PostgreSQL (READ COMMITTED) a transaction-scoped advisory lock on the key; SQLite needs none,
/// since its single writer serializes every transaction that writes first.
pub async fn lock_key(conn: &mut AnyConnection, key: &str) -> sqlx::Result<()> {
    if conn.backend_name() != "PostgreSQL" {
        return Ok(());
    }
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(conn)
        .await
        .map(drop)
}

/// Settings every SQLite connection gets when it opens (none can be put in the URL).
pub const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";
