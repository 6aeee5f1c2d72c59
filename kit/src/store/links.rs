//! One-time links mailed to a user (email verification, password reset): only the SHA-256 of
//! each link's token is stored, with the address it went to and when it expires. A link is
//! deleted when used, when a newer one of its kind is issued for the user, when the password
//! changes, and by the sweep once expired.

use crate::token::TokenHash;
use sqlx::AnyConnection;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Proves an address: used, it marks the address verified (or makes a pending one the
    /// account's).
    Verify,
    /// Sets a new password.
    Reset,
}

impl LinkKind {
    /// The `kind` column's value.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Verify => "verify",
            LinkKind::Reset => "reset",
        }
    }
}

/// A link as stored, found by its token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkRow {
    pub user_id: i64,
    /// The address the link was mailed to.
    pub email: String,
    pub expires_at: i64,
}

/// Stores a new link of `kind` for the user, deleting the user's older ones of that kind (a new
/// link supersedes them).
pub async fn insert(
    conn: &mut AnyConnection,
    user_id: i64,
    kind: LinkKind,
    hash: &TokenHash,
    email: &str,
    now: i64,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM email_links WHERE user_id = $1 AND kind = $2")
        .bind(user_id)
        .bind(kind.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO email_links (user_id, kind, token_hash, email, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user_id)
    .bind(kind.as_str())
    .bind(&hash.0[..])
    .bind(email)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await
    .map(drop)
}

/// Deletes the link of `kind` with this token hash and returns it, expired or not (the caller
/// decides): one statement, so of two parallel uses only one gets the row.
pub async fn take(
    conn: &mut AnyConnection,
    kind: LinkKind,
    hash: &TokenHash,
) -> sqlx::Result<Option<LinkRow>> {
    sqlx::query_as(
        "DELETE FROM email_links WHERE token_hash = $1 AND kind = $2 \
         RETURNING user_id, email, expires_at",
    )
    .bind(&hash.0[..])
    .bind(kind.as_str())
    .fetch_optional(conn)
    .await
}

/// The link of `kind` with this token hash, expired or not, left in place (a page shows a link
/// before its form uses it).
pub async fn find(
    conn: &mut AnyConnection,
    kind: LinkKind,
    hash: &TokenHash,
) -> sqlx::Result<Option<LinkRow>> {
    sqlx::query_as(
        "SELECT user_id, email, expires_at FROM email_links WHERE token_hash = $1 AND kind = $2",
    )
    .bind(&hash.0[..])
    .bind(kind.as_str())
    .fetch_optional(conn)
    .await
}

/// Deletes every link of the user, of every kind; returns how many.
pub async fn delete_for_user(conn: &mut AnyConnection, user_id: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM email_links WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes the links that expired at or before `now`; returns how many.
pub async fn prune(conn: &mut AnyConnection, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM email_links WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
