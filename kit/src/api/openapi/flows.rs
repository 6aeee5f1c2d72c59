//! The answers of the email flows (verification, password reset, address change) that the
//! shared sets of the parent module do not cover.

use super::{challenge, problem, responses, retry_after};
use std::collections::BTreeMap;
use utoipa::openapi::{RefOr, Response};
use utoipa::IntoResponses;

/// 410 for every dead one-time link: used, expired, superseded, tampered with or unknown.
pub struct LinkInvalid;

impl IntoResponses for LinkInvalid {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let what = "The link was used, has expired, was superseded, or never existed: one \
                    answer for all (link_invalid)";
        responses([(410, problem(what, vec![]))])
    }
}

/// 401 of a password reset for an account with two-factor on, sent without a right code.
pub struct MfaRequired;

impl IntoResponses for MfaRequired {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let what = "Two-factor authentication is on and `code` is missing or wrong \
                    (mfa_required); nothing changed";
        responses([(401, problem(what, vec![challenge(true)]))])
    }
}

/// 429 from `mail_max_per_hour`: the address had as many link mails as allowed this hour.
pub struct MailThrottled;

impl IntoResponses for MailThrottled {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let what = "mail_max_per_hour mails with a link to this address within the hour \
                    (throttled)";
        responses([(429, problem(what, vec![retry_after(true)]))])
    }
}

/// 503 of a public route that uses the database: it cannot be reached.
pub struct Outage;

impl IntoResponses for Outage {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let what = "The database is unavailable (database_unavailable)";
        responses([(503, problem(what, vec![retry_after(true)]))])
    }
}
