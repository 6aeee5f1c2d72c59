//! How a session is shown: its entry in the API's lists.

use super::history::{EndReason, EndedSession};
use super::session_row::{Kind, Session};
use crate::clock::at;
use crate::scopes::Access;
use serde::Serialize;
use time::OffsetDateTime;

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
    /// The client IP at sign-in (or, for a personal token, at its creation).
    pub ip: Option<String>,
    /// The client IP of the most recent use.
    pub last_ip: Option<String>,
    pub kind: Kind,
    /// What the session may do: `["*"]` (full access) for a sign-in, a personal token's scopes.
    #[schema(example = json!(["*"]))]
    pub scopes: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: OffsetDateTime,
    /// When the session ends if it is not used again: the earlier of its absolute end and its
    /// idle end (last use + `idle_timeout`; a personal token has no idle end). An ended session
    /// keeps the value it had when it ended, so the same session shows the same time in both
    /// lists; for one that ended by `expired` or `idle`, it is its `ended_at`.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Whether this is the session of the presented token (never, for an ended one).
    pub current: bool,
    /// Whether the session's sign-in passed a second factor (an authenticator or recovery
    /// code); never for a personal token.
    pub mfa: bool,
    /// When the session ended: only in the list of ended sessions.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(required = false)]
    pub ended_at: Option<OffsetDateTime>,
    /// Why the session ended: only in the list of ended sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub end_reason: Option<EndReason>,
}

// Local methods.
impl Session {
    /// The API view; `last_used_at` may be newer in memory than in the row.
    pub fn view(&self, current: bool, idle_timeout: u64, last_used_at: i64) -> SessionView {
        let idle_end = (idle_timeout > 0 && self.kind != Kind::Token)
            .then(|| last_used_at + idle_timeout as i64);
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
            last_ip: self.last_ip.clone().or_else(|| self.ip.clone()),
            kind: self.kind,
            scopes: self.access().names(),
            created_at: at(self.created_at),
            last_used_at: at(last_used_at),
            expires_at: expires_at.map(at),
            current,
            mfa: self.mfa != 0,
            ended_at: None,
            end_reason: None,
        }
    }

    pub fn access(&self) -> Access {
        Access::from_column(self.scopes.as_deref())
    }
}

impl EndedSession {
    /// The API view: the entry the session had when it ended (its `expires_at` worked out as for a
    /// live session, from its last use), with when and why it ended.
    pub fn view(&self, idle_timeout: u64) -> SessionView {
        let mut view = self
            .session
            .view(false, idle_timeout, self.session.last_used_at);
        view.ended_at = Some(at(self.ended_at));
        view.end_reason = Some(self.end_reason);
        view
    }
}
