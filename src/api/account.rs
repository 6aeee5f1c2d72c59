//! Accounts and sign-in: sign up, log in and out, change the password, the current user.

use super::openapi::{AuthErrors, BodyErrors, ProblemDoc};
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
    /// 3 to 64 ASCII letters, digits, `_`, `.` or `-`; unique case-insensitively.
    #[schema(example = "alice")]
    username: String,
    /// 8 to 72 bytes (bcrypt's limit; longer passwords are refused, never truncated).
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
    name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
struct PasswordChangeRequest {
    current_password: String,
    /// 8 to 72 bytes.
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
        (status = 201, description = "Created", body = UserView),
        BodyErrors,
        (status = 404, description = "Signup is disabled", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Username taken", body = ProblemDoc, content_type = "application/problem+json"),
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
        BodyErrors,
        (status = 401, description = "Invalid credentials (unknown user, wrong password or disabled user alike)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins; see Retry-After", body = ProblemDoc, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until a login may be tried again"))),
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
    responses((status = 204, description = "Session ended"), AuthErrors),
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
    responses((status = 204, description = "All sessions ended"), AuthErrors),
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
        BodyErrors,
        AuthErrors,
        (status = 401, description = "No valid token, or a wrong current password", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords", body = ProblemDoc, content_type = "application/problem+json"),
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
    responses((status = 200, description = "The current user", body = UserView), AuthErrors),
    security(("bearer" = []))
)]
#[get("/me")]
fn me(session: &CurrentSession) -> Json<UserView> {
    Json(UserView {
        id: session.user_id(),
        username: session.username().to_string(),
    })
}
