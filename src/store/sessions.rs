//! The session store: one row per device or client, keyed by a public id, holding only the
//! SHA-256 of its token.
//!
//! Every delete returns the token hashes it removed, so the caller can evict them from the
//! validation cache (and, on PostgreSQL, tell the other instances) in the same step.

use crate::clock::at;
use crate::token::TokenHash;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use time::OffsetDateTime;

/// Longest session name kept.
pub const MAX_NAME: usize = 100;

/// How a session was opened: by the JSON API's login, or by the browser sign-in form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `POST /api/auth/login`.
    Api,
    /// The sign-in form of the HTML pages.
    Browser,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Api => "api",
            Kind::Browser => "browser",
        }
    }
}

impl TryFrom<String> for Kind {
    type Error = String;

    /// From the `kind` column (its CHECK constraint allows exactly these).
    fn try_from(text: String) -> Result<Kind, String> {
        match text.as_str() {
            "api" => Ok(Kind::Api),
            "browser" => Ok(Kind::Browser),
            _ => Err(format!("unknown session kind {text:?}")),
        }
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct Session {
    pub id: String,
    pub user_id: i64,
    #[sqlx(try_from = "String")]
    pub kind: Kind,
    pub name: Option<String>,
    pub user_agent: Option<String>,
    pub device: String,
    pub ip: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: Option<i64>,
}

/// What a new session is made of, besides its token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub user_id: i64,
    pub kind: Kind,
    pub name: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// The row behind a token, with what validation needs of its user.
#[derive(Debug, Clone, FromRow)]
pub struct AuthRow {
    pub id: String,
    pub user_id: i64,
    pub username: String,
    pub last_used_at: i64,
    pub expires_at: Option<i64>,
}

/// A session as the API shows it (`GET /api/sessions`). Times are RFC 3339 UTC.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Public id: use it to revoke the session; it is not the token.
    #[schema(example = "fQrCvFKeqHBhb4gRhBfEkQ")]
    pub id: String,
    /// The name given at login, if any.
    pub name: Option<String>,
    #[schema(example = "Firefox on Linux")]
    pub device: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub kind: Kind,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: OffsetDateTime,
    /// When the session ends unless used again: the earlier of its absolute and idle ends.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Whether this is the session of the presented token.
    pub current: bool,
}

/// When sessions end: the absolute lifetime and the idle timeout, as cut-offs at a given time.
#[derive(Debug, Clone, Copy)]
pub struct Expiry {
    /// Sessions whose `expires_at` is at or before this have ended.
    pub now: i64,
    /// Sessions last used at or before this have ended (i64::MIN when there is no idle timeout).
    pub idle_cutoff: i64,
}

impl Expiry {
    pub fn at(now: i64, idle_timeout: u64) -> Expiry {
        let idle_cutoff = if idle_timeout == 0 {
            i64::MIN
        } else {
            now - idle_timeout as i64
        };
        Expiry { now, idle_cutoff }
    }

    pub fn has_ended(&self, last_used_at: i64, expires_at: Option<i64>) -> bool {
        expires_at.is_some_and(|e| e <= self.now) || last_used_at <= self.idle_cutoff
    }
}

// Local methods.
impl Session {
    /// The API view; `last_used_at` may be newer in memory than in the row.
    pub fn view(&self, current: bool, idle_timeout: u64, last_used_at: i64) -> SessionView {
        let idle_end = (idle_timeout > 0).then(|| last_used_at + idle_timeout as i64);
        let expires_at = match (self.expires_at, idle_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        SessionView {
            id: self.id.clone(),
            name: self.name.clone(),
            device: self.device.clone(),
            user_agent: self.user_agent.clone(),
            ip: self.ip.clone(),
            kind: self.kind,
            created_at: at(self.created_at),
            last_used_at: at(last_used_at),
            expires_at: expires_at.map(at),
            current,
        }
    }
}

const COLUMNS: &str =
    "id, user_id, kind, name, user_agent, device, ip, created_at, last_used_at, expires_at";

fn hashes(rows: Vec<(Vec<u8>,)>) -> Vec<TokenHash> {
    rows.iter()
        .filter_map(|(bytes,)| TokenHash::from_slice(bytes))
        .collect()
}

// Database methods.
impl Session {
    pub async fn insert(
        conn: &mut AnyConnection,
        new: &NewSession,
        id: &str,
        token_hash: &TokenHash,
        now: i64,
        expires_at: Option<i64>,
    ) -> sqlx::Result<Session> {
        let device = crate::device::label(new.user_agent.as_deref());
        let sql = format!(
            "INSERT INTO sessions (id, user_id, token_hash, kind, name, user_agent, device, ip, \
             created_at, last_used_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING {COLUMNS}"
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
            .bind(expires_at)
            .fetch_one(conn)
            .await
    }

    /// The live row behind a token, if its user is enabled; expiry is checked by the caller.
    pub async fn find_for_auth(
        conn: &mut AnyConnection,
        token_hash: &TokenHash,
    ) -> sqlx::Result<Option<AuthRow>> {
        sqlx::query_as(
            "SELECT s.id, s.user_id, u.username, s.last_used_at, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND u.disabled = 0",
        )
        .bind(token_hash.0.to_vec())
        .fetch_optional(conn)
        .await
    }

    /// The user's live sessions, most recently used first.
    pub async fn list_live(
        conn: &mut AnyConnection,
        user_id: i64,
        expiry: Expiry,
    ) -> sqlx::Result<Vec<Session>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions \
             WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > $2) AND last_used_at > $3 \
             ORDER BY last_used_at DESC, created_at DESC, id"
        );
        sqlx::query_as(&sql)
            .bind(user_id)
            .bind(expiry.now)
            .bind(expiry.idle_cutoff)
            .fetch_all(conn)
            .await
    }

    /// Writes a batch of `last_used_at` values; never moves one backwards.
    pub async fn touch(conn: &mut AnyConnection, id: &str, at: i64) -> sqlx::Result<()> {
        sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1")
            .bind(at)
            .bind(id)
            .execute(conn)
            .await
            .map(drop)
    }

    /// Deletes one session of one user; empty when the id is unknown or someone else's.
    pub async fn delete_for_user(
        conn: &mut AnyConnection,
        user_id: i64,
        id: &str,
    ) -> sqlx::Result<Vec<TokenHash>> {
        let rows = sqlx::query_as(
            "DELETE FROM sessions WHERE id = $1 AND user_id = $2 RETURNING token_hash",
        )
        .bind(id)
        .bind(user_id)
        .fetch_all(conn)
        .await?;
        Ok(hashes(rows))
    }

    /// Deletes a session by id alone (the command line's `revoke`).
    pub async fn delete_by_id(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Vec<TokenHash>> {
        let rows = sqlx::query_as("DELETE FROM sessions WHERE id = $1 RETURNING token_hash")
            .bind(id)
            .fetch_all(conn)
            .await?;
        Ok(hashes(rows))
    }

    pub async fn delete_by_hash(
        conn: &mut AnyConnection,
        token_hash: &TokenHash,
    ) -> sqlx::Result<Vec<TokenHash>> {
        let rows =
            sqlx::query_as("DELETE FROM sessions WHERE token_hash = $1 RETURNING token_hash")
                .bind(token_hash.0.to_vec())
                .fetch_all(conn)
                .await?;
        Ok(hashes(rows))
    }

    /// Deletes every session of a user, or every one but `except`.
    pub async fn delete_all_for_user(
        conn: &mut AnyConnection,
        user_id: i64,
        except: Option<&str>,
    ) -> sqlx::Result<Vec<TokenHash>> {
        let rows = sqlx::query_as(
            "DELETE FROM sessions WHERE user_id = $1 AND id <> $2 RETURNING token_hash",
        )
        .bind(user_id)
        .bind(except.unwrap_or(""))
        .fetch_all(conn)
        .await?;
        Ok(hashes(rows))
    }

    /// Keeps `keep` and the `max - 1` most recently used other sessions of the user; deletes the
    /// rest (the least recently used) and the user's ended ones.
    pub async fn evict_over_cap(
        conn: &mut AnyConnection,
        user_id: i64,
        keep: &str,
        max: u32,
        expiry: Expiry,
    ) -> sqlx::Result<Vec<TokenHash>> {
        let rows = sqlx::query_as(
            "DELETE FROM sessions WHERE user_id = $1 AND id <> $2 AND ( \
                 (expires_at IS NOT NULL AND expires_at <= $4) OR last_used_at <= $5 \
                 OR id NOT IN (SELECT id FROM sessions WHERE user_id = $1 AND id <> $2 \
                               ORDER BY last_used_at DESC, created_at DESC, id LIMIT $3)) \
             RETURNING token_hash",
        )
        .bind(user_id)
        .bind(keep)
        .bind(i64::from(max) - 1)
        .bind(expiry.now)
        .bind(expiry.idle_cutoff)
        .fetch_all(conn)
        .await?;
        Ok(hashes(rows))
    }

    /// Deletes every ended session (the periodic sweep and `prune`).
    pub async fn delete_ended(
        conn: &mut AnyConnection,
        expiry: Expiry,
    ) -> sqlx::Result<Vec<TokenHash>> {
        let rows = sqlx::query_as(
            "DELETE FROM sessions \
             WHERE (expires_at IS NOT NULL AND expires_at <= $1) OR last_used_at <= $2 \
             RETURNING token_hash",
        )
        .bind(expiry.now)
        .bind(expiry.idle_cutoff)
        .fetch_all(conn)
        .await?;
        Ok(hashes(rows))
    }
}
