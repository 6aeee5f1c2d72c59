//! SQL, one module per concept, and nowhere else in the crate. Plain `$1`-style queries through
//! `sqlx::Any`, so the same SQL serves SQLite and PostgreSQL: keep to the types both share
//! (integers, text, blobs, NULL) and store times as Unix seconds.
//!
//! Each model keeps its local methods (views, rules) apart from its database methods, which take
//! a `&mut AnyConnection` so that callers decide about pools and transactions.

pub mod activity;
pub mod emails;
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
pub mod two_factor;
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

/// The rule of the per-key hourly bounds (sign-ups per client, link mails per address): the
/// seconds until the `nth` most recent row of `key` in `table` (its time in `at_column`) is
/// older than `window` seconds before `now`, or `None` when `key` has fewer than `nth` rows
/// within the window. While that row is within the window, the key is at its bound.
async fn wait_for_nth(
    conn: &mut AnyConnection,
    (table, at_column): (&str, &str),
    key: &str,
    nth: u32,
    now: i64,
    window: i64,
) -> sqlx::Result<Option<u64>> {
    let sql = format!(
        "SELECT {at_column} FROM {table} WHERE key = $1 AND {at_column} > $2 \
         ORDER BY {at_column} DESC LIMIT 1 OFFSET $3"
    );
    let nth: Option<(i64,)> = sqlx::query_as(&sql)
        .bind(key)
        .bind(now - window)
        .bind(i64::from(nth.max(1)) - 1)
        .fetch_optional(conn)
        .await?;
    Ok(nth.map(|(at,)| (at + window - now).max(1) as u64))
}

/// Settings every SQLite connection gets when it opens (none can be put in the URL).
pub const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";
