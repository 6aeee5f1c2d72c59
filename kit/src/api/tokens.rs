//! Personal access tokens: list the scopes, create a token, give one a new secret. A token is
//! listed and revoked with the other sessions (`GET /api/sessions`, `DELETE /api/sessions/{id}`).

use super::openapi::{Busy, InvalidCredentials, NotFound, ProblemDoc, Throttled};
use super::{ApiResult, IssuedToken, JsonBody, NoStore};
use crate::auth::{CarriesPassword, ClientInfo, Sudo, SudoOrPassword, TokenRequest, Tokens};
use crate::config::AuthConfig;
use crate::problem::Problem;
use crate::scopes::{registered, ScopeInfo};
use crate::token::PublicId;
use rocket::http::Status;
use rocket::serde::json::Json;
use serde::Deserialize;
use utoipa::ToSchema;

api_routes![scopes, create_token, regenerate_token];

/// A new personal token.
#[derive(Deserialize, ToSchema)]
struct CreateTokenRequest {
    #[schema(schema_with = super::schemas::token_name)]
    name: String,
    #[schema(schema_with = super::schemas::scope_names)]
    scopes: Vec<String>,
    /// Days until the token ends: 1 to `token_max_days` (the maximum below is this server's);
    /// 30 (or `token_max_days` if shorter) when left out.
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 365, example = 30)]
    expires_in_days: Option<f64>,
    /// The account password, when the session is not in sudo mode: checked like a login (a
    /// wrong one counts as a failed login) and, when right, puts the session in sudo mode.
    password: Option<String>,
}

impl CarriesPassword for JsonBody<CreateTokenRequest> {
    fn take_password(&mut self) -> Option<String> {
        self.0.password.take()
    }
}

/// Writes this server's settings into the document where a bound is a setting, not a constant:
/// the longest expiry a token may ask for.
pub(super) fn configured(doc: &mut serde_json::Value, config: &AuthConfig) {
    let days = "/components/schemas/CreateTokenRequest/properties/expires_in_days";
    if let Some(days) = doc.pointer_mut(days).and_then(|d| d.as_object_mut()) {
        days.insert("maximum".into(), config.token_max_days.into());
    }
}

/// A number of days as JSON Schema's `integer` allows it (`30` or `30.0`); the range is checked
/// with the other rules.
fn whole_days(days: f64) -> ApiResult<u32> {
    match days.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&days) {
        true => Ok(days as u32),
        false => Err(Problem::unprocessable(
            "expires_in_days must be a whole number of days",
        )),
    }
}

/// Every scope a personal token may hold.
#[utoipa::path(
    tag = "tokens",
    responses((status = 200, description = "The scopes this app defines", body = [ScopeInfo]))
)]
#[get("/scopes")]
fn scopes() -> Json<&'static [ScopeInfo]> {
    Json(registered())
}

/// Create a personal access token, for a script or CI: a name, the scopes it needs, an expiry.
/// Needs a sign-in session in sudo mode, or `password` in the body. The token is shown once.
#[utoipa::path(
    tag = "tokens",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "The new token (shown this once) and its entry", body = IssuedToken),
        (status = 403, description = "Not in sudo mode and no password given (sudo_required)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "As many live tokens as max_tokens allows (too_many_tokens)", body = ProblemDoc, content_type = "application/problem+json"),
        InvalidCredentials,
        Throttled,
        Busy,
    )
)]
#[post("/tokens", data = "<body>")]
async fn create_token(
    tokens: Tokens<'_>,
    client: ClientInfo,
    body: SudoOrPassword<'_, JsonBody<CreateTokenRequest>>,
) -> ApiResult<(Status, NoStore<Json<IssuedToken>>)> {
    let (JsonBody(body), proof) = body.into_parts();
    let request = TokenRequest {
        name: body.name,
        scopes: body.scopes,
        expires_in_days: body.expires_in_days.map(whole_days).transpose()?,
    };
    let (token, created) = tokens.create_token(proof, request, &client).await?;
    let answer = IssuedToken::answer(tokens.config(), token, &created, false);
    Ok((Status::Created, answer))
}

/// Give a personal token a new secret: same id, name and scopes, the expiry restarted with the
/// same length. The old secret is refused at once, on every instance. Needs sudo mode.
#[utoipa::path(
    tag = "tokens",
    params(("id" = inline(PublicId), Path, description = "The token's public id")),
    responses(
        (status = 200, description = "The new secret (shown this once) and the entry", body = IssuedToken),
        (status = 403, description = "Not in sudo mode (sudo_required)", body = ProblemDoc, content_type = "application/problem+json"),
        NotFound,
    )
)]
#[post("/tokens/<id>/regenerate")]
async fn regenerate_token(
    tokens: Tokens<'_>,
    session: Sudo<'_>,
    client: ClientInfo,
    id: PublicId,
) -> ApiResult<NoStore<Json<IssuedToken>>> {
    match tokens.regenerate_token(&session, &id, &client).await? {
        Some((token, regenerated)) => Ok(IssuedToken::answer(
            tokens.config(),
            token,
            &regenerated,
            false,
        )),
        // Another user's token, a sign-in session, or no such id: one answer for all.
        None => Err(Problem::not_found().detail("no such personal token")),
    }
}
