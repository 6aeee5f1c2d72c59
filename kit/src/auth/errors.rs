//! Why an account action failed, and how each reason is answered as a problem.

use super::{AuthError, SecondFactorError, TwoFactorError};
use crate::problem::Problem;
use rocket::http::Status;

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
    /// The password was right, and two-factor is on: a code is needed (401 `mfa_required`).
    MfaRequired,
    /// The password was right, the two-factor code wrong (401 `invalid_code`).
    WrongCode,
    Db(sqlx::Error),
}

/// Why a sign-up failed.
#[derive(Debug)]
pub enum SignUpError {
    Invalid(&'static str),
    /// An email address that is malformed, too long, or missing while required.
    InvalidEmail(&'static str),
    Taken,
    /// The email address is another account's (compared case-insensitively).
    EmailTaken,
    /// `signup_max_per_ip` sign-ups from this client within the hour; retry after this many
    /// seconds.
    Throttled(u64),
    /// The password hashing queue is full; try again shortly.
    Busy,
    Db(sqlx::Error),
}

/// Why a personal token could not be created or regenerated.
#[derive(Debug)]
pub enum TokenError {
    /// A name, scope list or expiry that breaks the rules (422).
    Invalid(String),
    /// `max_tokens` live tokens already (409).
    TooMany,
    /// Not a sign-in session, or not in sudo mode (403).
    Refused(AuthError),
    /// The password given with the request was wrong, throttled, or could not be checked.
    Password(SignInError),
}

impl From<sqlx::Error> for TokenError {
    fn from(e: sqlx::Error) -> Self {
        TokenError::Password(SignInError::Db(e))
    }
}

impl From<TokenError> for Problem {
    fn from(e: TokenError) -> Problem {
        match e {
            TokenError::Invalid(msg) => Problem::unprocessable(msg),
            TokenError::TooMany => Problem::new(
                Status::Conflict,
                "too_many_tokens",
                "You have as many personal tokens as allowed",
            )
            .detail("revoke one you no longer use, then try again"),
            TokenError::Refused(e) => e.problem(),
            TokenError::Password(e) => e.into(),
        }
    }
}

impl From<sqlx::Error> for SignInError {
    fn from(e: sqlx::Error) -> Self {
        SignInError::Db(e)
    }
}

impl From<sqlx::Error> for SignUpError {
    fn from(e: sqlx::Error) -> Self {
        SignUpError::Db(e)
    }
}

impl From<SignInError> for Problem {
    fn from(e: SignInError) -> Problem {
        match e {
            SignInError::Throttled(secs) => Problem::throttled(secs),
            SignInError::InvalidCredentials => Problem::invalid_credentials(),
            SignInError::Invalid(msg) => Problem::unprocessable(msg),
            SignInError::Busy => Problem::busy(),
            SignInError::MfaRequired => unauthorized(
                "mfa_required",
                "A two-factor code is needed: send `code` with the password",
            ),
            SignInError::WrongCode => unauthorized("invalid_code", "Invalid two-factor code"),
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
            SignUpError::InvalidEmail(msg) => Problem::new(
                Status::UnprocessableEntity,
                "invalid_email",
                "Invalid email address",
            )
            .detail(msg),
            SignUpError::EmailTaken => Problem::new(
                Status::Conflict,
                "email_taken",
                "That email address belongs to another account",
            ),
            SignUpError::Throttled(secs) => {
                let mut problem = Problem::new(
                    Status::TooManyRequests,
                    "throttled",
                    "Too many sign-ups from this address; try again later",
                );
                problem.retry_after = Some(secs);
                problem
            }
            SignUpError::Busy => Problem::busy(),
            SignUpError::Db(e) => e.into(),
        }
    }
}

/// The 401 of a sign-in that needs its second factor, or whose code was wrong: the same
/// `WWW-Authenticate` challenge as every other 401.
fn unauthorized(code: &'static str, title: &'static str) -> Problem {
    let mut problem = Problem::new(Status::Unauthorized, code, title);
    problem.www_authenticate = Some(format!("Bearer realm=\"{}\"", crate::problem::realm()));
    problem
}

impl From<SecondFactorError> for SignInError {
    fn from(e: SecondFactorError) -> Self {
        match e {
            SecondFactorError::MfaRequired => SignInError::MfaRequired,
            SecondFactorError::WrongCode => SignInError::WrongCode,
            SecondFactorError::Throttled(secs) => SignInError::Throttled(secs),
            SecondFactorError::Busy => SignInError::Busy,
            SecondFactorError::Db(e) => SignInError::Db(e),
        }
    }
}

impl From<TwoFactorError> for Problem {
    fn from(e: TwoFactorError) -> Problem {
        match e {
            TwoFactorError::AlreadyOn => Problem::new(
                Status::Conflict,
                "two_factor_enabled",
                "Two-factor authentication is already on",
            )
            .detail("turn it off first to set up another authenticator"),
            TwoFactorError::NotOn => Problem::new(
                Status::Conflict,
                "two_factor_disabled",
                "Two-factor authentication is not on",
            ),
            TwoFactorError::WrongCode => Problem::new(
                Status::UnprocessableEntity,
                "invalid_code",
                "That code is not right",
            )
            .detail("enter the current code of the authenticator you just set up"),
            TwoFactorError::NoKey => Problem::internal("no key to seal two-factor secrets"),
            TwoFactorError::Db(e) => e.into(),
        }
    }
}
