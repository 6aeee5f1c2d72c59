//! The session store: one row per device or client, keyed by a public id, holding only the
//! SHA-256 of its token.
//!
//! Every delete returns the token hashes it removed, so the caller can evict them from the
//! validation cache (and, on PostgreSQL, tell the other instances) in the same step.

use super::history::{keep_ended, EndReason, Ending, GONE};
use crate::scopes::ScopeSet;
use crate::token::TokenHash;
use sqlx::{AnyConnection, FromRow};

pub use super::session_row::{Expiry, Kind, Session};
pub use super::session_view::SessionView;

/// Longest session name kept.
pub const MAX_NAME: usize = 100;

/// What a new session is made of, besides its token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub user_id: i64,
    pub kind: Kind,
    pub name: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub expires_at: Option<i64>,
    /// `None`: full access.
    pub scopes: Option<ScopeSet>,
    pub token_days: Option<i64>,
    /// A sign-in is a password check: it starts in sudo mode until then.
    pub sudo_until: Option<i64>,
    /// Whether the sign-in passed a second factor.
    pub mfa: bool,
}

/// The row behind a token, with what validation needs of its user.
#[derive(Debug, Clone, FromRow)]
pub struct AuthRow {
    pub id: String,
    pub user_id: i64,
    pub username: String,
    #[sqlx(try_from = "String")]
    pub kind: Kind,
    pub last_used_at: i64,
    pub expires_at: Option<i64>,
    pub scopes: Option<String>,
    pub sudo_until: Option<i64>,
    /// The user's email address, and whether it is verified (0/1).
    pub email: Option<String>,
    pub email_verified: i64,
    /// 0/1: whether the session's sign-in passed a second factor.
    pub mfa: i64,
    /// 0/1: whether the user has two-factor on, and how many recovery codes are left.
    pub two_factor: i64,
    pub recovery_codes_left: i64,
}

pub(super) const COLUMNS: &str = "id, user_id, kind, name, user_agent, device, ip, created_at, \
     last_used_at, expires_at, scopes, token_days, sudo_until, last_ip, mfa";

// Database methods.
impl Session {
    pub async fn insert(
        conn: &mut AnyConnection,
        new: &NewSession,
        id: &str,
        token_hash: &TokenHash,
        now: i64,
    ) -> sqlx::Result<Session> {
        let device = crate::device::label(new.user_agent.as_deref());
        let sql = format!(
            "INSERT INTO sessions (id, user_id, token_hash, kind, name, user_agent, device, ip, \
             created_at, last_used_at, expires_at, scopes, token_days, sudo_until, last_ip, mfa) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $8, $14) \
             RETURNING {COLUMNS}"
        );
        sqlx::query_as(&sql)
            .bind(id)
            .bind(new.user_id)
            .bind(token_hash.0.to_vec())
            .bind(new.kind.as_str())
            .bind(new.name.clone())
            .bind(new.user_agent.clone())
            .bind(device)
            .bind(new.ip.clone())
            .bind(now)
            .bind(new.expires_at)
            .bind(new.scopes.as_ref().map(ScopeSet::to_column))
            .bind(new.token_days)
            .bind(new.sudo_until)
            .bind(i64::from(new.mfa))
            .fetch_one(conn)
            .await
    }

    /// The live row behind a token, if its user is enabled; expiry is checked by the caller.
    pub async fn find_for_auth(
        conn: &mut AnyConnection,
        token_hash: &TokenHash,
    ) -> sqlx::Result<Option<AuthRow>> {
        sqlx::query_as(
            "SELECT s.id, s.user_id, u.username, s.kind, s.last_used_at, s.expires_at, s.scopes, \
                    s.sudo_until, u.email, u.email_verified, s.mfa, \
                    COALESCE(t.enabled, 0) AS two_factor, \
                    (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = s.user_id) \
                        AS recovery_codes_left \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             LEFT JOIN two_factor t ON t.user_id = s.user_id \
             WHERE s.token_hash = $1 AND u.disabled = 0",
        )
        .bind(token_hash.0.to_vec())
        .fetch_optional(conn)
        .await
    }

    /// The token hashes of every session of the user (to make caches read them again).
    pub async fn hashes_of_user(
        conn: &mut AnyConnection,
        user_id: i64,
    ) -> sqlx::Result<Vec<TokenHash>> {
        let rows: Vec<(Vec<u8>,)> =
            sqlx::query_as("SELECT token_hash FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(conn)
                .await?;
        Ok(rows
            .iter()
            .filter_map(|(h,)| TokenHash::from_slice(h))
            .collect())
    }

    /// The user's live sessions, most recently used first.
    pub async fn list_live(
        conn: &mut AnyConnection,
        user_id: i64,
        expiry: Expiry,
    ) -> sqlx::Result<Vec<Session>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions \
             WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > $2) \
               AND (kind = 'token' OR last_used_at > $3) \
             ORDER BY last_used_at DESC, created_at DESC, id"
        );
        sqlx::query_as(&sql)
            .bind(user_id)
            .bind(expiry.now)
            .bind(expiry.idle_cutoff)
            .fetch_all(conn)
            .await
    }

    /// Writes a batched `last_used_at` and the address of that use; never moves one backwards.
    pub async fn touch(
        conn: &mut AnyConnection,
        id: &str,
        at: i64,
        ip: Option<&str>,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE sessions SET last_used_at = $1, last_ip = COALESCE($3, last_ip) \
             WHERE id = $2 AND last_used_at < $1",
        )
        .bind(at)
        .bind(id)
        .bind(ip)
        .execute(conn)
        .await
        .map(drop)
    }

    /// Ends one session of one user; empty when the id is unknown or someone else's.
    pub async fn delete_for_user(
        conn: &mut AnyConnection,
        user_id: i64,
        id: &str,
        ending: Ending,
    ) -> sqlx::Result<Vec<TokenHash>> {
        let sql = format!("DELETE FROM sessions WHERE id = $1 AND user_id = $2 {GONE}");
        let rows = sqlx::query_as(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await?;
        keep_ended(conn, rows, ending, None).await
    }

    /// Ends a session by id alone (the command line's `revoke`).
    pub async fn delete_by_id(
        conn: &mut AnyConnection,
        id: &str,
        ending: Ending,
    ) -> sqlx::Result<Vec<TokenHash>> {
        let sql = format!("DELETE FROM sessions WHERE id = $1 {GONE}");
        let rows = sqlx::query_as(&sql).bind(id).fetch_all(&mut *conn).await?;
        keep_ended(conn, rows, ending, None).await
    }

    /// Ends the session of a token; a session found past its end is kept as such.
    pub async fn delete_by_hash(
        conn: &mut AnyConnection,
        token_hash: &TokenHash,
        ending: Ending,
        expiry: Expiry,
    ) -> sqlx::Result<Vec<TokenHash>> {
        let sql = format!("DELETE FROM sessions WHERE token_hash = $1 {GONE}");
        let rows = sqlx::query_as(&sql)
            .bind(token_hash.0.to_vec())
            .fetch_all(&mut *conn)
            .await?;
        keep_ended(conn, rows, ending, Some(expiry)).await
    }

    /// Ends every session of a user, or every one but `except`.
    pub async fn delete_all_for_user(
        conn: &mut AnyConnection,
        user_id: i64,
        except: Option<&str>,
        ending: Ending,
    ) -> sqlx::Result<Vec<TokenHash>> {
        let sql = format!("DELETE FROM sessions WHERE user_id = $1 AND id <> $2 {GONE}");
        let rows = sqlx::query_as(&sql)
            .bind(user_id)
            .bind(except.unwrap_or(""))
            .fetch_all(&mut *conn)
            .await?;
        keep_ended(conn, rows, ending, None).await
    }

    /// Keeps `keep` and the `max - 1` most recently used other sign-in sessions of the user;
    /// ends the rest (the least recently used: `evicted`) and the user's ended ones (`expired`
    /// or `idle`). Personal tokens are never evicted, nor counted.
    pub async fn evict_over_cap(
        conn: &mut AnyConnection,
        user_id: i64,
        keep: &str,
        max: u32,
        expiry: Expiry,
        history: bool,
    ) -> sqlx::Result<Vec<TokenHash>> {
        let sql = format!(
            "DELETE FROM sessions WHERE user_id = $1 AND id <> $2 AND ( \
                 (expires_at IS NOT NULL AND expires_at <= $4) \
                 OR (kind <> 'token' AND last_used_at <= $5) \
                 OR (kind <> 'token' AND id NOT IN ( \
                     SELECT id FROM sessions WHERE user_id = $1 AND id <> $2 AND kind <> 'token' \
                     ORDER BY last_used_at DESC, created_at DESC, id LIMIT $3))) \
             {GONE}"
        );
        let rows = sqlx::query_as(&sql)
            .bind(user_id)
            .bind(keep)
            .bind(i64::from(max) - 1)
            .bind(expiry.now)
            .bind(expiry.idle_cutoff)
            .fetch_all(&mut *conn)
            .await?;
        let ending = Ending {
            reason: EndReason::Evicted,
            at: expiry.now,
            keep: history,
        };
        keep_ended(conn, rows, ending, Some(expiry)).await
    }

    /// Ends every session past its end (the periodic sweep and `prune`), kept as `expired` or
    /// `idle`.
    pub async fn delete_ended(
        conn: &mut AnyConnection,
        expiry: Expiry,
        history: bool,
    ) -> sqlx::Result<Vec<TokenHash>> {
        let sql = format!(
            "DELETE FROM sessions \
             WHERE (expires_at IS NOT NULL AND expires_at <= $1) \
                OR (kind <> 'token' AND last_used_at <= $2) \
             {GONE}"
        );
        let rows = sqlx::query_as(&sql)
            .bind(expiry.now)
            .bind(expiry.idle_cutoff)
            .fetch_all(&mut *conn)
            .await?;
        let ending = Ending {
            reason: EndReason::Expired,
            at: expiry.now,
            keep: history,
        };
        keep_ended(conn, rows, ending, Some(expiry)).await
    }
}
