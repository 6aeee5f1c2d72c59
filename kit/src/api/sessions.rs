//! The signed-in user's sessions, one per device, and personal tokens: list them, revoke one.

use super::openapi::{InvalidQuery, NotFound};
use super::query::once;
use super::ApiResult;
use crate::auth::{Scoped, Sessions};
use crate::problem::Problem;
use crate::scopes::{SessionsRead, SessionsWrite};
use crate::store::history::MAX_LISTED;
use crate::store::sessions::SessionView;
use crate::token::PublicId;
use rocket::form::{Errors, Strict};
use rocket::http::Status;
use rocket::serde::json::Json;

api_routes![sessions, revoke];

/// The user's live sessions, most recently used first; or, with `state=ended`, the sessions
/// that ended within `history_retention` (at most 100), most recently ended first, each with
/// `ended_at` and `end_reason`.
#[utoipa::path(
    tag = "sessions",
    params(("state" = Option<String>, Query, description = "`live` (the default) or `ended`", pattern = "^(live|ended)$")),
    responses(
        (status = 200, description = "Live sessions, or ended ones", body = [SessionView]),
        InvalidQuery,
    )
)]
#[get("/sessions?<state>")]
async fn sessions(
    sessions: Sessions<'_>,
    session: Scoped<'_, SessionsRead>,
    state: Result<Strict<&str>, Errors<'_>>,
) -> ApiResult<Json<Vec<SessionView>>> {
    match once("state", state)? {
        None | Some("live") => Ok(Json(sessions.sessions_of(&session).await?)),
        Some("ended") => {
            let ended = sessions.ended_sessions_of(session.user_id(), MAX_LISTED);
            Ok(Json(ended.await?))
        }
        Some(_) => Err(Problem::unprocessable("state must be live or ended")),
    }
}

/// Revoke one of the user's sessions by its public id.
#[utoipa::path(
    tag = "sessions",
    params(("id" = inline(PublicId), Path, description = "The session's public id")),
    responses((status = 204, description = "Session ended"), NotFound)
)]
#[delete("/sessions/<id>")]
async fn revoke(
    sessions: Sessions<'_>,
    session: Scoped<'_, SessionsWrite>,
    id: PublicId,
) -> ApiResult<Status> {
    // Another user's id is the same 404 as one that never existed: no hint that it does.
    if sessions.end_session(session.user_id(), id.as_str()).await? {
        Ok(Status::NoContent)
    } else {
        Err(Problem::not_found().detail("no such session"))
    }
}
