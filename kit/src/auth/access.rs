//! Guards that say in a route's signature what its session must be allowed to do, refused before
//! the body runs:
//!
//! | guard | admits | otherwise |
//! |---|---|---|
//! | `&CurrentSession` | a sign-in session (full access) | 403 `insufficient_scope` |
//! | `Scoped<'_, SessionsRead>` | a sign-in, or a personal token holding `sessions:read` | 403 `insufficient_scope`, `scope="sessions:read"` |
//! | `Sudo<'_>` | a sign-in in sudo mode (a password check within `sudo_window`) | 403 `sudo_required` |
//! | `SudoOrPassword<'_, B>` (the body) | a sign-in in sudo mode, or whose body `B` carries a `password` | 403 `sudo_required` |
//! | `Mfa<'_>` | a sign-in session whose sign-in passed a second factor | 403 `second_factor_required` |
//! | `Unscoped<'_>` | any valid token, whatever its scopes (only for acting on the token itself) | |
//!
//! Each derefs to [`CurrentSession`]; all share the one validation of the request. What needs
//! sudo takes a [`SudoProof`], which only the two sudo guards give: the service never checks
//! sudo mode again.

use super::guard::{authenticated, outcome};
use super::{Auth, AuthError, CurrentSession};
use crate::scopes::Scope;
use crate::store::sessions::Session;
use rocket::data::{self, Data, FromData};
use rocket::request::{FromRequest, Outcome};
use rocket::{Request, Sentinel};
use std::marker::PhantomData;
use std::ops::Deref;

/// A session allowed the scope `S`: `session: Scoped<'_, SessionsWrite>`.
pub struct Scoped<'r, S: Scope>(&'r CurrentSession, PhantomData<S>);

/// Any valid session or token, whatever its scopes. For what a token may always do to itself
/// (`POST /api/auth/logout`); anything else names a scope.
pub struct Unscoped<'r>(&'r CurrentSession);

/// A sign-in session in sudo mode: a password check on this session within `sudo_window`.
pub struct Sudo<'r>(&'r CurrentSession);

/// A sign-in session whose sign-in passed a second factor (an authenticator or recovery code),
/// for an app's most sensitive routes: one signed in with the password alone (two-factor off, or
/// turned on since) is refused, and so is every personal token.
pub struct Mfa<'r>(&'r CurrentSession);

/// The body guard of a route that needs sudo mode but, where the product allows it, takes the
/// account password in its own body instead (`POST /api/tokens`): a sign-in session, the body
/// `B` read by its own guard, then sudo mode unless the body carries a password. That password
/// is the action's re-authentication: the action checks it like a login (throttled, counted,
/// after the request's own rules, so that a bad request costs no attempt) and, when right,
/// puts the session in sudo mode in the same transaction as what it does.
pub struct SudoOrPassword<'r, B> {
    session: &'r CurrentSession,
    body: B,
    password: Option<String>,
}

/// A body that may carry the account password, for [`SudoOrPassword`].
pub trait CarriesPassword {
    /// The password, taken out of the body (so that it is not kept twice).
    fn take_password(&mut self) -> Option<String>;
}

/// What lets an action that needs sudo mode run: the session, in sudo mode (checked by the
/// guard), or with a password for the action to check. Only the sudo guards make one.
pub struct SudoProof<'r> {
    pub(super) session: &'r CurrentSession,
    /// `None`: the session is in sudo mode.
    pub(super) password: Option<String>,
}

impl<'r> Sudo<'r> {
    /// Checks sudo mode where a guard cannot: a page form checks its CSRF token first, and out
    /// of sudo mode leads to the password form rather than answering 403.
    pub async fn check(auth: &Auth, session: &'r CurrentSession) -> Result<Sudo<'r>, AuthError> {
        auth.check_sudo(session).await.map(|()| Sudo(session))
    }

    /// The proof for an action that needs sudo mode.
    pub fn proof(&self) -> SudoProof<'r> {
        SudoProof {
            session: self.0,
            password: None,
        }
    }
}

impl<'r> SudoProof<'r> {
    /// The session the proof is for.
    pub fn session(&self) -> &'r CurrentSession {
        self.session
    }
}

impl<'r, B> SudoOrPassword<'r, B> {
    /// The body, and the proof for the action.
    pub fn into_parts(self) -> (B, SudoProof<'r>) {
        let proof = SudoProof {
            session: self.session,
            password: self.password,
        };
        (self.body, proof)
    }
}

macro_rules! derefs_to_session {
    ($($guard:ident $(<$scope:ident>)?),+) => {$(
        impl<$($scope: Scope)?> Deref for $guard<'_, $($scope)?> {
            type Target = CurrentSession;

            fn deref(&self) -> &CurrentSession {
                self.0
            }
        }
    )+};
}

derefs_to_session!(Scoped<S>, Unscoped, Sudo, Mfa);

/// A route behind the guard cannot launch without the auth fairing, nor with a scope the app
/// did not pass to [`crate::Kit::scopes`] (no token could ever hold it).
impl<S: Scope> Sentinel for Scoped<'_, S> {
    fn abort(rocket: &rocket::Rocket<rocket::Ignite>) -> bool {
        if !crate::scopes::is_registered(S::NAME) {
            rocket::error!(
                "a route is guarded by the scope `{}` ({}), which this app does not serve: add \
                 its `scopes!` list to the app's Kit with `.scopes(...)`",
                S::NAME,
                std::any::type_name::<S>(),
            );
            return true;
        }
        rocket.state::<Auth>().is_none()
    }
}

macro_rules! needs_auth {
    ($($guard:ident),+) => {$(
        /// A route behind the guard cannot launch without the auth fairing.
        impl Sentinel for $guard<'_> {
            fn abort(rocket: &rocket::Rocket<rocket::Ignite>) -> bool {
                rocket.state::<Auth>().is_none()
            }
        }
    )+};
}

needs_auth!(Unscoped, Sudo, Mfa);

impl<B> Deref for SudoOrPassword<'_, B> {
    type Target = CurrentSession;

    fn deref(&self) -> &CurrentSession {
        self.session
    }
}

impl<B> Sentinel for SudoOrPassword<'_, B> {
    fn abort(rocket: &rocket::Rocket<rocket::Ignite>) -> bool {
        rocket.state::<Auth>().is_none()
    }
}

#[rocket::async_trait]
impl<'r, S: Scope> FromRequest<'r> for Scoped<'r, S> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        let result =
            authenticated(req)
                .await
                .and_then(|session| match session.access().allows(S::NAME) {
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
impl<'r> FromRequest<'r> for Mfa<'r> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        let result = authenticated(req).await.and_then(|session| {
            match (session.access().is_full(), session.mfa()) {
                (false, _) => Err(AuthError::InsufficientScope(None)),
                (true, false) => Err(AuthError::SecondFactorRequired),
                (true, true) => Ok(Mfa(session)),
            }
        });
        outcome(req, result)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Sudo<'r> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AuthError> {
        let result = match authenticated(req).await {
            Ok(session) => match req.rocket().state::<Auth>() {
                Some(auth) => Sudo::check(auth, session).await,
                None => Err(AuthError::Unavailable),
            },
            Err(e) => Err(e),
        };
        outcome(req, result)
    }
}

#[rocket::async_trait]
impl<'r, B: FromData<'r> + CarriesPassword + Send> FromData<'r> for SudoOrPassword<'r, B> {
    type Error = Option<AuthError>;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        // In the order of a route with a session guard and a body guard: the session first.
        let session = match req.guard::<&CurrentSession>().await {
            Outcome::Success(session) => session,
            Outcome::Error((status, e)) => return data::Outcome::Error((status, Some(e))),
            Outcome::Forward(status) => return data::Outcome::Forward((data, status)),
        };
        let mut body = match B::from_data(req, data).await {
            data::Outcome::Success(body) => body,
            data::Outcome::Error((status, _)) => return data::Outcome::Error((status, None)),
            data::Outcome::Forward(forward) => return data::Outcome::Forward(forward),
        };
        let password = body.take_password();
        if password.is_none() {
            let checked = match req.rocket().state::<Auth>() {
                Some(auth) => auth.check_sudo(session).await,
                None => Err(AuthError::Unavailable),
            };
            if let Err(e) = checked {
                let problem = e.problem();
                let status = problem.status;
                problem.stash(req);
                return data::Outcome::Error((status, Some(e)));
            }
        }
        data::Outcome::Success(SudoOrPassword {
            session,
            body,
            password,
        })
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
