//! Why an account action failed, and how each reason is answered as a problem.

use super::AuthError;
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

/// Why a one-time link's action (verification, password reset) failed.
#[derive(Debug)]
pub enum RecoveryError {
    /// The link was used, expired, superseded, voided, tampered with or never issued: one
    /// answer for all (410 `link_invalid`).
    LinkInvalid,
    /// The account has two-factor authentication on and the request carried no right code
    /// (401 `mfa_required`); nothing changed.
    MfaRequired,
    /// A new password that does not meet the rules (422).
    Invalid(&'static str),
    /// The address the link verifies became another account's meanwhile (409 `email_taken`).
    EmailTaken,
    /// The password hashing queue is full; try again shortly.
    Busy,
    Db(sqlx::Error),
    /// The mail could not be made.
    Mail(crate::mail::MailError),
}

/// Why a change to the account's address failed.
#[derive(Debug)]
pub enum EmailError {
    /// Malformed or too long (422 `invalid_email`).
    Invalid(&'static str),
    /// Another account's address (409 `email_taken`).
    Taken,
    /// Removing the address while `signup_email = "required"` (422 `email_required`).
    Required,
    /// Nothing to verify: no address, or it is verified and no change waits (409
    /// `nothing_to_verify`).
    NothingToVerify,
    /// `mail_max_per_hour` link mails to the address within the hour; retry after this many
    /// seconds (429).
    Throttled(u64),
    /// The password given with the request was wrong, throttled, or could not be checked.
    Password(SignInError),
    /// The session ended, or its user was disabled, while the request ran (401).
    Refused(AuthError),
    Db(sqlx::Error),
    /// The mail could not be made.
    Mail(crate::mail::MailError),
}

impl From<sqlx::Error> for RecoveryError {
    fn from(e: sqlx::Error) -> Self {
        RecoveryError::Db(e)
    }
}

impl From<crate::mail::MailError> for RecoveryError {
    fn from(e: crate::mail::MailError) -> Self {
        RecoveryError::Mail(e)
    }
}

impl From<sqlx::Error> for EmailError {
    fn from(e: sqlx::Error) -> Self {
        EmailError::Db(e)
    }
}

impl From<crate::mail::MailError> for EmailError {
    fn from(e: crate::mail::MailError) -> Self {
        EmailError::Mail(e)
    }
}

/// The answer to every dead one-time link.
pub fn link_invalid() -> Problem {
    Problem::new(Status::Gone, "link_invalid", "This link is no longer valid")
        .detail("it was used, has expired, or a newer one was sent: ask for a new one")
}

impl From<RecoveryError> for Problem {
    fn from(e: RecoveryError) -> Problem {
        match e {
            RecoveryError::LinkInvalid => link_invalid(),
            RecoveryError::MfaRequired => {
                let mut problem = Problem::new(
                    Status::Unauthorized,
                    "mfa_required",
                    "A two-factor code is required",
                )
                .detail("send a current authenticator code or a recovery code as `code`");
                let realm = crate::problem::realm();
                problem.www_authenticate = Some(format!("Bearer realm=\"{realm}\""));
                problem
            }
            RecoveryError::Invalid(msg) => Problem::unprocessable(msg),
            RecoveryError::EmailTaken => SignUpError::EmailTaken.into(),
            RecoveryError::Busy => Problem::busy(),
            RecoveryError::Db(e) => e.into(),
            RecoveryError::Mail(e) => Problem::internal(&e),
        }
    }
}

impl From<EmailError> for Problem {
    fn from(e: EmailError) -> Problem {
        match e {
            EmailError::Invalid(msg) => SignUpError::InvalidEmail(msg).into(),
            EmailError::Taken => SignUpError::EmailTaken.into(),
            EmailError::Required => Problem::new(
                Status::UnprocessableEntity,
                "email_required",
                "This app requires an email address",
            )
            .detail("change the address instead of removing it"),
            EmailError::NothingToVerify => Problem::new(
                Status::Conflict,
                "nothing_to_verify",
                "There is no address waiting for verification",
            ),
            EmailError::Throttled(secs) => {
                let mut problem = Problem::new(
                    Status::TooManyRequests,
                    "throttled",
                    "Too many mails to this address; try again later",
                );
                problem.retry_after = Some(secs);
                problem
            }
            EmailError::Password(e) => e.into(),
            EmailError::Refused(e) => e.problem(),
            EmailError::Db(e) => e.into(),
            EmailError::Mail(e) => Problem::internal(&e),
        }
    }
}
