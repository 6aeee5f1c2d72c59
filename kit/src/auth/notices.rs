//! The mail the auth machinery sends: links (verification, password reset), each counted
//! against `mail_max_per_hour`, and notices to a verified address (a new-device sign-in, a
//! password change or reset, a personal token created). Every one is queued on the caller's
//! connection, in the transaction of what it announces; [`Auth::mail_committed`] has it sent at
//! once after the commit. A notice never carries a link that grants anything.

use super::Auth;
use crate::mail::{MailError, MailKind, Mailer};
use crate::store::links::LinkKind;
use crate::store::mail_sends;
use crate::store::users::User;
use serde_json::{json, Value};
use sqlx::AnyConnection;

/// An address as a notice names it to someone else: the first character of its local part,
/// then `***@` and the domain (`n***@example.org`).
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_string(),
    }
}

impl Auth {
    /// Gives the machinery the app's mailer (done once, at liftoff, by the kit). Without one
    /// (the command line), nothing is mailed.
    pub fn use_mailer(&self, mailer: Mailer) {
        let _ = self.mailer.set(mailer);
    }

    /// The app's mailer, once given.
    pub fn mailer(&self) -> Option<&Mailer> {
        self.mailer.get()
    }

    /// After the commit of a transaction that queued mail: has it sent now.
    pub(super) fn mail_committed(&self) {
        if let Some(mailer) = self.mailer() {
            mailer.wake();
        }
    }

    /// Reset requests one client IP may make an hour, for any login: ten times
    /// `mail_max_per_hour`.
    pub(super) fn client_mail_limit(&self) -> u32 {
        self.config.mail_max_per_hour.saturating_mul(10)
    }

    /// Issues a link of `kind` for the user and queues the mail that carries it to `to`, unless
    /// that address has had `mail_max_per_hour` link mails within the hour: then nothing is
    /// written and the answer is the seconds until one more is allowed. `ip_key` (the client,
    /// for reset requests) is counted too, at ten times the limit.
    pub(super) async fn mail_link(
        &self,
        conn: &mut AnyConnection,
        user: &User,
        kind: LinkKind,
        to: &str,
        ip_key: Option<&str>,
    ) -> Result<Option<u64>, MailError> {
        let max = self.config.mail_max_per_hour;
        let email_key = mail_sends::email_key(&crate::address::key(to));
        let mut limits = vec![(email_key.as_str(), max)];
        limits.extend(ip_key.map(|key| (key, self.client_mail_limit())));
        let now = self.clock.now();
        if let Some(wait) = mail_sends::reserve(conn, &limits, now).await? {
            return Ok(Some(wait));
        }
        let Some(mailer) = self.mailer() else {
            return Ok(None);
        };
        let link = self.issue_link(conn, user.id, kind, to).await?;
        let (mail, path) = match kind {
            LinkKind::Verify => (MailKind::VerifyEmail, "/verify-email"),
            LinkKind::Reset => (MailKind::PasswordReset, "/reset-password"),
        };
        let url = mailer.link(&format!("{path}?token={}", link.token.expose()));
        let context = json!({"username": user.username, "link": url});
        mailer.queue(conn, mail, to, context, now).await?;
        Ok(None)
    }

    /// [`Auth::notify`] for a user known by id (read on `conn`, in the caller's transaction).
    pub(super) async fn notify_user(
        &self,
        conn: &mut AnyConnection,
        user_id: i64,
        kind: MailKind,
        context: Value,
    ) -> sqlx::Result<()> {
        match User::find(conn, user_id).await? {
            Some(user) => self.notify(conn, &user, kind, context).await,
            None => Ok(()),
        }
    }

    /// Queues a notice of `kind` to the user's address, when it is verified (and notices are
    /// on). `context` adds to the username. A notice that cannot be made is logged and
    /// skipped: it never stops what it announces.
    pub(super) async fn notify(
        &self,
        conn: &mut AnyConnection,
        user: &User,
        kind: MailKind,
        context: Value,
    ) -> sqlx::Result<()> {
        let (Some(mailer), Some(to)) = (self.mailer(), user.email.as_deref()) else {
            return Ok(());
        };
        if !user.is_email_verified() {
            return Ok(());
        }
        let mut context = context;
        context["username"] = user.username.clone().into();
        match mailer
            .queue(conn, kind, to, context, self.clock.now())
            .await
        {
            Ok(_) => Ok(()),
            Err(MailError::Db(e)) => Err(e),
            Err(MailError::Render(e)) => {
                rocket::warn!("could not make the {kind} notice of user {}: {e}", user.id);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mask_email;

    #[test]
    fn a_masked_address_keeps_one_character_and_the_domain() {
        assert_eq!(mask_email("new@example.org"), "n***@example.org");
        assert_eq!(mask_email("Ünïcode@example.org"), "Ü***@example.org");
        assert_eq!(mask_email("odd"), "***");
    }
}
