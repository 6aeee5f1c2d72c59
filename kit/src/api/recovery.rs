//! Account recovery and address verification, for a client holding a link from a mail: verify
//! an address, ask for a password reset, set a new password. None needs a session.

use super::openapi::{Busy, LinkInvalid, MfaRequired, Outage, ProblemDoc};
use super::{ApiResult, JsonBody};
use crate::auth::{Accounts, ClientInfo, Recovery};
use rocket::http::Status;
use rocket::serde::json::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

api_routes![verify_email, request_password_reset, confirm_password_reset];

/// The token of a verification link (the `token` value of its URL).
#[derive(Deserialize, ToSchema)]
struct VerifyEmailRequest {
    #[schema(example = "mt_pPrXM-Q1XxH3PwOIkBNpX4jISSpuJVcNCc5p9GAu_Og76Whuw")]
    token: String,
}

/// Whose password to reset.
#[derive(Deserialize, ToSchema)]
struct PasswordResetRequest {
    /// A username, or an account's email address.
    #[schema(example = "alice")]
    login: String,
}

/// A new password, with the token of a reset link.
#[derive(Deserialize, ToSchema)]
struct PasswordResetConfirmRequest {
    #[schema(example = "mt_pPrXM-Q1XxH3PwOIkBNpX4jISSpuJVcNCc5p9GAu_Og76Whuw")]
    token: String,
    #[schema(schema_with = super::schemas::new_password)]
    new_password: String,
    /// With two-factor authentication on: a current authenticator code, or a recovery code.
    code: Option<String>,
}

/// The one answer to every reset request.
#[derive(Serialize, ToSchema)]
struct ResetRequested {
    #[schema(example = "accepted")]
    status: &'static str,
    detail: &'static str,
}

/// What every reset request is told, whatever its login names.
const RESET_REQUESTED: ResetRequested = ResetRequested {
    status: "accepted",
    detail: "If an account has this login and an email address, a link to reset its password \
             is on its way.",
};

/// Verify an email address with the token of its link. A change of address waiting for this
/// link takes effect now.
#[utoipa::path(
    tag = "users",
    request_body = VerifyEmailRequest,
    responses(
        (status = 204, description = "The address is verified"),
        (status = 409, description = "The address became another account's meanwhile (email_taken)", body = ProblemDoc, content_type = "application/problem+json"),
        LinkInvalid,
        Outage,
    )
)]
#[post("/auth/verify-email", data = "<body>")]
async fn verify_email(
    accounts: Accounts<'_>,
    client: ClientInfo,
    body: JsonBody<VerifyEmailRequest>,
) -> ApiResult<Status> {
    accounts.verify_email(&body.0.token, &client).await?;
    Ok(Status::NoContent)
}

/// Ask for a password reset link. The answer is the same, and as quick, whether or not the
/// login names an account, the account has an address, or the hourly limits
/// (`mail_max_per_hour` per address, ten times that per client) are reached: a link goes out
/// only when none of these stands in the way.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted (the same answer for every login)", body = ResetRequested),
    )
)]
#[post("/auth/password-reset", data = "<body>")]
fn request_password_reset(
    recovery: Recovery<'_>,
    client: ClientInfo,
    body: JsonBody<PasswordResetRequest>,
) -> (Status, Json<ResetRequested>) {
    recovery.request_password_reset(&body.0.login, &client);
    (Status::Accepted, Json(RESET_REQUESTED))
}

/// Set a new password with the token of a reset link. Every session and personal token of the
/// account ends, every other link stops working, the address counts as verified, and nobody is
/// signed in: sign in with the new password.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetConfirmRequest,
    responses(
        (status = 204, description = "The password is set; every session ended"),
        (status = 422, description = "The new password breaks the rules (invalid_input)", body = ProblemDoc, content_type = "application/problem+json"),
        LinkInvalid,
        MfaRequired,
        Busy,
    )
)]
#[post("/auth/password-reset/confirm", data = "<body>")]
async fn confirm_password_reset(
    recovery: Recovery<'_>,
    client: ClientInfo,
    body: JsonBody<PasswordResetConfirmRequest>,
) -> ApiResult<Status> {
    let PasswordResetConfirmRequest {
        token,
        new_password,
        code,
    } = body.0;
    recovery
        .confirm_password_reset(&token, new_password, code.as_deref(), &client)
        .await?;
    Ok(Status::NoContent)
}
