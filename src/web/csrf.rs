//! Cross-site request forgery protection for every form that changes state. No maintained CSRF
//! crate targets Rocket 0.5, and the whole of it fits in this file.
//!
//! Two checks, both needed to pass:
//! 1. **Same origin.** A request whose `Sec-Fetch-Site` says it came from another site, or whose
//!    `Origin` names another host (or is `null`), is refused outright.
//! 2. **A token in the form** (field `csrf`), compared in constant time with the expected one:
//!    - signed in: SHA-256 over a fixed label and the session's token hash. Only someone who holds
//!      the session cookie can know it; it needs no storage, survives many tabs, and dies with the
//!      session.
//!    - signed out (sign-in and sign-up forms): a random value that is both in the form and in an
//!      HttpOnly, SameSite=Strict cookie ("double submit"), so that no other site can sign a
//!      visitor in to an account of its choosing.
//!
//! A failed check is a 403 before the handler runs, so nothing changes.

use super::cookie::CookieSession;
use crate::auth::CurrentSession;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, RawStr, SameSite, Status};
use rocket::Request;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The cookie that holds the signed-out forms' token (`<app>_csrf`).
pub const CSRF_COOKIE: &str = concat!(env!("CARGO_CRATE_NAME"), "_csrf");
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
    if let Some(token) = cookie_token(jar) {
        return token;
    }
    let token = URL_SAFE_NO_PAD.encode(crate::token::random_bytes::<32>());
    jar.add(
        Cookie::build((CSRF_COOKIE, token.clone()))
            .http_only(true)
            .same_site(SameSite::Strict)
            .path("/")
            .secure(secure),
    );
    token
}

fn cookie_token(jar: &CookieJar<'_>) -> Option<String> {
    let value = jar.get(CSRF_COOKIE)?.value();
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
    // "null" (sandboxed frames, cross-origin redirects) and anything unparsable are refused too.
    let Some((_scheme, origin_host)) = origin.split_once("://") else {
        return true;
    };
    // Behind a proxy that rewrites Host, the host the browser used is in X-Forwarded-Host. A
    // cross-site form can set neither header, so accepting either is safe.
    !["Host", "X-Forwarded-Host"]
        .iter()
        .filter_map(|name| headers.get_one(name))
        .any(|host| host.trim().eq_ignore_ascii_case(origin_host))
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

/// Runs both checks on a form request and returns its body.
async fn check<'r>(req: &'r Request<'_>, data: Data<'r>) -> Result<String, (Status, CsrfError)> {
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
    let expected = match req.guard::<CookieSession<'_>>().await.succeeded() {
        Some(session) => Some(session_token(&session)),
        None => cookie_token(req.cookies()),
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
        match check(req, data).await {
            Ok(_) => data::Outcome::Success(CsrfChecked),
            Err(e) => data::Outcome::Error(e),
        }
    }
}

/// Data guard of a form with fields: `T` parsed from a body that passed both checks.
pub struct CheckedForm<T>(pub T);

#[rocket::async_trait]
impl<'r, T> FromData<'r> for CheckedForm<T>
where
    T: for<'v> FromForm<'v> + Send + 'static,
{
    type Error = CsrfError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let body = match check(req, data).await {
            Ok(body) => body,
            Err(e) => return data::Outcome::Error(e),
        };
        match Form::<T>::parse_encoded(RawStr::new(&body)) {
            Ok(value) => data::Outcome::Success(CheckedForm(value)),
            Err(_) => data::Outcome::Error((Status::UnprocessableEntity, CsrfError::Invalid)),
        }
    }
}
