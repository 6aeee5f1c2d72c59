//! SQL, one module per concept, and nowhere else in the crate. Plain `$1`-style queries through
//! `sqlx::Any`, so the same SQL serves SQLite and PostgreSQL: keep to the types both share
//! (integers, text, blobs, NULL) and store times as Unix seconds.
//!
//! Each model keeps its local methods (views, rules) apart from its database methods, which take
//! a `&mut AnyConnection` so that callers decide about pools and transactions.

pub mod activity;
pub mod history;
// readme: notes-store
pub mod notes;
// readme: end
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

/// Settings every SQLite connection gets when it opens (none can be put in the URL).
pub const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";
