//! The security activity log: what happened to an account (sign-ins, failed ones, sign-outs,
//! revocations, password changes, tokens, sudo), one row per event, kept for
//! `activity_retention` seconds.
//!
//! An entry is written with the action itself, in its transaction where it has one, never from
//! the event channel (which drops events for slow subscribers). No entry carries a secret: no
//! password, token or hash, and a failed sign-in only for an existing account.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    SignIn,
    SignInFailed,
    SignedOut,
    SessionRevoked,
    PasswordChanged,
    TokenCreated,
    TokenRegenerated,
    SudoGranted,
    /// The account's address was verified by its link.
    EmailVerified,
    /// A change of address was asked; the new one waits for its link.
    EmailChangeRequested,
    /// The account's address changed (its new one verified) or was removed.
    EmailChanged,
    /// The password was set through a reset link.
    PasswordReset,
    TwoFactorEnabled,
    TwoFactorDisabled,
    RecoveryCodeUsed,
}

impl ActivityKind {
    /// The name stored and served (`type` in the API).
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::SignIn => "sign_in",
            ActivityKind::SignInFailed => "sign_in_failed",
            ActivityKind::SignedOut => "signed_out",
            ActivityKind::SessionRevoked => "session_revoked",
            ActivityKind::PasswordChanged => "password_changed",
            ActivityKind::TokenCreated => "token_created",
            ActivityKind::TokenRegenerated => "token_regenerated",
            ActivityKind::SudoGranted => "sudo_granted",
            ActivityKind::EmailVerified => "email_verified",
            ActivityKind::EmailChangeRequested => "email_change_requested",
            ActivityKind::EmailChanged => "email_changed",
            ActivityKind::PasswordReset => "password_reset",
            ActivityKind::TwoFactorEnabled => "two_factor_enabled",
            ActivityKind::TwoFactorDisabled => "two_factor_disabled",
            ActivityKind::RecoveryCodeUsed => "recovery_code_used",
        }
    }
}

/// An entry to record.
#[derive(Debug, Clone)]
pub struct NewActivity {
    pub user_id: i64,
    pub kind: ActivityKind,
    /// The client IP of the request that did it, if any (none from the command line or sweep).
    pub ip: Option<String>,
    /// The device label of that request's client.
    pub device: Option<String>,
    /// The session the entry is about.
    pub session_id: Option<String>,
    /// Sign-ins only: the client's network (IPv4 /24, IPv6 /64), for new-device detection.
    pub network: Option<String>,
    /// What else the entry says, as a JSON object (never a secret).
    pub detail: serde_json::Value,
}

/// An entry, as stored.
#[derive(Debug, Clone, FromRow)]
pub struct ActivityRow {
    pub id: i64,
    /// An [`ActivityKind`]'s name (`sign_in`, ...).
    #[sqlx(rename = "type")]
    pub kind: String,
    pub at: i64,
    pub ip: Option<String>,
    pub device: Option<String>,
    pub session_id: Option<String>,
    /// A JSON object.
    pub detail: String,
}

impl ActivityRow {
    /// The detail as JSON (an empty object should the column ever hold anything else).
    pub fn detail(&self) -> serde_json::Value {
        serde_json::from_str(&self.detail)
            .ok()
            .filter(serde_json::Value::is_object)
            .unwrap_or_else(|| serde_json::json!({}))
    }
}

/// Most entries served at once.
pub const MAX_PAGE: i64 = 100;

/// Entries per page of `GET /api/activity` when the request names no `limit`.
pub const PAGE_SIZE_API: i64 = 50;

/// Longest cursor: 18 digits always fit an `i64`.
const MAX_CURSOR_DIGITS: usize = 18;

/// A page of entries, newest first, and the cursor of the page after it, if any.
#[derive(Debug)]
pub struct ActivityPage {
    pub entries: Vec<ActivityRow>,
    pub next: Option<String>,
}

impl ActivityPage {
    /// The page in what [`Activity::page`] read for `limit` (one entry more than fits, when
    /// there is a next page).
    pub fn new(mut rows: Vec<ActivityRow>, limit: i64) -> ActivityPage {
        let limit = limit.clamp(1, MAX_PAGE) as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = rows.last().filter(|_| more).map(|row| row.id.to_string());
        ActivityPage {
            entries: rows,
            next,
        }
    }
}

/// The entry id behind a cursor (`before`): the opaque text is the last id of the page before,
/// so a cursor names a position, never whose entries, which the query always takes from the
/// session. `None` for anything else.
pub fn parse_cursor(text: &str) -> Option<i64> {
    let digits =
        (1..=MAX_CURSOR_DIGITS).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten()
}

pub struct Activity;

// Database methods.
impl Activity {
    /// The user's entries older than the entry `before` (all of them without it), newest first:
    /// `limit + 1` at most, so that the caller can tell whether there is a next page.
    pub async fn page(
        conn: &mut AnyConnection,
        user_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> sqlx::Result<Vec<ActivityRow>> {
        sqlx::query_as(
            "SELECT id, type, at, ip, device, session_id, detail FROM activity \
             WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(user_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, MAX_PAGE) + 1)
        .fetch_all(conn)
        .await
    }

    /// Whether the user has a sign-in on record.
    pub async fn has_signed_in(conn: &mut AnyConnection, user_id: i64) -> sqlx::Result<bool> {
        let found: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM activity WHERE user_id = $1 AND type = 'sign_in' LIMIT 1",
        )
        .bind(user_id)
        .fetch_optional(conn)
        .await?;
        Ok(found.is_some())
    }

    /// Whether the user signed in from this device label and network at or after `since`
    /// (served by the partial index `activity_sign_ins`).
    pub async fn seen_from(
        conn: &mut AnyConnection,
        user_id: i64,
        device: &str,
        network: Option<&str>,
        since: i64,
    ) -> sqlx::Result<bool> {
        let select = "SELECT id FROM activity WHERE user_id = $1 AND type = 'sign_in' \
             AND device = $2 AND at >= $3";
        let found: Option<(i64,)> = match network {
            Some(network) => {
                sqlx::query_as(&format!("{select} AND network = $4 LIMIT 1"))
                    .bind(user_id)
                    .bind(device)
                    .bind(since)
                    .bind(network)
                    .fetch_optional(conn)
                    .await?
            }
            None => {
                sqlx::query_as(&format!("{select} AND network IS NULL LIMIT 1"))
                    .bind(user_id)
                    .bind(device)
                    .bind(since)
                    .fetch_optional(conn)
                    .await?
            }
        };
        Ok(found.is_some())
    }

    /// Writes one entry, on `conn` (pass the action's transaction where it has one).
    pub async fn record(
        conn: &mut AnyConnection,
        entry: &NewActivity,
        at: i64,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO activity (user_id, type, at, ip, device, network, session_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(entry.user_id)
        .bind(entry.kind.as_str())
        .bind(at)
        .bind(entry.ip.clone())
        .bind(entry.device.clone())
        .bind(entry.network.clone())
        .bind(entry.session_id.clone())
        .bind(entry.detail.to_string())
        .execute(conn)
        .await
        .map(drop)
    }

    /// Deletes the entries made at or before `cutoff`; returns how many.
    pub async fn prune(conn: &mut AnyConnection, cutoff: i64) -> sqlx::Result<u64> {
        let done = sqlx::query("DELETE FROM activity WHERE at <= $1")
            .bind(cutoff)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    }
}
