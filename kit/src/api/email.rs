//! The account's email address.

use super::ApiResult;
use crate::auth::{Auth, CurrentSession};
use crate::problem::Problem;
use rocket::serde::json::Json;
use rocket::State;
use serde::Serialize;
use utoipa::ToSchema;

api_routes![email];

/// The account's email address (`null` when there is none), whether it is verified, and a new
/// address waiting for its verification link (`null` when none is).
#[derive(Serialize, ToSchema)]
pub struct EmailView {
    #[schema(examples("alice@example.org"))]
    pub email: Option<String>,
    pub verified: bool,
    pub pending_email: Option<String>,
}

/// The account's email address. Needs a sign-in session.
#[utoipa::path(
    tag = "users",
    responses((status = 200, description = "The account's address", body = EmailView))
)]
#[get("/me/email")]
async fn email(auth: &State<Auth>, session: &CurrentSession) -> ApiResult<Json<EmailView>> {
    let user = auth.account(session.user_id()).await?;
    let user = user.ok_or_else(Problem::not_found)?;
    Ok(Json(EmailView {
        verified: user.is_email_verified(),
        email: user.email,
        pending_email: user.pending_email,
    }))
}
