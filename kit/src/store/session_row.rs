//! A session as its row holds it: `Session`, how it was opened (`Kind`), and when sessions end
//! (`Expiry`). Plain data that the live sessions (`sessions.rs`), the ended ones (`history.rs`)
//! and their views (`session_view.rs`) all build on; their SQL is in those files.

use serde::Serialize;
use sqlx::FromRow;

/// How a session was opened: by the JSON API's login, by the browser sign-in form, or on purpose
/// as a personal access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `POST /api/auth/login`.
    Api,
    /// The sign-in form of the HTML pages.
    Browser,
    /// A personal access token (`POST /api/tokens`): its own scopes and expiry, untouched by
    /// the idle timeout and `max_sessions`.
    Token,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Api => "api",
            Kind::Browser => "browser",
            Kind::Token => "token",
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
            "token" => Ok(Kind::Token),
            _ => Err(format!("unknown session kind {text:?}")),
        }
    }
}

/// A live session's row in `sessions` (`EndedSession` keeps one that ended).
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
    /// A personal token's scopes, space-separated; `None` for full access (a sign-in).
    pub scopes: Option<String>,
    pub last_ip: Option<String>,
    /// 0/1: whether the sign-in passed a second factor.
    pub mfa: i64,
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

    /// Personal tokens end only at their `expires_at`; sign-ins also after the idle timeout.
    pub fn has_ended(&self, kind: Kind, last_used_at: i64, expires_at: Option<i64>) -> bool {
        expires_at.is_some_and(|e| e <= self.now)
            || (kind != Kind::Token && last_used_at <= self.idle_cutoff)
    }
}
