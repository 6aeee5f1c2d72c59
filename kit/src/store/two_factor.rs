//! The two-factor store: a user's authenticator (its sealed secret, whether it is confirmed, the
//! last step used) and recovery codes (hashes only). Sealing and checking codes is the caller's
//! (`crate::two_factor`); here are the rows.

use sqlx::{AnyConnection, FromRow};

/// A user's authenticator, as stored. Never printed with its secret.
#[derive(Clone, FromRow)]
pub struct TwoFactorRow {
    pub user_id: i64,
    /// The TOTP secret, sealed (see `crate::two_factor::SealingKey`).
    pub secret: Vec<u8>,
    /// 0/1: confirmed with a code, so asked at every sign-in.
    pub enabled: i64,
    /// The last step whose code was accepted.
    pub last_step: Option<i64>,
}

impl std::fmt::Debug for TwoFactorRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwoFactorRow")
            .field("user_id", &self.user_id)
            .field("secret", &"<redacted>")
            .field("enabled", &self.enabled)
            .field("last_step", &self.last_step)
            .finish()
    }
}

// Local methods.
impl TwoFactorRow {
    pub fn is_enabled(&self) -> bool {
        self.enabled != 0
    }
}

// Database methods.
impl TwoFactorRow {
    pub async fn find(
        conn: &mut AnyConnection,
        user_id: i64,
    ) -> sqlx::Result<Option<TwoFactorRow>> {
        sqlx::query_as(
            "SELECT user_id, secret, enabled, last_step FROM two_factor WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(conn)
        .await
    }

    /// Starts (or starts again) a set-up with a new sealed secret, unless two-factor is on;
    /// `false` when it is.
    pub async fn begin_setup(
        conn: &mut AnyConnection,
        user_id: i64,
        sealed: &[u8],
        now: i64,
    ) -> sqlx::Result<bool> {
        sqlx::query("DELETE FROM two_factor WHERE user_id = $1 AND enabled = 0")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        let done = sqlx::query(
            "INSERT INTO two_factor (user_id, secret, enabled, created_at) VALUES ($1, $2, 0, $3) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(sealed.to_vec())
        .bind(now)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Turns a pending set-up on, with `step` as its first used step; `false` when there was
    /// no pending set-up (already on, or never started).
    pub async fn confirm(conn: &mut AnyConnection, user_id: i64, step: i64) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "UPDATE two_factor SET enabled = 1, last_step = $2 WHERE user_id = $1 AND enabled = 0",
        )
        .bind(user_id)
        .bind(step)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records `step` as used, if it is newer than the last one: `false` when it is not (a
    /// replayed code, or an older one), so a code is accepted at most once, on every instance.
    pub async fn use_step(conn: &mut AnyConnection, user_id: i64, step: i64) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "UPDATE two_factor SET last_step = $2 \
             WHERE user_id = $1 AND enabled = 1 AND (last_step IS NULL OR last_step < $2)",
        )
        .bind(user_id)
        .bind(step)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Turns two-factor off (or drops a pending set-up) and deletes the recovery codes;
    /// `true` when it was on.
    pub async fn delete(conn: &mut AnyConnection, user_id: i64) -> sqlx::Result<bool> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        let done = sqlx::query("DELETE FROM two_factor WHERE user_id = $1 AND enabled = 1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM two_factor WHERE user_id = $1")
            .bind(user_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Replaces the user's recovery codes with these hashes.
pub async fn replace_recovery_codes(
    conn: &mut AnyConnection,
    user_id: i64,
    hashes: &[Vec<u8>],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for hash in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user_id)
            .bind(hash.clone())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Consumes the recovery code with this hash: `true` when it was the user's and unused.
pub async fn use_recovery_code(
    conn: &mut AnyConnection,
    user_id: i64,
    hash: &[u8],
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2")
        .bind(user_id)
        .bind(hash.to_vec())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// How many unused recovery codes the user has.
pub async fn recovery_codes_left(conn: &mut AnyConnection, user_id: i64) -> sqlx::Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(conn)
        .await?;
    Ok(n)
}

/// A half-done sign-in of the login form, as held: whose, a fingerprint of the password hash it
/// was checked against, and the name for its session.
#[derive(Debug, Clone, FromRow)]
pub struct PendingSignIn {
    pub user_id: i64,
    pub password_print: Vec<u8>,
    pub name: Option<String>,
}

/// Holds a half-done sign-in under the hash of its handle until `expires_at`.
pub async fn hold_pending(
    conn: &mut AnyConnection,
    handle_hash: &[u8],
    pending: &PendingSignIn,
    expires_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO mfa_pending (handle_hash, user_id, password_print, name, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(handle_hash.to_vec())
    .bind(pending.user_id)
    .bind(pending.password_print.clone())
    .bind(pending.name.clone())
    .bind(expires_at)
    .execute(conn)
    .await
    .map(drop)
}

/// The half-done sign-in of a handle, unless it expired (at or before `now`).
pub async fn find_pending(
    conn: &mut AnyConnection,
    handle_hash: &[u8],
    now: i64,
) -> sqlx::Result<Option<PendingSignIn>> {
    sqlx::query_as(
        "SELECT user_id, password_print, name FROM mfa_pending \
         WHERE handle_hash = $1 AND expires_at > $2",
    )
    .bind(handle_hash.to_vec())
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Ends a half-done sign-in (finished, or abandoned); `true` when it was there to end, so that
/// two second steps racing with one handle open one session, not two.
pub async fn drop_pending(conn: &mut AnyConnection, handle_hash: &[u8]) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM mfa_pending WHERE handle_hash = $1")
        .bind(handle_hash.to_vec())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes the half-done sign-ins that expired at or before `now` (the sweep).
pub async fn prune_pending(conn: &mut AnyConnection, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM mfa_pending WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
