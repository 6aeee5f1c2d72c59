//! A sign-in's second step. The API sends the code with the password; the login form asks for
//! it on a page of its own (`/login/two-factor`), so between the two the half-done sign-in is
//! held server-side, for at most `mfa_pending_lifetime` seconds, found by the hash of a random
//! handle that only that browser's cookie holds: never in a URL, and never with the password
//! (a fingerprint of the password hash it was checked against, so a password changed meanwhile
//! voids it). The second step goes through the one check of every way in.

use super::{Auth, ClientInfo, SignInError, SignIns};
use crate::store::sessions::{Kind, Session};
use crate::store::two_factor::{self, PendingSignIn};
use crate::store::users::User;
use crate::token::{Token, TokenHash};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

/// How a sign-in meets the second factor of an account that has two-factor on.
#[derive(Debug, Clone, Copy)]
pub enum SecondStep<'a> {
    /// With the code the request carries, if any (none: `mfa_required`): the API.
    Code(Option<&'a str>),
    /// In a second step: the sign-in is held for [`SignIns::finish_sign_in`] (the login form).
    Later,
}

/// What a sign-in came to.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // A return value, moved once: a box would buy nothing.
pub enum SignedIn {
    /// A new session, and its token (shown this once).
    Opened(Token, Session),
    /// Held for its second step: the handle, for the browser's cookie and nowhere else.
    Held(Token),
}

impl SignedIn {
    /// The new session; a held sign-in (which a code sent along never is) needs its code.
    pub fn opened(self) -> Result<(Token, Session), SignInError> {
        match self {
            SignedIn::Opened(token, session) => Ok((token, session)),
            SignedIn::Held(_) => Err(SignInError::MfaRequired),
        }
    }
}

/// A sign-in whose password was right: its user and its throttle attempt (still in flight, or
/// empty for none).
pub(super) struct PasswordRight {
    pub user: User,
    pub attempt: String,
}

/// A sign-in that opened its session.
pub(super) struct Opened {
    pub token: Token,
    pub session: Session,
    pub new_device: bool,
}

/// What the sign-in code does next.
#[allow(clippy::large_enum_variant)] // As `SignedIn`.
pub(super) enum Step {
    Opened(Opened),
    Held(Token),
}

/// The fingerprint of a password hash that a held sign-in keeps.
fn print_of(password_hash: &str) -> Vec<u8> {
    Sha256::digest(password_hash.as_bytes()).to_vec()
}

impl Auth {
    /// Holds a sign-in whose password was right until its second step; answers its handle.
    pub(super) async fn hold_sign_in(
        &self,
        conn: &mut AnyConnection,
        user: &User,
        name: Option<&str>,
    ) -> sqlx::Result<Token> {
        let (handle, hash) = Token::generate(&self.config.token_prefix);
        let pending = PendingSignIn {
            user_id: user.id,
            password_print: print_of(&user.password_hash),
            name: name.map(str::to_string),
        };
        let expires_at = self.clock.now() + self.config.mfa_pending_lifetime as i64;
        two_factor::hold_pending(conn, &hash.0, &pending, expires_at).await?;
        Ok(handle)
    }
}

impl SignIns<'_> {
    /// Drops the half-done sign-in of `handle` at once, if any (the second step's "Cancel"):
    /// no code can finish it afterwards.
    pub async fn cancel_held_sign_in(&self, handle: &str) -> sqlx::Result<()> {
        if let Some(hash) = TokenHash::parse(&self.0.config.token_prefix, handle) {
            let mut conn = self.0.db().acquire().await?;
            two_factor::drop_pending(&mut conn, &hash.0).await?;
        }
        Ok(())
    }

    /// Whether `handle` holds a half-done sign-in now (the second step's page asks).
    pub async fn sign_in_is_held(&self, handle: &str) -> sqlx::Result<bool> {
        let Some(hash) = TokenHash::parse(&self.0.config.token_prefix, handle) else {
            return Ok(false);
        };
        let mut conn = self.0.db().acquire().await?;
        let found = two_factor::find_pending(&mut conn, &hash.0, self.0.clock.now()).await?;
        Ok(found.is_some())
    }

    /// The second step of the login form: checks `code` for the sign-in `handle` holds and opens
    /// its browser session. `Ok(None)`: no such sign-in (expired, finished, another browser's,
    /// or its password changed meanwhile); start again. A wrong code keeps it held (and counts
    /// as a failed login).
    pub async fn finish_sign_in(
        &self,
        handle: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Option<(Token, Session)>, SignInError> {
        let Some(hash) = TokenHash::parse(&self.0.config.token_prefix, handle) else {
            return Ok(None);
        };
        let mut conn = self.0.db().acquire().await?;
        let now = self.0.clock.now();
        let Some(pending) = two_factor::find_pending(&mut conn, &hash.0, now).await? else {
            return Ok(None);
        };
        let user = User::find(&mut conn, pending.user_id).await?;
        let Some(user) = user.filter(|u| !u.is_disabled()) else {
            return Ok(None);
        };
        if print_of(&user.password_hash) != pending.password_print {
            two_factor::drop_pending(&mut conn, &hash.0).await?;
            return Ok(None);
        }
        let mfa = self
            .0
            .check_second_factor(&mut conn, &user, Some(code), client)
            .await?;
        // One session per held sign-in, however many second steps race for it.
        if !two_factor::drop_pending(&mut conn, &hash.0).await? {
            return Ok(None);
        }
        drop(conn);
        let username = user.username.clone();
        let right = PasswordRight {
            user,
            attempt: String::new(),
        };
        let name = pending.name.as_deref();
        let opened = self
            .0
            .start_session(right, mfa, name, Kind::Browser, client)
            .await?;
        self.0.announce(&opened, username);
        Ok(Some((opened.token, opened.session)))
    }
}
