//! Guards that say in a route's signature what its session must be allowed to do, refused before
//! the body runs:
//!
//! | guard | admits | otherwise |
//! |---|---|---|
//! | `&CurrentSession` | a sign-in session (full access) | 403 `insufficient_scope` |
//! | `Scoped<'_, NotesRead>` | a sign-in, or a personal token holding `notes:read` | 403 `insufficient_scope`, `scope="notes:read"` |
//! | `Sudo<'_>` | a sign-in in sudo mode (a password check within `sudo_window`) | 403 `sudo_required` |
//! | `Unscoped<'_>` | any valid token, whatever its scopes (only for acting on the token itself) | |
//!
//! Each derefs to [`CurrentSession`]; all share the one validation of the request.

use super::guard::{authenticated, outcome};
use super::{Auth, AuthError, CurrentSession};
use crate::scopes::Scope;
use crate::store::sessions::Session;
use rocket::request::{FromRequest, Outcome};
use rocket::{Request, Sentinel};
use std::marker::PhantomData;
use std::ops::Deref;

/// A session allowed the scope `S`: `session: Scoped<'_, NotesWrite>`.
pub struct Scoped<'r, S: Scope>(&'r CurrentSession, PhantomData<S>);

/// Any valid session or token, whatever its scopes. For what a token may always do to itself
/// (`POST /api/auth/logout`); anything else names a scope.
pub struct Unscoped<'r>(&'r CurrentSession);

/// A sign-in session in sudo mode: a password check on this session within `sudo_window`.
pub struct Sudo<'r>(&'r CurrentSession);

macro_rules! derefs_to_session {
    ($($guard:ident $(<$scope:ident>)?),+) => {$(
        impl<$($scope: Scope)?> Deref for $guard<'_, $($scope)?> {
            type Target = CurrentSession;

            fn deref(&self) -> &CurrentSession {
                self.0
            }
        }

        /// A route behind the guard cannot launch without the auth fairing.
        impl<$($scope: Scope)?> Sentinel for $guard<'_, $($scope)?> {
            fn abort(rocket: &rocket::Rocket<rocket::Ignite>) -> bool {
                rocket.state::<Auth>().is_none()
            }
        }
    )+};
}

derefs_to_session!(Scoped<S>, Unscoped, Sudo);

#[rocket::async_trait]
impl<'r, S: Scope> FromRequest<'r> for Scoped<'r, S> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        let result =
            authenticated(req)
                .await
                .and_then(|session| match session.access().allows(S::BIT) {
                    true => Ok(Scoped(session, PhantomData)),
                    false => Err(AuthError::InsufficientScope(Some(S::NAME))),
                });
        outcome(req, result)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Unscoped<'r> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        outcome(req, authenticated(req).await.map(Unscoped))
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Sudo<'r> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        let result = match authenticated(req).await {
            Ok(session) => match req.rocket().state::<Auth>() {
                Some(auth) => auth.check_sudo(session).await.map(|()| Sudo(session)),
                None => Err(AuthError::Unavailable),
            },
            Err(e) => Err(e),
        };
        outcome(req, result)
    }
}

impl Auth {
    /// Whether a session may do what needs sudo now: full access, and a password check within
    /// `sudo_window`. The row is read when this instance's copy says no, since the check may
    /// have happened on another instance.
    pub async fn check_sudo(&self, session: &CurrentSession) -> Result<(), AuthError> {
        if !session.access().is_full() {
            return Err(AuthError::InsufficientScope(None));
        }
        let now = self.clock.now();
        if session.in_sudo(now) {
            return Ok(());
        }
        let mut conn = self.db().acquire().await.map_err(AuthError::from_db)?;
        let until = Session::sudo_until(&mut conn, session.id())
            .await
            .map_err(AuthError::from_db)?;
        if let Some(until) = until {
            session.note_sudo(until);
        }
        match session.in_sudo(now) {
            true => Ok(()),
            false => Err(AuthError::SudoRequired),
        }
    }
}
