//! The session cookie and its guard: `CookieSession` in a page handler's signature puts the page
//! behind a browser sign-in, as `&CurrentSession` puts an API route behind a token.

use crate::auth::{Auth, AuthError, CurrentSession};
use crate::config::AuthConfig;
use crate::token::Token;
use rocket::http::{Cookie, SameSite, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::time::Duration;
use rocket::{Request, Sentinel};
use std::ops::Deref;

/// Name of the cookie that holds a browser session's token (`<app>_session`).
pub const SESSION_COOKIE: &str = concat!(env!("CARGO_CRATE_NAME"), "_session");

/// The session a page request was authenticated with, from the session cookie. Validated at most
/// once per request. Failure is a 401 (which the HTML catcher turns into a redirect to /login) or
/// a 503 when the database cannot be asked.
pub struct CookieSession<'r>(&'r CurrentSession);

impl Deref for CookieSession<'_> {
    type Target = CurrentSession;

    fn deref(&self) -> &CurrentSession {
        self.0
    }
}

/// The memoised result of authenticating one request's cookie (a type of its own, so that it
/// never mixes with the API guard's cache of the Authorization header).
struct CookieAuthenticated(Result<CurrentSession, AuthError>);

async fn authenticate(req: &Request<'_>) -> Result<CurrentSession, AuthError> {
    let cookie = req
        .cookies()
        .get(SESSION_COOKIE)
        .ok_or(AuthError::Missing)?;
    let auth = req.rocket().state::<Auth>().ok_or(AuthError::Unavailable)?;
    let session = auth.authenticate(cookie.value(), req.client_ip()).await?;
    // A personal token is for scripts: pasted into the cookie, it signs nobody in.
    match session.access().is_full() {
        true => Ok(session),
        false => Err(AuthError::InvalidToken),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CookieSession<'r> {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let outcome = req
            .local_cache_async(async { CookieAuthenticated(authenticate(req).await) })
            .await;
        match &outcome.0 {
            Ok(session) => Outcome::Success(CookieSession(session)),
            Err(AuthError::Unavailable) => {
                Outcome::Error((Status::ServiceUnavailable, AuthError::Unavailable))
            }
            Err(e @ AuthError::Fault(_)) => Outcome::Error((Status::InternalServerError, *e)),
            Err(e) => Outcome::Error((Status::Unauthorized, *e)),
        }
    }
}

/// A page behind the cookie cannot launch without the auth fairing.
impl Sentinel for CookieSession<'_> {
    fn abort(rocket: &rocket::Rocket<rocket::Ignite>) -> bool {
        rocket.state::<Auth>().is_none()
    }
}

/// The cookie that carries a new browser session: HttpOnly (no script reads it), SameSite=Lax
/// (sent when following a link to the site, never with a cross-site POST), `Secure` per the
/// `secure_cookie` setting, and as long-lived as the session itself.
pub fn session_cookie(token: &Token, config: &AuthConfig) -> Cookie<'static> {
    let mut cookie = Cookie::build((SESSION_COOKIE, token.expose().to_string()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(config.secure_cookie())
        .build();
    if config.session_lifetime > 0 {
        cookie.set_max_age(Duration::seconds(config.session_lifetime as i64));
    }
    cookie
}

/// A cookie that, once sent, removes the cookie `name` from the browser.
pub fn removal(name: &'static str) -> Cookie<'static> {
    Cookie::build(name).path("/").build()
}
