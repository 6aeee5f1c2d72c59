//! The session cookie and its guard: `CookieSession` in a page handler's signature puts the page
//! behind a browser sign-in, as `&CurrentSession` puts an API route behind a token.

use crate::auth::{Auth, AuthError, CurrentSession};
use crate::config::AuthConfig;
use crate::site;
use crate::token::Token;
use rocket::http::{Cookie, SameSite, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::time::Duration;
use rocket::{Request, Sentinel};
use std::ops::Deref;

/// The session cookie's names: `<app>_session` over plain HTTP, `__Host-<app>_session` when the
/// cookie is Secure (see [`CookieName`]).
pub fn session() -> CookieName {
    let site = site::get();
    CookieName {
        plain: site.session_cookie,
        host_only: site.session_cookie_host_only,
    }
}

/// The two names of one of the app's cookies. A Secure cookie (`secure_cookie`, on in release)
/// carries the `__Host-` prefix: a browser then keeps it only if it is Secure, has `Path=/` and
/// no `Domain`, and was set by this very host, so a sibling subdomain (or anyone on plain HTTP)
/// cannot plant or overwrite it. Over plain HTTP a browser refuses a prefixed cookie, so the
/// plain name serves there (debug). Only the name of the current setting is ever read.
#[derive(Debug, Clone, Copy)]
pub struct CookieName {
    pub plain: &'static str,
    pub host_only: &'static str,
}

impl CookieName {
    /// The name in use: prefixed exactly when the cookie is Secure.
    pub fn get(self, secure: bool) -> &'static str {
        match secure {
            true => self.host_only,
            false => self.plain,
        }
    }

    /// A cookie of this name: HttpOnly (no script reads any of the app's cookies), and what the
    /// prefix requires: `Path=/`, no `Domain`, `Secure` per `secure`. Without a lifetime: the
    /// caller adds one where it wants one.
    pub fn cookie(self, value: String, secure: bool, same_site: SameSite) -> Cookie<'static> {
        Cookie::build((self.get(secure), value))
            .http_only(true)
            .same_site(same_site)
            .path("/")
            .secure(secure)
            .build()
    }

    /// A cookie that, once sent, removes this one from the browser (Secure too when it is: a
    /// browser ignores a `__Host-` cookie without it, a removal included).
    pub fn removal(self, secure: bool) -> Cookie<'static> {
        self.cookie(String::new(), secure, SameSite::Lax)
    }
}

/// The cookie of a half-done sign-in (`<app>_session_2fa`, `__Host-` when Secure): the random
/// handle of a sign-in held server-side for its second step, and nothing else.
pub fn pending() -> CookieName {
    static NAMES: std::sync::OnceLock<CookieName> = std::sync::OnceLock::new();
    *NAMES.get_or_init(|| {
        let site = site::get();
        // Made once per process (one app per process), so the names live as long as it.
        let name = |base: &str| &*Box::leak(format!("{base}_2fa").into_boxed_str());
        CookieName {
            plain: name(site.session_cookie),
            host_only: name(site.session_cookie_host_only),
        }
    })
}

/// The cookie that holds a half-done sign-in's handle, for at most `mfa_pending_lifetime`.
pub fn pending_cookie(handle: &Token, config: &AuthConfig) -> Cookie<'static> {
    let value = handle.expose().to_string();
    let mut cookie = pending().cookie(value, config.secure_cookie(), SameSite::Strict);
    cookie.set_max_age(Duration::seconds(config.mfa_pending_lifetime as i64));
    cookie
}

/// Whether the app's cookies are Secure (`secure_cookie`), read from the request's app.
pub fn is_secure(req: &Request<'_>) -> bool {
    req.rocket()
        .state::<Auth>()
        .is_some_and(|auth| auth.config.secure_cookie())
}

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
    let auth = req.rocket().state::<Auth>().ok_or(AuthError::Unavailable)?;
    let name = session().get(auth.config.secure_cookie());
    let cookie = req.cookies().get(name).ok_or(AuthError::Missing)?;
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
/// (sent when following a link to the site, never with a cross-site POST), `Secure` and
/// `__Host-` per the `secure_cookie` setting, and as long-lived as the session itself.
pub fn session_cookie(token: &Token, config: &AuthConfig) -> Cookie<'static> {
    let value = token.expose().to_string();
    let mut cookie = session().cookie(value, config.secure_cookie(), SameSite::Lax);
    if config.session_lifetime > 0 {
        cookie.set_max_age(Duration::seconds(config.session_lifetime as i64));
    }
    cookie
}
