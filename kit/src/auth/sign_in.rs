//! Signing in: the account rules, once for the API and the pages.
//! Handlers stay thin; what they may and may not do lives here.

use super::attempts::CheckOutcome;
use super::client::network;
use super::second_step::{Opened, PasswordRight, SecondStep, SignedIn, Step};
use super::{Auth, ClientInfo, SecondFactorError, SignInError, SignIns};
use crate::events::{AuthEvent, EndReason};
use crate::mail::MailKind;
use crate::store::activity::{Activity, ActivityKind, NewActivity};
use crate::store::sessions::{Kind, NewSession, Session, MAX_NAME};
use crate::store::throttle;
use crate::store::users::{Login, User};
use crate::text::{drop_hidden, label};
use crate::token::{new_public_id, Token};
use serde_json::{json, Value};
use sqlx::AnyConnection;

impl Auth {
    /// The events of a sign-in: `login_succeeded`, and `new_device_sign_in` for a new device.
    pub(super) fn announce(&self, opened: &Opened, username: String) {
        let session = &opened.session;
        self.events.emit(AuthEvent::LoginSucceeded {
            user_id: session.user_id,
            username: username.clone(),
            session_id: session.id.clone(),
            kind: session.kind,
            ip: session.ip.clone(),
            device: session.device.clone(),
        });
        if opened.new_device {
            self.events.emit(AuthEvent::NewDeviceSignIn {
                user_id: session.user_id,
                username,
                session_id: session.id.clone(),
                ip: session.ip.clone(),
                device: session.device.clone(),
            });
        }
    }

    async fn open_session(
        &self,
        username: &str,
        password: String,
        second: SecondStep<'_>,
        name: Option<&str>,
        kind: Kind,
        client: &ClientInfo,
    ) -> Result<Step, SignInError> {
        let right = self.first_factor(username, password, client).await?;
        // The password was right: its attempt is over (withdrawn, not failed). A second factor
        // is an attempt of its own, counted by the one check every way in goes through.
        self.withdraw(&right.attempt).await;
        let mut conn = self.db.acquire().await?;
        let code = match second {
            SecondStep::Code(code) => code,
            SecondStep::Later => None,
        };
        let mfa = match self
            .check_second_factor(&mut conn, &right.user, code, client)
            .await
        {
            Err(SecondFactorError::MfaRequired) if matches!(second, SecondStep::Later) => {
                let handle = self.hold_sign_in(&mut conn, &right.user, name).await?;
                return Ok(Step::Held(handle));
            }
            checked => checked?,
        };
        drop(conn);
        let opened = self.start_session(right, mfa, name, kind, client).await?;
        Ok(Step::Opened(opened))
    }

    /// Checks the password of the account `username` names, counting the attempt against the
    /// throttle; answers the user and the attempt (still in flight) when it is right.
    pub(super) async fn first_factor(
        &self,
        username: &str,
        password: String,
        client: &ClientInfo,
    ) -> Result<PasswordRight, SignInError> {
        // A username or an email address: one that could never name an account is not looked
        // up, nor counted against.
        let login = Login::parse(username);
        let user = match &login {
            // An unverified address finds no account: the same path as an unknown username.
            Some(login) => {
                let mut conn = self.db.acquire().await?;
                User::find_by_login(&mut conn, login).await?
            }
            None => None,
        }; // The connection goes back to the pool before the throttle's wait and the slow hash.

        // Failures count against the account, however it was named (its username and its
        // address share one budget), and against the login as typed when it names none.
        let user_key = match &user {
            Some(user) => Some(throttle::account_key(&user.username)),
            None => login.as_ref().map(|l| throttle::user_key(l.key())),
        };
        let ip_key = client.ip.as_deref().map(throttle::ip_key);
        let attempt = self
            .reserve_attempt(user_key.as_deref(), ip_key.as_deref())
            .await?;

        // A failure is recorded for an account that exists, disabled or not.
        let account = user.as_ref().map(|u| u.id);
        let enabled = user.filter(|u| !u.is_disabled());
        let verified = self
            .hasher
            .verify(password, enabled.as_ref().map(|u| u.password_hash.clone()))
            .await;
        let Ok(verified) = verified else {
            self.withdraw(&attempt).await;
            return Err(SignInError::Busy);
        };

        let Some(user) = enabled.filter(|_| verified) else {
            let mut conn = self.db.acquire().await?;
            self.sign_in_failed(&mut conn, &attempt, account, client)
                .await?;
            return Err(SignInError::InvalidCredentials);
        };
        Ok(PasswordRight { user, attempt })
    }

    /// Opens the session of a sign-in whose factors are checked (`mfa`: a second one passed).
    pub(super) async fn start_session(
        &self,
        right: PasswordRight,
        mfa: bool,
        name: Option<&str>,
        kind: Kind,
        client: &ClientInfo,
    ) -> Result<Opened, SignInError> {
        let now = self.clock.now();
        let PasswordRight { user, attempt } = right;
        let attempt = attempt.as_str();
        let mut conn = self.db.acquire().await?;
        let expires_at =
            (self.config.session_lifetime > 0).then(|| now + self.config.session_lifetime as i64);
        let new = NewSession {
            user_id: user.id,
            kind,
            name: name.map(|n| label(n, MAX_NAME).unwrap_or_default()),
            user_agent: client.user_agent.clone(),
            ip: client.ip.clone(),
            expires_at,
            // Full access; and the password was just checked, which starts sudo mode.
            scopes: None,
            token_days: None,
            sudo_until: Some(now + self.config.sudo_window as i64),
            mfa,
        };
        let (token, token_hash) = Token::generate(&self.config.token_prefix);
        // Eviction picks the least recently used session: write pending uses first.
        self.flush_touches().await?;
        // And a failed sign-in answered before this one is on record before it, in order.
        self.entries_written().await;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        // Locks the user row, and refuses the login if the password changed or the user was
        // disabled while the hash was being checked: no session may outlive such a change.
        if !User::lock_unchanged(&mut tx, user.id, &user.password_hash).await? {
            drop(tx); // Rolled back before the connection's next statement.
            self.sign_in_failed(&mut conn, attempt, Some(user.id), client)
                .await?;
            return Err(SignInError::InvalidCredentials);
        }
        throttle::release(&mut tx, attempt).await?;
        // The account's failures: of its passwords and of its codes.
        throttle::clear(&mut tx, &throttle::account_key(&user.username)).await?;
        let session = Session::insert(&mut tx, &new, &new_public_id(), &token_hash, now).await?;
        let evicted = Session::evict_over_cap(
            &mut tx,
            user.id,
            &session.id,
            self.config.max_sessions,
            self.expiry(now),
            self.config.history_retention > 0,
        )
        .await?;
        // Recorded with the session, so a sign-in is on record exactly when it happened.
        let network = client.ip.as_deref().and_then(network);
        let new_device = self
            .is_new_device(&mut tx, user.id, &session.device, network.as_deref(), now)
            .await?;
        let entry = signed_in(&session, network, new_device);
        Activity::record(&mut tx, &entry, now).await?;
        if new_device {
            let context = json!({"device": session.device, "ip": session.ip});
            self.notify(&mut tx, &user, MailKind::NewDeviceSignIn, context)
                .await?;
        }
        self.commit_revocation(tx, &evicted).await?;
        if new_device {
            self.mail_committed();
        }
        self.count_check(CheckOutcome::Succeeded);
        self.attempt_settled.notify_waiters(); // This check is over: the next may go.
        if !evicted.is_empty() {
            self.events.emit(AuthEvent::SessionRevoked {
                user_id: Some(user.id),
                session_id: None,
                reason: EndReason::Evicted,
                sessions_ended: evicted.len(),
            });
        }
        Ok(Opened {
            token,
            session,
            new_device,
        })
    }

    /// After a wrong password (or a disabled account): the attempt counts as a failed login,
    /// and the `sign_in_failed` entry of an account that exists is written after the answer
    /// (see [`Auth::record_later`]). So the answer does the same work, and takes as long,
    /// whether the account exists or not.
    async fn sign_in_failed(
        &self,
        conn: &mut AnyConnection,
        attempt: &str,
        account: Option<i64>,
        client: &ClientInfo,
    ) -> sqlx::Result<()> {
        self.count_check(CheckOutcome::Failed);
        throttle::settle_failure(conn, attempt).await?;
        self.attempt_settled.notify_waiters(); // This check is over: the next may go.
        if let Some(user_id) = account {
            self.record_later(failed_sign_in(user_id, client, json!({})));
        }
        Ok(())
    }

    /// A sign-in is from a new device when the user has signed in before, but not within
    /// `activity_retention` from this device label and network.
    async fn is_new_device(
        &self,
        conn: &mut AnyConnection,
        user_id: i64,
        device: &str,
        network: Option<&str>,
        now: i64,
    ) -> sqlx::Result<bool> {
        if !Activity::has_signed_in(conn, user_id).await? {
            return Ok(false); // The first sign-in ever.
        }
        let since = now - self.config.activity_retention as i64;
        Ok(!Activity::seen_from(conn, user_id, device, network, since).await?)
    }
}

/// The `sign_in` entry of a new session.
fn signed_in(session: &Session, network: Option<String>, new_device: bool) -> NewActivity {
    let mut detail = json!({"kind": session.kind.as_str(), "new_device": new_device});
    if let Some(name) = &session.name {
        detail["name"] = json!(name);
    }
    NewActivity {
        user_id: session.user_id,
        kind: ActivityKind::SignIn,
        ip: session.ip.clone(),
        device: Some(session.device.clone()),
        session_id: Some(session.id.clone()),
        network,
        detail,
    }
}

/// The `sign_in_failed` entry of a wrong password (or a disabled user, or with `detail` saying
/// so, a wrong two-factor code) for an existing account: where it came from, never what was
/// typed.
pub(super) fn failed_sign_in(user_id: i64, client: &ClientInfo, detail: Value) -> NewActivity {
    NewActivity {
        user_id,
        kind: ActivityKind::SignInFailed,
        ip: client.ip.clone(),
        device: Some(crate::device::label(client.user_agent.as_deref())),
        session_id: None,
        network: None,
        detail,
    }
}

impl SignIns<'_> {
    /// Checks a username and password, and the second factor when the user has two-factor on
    /// (as `second` says: a code sent along, or a second step), and opens a new session of
    /// `kind`, or holds the sign-in for its second step.
    pub async fn sign_in(
        &self,
        username: &str,
        password: String,
        second: SecondStep<'_>,
        name: Option<&str>,
        kind: Kind,
        client: &ClientInfo,
    ) -> Result<SignedIn, SignInError> {
        let shown_name = drop_hidden(&crate::device::truncate(username.trim(), 64));
        self.0.events.emit(AuthEvent::LoginAttempt {
            username: shown_name.clone(),
            ip: client.ip.clone(),
        });
        match self
            .0
            .open_session(username, password, second, name, kind, client)
            .await
        {
            Ok(Step::Opened(opened)) => {
                self.0.announce(&opened, shown_name);
                Ok(SignedIn::Opened(opened.token, opened.session))
            }
            Ok(Step::Held(handle)) => Ok(SignedIn::Held(handle)),
            Err(e) => {
                let reason = match e {
                    SignInError::Throttled(_) => Some("throttled"),
                    SignInError::InvalidCredentials => Some("invalid_credentials"),
                    _ => None,
                };
                if let Some(reason) = reason {
                    self.0.events.emit(AuthEvent::LoginFailed {
                        username: shown_name,
                        ip: client.ip.clone(),
                        reason,
                    });
                }
                Err(e)
            }
        }
    }
}
