//! Accounts and sign-in: sign up, log in and out, change the password, the current user.

use super::openapi::{Busy, InvalidCredentials, ProblemDoc, Throttled};
use super::{ApiResult, JsonBody, NoStore};
use crate::auth::{Auth, ClientInfo, CurrentSession, SignupOpen};
use crate::store::sessions::{Kind, SessionView};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

api_routes![sign_up, login, logout, logout_all, change_password, me];

/// A new account.
#[derive(Deserialize, ToSchema)]
struct SignUpRequest {
    #[schema(schema_with = super::schemas::username)]
    username: String,
    #[schema(schema_with = super::schemas::new_password)]
    password: String,
}

/// Credentials, and an optional name for the new session ("laptop", "CI").
#[derive(Deserialize, ToSchema)]
struct LoginRequest {
    /// Matched case-insensitively, trimmed.
    #[schema(example = "alice")]
    username: String,
    /// Not trimmed.
    password: String,
    /// A name for the session, shown in the session list (cut to 100 bytes, control characters
    /// dropped).
    #[schema(example = "laptop")]
    name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
struct PasswordChangeRequest {
    current_password: String,
    #[schema(schema_with = super::schemas::new_password)]
    new_password: String,
}

/// A user as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
}

/// A new session: the token is shown this once and never stored.
#[derive(Serialize, ToSchema)]
struct LoginResponse {
    #[schema(example = "mt_pPrXM-Q1XxH3PwOIkBNpX4jISSpuJVcNCc5p9GAu_Og76Whuw")]
    token: String,
    session: SessionView,
}

/// Create an account (when signup is open).
#[utoipa::path(
    tag = "users",
    request_body = SignUpRequest,
    responses(
        (status = 201, description = "Created", body = UserView, links(
            ("login" = (operation_id = "login", request_body = json!({
                "username": "$request.body#/username",
                "password": "$request.body#/password",
            }))),
        )),
        (status = 404, description = "Signup is disabled", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Username taken", body = ProblemDoc, content_type = "application/problem+json"),
        Busy,
    )
)]
#[post("/users", data = "<body>")]
async fn sign_up(
    auth: &State<Auth>,
    _open: SignupOpen,
    body: JsonBody<SignUpRequest>,
) -> ApiResult<(Status, Json<UserView>)> {
    let SignUpRequest { username, password } = body.0;
    let user = auth.sign_up(&username, password).await?;
    let view = UserView {
        id: user.id,
        username: user.username,
    };
    Ok((Status::Created, Json(view)))
}

/// Log in: opens a new session (one per device) and returns its token.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A new session", body = LoginResponse),
        InvalidCredentials,
        Throttled,
        Busy,
    )
)]
#[post("/auth/login", data = "<body>")]
async fn login(
    auth: &State<Auth>,
    client: ClientInfo,
    body: JsonBody<LoginRequest>,
) -> ApiResult<NoStore<Json<LoginResponse>>> {
    let LoginRequest {
        username,
        password,
        name,
    } = body.0;
    let (token, session) = auth
        .sign_in(&username, password, name.as_deref(), Kind::Api, &client)
        .await?;
    let view = session.view(true, auth.config.idle_timeout, session.last_used_at);
    Ok(NoStore::new(Json(LoginResponse {
        token: token.expose().to_string(),
        session: view,
    })))
}

/// Log out: ends the session of the presented token only.
#[utoipa::path(
    tag = "auth",
    responses((status = 204, description = "Session ended")),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
async fn logout(auth: &State<Auth>, session: &CurrentSession) -> ApiResult<Status> {
    auth.logout(session).await?;
    Ok(Status::NoContent)
}

/// Log out everywhere: ends every session of the user, browser ones too.
#[utoipa::path(
    tag = "auth",
    responses((status = 204, description = "All sessions ended")),
    security(("bearer" = []))
)]
#[post("/auth/logout-all")]
async fn logout_all(auth: &State<Auth>, session: &CurrentSession) -> ApiResult<Status> {
    auth.logout_all(session).await?;
    Ok(Status::NoContent)
}

/// Change the password; every other session of the user ends.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordChangeRequest,
    responses(
        (status = 204, description = "Password changed"),
        InvalidCredentials,
        Throttled,
        Busy,
    ),
    security(("bearer" = []))
)]
#[post("/auth/password", data = "<body>")]
async fn change_password(
    auth: &State<Auth>,
    session: &CurrentSession,
    client: ClientInfo,
    body: JsonBody<PasswordChangeRequest>,
) -> ApiResult<Status> {
    let PasswordChangeRequest {
        current_password,
        new_password,
    } = body.0;
    auth.change_password(session, current_password, new_password, &client)
        .await?;
    Ok(Status::NoContent)
}

/// The user of the presented token.
#[utoipa::path(
    tag = "users",
    responses((status = 200, description = "The current user", body = UserView)),
    security(("bearer" = []))
)]
#[get("/me")]
fn me(session: &CurrentSession) -> Json<UserView> {
    Json(UserView {
        id: session.user_id(),
        username: session.username().to_string(),
    })
}
