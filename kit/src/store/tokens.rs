//! Personal access tokens and sudo mode: the queries only they need. Tokens are rows of the one
//! sessions table (kind 'token'), so listing and revoking them is what `sessions` does.

use super::sessions::{Session, COLUMNS};
use crate::token::TokenHash;
use sqlx::AnyConnection;

/// The most a personal token's name may hold, in characters.
pub const MAX_TOKEN_NAME: usize = 100;

impl Session {
    /// How many personal tokens of the user are live at `now`.
    pub async fn count_live_tokens(
        conn: &mut AnyConnection,
        user_id: i64,
        now: i64,
    ) -> sqlx::Result<i64> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND kind = 'token' \
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(user_id)
        .bind(now)
        .fetch_one(conn)
        .await?;
        Ok(count)
    }

    /// Gives a live personal token of the user a new secret, its expiry restarted with the same
    /// length. Returns the old hash (to evict) and the row, or `None` when the user has no live
    /// token with that id.
    pub async fn regenerate_token(
        conn: &mut AnyConnection,
        user_id: i64,
        id: &str,
        new_hash: &TokenHash,
        now: i64,
    ) -> sqlx::Result<Option<(TokenHash, Session)>> {
        let old: Option<(Vec<u8>, Option<i64>)> = sqlx::query_as(
            "SELECT token_hash, token_days FROM sessions WHERE id = $1 AND user_id = $2 \
             AND kind = 'token' AND (expires_at IS NULL OR expires_at > $3)",
        )
        .bind(id)
        .bind(user_id)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((old_hash, days)) = old else {
            return Ok(None);
        };
        let Some(old_hash) = TokenHash::from_slice(&old_hash) else {
            return Ok(None);
        };
        let expires_at = days.map(|days| now + days * 86_400);
        let sql = format!(
            "UPDATE sessions SET token_hash = $1, expires_at = $2 \
             WHERE id = $3 AND user_id = $4 AND token_hash = $5 RETURNING {COLUMNS}"
        );
        let row = sqlx::query_as(&sql)
            .bind(new_hash.0.to_vec())
            .bind(expires_at)
            .bind(id)
            .bind(user_id)
            .bind(old_hash.0.to_vec())
            .fetch_optional(conn)
            .await?;
        Ok(row.map(|row| (old_hash, row)))
    }

    /// Puts a session in sudo mode until `until` (never shortening a longer window).
    pub async fn grant_sudo(conn: &mut AnyConnection, id: &str, until: i64) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE sessions SET sudo_until = $1 \
             WHERE id = $2 AND (sudo_until IS NULL OR sudo_until < $1)",
        )
        .bind(until)
        .bind(id)
        .execute(conn)
        .await
        .map(drop)
    }

    /// Whether the session's row is still there (not revoked or ended meanwhile).
    pub async fn still_exists(conn: &mut AnyConnection, id: &str) -> sqlx::Result<bool> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE id = $1")
            .bind(id)
            .fetch_one(conn)
            .await?;
        Ok(count > 0)
    }

    /// Until when a session is in sudo mode, as its row says (another instance may have granted
    /// it since this one cached the session).
    pub async fn sudo_until(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<i64>> {
        let row: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT sudo_until FROM sessions WHERE id = $1")
                .bind(id)
                .fetch_optional(conn)
                .await?;
        Ok(row.and_then(|(until,)| until))
    }
}
