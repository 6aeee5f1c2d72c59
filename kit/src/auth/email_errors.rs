//! Why an email flow failed (a one-time link's action, a change of address), and how each reason
//! is answered as a problem.

use super::errors::{SignInError, SignUpError};
use super::AuthError;
use crate::problem::Problem;
use rocket::http::Status;

/// Why a one-time link's action (verification, password reset) failed.
#[derive(Debug)]
pub enum RecoveryError {
    /// The link was used, expired, superseded, voided, tampered with or never issued: one
    /// answer for all (410 `link_invalid`).
    LinkInvalid,
    /// The account has two-factor authentication on and the request carried no right code
    /// (401 `mfa_required` without one, `invalid_code` for a wrong one, or 429); nothing changed.
    SecondFactor(SignInError),
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
            RecoveryError::SecondFactor(e) => e.into(),
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
