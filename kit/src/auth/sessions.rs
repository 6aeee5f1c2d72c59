//! Ending sessions (logout, revocation, disabling a user) and listing them.

use super::{Auth, CurrentSession, Sessions};
use crate::events::AuthEvent;
use crate::store::history::{EndReason, EndedSession, Ending};
use crate::store::sessions::{Session, SessionView};
use crate::store::users::User;

impl Auth {
    async fn log_out(&self, current: &CurrentSession, all: bool) -> sqlx::Result<()> {
        let (only, reason) = match all {
            false => (Some(current.id()), EndReason::Logout),
            true => (None, EndReason::LogoutAll),
        };
        let ended = self
            .end_sessions(current.user_id(), only, None, reason)
            .await?;
        self.events.emit(AuthEvent::LoggedOut {
            user_id: current.user_id(),
            session_id: current.id().to_string(),
            all,
            sessions_ended: ended,
        });
        Ok(())
    }

    /// Revokes a session by its id alone (the command line); `false` when there is none.
    pub async fn revoke_by_id(&self, session_id: &str) -> sqlx::Result<bool> {
        let mut conn = self.db.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let ending = self.ending(EndReason::Admin);
        let ended = Session::delete_by_id(&mut tx, session_id, ending).await?;
        self.commit_revocation(tx, &ended).await?;
        self.revoked(None, Some(session_id), EndReason::Admin, ended.len());
        Ok(!ended.is_empty())
    }

    /// Ends one session (`only`), or all of the user's but `except`, for `reason`.
    async fn end_sessions(
        &self,
        user_id: i64,
        only: Option<&str>,
        except: Option<&str>,
        reason: EndReason,
    ) -> sqlx::Result<usize> {
        let ending = self.ending(reason);
        let mut conn = self.db.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let ended = match only {
            Some(id) => Session::delete_for_user(&mut tx, user_id, id, ending).await?,
            None => Session::delete_all_for_user(&mut tx, user_id, except, ending).await?,
        };
        self.commit_revocation(tx, &ended).await?;
        Ok(ended.len())
    }

    /// How sessions ending now for `reason` are kept (not at all when `history_retention` is 0).
    pub(super) fn ending(&self, reason: EndReason) -> Ending {
        Ending {
            reason,
            at: self.clock.now(),
            keep: self.config.history_retention > 0,
        }
    }

    fn revoked(&self, user_id: Option<i64>, id: Option<&str>, reason: EndReason, n: usize) {
        if n > 0 {
            self.events.emit(AuthEvent::SessionRevoked {
                user_id,
                session_id: id.map(str::to_string),
                reason,
                sessions_ended: n,
            });
        }
    }

    /// Disables (or re-enables) a user; disabling ends all of the user's sessions at once.
    /// Returns `false` when there is no such user.
    pub async fn set_disabled(&self, user_id: i64, disabled: bool) -> sqlx::Result<bool> {
        let mut conn = self.db.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        if !User::set_disabled(&mut tx, user_id, disabled).await? {
            return Ok(false);
        }
        let ended = match disabled {
            true => {
                let ending = self.ending(EndReason::Admin);
                Session::delete_all_for_user(&mut tx, user_id, None, ending).await?
            }
            false => Vec::new(),
        };
        self.commit_revocation(tx, &ended).await?;
        self.revoked(Some(user_id), None, EndReason::Admin, ended.len());
        Ok(true)
    }

    /// A user's live sessions, most recently used first; `current` marks one as this device.
    pub async fn sessions_of_user(
        &self,
        user_id: i64,
        current: Option<&str>,
    ) -> sqlx::Result<Vec<SessionView>> {
        // Pending last-used times first, so the order is right.
        self.flush_touches().await?;
        let mut conn = self.db.acquire().await?;
        let rows = Session::list_live(&mut conn, user_id, self.expiry(self.clock.now())).await?;
        let idle = self.config.idle_timeout;
        Ok(rows
            .iter()
            .map(|s| s.view(current == Some(s.id.as_str()), idle, s.last_used_at))
            .collect())
    }
}

impl Sessions<'_> {
    /// Ends the current session (logout).
    pub async fn logout(&self, current: &CurrentSession) -> sqlx::Result<()> {
        self.0.log_out(current, false).await
    }

    /// Ends every session of the current user, this one included (logout-all).
    pub async fn logout_all(&self, current: &CurrentSession) -> sqlx::Result<()> {
        self.0.log_out(current, true).await
    }

    /// Revokes one session of a user; `false` when the id is unknown or someone else's.
    pub async fn end_session(&self, user_id: i64, session_id: &str) -> sqlx::Result<bool> {
        let reason = EndReason::Revoked;
        let ended = self
            .0
            .end_sessions(user_id, Some(session_id), None, reason)
            .await?;
        self.0
            .revoked(Some(user_id), Some(session_id), reason, ended);
        Ok(ended > 0)
    }

    /// Revokes every session of a user but `except` ("sign out all other devices"); returns how
    /// many ended.
    pub async fn end_other_sessions(&self, user_id: i64, except: &str) -> sqlx::Result<usize> {
        let reason = EndReason::RevokedOthers;
        let ended = self
            .0
            .end_sessions(user_id, None, Some(except), reason)
            .await?;
        self.0.revoked(Some(user_id), None, reason, ended);
        Ok(ended)
    }

    /// The user's live sessions as the API shows them, most recently used first.
    pub async fn sessions_of(&self, current: &CurrentSession) -> sqlx::Result<Vec<SessionView>> {
        let mut views = self
            .0
            .sessions_of_user(current.user_id(), Some(current.id()))
            .await?;
        for view in views.iter_mut().filter(|v| v.current) {
            // The current request's use may not be written yet.
            view.last_used_at = view
                .last_used_at
                .max(crate::clock::at(current.last_used_at()));
        }
        views.sort_by_key(|view| std::cmp::Reverse(view.last_used_at));
        Ok(views)
    }

    /// The user's ended sessions still kept, most recently ended first (at most `limit`).
    pub async fn ended_sessions_of(
        &self,
        user_id: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<SessionView>> {
        let mut conn = self.0.db.acquire().await?;
        let ended = EndedSession::list(&mut conn, user_id, limit).await?;
        let idle = self.0.config.idle_timeout;
        Ok(ended.iter().map(|e| e.view(idle)).collect())
    }
}
