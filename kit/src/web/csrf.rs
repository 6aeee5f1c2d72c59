//! Cross-site request forgery protection for every form that changes state. No maintained CSRF
//! crate targets Rocket 0.5, and the whole of it fits in this file.
//!
//! Two checks, both needed to pass:
//! 1. **Same origin.** A request whose `Sec-Fetch-Site` says it came from another site, or whose
//!    `Origin` is not this site's (another scheme, host or port, or `null`), is refused outright.
//!    This site's origin is the request's own: its scheme `https` when a TLS-terminating proxy
//!    says so in `X-Forwarded-Proto`, else `http` (the app speaks plain HTTP itself); its host and
//!    port the `Host` header's, or `X-Forwarded-Host`'s where a proxy rewrites `Host`. A
//!    cross-site form can set none of these headers.
//! 2. **A token in the form** (field `csrf`), compared in constant time with the expected one:
//!    - signed in: SHA-256 over a fixed label and the session's token hash. Only someone who holds
//!      the session cookie can know it; it needs no storage, survives many tabs, and dies with the
//!      session.
//!    - signed out (the sign-in and sign-up forms, [`SignedOutForm`]): a random value that is
//!      both in the form and in an HttpOnly, SameSite=Strict cookie ("double submit"), so that no
//!      other site can sign a visitor in to an account of its choosing. These forms take that token
//!      even when the browser holds a session meanwhile (signed in from another tab): the token
//!      proves the same thing either way, that the form came from this site in this browser.
//!
//! The signed-out token's cookie carries the `__Host-` prefix when Secure, so a sibling subdomain
//! cannot plant a value of its own and forge the double submit.
//!
//! A failed check is a 403 before the handler runs, so nothing changes.

use super::cookie::{is_secure, CookieName, CookieSession};
use crate::auth::CurrentSession;
use crate::site;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::uri::Authority;
use rocket::http::{CookieJar, RawStr, SameSite, Status};
use rocket::Request;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The names of the cookie that holds the signed-out forms' token: `<app>_csrf` over plain HTTP,
/// `__Host-<app>_csrf` when Secure.
fn csrf() -> CookieName {
    let site = site::get();
    CookieName {
        plain: site.csrf_cookie,
        host_only: site.csrf_cookie_host_only,
    }
}
/// Length of a signed-out token: 32 random bytes in unpadded base64url.
const COOKIE_TOKEN_LEN: usize = 43;

/// The token of the forms shown to a signed-in session.
pub fn session_token(session: &CurrentSession) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"multitoken csrf v1\0");
    hasher.update(session.token_hash().0);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The token of the signed-out forms: the one in the browser's cookie, or a new one (set in the
/// cookie) when it has none.
pub fn signed_out_token(jar: &CookieJar<'_>, secure: bool) -> String {
    if let Some(token) = cookie_token(jar, secure) {
        return token;
    }
    let token = URL_SAFE_NO_PAD.encode(crate::token::random_bytes::<32>());
    jar.add(csrf().cookie(token.clone(), secure, SameSite::Strict));
    token
}

fn cookie_token(jar: &CookieJar<'_>, secure: bool) -> Option<String> {
    let value = jar.get(csrf().get(secure))?.value();
    let well_formed = value.len() == COOKIE_TOKEN_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| value.to_string())
}

/// Whether the request says it was sent from a page of another site.
fn is_cross_site(req: &Request<'_>) -> bool {
    let headers = req.headers();
    // Sent by every current browser; "none" is a user's own action (a bookmark, the address bar).
    if let Some(site) = headers.get_one("Sec-Fetch-Site") {
        if !matches!(site, "same-origin" | "none") {
            return true;
        }
    }
    let Some(origin) = headers.get_one("Origin") else {
        return false;
    };
    let scheme = request_scheme(req);
    // "null" (sandboxed frames, cross-origin redirects), another scheme and anything unparsable
    // are refused too.
    let Some(origin) = origin
        .strip_prefix(scheme)
        .and_then(|rest| rest.strip_prefix("://"))
        .and_then(|authority| HostPort::parse(authority, scheme))
    else {
        return true;
    };
    // Behind a proxy that rewrites Host, the host the browser used is in X-Forwarded-Host (a
    // list, when proxies stack). A cross-site form can set neither header, so accepting either
    // is safe.
    !["Host", "X-Forwarded-Host"]
        .iter()
        .flat_map(|name| headers.get(name))
        .flat_map(|value| value.split(','))
        .filter_map(|host| HostPort::parse(host.trim(), scheme))
        .any(|host| host == origin)
}

/// The scheme the browser used: `https` where a proxy that terminates TLS says so (the first
/// value of `X-Forwarded-Proto`, as proxies that stack append theirs), else plain `http`.
fn request_scheme(req: &Request<'_>) -> &'static str {
    let forwarded = req.headers().get_one("X-Forwarded-Proto").unwrap_or("");
    match forwarded.split(',').next().map(str::trim) {
        Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    }
}

/// A host and port as an origin compares them: the host in lower case, the port the scheme's
/// default when none is written (`https://app.example` is `app.example:443`).
#[derive(PartialEq, Debug)]
struct HostPort {
    host: String,
    port: u16,
}

impl HostPort {
    fn parse(authority: &str, scheme: &str) -> Option<HostPort> {
        let parsed = Authority::parse(authority).ok()?;
        if parsed.user_info().is_some() || parsed.host().is_empty() {
            return None;
        }
        let default = if scheme == "https" { 443 } else { 80 };
        Some(HostPort {
            host: parsed.host().to_ascii_lowercase(),
            port: parsed.port().unwrap_or(default),
        })
    }
}

/// Why a form was refused.
#[derive(Debug)]
pub enum CsrfError {
    CrossSite,
    NotAForm,
    TooLarge,
    Unreadable,
    BadToken,
    /// The form passed the checks but lacks fields or has malformed ones.
    Invalid,
}

#[derive(FromForm)]
struct TokenField {
    csrf: Option<String>,
}

/// Which token a form must carry.
#[derive(Clone, Copy)]
enum Expected {
    /// The session's, when the browser is signed in (every form of the signed-in pages).
    Session,
    /// The signed-out one, whether or not the browser is signed in (sign-in and sign-up).
    SignedOut,
}

/// Runs both checks on a form request and returns its body.
async fn check<'r>(
    req: &'r Request<'_>,
    data: Data<'r>,
    expected: Expected,
) -> Result<String, (Status, CsrfError)> {
    let secure = is_secure(req);
    if is_cross_site(req) {
        return Err((Status::Forbidden, CsrfError::CrossSite));
    }
    if !req.content_type().is_some_and(|ct| ct.is_form()) {
        return Err((Status::UnsupportedMediaType, CsrfError::NotAForm));
    }
    let limit = req.limits().get("form").unwrap_or(16.kibibytes());
    let body = match data.open(limit).into_string().await {
        Ok(body) if body.is_complete() => body.into_inner(),
        Ok(_) => return Err((Status::PayloadTooLarge, CsrfError::TooLarge)),
        Err(_) => return Err((Status::BadRequest, CsrfError::Unreadable)),
    };
    let submitted = Form::<TokenField>::parse_encoded(RawStr::new(&body))
        .ok()
        .and_then(|field| field.csrf)
        .unwrap_or_default();
    let expected = match expected {
        Expected::Session => match req.guard::<CookieSession<'_>>().await.succeeded() {
            Some(session) => Some(session_token(&session)),
            None => cookie_token(req.cookies(), secure),
        },
        Expected::SignedOut => cookie_token(req.cookies(), secure),
    };
    let matches = expected.is_some_and(|expected| {
        !submitted.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
    });
    if !matches {
        return Err((Status::Forbidden, CsrfError::BadToken));
    }
    Ok(body)
}

/// Data guard of a form that has no fields but the token (revoke, sign out): the request passed
/// both checks.
pub struct CsrfChecked;

#[rocket::async_trait]
impl<'r> FromData<'r> for CsrfChecked {
    type Error = CsrfError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        match check(req, data, Expected::Session).await {
            Ok(_) => data::Outcome::Success(CsrfChecked),
            Err(e) => data::Outcome::Error(e),
        }
    }
}

/// Data guard of a form with fields: `T` parsed from a body that passed both checks.
pub struct CheckedForm<T>(pub T);

/// Data guard of the sign-in and sign-up forms: as [`CheckedForm`], with the signed-out token
/// (a form loaded signed out still works once another tab has signed in).
pub struct SignedOutForm<T>(pub T);

/// Runs both checks, then parses the body as `T`.
async fn checked_form<'r, T>(
    req: &'r Request<'_>,
    data: Data<'r>,
    expected: Expected,
) -> Result<T, (Status, CsrfError)>
where
    T: for<'v> FromForm<'v> + 'static,
{
    let body = check(req, data, expected).await?;
    Form::<T>::parse_encoded(RawStr::new(&body))
        .map_err(|_| (Status::UnprocessableEntity, CsrfError::Invalid))
}

#[rocket::async_trait]
impl<'r, T> FromData<'r> for CheckedForm<T>
where
    T: for<'v> FromForm<'v> + Send + 'static,
{
    type Error = CsrfError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        match checked_form(req, data, Expected::Session).await {
            Ok(value) => data::Outcome::Success(CheckedForm(value)),
            Err(e) => data::Outcome::Error(e),
        }
    }
}

#[rocket::async_trait]
impl<'r, T> FromData<'r> for SignedOutForm<T>
where
    T: for<'v> FromForm<'v> + Send + 'static,
{
    type Error = CsrfError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        match checked_form(req, data, Expected::SignedOut).await {
            Ok(value) => data::Outcome::Success(SignedOutForm(value)),
            Err(e) => data::Outcome::Error(e),
        }
    }
}
