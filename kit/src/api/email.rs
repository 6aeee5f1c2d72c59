//! The account's email address: read it, change it, remove it, ask for a new verification link.

use super::openapi::{Busy, InvalidCredentials, MailThrottled, ProblemDoc, Throttled};
use super::{ApiResult, JsonBody, OptionalJsonBody};
use crate::auth::{Accounts, CarriesPassword, ClientInfo, CurrentSession, SudoOrPassword};
use crate::problem::Problem;
use rocket::http::Status;
use rocket::serde::json::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

api_routes![email, change_email, remove_email, send_verification];

/// The account's email address (`null` when there is none), whether it is verified, and a new
/// address waiting for its verification link (`null` when none is).
#[derive(Serialize, ToSchema)]
pub struct EmailView {
    #[schema(examples("alice@example.org"))]
    pub email: Option<String>,
    pub verified: bool,
    pub pending_email: Option<String>,
}

/// A new address for the account.
#[derive(Deserialize, ToSchema)]
struct ChangeEmailRequest {
    #[schema(schema_with = super::schemas::email)]
    email: String,
    /// The account password, when the session is not in sudo mode: checked like a login (a
    /// wrong one counts as a failed login) and, when right, puts the session in sudo mode.
    password: Option<String>,
}

/// The account password, when the session is not in sudo mode (the body may be left out).
#[derive(Deserialize, ToSchema)]
struct PasswordOnly {
    /// Checked like a login (a wrong one counts as a failed login); when right, puts the
    /// session in sudo mode.
    password: Option<String>,
}

impl CarriesPassword for JsonBody<ChangeEmailRequest> {
    fn take_password(&mut self) -> Option<String> {
        self.0.password.take()
    }
}

/// A request without a body relies on sudo mode.
impl CarriesPassword for OptionalJsonBody<PasswordOnly> {
    fn take_password(&mut self) -> Option<String> {
        self.0.as_mut().and_then(|body| body.password.take())
    }
}

async fn view(accounts: Accounts<'_>, session: &CurrentSession) -> ApiResult<Json<EmailView>> {
    let user = accounts.account(session.user_id()).await?;
    let user = user.ok_or_else(Problem::not_found)?;
    Ok(Json(EmailView {
        verified: user.is_email_verified(),
        email: user.email,
        pending_email: user.pending_email,
    }))
}

/// The account's address. Needs a sign-in session.
#[utoipa::path(
    tag = "users",
    responses((status = 200, description = "The account's address", body = EmailView))
)]
#[get("/me/email")]
async fn email(accounts: Accounts<'_>, session: &CurrentSession) -> ApiResult<Json<EmailView>> {
    view(accounts, session).await
}

/// Change the account's address. The new one gets a verification link and becomes the
/// account's only when that link is used (until then it is `pending_email`); the old one, if
/// verified, is told at once. The current address again cancels a change waiting. Needs a
/// sign-in session in sudo mode, or `password` in the body.
#[utoipa::path(
    tag = "users",
    request_body = ChangeEmailRequest,
    responses(
        (status = 200, description = "The change waits for its link", body = EmailView),
        (status = 403, description = "Not in sudo mode and no password given (sudo_required)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Another account's address (email_taken)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Not an address, or too long (invalid_email)", body = ProblemDoc, content_type = "application/problem+json"),
        InvalidCredentials,
        Throttled,
        MailThrottled,
        Busy,
    )
)]
#[put("/me/email", data = "<body>")]
async fn change_email(
    accounts: Accounts<'_>,
    client: ClientInfo,
    body: SudoOrPassword<'_, JsonBody<ChangeEmailRequest>>,
) -> ApiResult<Json<EmailView>> {
    let (JsonBody(request), proof) = body.into_parts();
    let session = proof.session();
    accounts
        .change_email(proof, &request.email, &client)
        .await?;
    view(accounts, session).await
}

/// Remove the account's address (and a change waiting); its links stop working. Refused while
/// the app requires an address (`signup_email = "required"`). Needs a sign-in session in sudo
/// mode, or `{"password": ...}` as the body.
#[utoipa::path(
    tag = "users",
    request_body(content = Option<PasswordOnly>, description = "Optional: leave the body out in sudo mode"),
    responses(
        (status = 204, description = "The address is removed"),
        (status = 403, description = "Not in sudo mode and no password given (sudo_required)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "The app requires an address (email_required)", body = ProblemDoc, content_type = "application/problem+json"),
        InvalidCredentials,
        Throttled,
        Busy,
    )
)]
#[delete("/me/email", data = "<body>")]
async fn remove_email(
    accounts: Accounts<'_>,
    client: ClientInfo,
    body: SudoOrPassword<'_, OptionalJsonBody<PasswordOnly>>,
) -> ApiResult<Status> {
    let (_, proof) = body.into_parts();
    accounts.remove_email(proof, &client).await?;
    Ok(Status::NoContent)
}

/// Mail a new verification link: to the address waiting to become the account's, or else to
/// the account's address while it is unverified. At most `mail_max_per_hour` link mails per
/// address. Needs a sign-in session.
#[utoipa::path(
    tag = "users",
    responses(
        (status = 202, description = "A link is on its way"),
        (status = 409, description = "No address waits for verification (nothing_to_verify)", body = ProblemDoc, content_type = "application/problem+json"),
        MailThrottled,
    )
)]
#[post("/me/email/verification")]
async fn send_verification(accounts: Accounts<'_>, session: &CurrentSession) -> ApiResult<Status> {
    accounts.send_verification(session).await?;
    Ok(Status::Accepted)
}
