//! Signing up: the account rules, once for the API and the pages, and the bound on sign-ups per
//! client (`signup_max_per_ip` an hour). A sign-up is counted before its password is hashed, in
//! the database, so that every instance sees the same counts and parallel sign-ups never get
//! past the limit.
//!
//! What counts: a sign-up with valid input, whether it makes the account or finds the username
//! or the email address taken (that answer tells the client something, so guessing usernames
//! and addresses is bounded too). Invalid input is refused before it is counted; a sign-up the
//! server could not finish (hashing busy, database unavailable) is withdrawn. Refused sign-ups
//! (429) do not count again.

use super::{Auth, ClientInfo, SignIns, SignUpError};
use crate::address::EmailAddress;
use crate::config::SignupEmail;
use crate::password::check_new_password;
use crate::store::links::LinkKind;
use crate::store::users::{CreateError, User};
use crate::store::{signups, throttle};
use crate::token::new_public_id;

impl Auth {
    /// Creates a user from the command line: an admin tool, never bounded per client, and never
    /// asked for an address (whatever `signup_email` says).
    pub async fn sign_up(&self, username: &str, password: String) -> Result<User, SignUpError> {
        self.create_user(username, password, None, false, None)
            .await
    }

    async fn create_user(
        &self,
        username: &str,
        password: String,
        email: Option<&str>,
        email_required: bool,
        limit: Option<(&str, u32)>,
    ) -> Result<User, SignUpError> {
        let username = username.trim();
        if let Some(msg) = User::check_username(username).or(check_new_password(&password)) {
            return Err(SignUpError::Invalid(msg));
        }
        let email = match email.filter(|e| !e.trim().is_empty()) {
            Some(text) => Some(EmailAddress::parse(text).map_err(SignUpError::InvalidEmail)?),
            None if email_required => return Err(SignUpError::InvalidEmail("email is required")),
            None => None,
        };
        let counted = match limit {
            Some((key, max)) => Some(self.count_sign_up(key, max).await?),
            None => None,
        };
        let created = async {
            let hash = self.hasher.hash(password).await;
            let hash = hash.map_err(|_| SignUpError::Busy)?;
            let mut conn = self.db.acquire().await?;
            let now = self.clock.now();
            User::create(&mut conn, username, email.as_ref(), &hash, now)
                .await
                .map_err(|e| match e {
                    CreateError::Taken => SignUpError::Taken,
                    CreateError::EmailTaken => SignUpError::EmailTaken,
                    CreateError::Db(e) => SignUpError::Db(e),
                })
        }
        .await;
        if let (Some(attempt), Err(SignUpError::Busy | SignUpError::Db(_))) = (counted, &created) {
            self.uncount_sign_up(&attempt).await;
        }
        if let Ok(user) = &created {
            self.mail_first_link(user).await;
        }
        created
    }

    /// Mails a verification link to the address given at sign-up (within `mail_max_per_hour`).
    /// The account stands either way: should this fail, the log says so, and the user asks for
    /// a new link.
    async fn mail_first_link(&self, user: &User) {
        let Some(to) = user.email.as_deref() else {
            return;
        };
        let mailed = async {
            let mut tx = self.db().begin().await?;
            let throttled = self
                .mail_link(&mut tx, user, LinkKind::Verify, to, None)
                .await?;
            tx.commit().await?;
            Ok::<_, crate::mail::MailError>(throttled.is_none())
        };
        match mailed.await {
            Ok(true) => self.mail_committed(),
            Ok(false) => {}
            Err(e) => rocket::warn!(
                "could not mail the verification link of user {}: {e}",
                user.id
            ),
        }
    }

    /// Counts a sign-up of the client `key`, or refuses it (throttled) when the client has had
    /// `max` within the hour. Returns the attempt's id, for [`Auth::uncount_sign_up`].
    pub(super) async fn count_sign_up(&self, key: &str, max: u32) -> Result<String, SignUpError> {
        let attempt = new_public_id();
        let mut conn = self.db().acquire().await?;
        match signups::reserve(&mut conn, key, max, &attempt, self.clock.now()).await? {
            None => Ok(attempt),
            Some(retry_after) => Err(SignUpError::Throttled(retry_after)),
        }
    }

    /// Withdraws a counted sign-up that the server could not finish (best effort: a row left
    /// behind counts for an hour).
    pub(super) async fn uncount_sign_up(&self, attempt: &str) {
        if let Ok(mut conn) = self.db().acquire().await {
            let _ = signups::withdraw(&mut conn, attempt).await;
        }
    }
}

impl SignIns<'_> {
    /// Creates a user for a client of `POST /api/users` or `/signup` (the caller checks that
    /// signup is open), with an email address or none (blank counts as none; required when
    /// `signup_email = "required"`): at most `signup_max_per_ip` sign-ups per client an hour
    /// (see [`Auth::count_sign_up`] for what counts).
    pub async fn sign_up_from(
        &self,
        username: &str,
        password: String,
        email: Option<&str>,
        client: &ClientInfo,
    ) -> Result<User, SignUpError> {
        let required = self.0.config.signup_email == SignupEmail::Required;
        let max = self.0.config.signup_max_per_ip;
        let key = client
            .ip
            .as_deref()
            .filter(|_| max > 0)
            .map(throttle::ip_key);
        let limit = key.as_deref().map(|key| (key, max));
        self.0
            .create_user(username, password, email, required, limit)
            .await
    }
}
