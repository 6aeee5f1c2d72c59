//! What the API and the pages do with accounts and sessions: sign up, sign in, change a password,
//! end sessions. Handlers stay thin; the rules live here, once for both front ends.

use super::{Auth, CurrentSession};
use crate::events::{AuthEvent, RevokeReason};
use crate::password::check_new_password;
use crate::store::sessions::{Kind, NewSession, Session, SessionView, MAX_NAME};
use crate::store::users::{CreateError, User};
use crate::store::{now, throttle};
use crate::token::{new_public_id, Token};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome};
use rocket::Request;
use sqlx::AnyConnection;

use crate::problem::Problem;

/// Why a sign-in (or a password check) failed.
#[derive(Debug)]
pub enum SignInError {
    /// Too many recent failures for the username or the client IP; retry after this many seconds.
    Throttled(u64),
    /// Unknown user, wrong password or disabled user: one answer for all three.
    InvalidCredentials,
    /// A new password that does not meet the rules.
    Invalid(&'static str),
    /// The password hashing queue is full; try again shortly.
    Busy,
    Db(sqlx::Error),
}

/// Why a sign-up failed.
#[derive(Debug)]
pub enum SignUpError {
    Invalid(&'static str),
    Taken,
    /// The password hashing queue is full; try again shortly.
    Busy,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for SignInError {
    fn from(e: sqlx::Error) -> Self {
        SignInError::Db(e)
    }
}

impl From<SignInError> for Problem {
    fn from(e: SignInError) -> Problem {
        match e {
            SignInError::Throttled(secs) => Problem::throttled(secs),
            SignInError::InvalidCredentials => Problem::invalid_credentials(),
            SignInError::Invalid(msg) => Problem::unprocessable(msg),
            SignInError::Busy => Problem::busy(),
            SignInError::Db(e) => e.into(),
        }
    }
}

impl From<SignUpError> for Problem {
    fn from(e: SignUpError) -> Problem {
        match e {
            SignUpError::Invalid(msg) => Problem::unprocessable(msg),
            SignUpError::Taken => Problem::new(
                Status::Conflict,
                "username_taken",
                "That username is already taken",
            ),
            SignUpError::Busy => Problem::busy(),
            SignUpError::Db(e) => e.into(),
        }
    }
}

/// Where a request comes from: the client IP (from the socket unless `ip_header` is set) and the
/// user agent.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientInfo {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(ClientInfo {
            ip: req.client_ip().map(|ip| ip.to_string()),
            user_agent: req
                .headers()
                .get_one("User-Agent")
                .map(|ua| clean_text(&crate::device::truncate_user_agent(ua))),
        })
    }
}

/// Drops control characters (NUL included, which PostgreSQL cannot store) from user text.
fn clean_text(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

impl Auth {
    /// Creates a user (SPEC §4, POST /api/users); the caller checks that signup is open.
    pub async fn sign_up(&self, username: &str, password: String) -> Result<User, SignUpError> {
        let username = username.trim();
        if let Some(msg) = User::check_username(username).or(check_new_password(&password)) {
            return Err(SignUpError::Invalid(msg));
        }
        let hash = self
            .hasher
            .hash(password)
            .await
            .map_err(|_| SignUpError::Busy)?;
        let mut conn = self.db.acquire().await.map_err(SignUpError::Db)?;
        User::create(&mut conn, username, &hash, now())
            .await
            .map_err(|e| match e {
                CreateError::Taken => SignUpError::Taken,
                CreateError::Db(e) => SignUpError::Db(e),
            })
    }

    /// Checks a username and password and opens a new session of `kind` (SPEC §3, §4).
    pub async fn sign_in(
        &self,
        username: &str,
        password: String,
        name: Option<&str>,
        kind: Kind,
        client: &ClientInfo,
    ) -> Result<(Token, Session), SignInError> {
        let shown_name = clean_text(&crate::device::truncate(username.trim(), 64));
        self.events.emit(AuthEvent::LoginAttempt {
            username: shown_name.clone(),
            ip: client.ip.clone(),
        });
        let result = self
            .open_session(username, password, name, kind, client)
            .await;
        let failure = match &result {
            Ok((_, session)) => {
                self.events.emit(AuthEvent::LoginSucceeded {
                    user_id: session.user_id,
                    username: shown_name,
                    session_id: session.id.clone(),
                    kind: session.kind.clone(),
                    ip: session.ip.clone(),
                    device: session.device.clone(),
                });
                return result;
            }
            Err(SignInError::Throttled(_)) => "throttled",
            Err(SignInError::InvalidCredentials) => "invalid_credentials",
            Err(_) => return result,
        };
        self.events.emit(AuthEvent::LoginFailed {
            username: shown_name,
            ip: client.ip.clone(),
            reason: failure,
        });
        result
    }

    async fn open_session(
        &self,
        username: &str,
        password: String,
        name: Option<&str>,
        kind: Kind,
        client: &ClientInfo,
    ) -> Result<(Token, Session), SignInError> {
        let now = now();
        let key = User::key(username);
        // A username that could never have signed up is not looked up, nor counted against.
        let user_key = User::check_username(&key)
            .is_none()
            .then(|| throttle::user_key(&key));
        let ip_key = client.ip.as_deref().map(throttle::ip_key);

        let (user, attempt) = {
            let mut conn = self.db.acquire().await?;
            let attempt = self
                .reserve_attempt(&mut conn, user_key.as_deref(), ip_key.as_deref(), now)
                .await?;
            let user = match user_key {
                Some(_) => User::find_by_username(&mut conn, &key).await?,
                None => None,
            };
            (user, attempt)
        }; // The connection goes back to the pool before the slow hash.
        let enabled = user.filter(|u| !u.is_disabled());
        let verified = self
            .hasher
            .verify(password, enabled.as_ref().map(|u| u.password_hash.clone()))
            .await;
        let Ok(verified) = verified else {
            self.withdraw(&attempt).await;
            return Err(SignInError::Busy);
        };

        let mut conn = self.db.acquire().await?;
        let Some(user) = enabled.filter(|_| verified) else {
            // The reserved failure rows stay: this attempt failed.
            return Err(SignInError::InvalidCredentials);
        };

        let new = NewSession {
            user_id: user.id,
            kind,
            name: name.map(|n| clean_text(&crate::device::truncate(n, MAX_NAME))),
            user_agent: client.user_agent.clone(),
            ip: client.ip.clone(),
        };
        let (token, token_hash) = Token::generate();
        let expires_at =
            (self.config.session_lifetime > 0).then(|| now + self.config.session_lifetime as i64);
        // Eviction picks the least recently used session: write pending uses first.
        self.flush_touches().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        // Locks the user row, and refuses the login if the password changed or the user was
        // disabled while the hash was being checked: no session may outlive such a change.
        let still_valid = sqlx::query(
            "UPDATE users SET password_hash = password_hash \
             WHERE id = $1 AND password_hash = $2 AND disabled = 0",
        )
        .bind(user.id)
        .bind(&user.password_hash)
        .execute(&mut *tx)
        .await?;
        if still_valid.rows_affected() == 0 {
            return Err(SignInError::InvalidCredentials);
        }
        throttle::release(&mut tx, &attempt).await?;
        if let Some(user_key) = &user_key {
            throttle::clear(&mut tx, user_key).await?;
        }
        let session = Session::insert(
            &mut tx,
            &new,
            &new_public_id(),
            &token_hash,
            now,
            expires_at,
        )
        .await?;
        let evicted = Session::evict_over_cap(
            &mut tx,
            user.id,
            &session.id,
            self.config.max_sessions,
            self.expiry(now),
        )
        .await?;
        self.commit_revocation(tx, &evicted).await?;
        if !evicted.is_empty() {
            self.events.emit(AuthEvent::SessionRevoked {
                user_id: Some(user.id),
                session_id: None,
                reason: RevokeReason::Evicted,
                sessions_ended: evicted.len(),
            });
        }
        Ok((token, session))
    }

    /// Withdraws an attempt that was never checked (best effort: at worst it counts as a failure).
    async fn withdraw(&self, attempt: &str) {
        if let Ok(mut conn) = self.db.acquire().await {
            let _ = throttle::release(&mut conn, attempt).await;
        }
    }

    /// Counts this attempt as a failure of its username and IP *before* the password is checked,
    /// so that parallel guesses cannot all slip under the limit; refuses it (and withdraws the
    /// count) when the limit is already reached. Returns the attempt's id, to release on success.
    async fn reserve_attempt(
        &self,
        conn: &mut AnyConnection,
        user_key: Option<&str>,
        ip_key: Option<&str>,
        now: i64,
    ) -> Result<String, SignInError> {
        let attempt = new_public_id();
        let limits = [
            (user_key, self.config.login_max_failures),
            (ip_key, self.config.login_max_failures_per_ip),
        ];
        for (key, _) in limits {
            if let Some(key) = key {
                throttle::reserve(conn, key, &attempt, now).await?;
            }
        }
        let window = self.config.login_failure_window;
        let mut wait = None;
        for (key, max) in limits {
            if let Some(key) = key {
                wait = wait.max(throttle::retry_after(conn, key, max, window, now).await?);
            }
        }
        match wait {
            Some(secs) => {
                throttle::release(conn, &attempt).await?;
                Err(SignInError::Throttled(secs))
            }
            None => Ok(attempt),
        }
    }

    /// Changes the password of the session's user and ends every other session of that user.
    /// A wrong current password counts as a failed login (so a stolen token cannot guess it).
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
        let now = now();
        let user_key = throttle::user_key(&User::key(current.username()));
        let ip_key = client.ip.as_deref().map(throttle::ip_key);
        let (user, attempt) = {
            let mut conn = self.db.acquire().await?;
            let attempt = self
                .reserve_attempt(&mut conn, Some(&user_key), ip_key.as_deref(), now)
                .await?;
            (User::find(&mut conn, current.user_id()).await?, attempt)
        };
        let Some(user) = user else {
            return Err(SignInError::InvalidCredentials);
        };
        let verified = self
            .hasher
            .verify(current_password, Some(user.password_hash.clone()))
            .await;
        let Ok(verified) = verified else {
            self.withdraw(&attempt).await;
            return Err(SignInError::Busy);
        };
        if !verified {
            return Err(SignInError::InvalidCredentials);
        }
        let new_hash = self
            .hasher
            .hash(new_password)
            .await
            .map_err(|_| SignInError::Busy)?;
        let mut conn = self.db.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        throttle::release(&mut tx, &attempt).await?;
        User::set_password(&mut tx, user.id, &new_hash).await?;
        let ended = Session::delete_all_for_user(&mut tx, user.id, Some(current.id())).await?;
        self.commit_revocation(tx, &ended).await?;
        self.events.emit(AuthEvent::PasswordChanged {
            user_id: user.id,
            session_id: current.id().to_string(),
            sessions_ended: ended.len(),
        });
        Ok(())
    }

    /// Ends the current session (logout).
    pub async fn logout(&self, current: &CurrentSession) -> sqlx::Result<()> {
        self.log_out(current, false).await
    }

    /// Ends every session of the current user, this one included (logout-all).
    pub async fn logout_all(&self, current: &CurrentSession) -> sqlx::Result<()> {
        self.log_out(current, true).await
    }

    async fn log_out(&self, current: &CurrentSession, all: bool) -> sqlx::Result<()> {
        let only = (!all).then(|| current.id());
        let ended = self.end_sessions(current.user_id(), only, None).await?;
        self.events.emit(AuthEvent::LoggedOut {
            user_id: current.user_id(),
            session_id: current.id().to_string(),
            all,
            sessions_ended: ended,
        });
        Ok(())
    }

    /// Revokes one session of a user; `false` when the id is unknown or someone else's.
    pub async fn end_session(&self, user_id: i64, session_id: &str) -> sqlx::Result<bool> {
        let ended = self.end_sessions(user_id, Some(session_id), None).await?;
        self.revoked(
            Some(user_id),
            Some(session_id),
            RevokeReason::Revoked,
            ended,
        );
        Ok(ended > 0)
    }

    /// Revokes every session of a user, or every one but `except`; returns how many ended.
    pub async fn end_all_sessions(
        &self,
        user_id: i64,
        except: Option<&str>,
    ) -> sqlx::Result<usize> {
        let ended = self.end_sessions(user_id, None, except).await?;
        self.revoked(Some(user_id), None, RevokeReason::Revoked, ended);
        Ok(ended)
    }

    /// Revokes a session by its id alone (the command line); `false` when there is none.
    pub async fn revoke_by_id(&self, session_id: &str) -> sqlx::Result<bool> {
        let mut conn = self.db.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let ended = Session::delete_by_id(&mut tx, session_id).await?;
        self.commit_revocation(tx, &ended).await?;
        self.revoked(None, Some(session_id), RevokeReason::Revoked, ended.len());
        Ok(!ended.is_empty())
    }

    /// Deletes one session (`only`), or all of the user's but `except`.
    async fn end_sessions(
        &self,
        user_id: i64,
        only: Option<&str>,
        except: Option<&str>,
    ) -> sqlx::Result<usize> {
        let mut conn = self.db.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let ended = match only {
            Some(id) => Session::delete_for_user(&mut tx, user_id, id).await?,
            None => Session::delete_all_for_user(&mut tx, user_id, except).await?,
        };
        self.commit_revocation(tx, &ended).await?;
        Ok(ended.len())
    }

    fn revoked(&self, user_id: Option<i64>, id: Option<&str>, reason: RevokeReason, n: usize) {
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
            true => Session::delete_all_for_user(&mut tx, user_id, None).await?,
            false => Vec::new(),
        };
        self.commit_revocation(tx, &ended).await?;
        self.revoked(Some(user_id), None, RevokeReason::UserDisabled, ended.len());
        Ok(true)
    }

    /// The user's live sessions as the API shows them, most recently used first.
    pub async fn sessions_of(&self, current: &CurrentSession) -> sqlx::Result<Vec<SessionView>> {
        let mut views = self
            .sessions_of_user(current.user_id(), Some(current.id()))
            .await?;
        for view in views.iter_mut().filter(|v| v.current) {
            // The current request's use may not be written yet.
            let now = crate::store::rfc3339(current.last_used_at());
            if now > view.last_used_at {
                view.last_used_at = now;
            }
        }
        // RFC 3339 UTC strings of one format sort like the times they name.
        views.sort_by(|a, b| b.last_used_at.cmp(&a.last_used_at));
        Ok(views)
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
        let rows = Session::list_live(&mut conn, user_id, self.expiry(now())).await?;
        let idle = self.config.idle_timeout;
        Ok(rows
            .iter()
            .map(|s| s.view(current == Some(s.id.as_str()), idle, s.last_used_at))
            .collect())
    }
}
