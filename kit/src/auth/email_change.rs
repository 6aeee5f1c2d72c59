//! The account's address after sign-up: verifying it with its link, asking for a new link,
//! changing it (the new address becomes the account's only once its link is used; the old one,
//! if verified, is told at once), and removing it.
//!
//! A change and a removal need sudo mode or the password in the request: a [`SudoProof`], whose
//! password is checked like a login and, when right, starts sudo mode in the same transaction.

use super::reauth::Checked;
use super::{Accounts, Auth, ClientInfo, CurrentSession, EmailError, RecoveryError, SudoProof};
use crate::address::{self, EmailAddress};
use crate::config::SignupEmail;
use crate::events::{AuthEvent, Reauth};
use crate::mail::MailKind;
use crate::store::activity::ActivityKind;
use crate::store::emails::{self, ApplyError};
use crate::store::links::LinkKind;
use crate::store::users::User;
use serde_json::json;
use sqlx::{Any, Transaction};

impl Auth {
    /// The password a request carried instead of sudo mode, checked like a login.
    async fn check_given_password(
        &self,
        current: &CurrentSession,
        password: Option<String>,
        client: &ClientInfo,
    ) -> Result<Option<Checked>, EmailError> {
        match password {
            Some(password) => Ok(Some(
                self.check_password(current, password, client)
                    .await
                    .map_err(EmailError::Password)?,
            )),
            None => Ok(None),
        }
    }

    /// A transaction with the session's user locked (a write first, for SQLite), and the user
    /// as stored; refused when the user was disabled or the session ended meanwhile.
    async fn lock_account(
        &self,
        current: &CurrentSession,
    ) -> Result<(Transaction<'static, Any>, User), EmailError> {
        let mut tx = self.db().begin().await?;
        let locked = User::lock(&mut tx, current.user_id()).await?;
        let still = crate::store::sessions::Session::still_exists(&mut tx, current.id()).await?;
        match User::find(&mut tx, current.user_id()).await? {
            Some(user) if locked && still => Ok((tx, user)),
            _ => Err(EmailError::Refused(super::AuthError::InvalidToken)),
        }
    }

    /// Starts sudo mode in `tx` when the request's password was checked.
    async fn elevate_with(
        &self,
        tx: &mut Transaction<'_, Any>,
        current: &CurrentSession,
        checked: Option<&Checked>,
    ) -> sqlx::Result<Option<super::reauth::Elevated>> {
        match checked {
            Some(checked) => Ok(Some(
                self.elevate(tx, current, checked, Reauth::Password).await?,
            )),
            None => Ok(None),
        }
    }
}

impl Accounts<'_> {
    /// `POST /api/auth/verify-email`: uses a verification link. The address it was mailed to
    /// becomes verified; if it was a change waiting for this link, it becomes the account's
    /// address. Returns the user's id.
    pub async fn verify_email(
        &self,
        token: &str,
        client: &ClientInfo,
    ) -> Result<i64, RecoveryError> {
        let mut tx = self.0.db().begin().await?;
        let link = self
            .0
            .consume_link(&mut tx, LinkKind::Verify, token)
            .await?;
        let user_id = link.user_id;
        let (kind, event) = match emails::apply_pending(&mut tx, user_id, &link.email).await {
            Ok(()) => {
                // Links mailed to the old address (a reset) must not outlive the change.
                self.0.void_links(&mut tx, user_id).await?;
                let event = AuthEvent::EmailChanged {
                    user_id,
                    removed: false,
                };
                (ActivityKind::EmailChanged, event)
            }
            Err(ApplyError::Taken) => return Err(RecoveryError::EmailTaken),
            Err(ApplyError::Db(e)) => return Err(e.into()),
            Err(ApplyError::NotPending) => {
                if !User::mark_email_verified(&mut tx, user_id, &link.email).await? {
                    // Mailed to an address the account no longer has.
                    return Err(RecoveryError::LinkInvalid);
                }
                (
                    ActivityKind::EmailVerified,
                    AuthEvent::EmailVerified { user_id },
                )
            }
        };
        let entry = client.unsigned_activity(user_id, kind, json!({}));
        self.0.record(&mut tx, entry).await?;
        self.0.commit_account_change(tx, user_id).await?;
        self.0.events.emit(event);
        Ok(user_id)
    }

    /// `POST /api/me/email/verification`: mails a new verification link to the address waiting
    /// to replace the account's, or else to the account's address while it is unverified.
    pub async fn send_verification(&self, current: &CurrentSession) -> Result<(), EmailError> {
        let user = self.account(current.user_id()).await?;
        let user = user.ok_or(EmailError::NothingToVerify)?;
        let to = match (&user.pending_email, &user.email) {
            (Some(pending), _) => pending.clone(),
            (None, Some(email)) if !user.is_email_verified() => email.clone(),
            _ => return Err(EmailError::NothingToVerify),
        };
        let mut tx = self.0.db().begin().await?;
        if let Some(wait) = self
            .0
            .mail_link(&mut tx, &user, LinkKind::Verify, &to, None)
            .await?
        {
            return Err(EmailError::Throttled(wait));
        }
        tx.commit().await?;
        self.0.mail_committed();
        Ok(())
    }

    /// `PUT /api/me/email`: asks to change the account's address to `email`. The new address
    /// gets a verification link and replaces the old one when it is used; the old one, if
    /// verified, is told now (the new one masked). The current address again cancels a change
    /// waiting.
    pub async fn change_email(
        &self,
        proof: SudoProof<'_>,
        email: &str,
        client: &ClientInfo,
    ) -> Result<(), EmailError> {
        let SudoProof {
            session: current,
            password,
        } = proof;
        let email = EmailAddress::parse(email).map_err(EmailError::Invalid)?;
        let checked = self
            .0
            .check_given_password(current, password, client)
            .await?;
        let changed = self.0.after_check(checked.as_ref(), async {
            let (mut tx, user) = self.0.lock_account(current).await?;
            let elevated = self
                .0
                .elevate_with(&mut tx, current, checked.as_ref())
                .await?;
            let unchanged = user.email.as_deref().map(address::key) == Some(email.key());
            if unchanged {
                emails::set_pending(&mut tx, user.id, None).await?;
            } else {
                if emails::taken_by_other(&mut tx, &email, user.id).await? {
                    return Err(EmailError::Taken);
                }
                emails::set_pending(&mut tx, user.id, Some(&email)).await?;
                let link = self
                    .0
                    .mail_link(&mut tx, &user, LinkKind::Verify, email.as_str(), None);
                if let Some(wait) = link.await? {
                    return Err(EmailError::Throttled(wait));
                }
                let context = json!({"new_email": super::mask_email(email.as_str())});
                let notice = MailKind::EmailChangeRequested;
                self.0.notify(&mut tx, &user, notice, context).await?;
                let kind = ActivityKind::EmailChangeRequested;
                let entry = client.activity(user.id, kind, current.id(), json!({}));
                self.0.record(&mut tx, entry).await?;
            }
            tx.commit().await?;
            Ok(elevated)
        });
        if let Some(elevated) = changed.await? {
            self.0.sudo_granted(current, elevated);
        }
        self.0.mail_committed();
        Ok(())
    }

    /// `DELETE /api/me/email`: removes the account's address (and any change waiting), and
    /// voids its links. Refused while `signup_email = "required"`.
    pub async fn remove_email(
        &self,
        proof: SudoProof<'_>,
        client: &ClientInfo,
    ) -> Result<(), EmailError> {
        if self.0.config.signup_email == SignupEmail::Required {
            return Err(EmailError::Required);
        }
        let SudoProof {
            session: current,
            password,
        } = proof;
        let checked = self
            .0
            .check_given_password(current, password, client)
            .await?;
        let removed = self.0.after_check(checked.as_ref(), async {
            let (mut tx, user) = self.0.lock_account(current).await?;
            let elevated = self
                .0
                .elevate_with(&mut tx, current, checked.as_ref())
                .await?;
            emails::remove(&mut tx, user.id).await?;
            self.0.void_links(&mut tx, user.id).await?;
            let kind = ActivityKind::EmailChanged;
            let entry = client.activity(user.id, kind, current.id(), json!({"removed": true}));
            self.0.record(&mut tx, entry).await?;
            self.0.commit_account_change(tx, user.id).await?;
            Ok::<_, EmailError>(elevated)
        });
        if let Some(elevated) = removed.await? {
            self.0.sudo_granted(current, elevated);
        }
        self.0.events.emit(AuthEvent::EmailChanged {
            user_id: current.user_id(),
            removed: true,
        });
        Ok(())
    }
}
