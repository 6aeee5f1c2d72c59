//! Personal access tokens: list the scopes, create a token, give one a new secret. A token is
//! listed and revoked with the other sessions (`GET /api/sessions`, `DELETE /api/sessions/{id}`).

use super::openapi::{Busy, InvalidCredentials, NotFound, ProblemDoc, Throttled};
use super::{ApiResult, IssuedToken, JsonBody, NoStore};
use crate::auth::{Auth, ClientInfo, CurrentSession, Sudo, TokenRequest};
use crate::problem::Problem;
use crate::scopes::{ScopeInfo, ALL};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;
use serde::Deserialize;
use utoipa::ToSchema;

api_routes![scopes, create_token, regenerate_token];

/// A new personal token.
#[derive(Deserialize, ToSchema)]
struct CreateTokenRequest {
    /// What the token is for, shown in the session list: 1 to 100 characters, trimmed, no
    /// control characters.
    #[schema(example = "CI deploy", min_length = 1, max_length = 100)]
    name: String,
    /// Scope names from `GET /api/scopes`; at least one.
    #[schema(example = json!(["notes:read"]), min_items = 1)]
    scopes: Vec<String>,
    /// Days until the token ends: 1 to `token_max_days` (365 by default); 30 when left out.
    #[schema(minimum = 1, example = 30)]
    expires_in_days: Option<u32>,
    /// The account password, when the session is not in sudo mode: checked like a login (a
    /// wrong one counts as a failed login) and, when right, puts the session in sudo mode.
    password: Option<String>,
}

/// Every scope a personal token may hold.
#[utoipa::path(
    tag = "tokens",
    responses((status = 200, description = "The scopes this app defines", body = [ScopeInfo]))
)]
#[get("/scopes")]
fn scopes() -> Json<&'static [ScopeInfo]> {
    Json(ALL)
}

/// Create a personal access token, for a script or CI: a name, the scopes it needs, an expiry.
/// Needs a sign-in session in sudo mode, or `password` in the body. The token is shown once.
#[utoipa::path(
    tag = "tokens",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "The new token (shown this once) and its entry", body = IssuedToken,
            links(("regenerate_token" = (operation_id = "regenerate_token", parameters(("id" = "$response.body#/session/id")))))),
        (status = 403, description = "Not in sudo mode and no password given (sudo_required)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "As many live tokens as max_tokens allows (too_many_tokens)", body = ProblemDoc, content_type = "application/problem+json"),
        InvalidCredentials,
        Throttled,
        Busy,
    ),
    security(("bearer" = ["*"]))
)]
#[post("/tokens", data = "<body>")]
async fn create_token(
    auth: &State<Auth>,
    session: &CurrentSession,
    client: ClientInfo,
    body: JsonBody<CreateTokenRequest>,
) -> ApiResult<(Status, NoStore<Json<IssuedToken>>)> {
    let CreateTokenRequest {
        name,
        scopes,
        expires_in_days,
        password,
    } = body.0;
    let request = TokenRequest {
        name,
        scopes,
        expires_in_days,
    };
    let (token, created) = auth
        .create_token(session, request, password, &client)
        .await?;
    let answer = IssuedToken::answer(auth, token, &created, false);
    Ok((Status::Created, answer))
}

/// Give a personal token a new secret: same id, name and scopes, the expiry restarted with the
/// same length. The old secret is refused at once, on every instance. Needs sudo mode.
#[utoipa::path(
    tag = "tokens",
    params(("id" = String, Path, description = "The token's public id", pattern = "^[A-Za-z0-9_-]{22}$")),
    responses(
        (status = 200, description = "The new secret (shown this once) and the entry", body = IssuedToken),
        (status = 403, description = "Not in sudo mode (sudo_required)", body = ProblemDoc, content_type = "application/problem+json"),
        NotFound,
    ),
    security(("bearer" = ["*"]))
)]
#[post("/tokens/<id>/regenerate")]
async fn regenerate_token(
    auth: &State<Auth>,
    session: Sudo<'_>,
    id: &str,
) -> ApiResult<NoStore<Json<IssuedToken>>> {
    match auth.regenerate_token(&session, id).await? {
        Some((token, regenerated)) => Ok(IssuedToken::answer(auth, token, &regenerated, false)),
        // Another user's token, a sign-in session, or no such id: one answer for all.
        None => Err(Problem::not_found().detail("no such personal token")),
    }
}
