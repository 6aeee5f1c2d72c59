//! Account recovery by email: asking for a password reset link, and setting a new password
//! with it.
//!
//! The request answers the same, in the same time, whatever the login names: its work (the
//! lookup, the hourly limits, the mail) runs after the answer ([`Auth::after_answer`]). A reset
//! mail goes out only to an account's address, while neither that address (`mail_max_per_hour`)
//! nor the client (ten times that) is over its hourly limit.
//!
//! The confirmation uses the link once, sets the password, marks the address verified (the mail
//! proved it), ends every session and personal token of the user (`password_reset`, on every
//! instance), voids every other link and signs nobody in.

use super::{Auth, ClientInfo, LinkError, Recovery, RecoveryError};
use crate::address::{looks_like_email, EmailAddress};
use crate::events::{AuthEvent, EndReason};
use crate::mail::{MailError, MailKind};
use crate::password::check_new_password;
use crate::store::activity::ActivityKind;
use crate::store::links::LinkKind;
use crate::store::sessions::Session;
use crate::store::users::User;
use crate::store::{mail_sends, throttle};
use serde_json::json;

impl Auth {
    /// The account a reset request names: by username, or by its address (verified or not:
    /// the reset link proves it). Disabled accounts are not found.
    async fn account_to_reset(&self, login: &str) -> sqlx::Result<Option<User>> {
        let mut conn = self.db().acquire().await?;
        let user = if looks_like_email(login) {
            match EmailAddress::parse(login) {
                Ok(email) => User::find_by_email(&mut conn, &email).await?,
                Err(_) => None,
            }
        } else {
            User::find_by_username(&mut conn, login.trim()).await?
        };
        Ok(user.filter(|u| !u.is_disabled()))
    }

    /// The work of a reset request: counted against the client's IP whatever it names; a link
    /// mailed to the account's address when there is one and no limit is reached.
    async fn mail_reset_link(&self, login: &str, ip: Option<String>) -> Result<(), MailError> {
        // Read first, on a connection of its own: the transaction below starts with a write.
        let user = self.account_to_reset(login).await?;
        let ip_key = ip.as_deref().map(throttle::ip_key);
        let mut tx = self.db().begin().await?;
        let address = user.as_ref().and_then(|u| u.email.clone());
        let mailed = match (&user, &address) {
            (Some(user), Some(to)) => {
                let limited = self.mail_link(&mut tx, user, LinkKind::Reset, to, ip_key.as_deref());
                limited.await?.is_none()
            }
            _ => {
                // Nothing to mail; the request still counts against the client.
                if let Some(key) = &ip_key {
                    let limit = [(key.as_str(), self.client_mail_limit())];
                    mail_sends::reserve(&mut tx, &limit, self.clock.now()).await?;
                }
                false
            }
        };
        tx.commit().await?;
        if mailed {
            self.mail_committed();
        }
        if let Some(user) = user {
            self.events.emit(AuthEvent::PasswordResetRequested {
                user_id: user.id,
                ip,
                mailed,
            });
        }
        Ok(())
    }
}

impl From<LinkError> for RecoveryError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Spent => RecoveryError::LinkInvalid,
            LinkError::Db(e) => RecoveryError::Db(e),
        }
    }
}

impl Recovery<'_> {
    /// `POST /api/auth/password-reset`: hands the request to a task of its own and returns at
    /// once, whatever `login` (a username or an address) names.
    pub fn request_password_reset(&self, login: &str, client: &ClientInfo) {
        let login = login.to_string();
        let ip = client.ip.clone();
        self.0.after_answer(|auth| async move {
            if let Err(e) = auth.mail_reset_link(&login, ip).await {
                rocket::warn!("could not handle a password reset request: {e}");
            }
        });
    }

    /// `POST /api/auth/password-reset/confirm`: sets `new_password` for the user of a reset
    /// link. `code` is the second factor of an account with two-factor on (see
    /// [`Auth::reset_second_factor`]). Nothing changes unless everything does.
    pub async fn confirm_password_reset(
        &self,
        token: &str,
        new_password: String,
        code: Option<&str>,
        client: &ClientInfo,
    ) -> Result<(), RecoveryError> {
        if let Some(msg) = check_new_password(&new_password) {
            return Err(RecoveryError::Invalid(msg));
        }
        // A dead link is refused before the second factor and the slow hash; the transaction
        // below uses it.
        let live = self.check_link(LinkKind::Reset, token).await?;
        self.0
            .reset_second_factor(live.user_id, code, client)
            .await?;
        let hash = self.0.hasher.hash(new_password).await;
        let hash = hash.map_err(|_| RecoveryError::Busy)?;

        let mut tx = self.0.db().begin().await?;
        let link = self.0.consume_link(&mut tx, LinkKind::Reset, token).await?;
        let user_id = link.user_id;
        if !User::lock(&mut tx, user_id).await? {
            return Err(RecoveryError::LinkInvalid); // Disabled since the link was mailed.
        }
        User::set_password(&mut tx, user_id, &hash).await?;
        User::mark_email_verified(&mut tx, user_id, &link.email).await?;
        self.0.void_links(&mut tx, user_id).await?;
        let ending = self.0.ending(EndReason::PasswordReset);
        let ended = Session::delete_all_for_user(&mut tx, user_id, None, ending).await?;
        let detail = json!({"sessions_ended": ended.len()});
        let entry = client.unsigned_activity(user_id, ActivityKind::PasswordReset, detail);
        self.0.record(&mut tx, entry).await?;
        self.0
            .notify_user(&mut tx, user_id, MailKind::PasswordChanged, json!({}))
            .await?;
        self.0.commit_revocation(tx, &ended).await?;
        self.0.mail_committed();
        self.0.events.emit(AuthEvent::PasswordReset {
            user_id,
            sessions_ended: ended.len(),
        });
        Ok(())
    }
}
