//! The signed-in user's sessions, one per device, and personal tokens: list them, revoke one.

use super::openapi::NotFound;
use super::ApiResult;
use crate::auth::{Auth, Scoped};
use crate::problem::Problem;
use crate::scopes::{SessionsRead, SessionsWrite};
use crate::store::sessions::SessionView;
use crate::token::is_public_id;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;

api_routes![sessions, revoke];

/// The user's live sessions, most recently used first.
#[utoipa::path(
    tag = "sessions",
    responses((status = 200, description = "Live sessions", body = [SessionView])),
    security(("bearer" = ["sessions:read"]))
)]
#[get("/sessions")]
async fn sessions(
    auth: &State<Auth>,
    session: Scoped<'_, SessionsRead>,
) -> ApiResult<Json<Vec<SessionView>>> {
    Ok(Json(auth.sessions_of(&session).await?))
}

/// Revoke one of the user's sessions by its public id.
#[utoipa::path(
    tag = "sessions",
    params(("id" = String, Path, description = "The session's public id", pattern = "^[A-Za-z0-9_-]{22}$")),
    responses((status = 204, description = "Session ended"), NotFound),
    security(("bearer" = ["sessions:write"]))
)]
#[delete("/sessions/<id>")]
async fn revoke(
    auth: &State<Auth>,
    session: Scoped<'_, SessionsWrite>,
    id: &str,
) -> ApiResult<Status> {
    // Another user's id is the same 404 as one that never existed: no hint that it does.
    if is_public_id(id) && auth.end_session(session.user_id(), id).await? {
        Ok(Status::NoContent)
    } else {
        Err(Problem::not_found().detail("no such session"))
    }
}
