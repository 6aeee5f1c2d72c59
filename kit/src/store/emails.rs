//! Changes to a user's email address after sign-up: a new address waits in `pending_email`
//! until its verification link is used, then replaces the old one, verified; or the address is
//! removed. (The address given at sign-up is written by [`super::users::User::create`], and
//! verified by [`super::users::User::mark_email_verified`].)

use crate::address::{self, EmailAddress};
use sqlx::AnyConnection;

/// Sets (or, with `None`, clears) the address waiting for its verification link.
pub async fn set_pending(
    conn: &mut AnyConnection,
    user_id: i64,
    email: Option<&EmailAddress>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET pending_email = $1 WHERE id = $2")
        .bind(email.map(EmailAddress::as_str))
        .bind(user_id)
        .execute(conn)
        .await
        .map(drop)
}

/// Why a waiting address could not become the account's.
#[derive(Debug)]
pub enum ApplyError {
    /// The user has no such address waiting (it changed since the link was mailed).
    NotPending,
    /// Another account has the address now.
    Taken,
    Db(sqlx::Error),
}

/// Makes the waiting address `email` the account's, verified (its link was just used).
pub async fn apply_pending(
    conn: &mut AnyConnection,
    user_id: i64,
    email: &str,
) -> Result<(), ApplyError> {
    let done = sqlx::query(
        "UPDATE users SET email = pending_email, email_key = $1, email_verified = 1, \
         pending_email = NULL WHERE id = $2 AND pending_email = $3",
    )
    .bind(address::key(email))
    .bind(user_id)
    .bind(email)
    .execute(conn)
    .await;
    match done {
        Ok(done) if done.rows_affected() > 0 => Ok(()),
        Ok(_) => Err(ApplyError::NotPending),
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => Err(ApplyError::Taken),
        Err(e) => Err(ApplyError::Db(e)),
    }
}

/// Removes the user's address, and any waiting one.
pub async fn remove(conn: &mut AnyConnection, user_id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET email = NULL, email_key = NULL, email_verified = 0, \
         pending_email = NULL WHERE id = $1",
    )
    .bind(user_id)
    .execute(conn)
    .await
    .map(drop)
}

/// Whether `email` is the address of an account other than `user_id` (compared
/// case-insensitively).
pub async fn taken_by_other(
    conn: &mut AnyConnection,
    email: &EmailAddress,
    user_id: i64,
) -> sqlx::Result<bool> {
    let found: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM users WHERE email_key = $1 AND id <> $2")
            .bind(email.key())
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}
