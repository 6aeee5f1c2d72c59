//! Asking a signed-in user for the password again: sudo mode and the password change.
//!
//! A wrong password here counts as a failed login of the user (the throttle's username and IP
//! counts), so a stolen session cannot guess its way into more access. A right one puts the
//! session in sudo mode for `sudo_window` seconds: the same session, no new row or token.

use super::attempts::CheckOutcome;
use super::{Accounts, Auth, ClientInfo, CurrentSession, SignInError, SignIns};
use crate::events::{AuthEvent, EndReason, Reauth};
use crate::mail::MailKind;
use crate::password::check_new_password;
use crate::store::activity::ActivityKind;
use crate::store::sessions::Session;
use crate::store::throttle;
use crate::store::users::User;
use serde_json::json;
use sqlx::{Any, Transaction};

/// A password checked against the session's user: what the change of password and the grant of
/// sudo build on.
pub(super) struct Checked {
    user: User,
    /// The throttle's reservation of this attempt, released once the action commits.
    attempt: String,
    /// Who asked, for the activity log.
    client: ClientInfo,
}

/// A session put in sudo mode, until when and by what: for [`Auth::sudo_granted`].
pub(super) struct Elevated {
    until: i64,
    via: Reauth,
}

impl Auth {
    /// Checks the session user's password, counting the attempt against the login throttle.
    pub(super) async fn check_password(
        &self,
        current: &CurrentSession,
        password: String,
        client: &ClientInfo,
    ) -> Result<Checked, SignInError> {
        let user_key = throttle::account_key(current.username());
        let ip_key = client.ip.as_deref().map(throttle::ip_key);
        let attempt = self
            .reserve_attempt(Some(&user_key), ip_key.as_deref())
            .await?;
        let user = {
            let mut conn = self.db().acquire().await?;
            User::find(&mut conn, current.user_id()).await?
        }; // The connection goes back to the pool before the slow hash.
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let Ok(verified) = self.hasher.verify(password, hash).await else {
            self.withdraw(&attempt).await;
            return Err(SignInError::Busy);
        };
        match user {
            Some(user) if verified && !user.is_disabled() => Ok(Checked {
                user,
                attempt,
                client: client.clone(),
            }),
            found => {
                self.count_check(CheckOutcome::Failed);
                self.settle_wrong_password(current, &attempt, found.map(|u| u.id), client)
                    .await?;
                self.announce_failure(current, client);
                Err(SignInError::InvalidCredentials)
            }
        }
    }

    /// After a wrong password: counts the attempt as a failed login and records it in the
    /// user's activity log, in one transaction. Unless the session ended while its password was
    /// being checked (the password changed from another session, say): that password may have
    /// been right when it was sent, so the attempt is withdrawn and nothing is recorded.
    async fn settle_wrong_password(
        &self,
        current: &CurrentSession,
        attempt: &str,
        user_id: Option<i64>,
        client: &ClientInfo,
    ) -> sqlx::Result<()> {
        let mut tx = self.db().begin().await?;
        // A write first, so that SQLite takes its write lock before the transaction reads
        // (whether the user is still enabled does not matter here).
        User::lock(&mut tx, current.user_id()).await?;
        if Session::still_exists(&mut tx, current.id()).await? {
            throttle::settle_failure(&mut tx, attempt).await?;
            if let Some(user_id) = user_id {
                let kind = ActivityKind::SignInFailed;
                let entry = client.activity(user_id, kind, current.id(), json!({}));
                self.record(&mut tx, entry).await?;
            }
        } else {
            throttle::release(&mut tx, attempt).await?;
        }
        tx.commit().await?;
        self.attempt_settled.notify_waiters(); // This check is over: the next may go.
        Ok(())
    }

    /// The `login_failed` event of a password check refused with 401.
    fn announce_failure(&self, current: &CurrentSession, client: &ClientInfo) {
        self.events.emit(AuthEvent::LoginFailed {
            username: current.username().to_string(),
            ip: client.ip.clone(),
            reason: "invalid_credentials",
        });
    }

    /// In `tx`, after a right password: withdraws the attempt from the throttle, starts the
    /// session's sudo window and logs it. Call [`Auth::sudo_granted`] once `tx` has committed.
    pub(super) async fn elevate(
        &self,
        tx: &mut Transaction<'_, Any>,
        current: &CurrentSession,
        checked: &Checked,
        via: Reauth,
    ) -> sqlx::Result<Elevated> {
        let until = self.clock.now() + self.config.sudo_window as i64;
        throttle::release(tx, &checked.attempt).await?;
        Session::grant_sudo(tx, current.id(), until).await?;
        let kind = ActivityKind::SudoGranted;
        let entry =
            (checked.client).activity(current.user_id(), kind, current.id(), json!({"via": via}));
        self.record(tx, entry).await?;
        Ok(Elevated { until, via })
    }

    /// Runs what a right password allows. Should it fail (the database, or the session ended
    /// meanwhile), the attempt is withdrawn: a right password never turns into a failure later,
    /// as a reservation left in flight would.
    pub(super) async fn after_check<T, E>(
        &self,
        checked: Option<&Checked>,
        action: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let result = action.await;
        if let (Err(_), Some(checked)) = (&result, checked) {
            self.withdraw(&checked.attempt).await;
        }
        result
    }

    /// After the commit of [`Auth::elevate`]'s transaction.
    pub(super) fn sudo_granted(&self, current: &CurrentSession, elevated: Elevated) {
        let Elevated { until, via } = elevated;
        // Every grant follows a right password, checked once: the check succeeded.
        self.count_check(CheckOutcome::Succeeded);
        self.attempt_settled.notify_waiters(); // This check is over: the next may go.
        current.note_sudo(until);
        self.events.emit(AuthEvent::SudoGranted {
            user_id: current.user_id(),
            session_id: current.id().to_string(),
            via,
        });
    }
}

impl SignIns<'_> {
    /// Puts a sign-in session in sudo mode after checking its user's password
    /// (`POST /api/auth/sudo`, the /sudo form).
    pub async fn sudo(
        &self,
        current: &CurrentSession,
        password: String,
        client: &ClientInfo,
    ) -> Result<(), SignInError> {
        let checked = self.0.check_password(current, password, client).await?;
        let elevated = self
            .0
            .after_check(Some(&checked), async {
                let mut tx = self.0.db().begin().await?;
                let elevated = self
                    .0
                    .elevate(&mut tx, current, &checked, Reauth::Sudo)
                    .await?;
                tx.commit().await?;
                Ok::<_, SignInError>(elevated)
            })
            .await?;
        self.0.sudo_granted(current, elevated);
        Ok(())
    }

    /// Puts a sign-in session in sudo mode after checking a two-factor code (an authenticator
    /// or recovery code) in place of the password: the one check every way in goes through,
    /// with its throttle. Only for a user with two-factor on.
    pub async fn sudo_with_code(
        &self,
        current: &CurrentSession,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(), SignInError> {
        let mut conn = self.0.db().acquire().await?;
        let user = User::find(&mut conn, current.user_id()).await?;
        let user = user.ok_or(SignInError::InvalidCredentials)?;
        if !self
            .0
            .check_second_factor(&mut conn, &user, Some(code), client)
            .await?
        {
            // Two-factor is off: no code can be right (the password is what to send).
            return Err(SignInError::InvalidCredentials);
        }
        let until = self.0.clock.now() + self.0.config.sudo_window as i64;
        let via = Reauth::SecondFactor;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        Session::grant_sudo(&mut tx, current.id(), until).await?;
        let kind = ActivityKind::SudoGranted;
        let entry = client.activity(current.user_id(), kind, current.id(), json!({"via": via}));
        self.0.record(&mut tx, entry).await?;
        tx.commit().await?;
        current.note_sudo(until);
        self.0.events.emit(AuthEvent::SudoGranted {
            user_id: current.user_id(),
            session_id: current.id().to_string(),
            via,
        });
        Ok(())
    }
}

impl Accounts<'_> {
    /// Changes the password of the session's user and ends every other session of that user,
    /// personal tokens included. The current password counts as a re-authentication.
    pub async fn change_password(
        &self,
        current: &CurrentSession,
        current_password: String,
        new_password: String,
        client: &ClientInfo,
    ) -> Result<(), SignInError> {
        if let Some(msg) = check_new_password(&new_password) {
            return Err(SignInError::Invalid(msg));
        }
        let checked = self
            .0
            .check_password(current, current_password, client)
            .await?;
        let Ok(new_hash) = self.0.hasher.hash(new_password).await else {
            self.0.withdraw(&checked.attempt).await;
            return Err(SignInError::Busy);
        };
        let (elevated, ended) = self
            .0
            .after_check(Some(&checked), async {
                let mut tx = self.0.db().begin().await?;
                // With the user's row locked: a change that raced another (or a revocation of
                // this session) must change nothing. The second of two changes finds the hash
                // it checked gone, and its own session ended by the first.
                if !User::lock_unchanged(&mut tx, checked.user.id, &checked.user.password_hash)
                    .await?
                    || !Session::still_exists(&mut tx, current.id()).await?
                {
                    self.0.count_check(CheckOutcome::Failed);
                    self.0.announce_failure(current, client);
                    return Err(SignInError::InvalidCredentials);
                }
                let via = Reauth::PasswordChange;
                let elevated = self.0.elevate(&mut tx, current, &checked, via).await?;
                User::set_password(&mut tx, checked.user.id, &new_hash).await?;
                // A reset link mailed before the change must not undo it.
                self.0.void_links(&mut tx, checked.user.id).await?;
                let ending = self.0.ending(EndReason::PasswordChanged);
                let others = Some(current.id());
                let ended =
                    Session::delete_all_for_user(&mut tx, checked.user.id, others, ending).await?;
                let detail = json!({"sessions_ended": ended.len()});
                let kind = ActivityKind::PasswordChanged;
                let entry = client.activity(checked.user.id, kind, current.id(), detail);
                self.0.record(&mut tx, entry).await?;
                let notice = MailKind::PasswordChanged;
                self.0
                    .notify(&mut tx, &checked.user, notice, json!({}))
                    .await?;
                self.0.commit_revocation(tx, &ended).await?;
                Ok::<_, SignInError>((elevated, ended))
            })
            .await?;
        self.0.sudo_granted(current, elevated);
        self.0.mail_committed();
        self.0.events.emit(AuthEvent::PasswordChanged {
            user_id: checked.user.id,
            session_id: current.id().to_string(),
            sessions_ended: ended.len(),
        });
        Ok(())
    }
}
