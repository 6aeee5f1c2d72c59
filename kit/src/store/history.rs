//! Session history: sessions that ended, kept for `history_retention` seconds with when and why.
//!
//! A session that ends moves from `sessions` to `session_history` in the transaction that ends
//! it, without its token hash. So the live table holds live sessions only: an ended session can
//! never authenticate, and a million ended ones cost token validation nothing.

use super::activity::{Activity, ActivityKind, NewActivity};
use super::session_row::{Expiry, Kind, Session};
use crate::token::TokenHash;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Its own logout.
    Logout,
    /// A logout-all from one of the user's sessions.
    LogoutAll,
    /// Revoked by its id, from another session of the user (API or device page).
    Revoked,
    /// "Sign out all other devices".
    RevokedOthers,
    /// The user's password changed.
    PasswordChanged,
    /// The user's password was reset through a link mailed to the account's address.
    PasswordReset,
    /// Pushed out by a newer sign-in over `max_sessions`.
    Evicted,
    /// Past its absolute lifetime (or a personal token's expiry).
    Expired,
    /// Unused for longer than the idle timeout.
    Idle,
    /// Revoked from the command line, or its user was disabled.
    Admin,
}

impl EndReason {
    pub const ALL: [EndReason; 10] = [
        EndReason::Logout,
        EndReason::LogoutAll,
        EndReason::Revoked,
        EndReason::RevokedOthers,
        EndReason::PasswordChanged,
        EndReason::PasswordReset,
        EndReason::Evicted,
        EndReason::Expired,
        EndReason::Idle,
        EndReason::Admin,
    ];

    /// The name stored and served (`end_reason`).
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::LogoutAll => "logout_all",
            EndReason::Revoked => "revoked",
            EndReason::RevokedOthers => "revoked_others",
            EndReason::PasswordChanged => "password_changed",
            EndReason::PasswordReset => "password_reset",
            EndReason::Evicted => "evicted",
            EndReason::Expired => "expired",
            EndReason::Idle => "idle",
            EndReason::Admin => "admin",
        }
    }

    /// Why, in words, for the pages ("Signed out: …").
    pub fn words(self) -> &'static str {
        match self {
            EndReason::Logout => "signed out",
            EndReason::LogoutAll => "signed out everywhere",
            EndReason::Revoked => "revoked from another device",
            EndReason::RevokedOthers => "signed out with all other devices",
            EndReason::PasswordChanged => "ended by a password change",
            EndReason::PasswordReset => "ended by a password reset",
            EndReason::Evicted => "replaced by a newer sign-in",
            EndReason::Expired => "expired",
            EndReason::Idle => "ended after a long time unused",
            EndReason::Admin => "ended by an administrator",
        }
    }
}

impl TryFrom<String> for EndReason {
    type Error = String;

    fn try_from(text: String) -> Result<EndReason, String> {
        EndReason::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| format!("unknown end reason {text:?}"))
    }
}

/// How the sessions that a statement ends are kept: why, when, and whether at all
/// (`history_retention = 0` keeps none).
#[derive(Debug, Clone, Copy)]
pub struct Ending {
    pub reason: EndReason,
    pub at: i64,
    pub keep: bool,
}

impl Ending {
    /// The reason and time kept for `session`: this ending's, unless `expiry` finds the session
    /// past its end, which then is why and when it ended (`Expired` at its `expires_at`, `Idle`
    /// when its idle timeout ran out).
    pub fn of(&self, session: &Session, expiry: Option<Expiry>) -> (EndReason, i64) {
        let Some(expiry) = expiry else {
            return (self.reason, self.at);
        };
        if let Some(end) = session.expires_at.filter(|&e| e <= expiry.now) {
            return (EndReason::Expired, end);
        }
        if session.kind != Kind::Token && session.last_used_at <= expiry.idle_cutoff {
            let idle_timeout = expiry.now - expiry.idle_cutoff;
            return (EndReason::Idle, session.last_used_at + idle_timeout);
        }
        (self.reason, self.at)
    }
}

/// Longest list of ended sessions served at once.
pub const MAX_LISTED: i64 = 100;

/// An ended session, as kept: its row as it was, and when and why it ended.
#[derive(Debug, Clone, FromRow)]
pub struct EndedSession {
    #[sqlx(flatten)]
    pub session: Session,
    pub ended_at: i64,
    #[sqlx(try_from = "String")]
    pub end_reason: EndReason,
}

const COLUMNS: &str = "id, user_id, kind, name, user_agent, device, ip, created_at, \
     last_used_at, expires_at, scopes, last_ip, ended_at, end_reason, mfa";

// Database methods.
impl EndedSession {
    /// Keeps `ended` (just deleted from `sessions`, in the same transaction) as `ending` says,
    /// each row as [`Ending::of`] finds it with `expiry`.
    pub async fn keep(
        conn: &mut AnyConnection,
        ended: &[Session],
        ending: Ending,
        expiry: Option<Expiry>,
    ) -> sqlx::Result<()> {
        if !ending.keep {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO session_history ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        );
        for s in ended {
            let (reason, ended_at) = ending.of(s, expiry);
            sqlx::query(&sql)
                .bind(s.id.clone())
                .bind(s.user_id)
                .bind(s.kind.as_str())
                .bind(s.name.clone())
                .bind(s.user_agent.clone())
                .bind(s.device.clone())
                .bind(s.ip.clone())
                .bind(s.created_at)
                .bind(s.last_used_at)
                .bind(s.expires_at)
                .bind(s.scopes.clone())
                .bind(s.last_ip.clone())
                .bind(ended_at)
                .bind(reason.as_str())
                .bind(s.mfa)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// The user's ended sessions, most recently ended first, at most `limit`.
    pub async fn list(
        conn: &mut AnyConnection,
        user_id: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<EndedSession>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM session_history \
             WHERE user_id = $1 ORDER BY ended_at DESC, id LIMIT $2"
        );
        sqlx::query_as(&sql)
            .bind(user_id)
            .bind(limit.clamp(1, MAX_LISTED))
            .fetch_all(conn)
            .await
    }

    /// Deletes what ended at or before `cutoff`; returns how many.
    pub async fn prune(conn: &mut AnyConnection, cutoff: i64) -> sqlx::Result<u64> {
        let done = sqlx::query("DELETE FROM session_history WHERE ended_at <= $1")
            .bind(cutoff)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    }
}

/// What a `DELETE … RETURNING` gives back: the row, and its token hash for the caches.
pub(super) const GONE: &str =
    "RETURNING id, user_id, kind, name, user_agent, device, ip, created_at, \
     last_used_at, expires_at, scopes, token_days, sudo_until, last_ip, mfa, token_hash";

#[derive(FromRow)]
pub(super) struct Gone {
    #[sqlx(flatten)]
    session: Session,
    token_hash: Vec<u8>,
}

/// In the statement's transaction: keeps the rows it ended in the history, and writes each to
/// its user's activity log (`signed_out` for a logout, else `session_revoked` with the reason).
/// Returns their token hashes.
pub(super) async fn keep_ended(
    conn: &mut AnyConnection,
    rows: Vec<Gone>,
    ending: Ending,
    expiry: Option<Expiry>,
) -> sqlx::Result<Vec<TokenHash>> {
    let hashes = rows
        .iter()
        .filter_map(|g| TokenHash::from_slice(&g.token_hash))
        .collect();
    let sessions: Vec<Session> = rows.into_iter().map(|g| g.session).collect();
    EndedSession::keep(conn, &sessions, ending, expiry).await?;
    for session in &sessions {
        let (reason, _) = ending.of(session, expiry);
        let kind = match reason {
            EndReason::Logout | EndReason::LogoutAll => ActivityKind::SignedOut,
            _ => ActivityKind::SessionRevoked,
        };
        let entry = NewActivity {
            user_id: session.user_id,
            kind,
            ip: session.last_ip.clone().or_else(|| session.ip.clone()),
            device: Some(session.device.clone()),
            session_id: Some(session.id.clone()),
            network: None,
            detail: serde_json::json!({
                "reason": reason.as_str(),
                "kind": session.kind.as_str(),
                "name": session.name,
            }),
        };
        Activity::record(conn, &entry, ending.at).await?;
    }
    Ok(hashes)
}
