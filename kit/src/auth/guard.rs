//! The request guard: `&CurrentSession` in a handler's signature puts the route behind a sign-in
//! session (full access); [`super::Scoped`], [`super::Sudo`] and [`super::Unscoped`] say more.

use super::{Auth, CachedSession};
use crate::problem::{self, DbFault, ErrorId, Problem};
use crate::scopes::Access;
use crate::store::sessions::Kind;
use crate::token::TokenHash;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome};
use rocket::{Request, Sentinel};
use std::net::IpAddr;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

/// The session a request was authenticated with. Validated at most once per request,
/// however many guards ask for it. Credentials come only from the `Authorization` header
/// (`Bearer` or, for clients of the Django original, `Token`); never from a query string.
///
/// As a guard, `&CurrentSession` admits sessions with full access only (a sign-in): a personal
/// token gets 403 `insufficient_scope`, so a new route is closed to tokens until it names the
/// scope that opens it (`Scoped<'_, SessionsRead>`).
#[derive(Debug)]
pub struct CurrentSession {
    session: Arc<CachedSession>,
    token_hash: TokenHash,
}

impl CurrentSession {
    /// The session's public id.
    pub fn id(&self) -> &str {
        &self.session.session_id
    }

    pub fn user_id(&self) -> i64 {
        self.session.user_id
    }

    pub fn username(&self) -> &str {
        &self.session.username
    }

    /// The user's email address, if any, as of the session's validation.
    pub fn email(&self) -> Option<&str> {
        self.session.email.as_deref()
    }

    /// Whether the user's email address is verified (false when there is none).
    pub fn email_verified(&self) -> bool {
        self.session.email.is_some() && self.session.email_verified
    }

    /// Whether this session's sign-in passed a second factor.
    pub fn mfa(&self) -> bool {
        self.session.mfa
    }

    /// Whether the user has two-factor on, as of the session's validation.
    pub fn two_factor(&self) -> bool {
        self.session.two_factor
    }

    /// The user's unused recovery codes, as of the session's validation.
    pub fn recovery_codes_left(&self) -> i64 {
        self.session.recovery_codes_left
    }

    pub fn token_hash(&self) -> &TokenHash {
        &self.token_hash
    }

    /// The newest known use of this session (possibly newer than the row).
    pub fn last_used_at(&self) -> i64 {
        self.session.last_used_at.load(SeqCst)
    }

    pub fn kind(&self) -> Kind {
        self.session.kind
    }

    /// Full access (a sign-in), or a personal token's scopes.
    pub fn access(&self) -> &Access {
        &self.session.access
    }

    /// Whether the session is in sudo mode at `now`, as far as this instance knows.
    pub fn in_sudo(&self, now: i64) -> bool {
        self.session.sudo_until.load(SeqCst) > now
    }

    /// Notes a sudo window granted (or seen in the row) until `until`.
    pub(super) fn note_sudo(&self, until: i64) {
        self.session.sudo_until.fetch_max(until, SeqCst);
    }
}

/// Why a request is not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No credentials, or a scheme other than Bearer/Token.
    Missing,
    /// An Authorization header that is not `<scheme> <token>`, or more than one of them.
    Malformed,
    /// A token that is junk, unknown, revoked or expired.
    InvalidToken,
    /// The database could not be asked.
    Unavailable,
    /// The database answered with an error that is no outage (a bug); logged under this id.
    Fault(ErrorId),
    /// A valid token without the scope the route needs (`None`: the route needs full access,
    /// which no personal token has).
    InsufficientScope(Option<&'static str>),
    /// Full access, but the route needs a recent password check (sudo mode).
    SudoRequired,
    /// Full access, but the route needs a sign-in that passed a second factor.
    SecondFactorRequired,
}

impl AuthError {
    /// A database error met while authenticating: an outage, or a fault to log.
    pub fn from_db(e: sqlx::Error) -> AuthError {
        match DbFault::of(&e) {
            DbFault::Outage => AuthError::Unavailable,
            _ => AuthError::Fault(ErrorId::logged(format_args!("authenticating: {e}"))),
        }
    }
}

impl AuthError {
    pub fn problem(self) -> Problem {
        let realm = problem::realm();
        let challenge = |error: Option<&str>| match error {
            Some(e) => Some(format!("Bearer realm=\"{realm}\", error=\"{e}\"")),
            None => Some(format!("Bearer realm=\"{realm}\"")),
        };
        let (status, code, title, www_authenticate) = match self {
            AuthError::Missing => (
                Status::Unauthorized,
                "not_authenticated",
                "Authentication required",
                challenge(None),
            ),
            AuthError::Malformed => (
                Status::BadRequest,
                "invalid_request",
                "Malformed Authorization header",
                challenge(Some("invalid_request")),
            ),
            AuthError::InvalidToken => (
                Status::Unauthorized,
                "invalid_token",
                "The token is invalid, expired or revoked",
                challenge(Some("invalid_token")),
            ),
            AuthError::InsufficientScope(Some(scope)) => (
                Status::Forbidden,
                "insufficient_scope",
                "The token lacks the scope this route needs",
                Some(format!(
                    "Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{scope}\""
                )),
            ),
            AuthError::InsufficientScope(None) => (
                Status::Forbidden,
                "insufficient_scope",
                "This route needs a signed-in session; personal tokens cannot use it",
                Some(format!(
                    "Bearer realm=\"{realm}\", error=\"insufficient_scope\", \
                     error_description=\"needs full access\""
                )),
            ),
            AuthError::SudoRequired => {
                return Problem::new(
                    Status::Forbidden,
                    "sudo_required",
                    "Confirm your password first",
                )
                .detail("POST /api/auth/sudo with your password, then retry")
            }
            AuthError::SecondFactorRequired => {
                return Problem::new(
                    Status::Forbidden,
                    "second_factor_required",
                    "This needs a sign-in with two-factor authentication",
                )
                .detail("turn two-factor on if it is off, then sign in again with a code")
            }
            AuthError::Unavailable => return Problem::database_unavailable(),
            AuthError::Fault(id) => return Problem::fault(id),
        };
        let mut problem = Problem::new(status, code, title);
        problem.www_authenticate = www_authenticate;
        match self {
            AuthError::InsufficientScope(Some(scope)) => {
                problem.detail(format!("this route needs the scope {scope}"))
            }
            _ => problem,
        }
    }
}

/// The token text of the request's Authorization header, if it carries one.
fn presented_token<'r>(req: &'r Request<'_>) -> Result<&'r str, AuthError> {
    let mut values = req.headers().get("Authorization");
    let value = values.next().ok_or(AuthError::Missing)?;
    if values.next().is_some() {
        return Err(AuthError::Malformed);
    }
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") && !scheme.eq_ignore_ascii_case("token") {
        return Err(AuthError::Missing);
    }
    let token = token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

impl Auth {
    /// Validates a token's text (from a header or, for the HTML pages, the session cookie)
    /// presented from the client address `ip`.
    pub async fn authenticate(
        &self,
        token: &str,
        ip: Option<IpAddr>,
    ) -> Result<CurrentSession, AuthError> {
        // Junk is refused here, before any query.
        let token_hash =
            TokenHash::parse(&self.config.token_prefix, token).ok_or(AuthError::InvalidToken)?;
        let session = self.validate(&token_hash, ip).await?;
        Ok(CurrentSession {
            session,
            token_hash,
        })
    }
}

async fn authenticate(req: &Request<'_>) -> Result<CurrentSession, AuthError> {
    let token = presented_token(req)?;
    let auth = req.rocket().state::<Auth>().ok_or(AuthError::Unavailable)?;
    auth.authenticate(token, req.client_ip()).await
}

/// The memoised result of authenticating one request.
struct Authenticated(Result<CurrentSession, AuthError>);

/// The request's session, whatever its access: validated once per request, however many
/// guards ask.
pub(super) async fn authenticated<'r>(
    req: &'r Request<'_>,
) -> Result<&'r CurrentSession, AuthError> {
    let outcome = req
        .local_cache_async(async { Authenticated(authenticate(req).await) })
        .await;
    outcome.0.as_ref().map_err(|e| *e)
}

/// A guard's answer: the session, or the refusal's problem stashed for the catcher.
pub(super) fn outcome<T>(req: &Request<'_>, result: Result<T, AuthError>) -> Outcome<T, AuthError> {
    match result {
        Ok(value) => Outcome::Success(value),
        Err(e) => {
            let problem = e.problem();
            let status = problem.status;
            problem.stash(req);
            Outcome::Error((status, e))
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r CurrentSession {
    type Error = AuthError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let result =
            authenticated(req)
                .await
                .and_then(|session| match session.access().is_full() {
                    true => Ok(session),
                    false => Err(AuthError::InsufficientScope(None)),
                });
        outcome(req, result)
    }
}

/// A route behind the guard cannot launch without the auth fairing.
impl Sentinel for &CurrentSession {
    fn abort(rocket: &rocket::Rocket<rocket::Ignite>) -> bool {
        rocket.state::<Auth>().is_none()
    }
}

/// A guard that passes only while signup is open (`signup = true`); otherwise the route does not
/// exist (404), whatever its body, on the API and the pages alike.
pub struct SignupOpen;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignupOpen {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        match req.rocket().state::<Auth>() {
            Some(auth) if auth.config.signup => Outcome::Success(SignupOpen),
            _ => {
                Problem::not_found().detail("signup is disabled").stash(req);
                Outcome::Error((Status::NotFound, ()))
            }
        }
    }
}
