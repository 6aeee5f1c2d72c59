//! The JSON API of SPEC §4, mounted at /api, with JSON catchers so that no /api request is ever
//! answered by an HTML error page.

mod json;
pub mod openapi;

pub use json::JsonBody;
use openapi::ProblemDoc;

use crate::auth::{Auth, ClientInfo, CurrentSession, SignupOpen};
use crate::db::Db;
use crate::problem::Problem;
use crate::store::sessions::{Kind, SessionView};
use rocket::fairing::AdHoc;
use rocket::http::{Header, Status};
use rocket::serde::json::Json;
use rocket::{Request, State};
use rocket_db_pools::Connection;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use utoipa::ToSchema;

type ApiResult<T> = Result<T, Problem>;

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

/// The body of /api/health and /api/ready.
#[derive(Serialize, ToSchema)]
struct StatusView {
    #[schema(example = "ok")]
    status: &'static str,
}

/// A response that must not be stored by any cache (it carries a token).
#[derive(rocket::Responder)]
struct NoStore<R>(R, Header<'static>);

impl<R> NoStore<R> {
    fn new(inner: R) -> Self {
        NoStore(inner, Header::new("Cache-Control", "no-store"))
    }
}

/// Create an account (when signup is open).
#[utoipa::path(
    tag = "users",
    request_body = SignUpRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 404, description = "Signup is disabled", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Username taken", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid username or password", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Body not JSON", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
#[post("/users", data = "<body>")]
async fn sign_up(
    auth: &State<Arc<Auth>>,
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
        (status = 401, description = "Invalid credentials (unknown user, wrong password or disabled user alike)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins; see Retry-After", body = ProblemDoc, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until a login may be tried again"))),
        (status = 400, description = "Malformed JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Missing or mistyped fields", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Body not JSON", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login", data = "<body>")]
async fn login(
    auth: &State<Arc<Auth>>,
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
    responses(
        (status = 204, description = "Session ended"),
        (status = 401, description = "No valid token", body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
async fn logout(auth: &State<Arc<Auth>>, session: &CurrentSession) -> ApiResult<Status> {
    auth.logout(session).await?;
    Ok(Status::NoContent)
}

/// Log out everywhere: ends every session of the user, browser ones too.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "All sessions ended"),
        (status = 401, description = "No valid token", body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/auth/logout-all")]
async fn logout_all(auth: &State<Arc<Auth>>, session: &CurrentSession) -> ApiResult<Status> {
    auth.logout_all(session).await?;
    Ok(Status::NoContent)
}

/// Change the password; every other session of the user ends.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordChangeRequest,
    responses(
        (status = 204, description = "Password changed"),
        (status = 401, description = "No valid token, or a wrong current password", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid new password", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords", body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/auth/password", data = "<body>")]
async fn change_password(
    auth: &State<Arc<Auth>>,
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
    responses(
        (status = 200, description = "The current user", body = UserView),
        (status = 401, description = "No valid token", body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me")]
fn me(session: &CurrentSession) -> Json<UserView> {
    Json(UserView {
        id: session.user_id(),
        username: session.username().to_string(),
    })
}

/// The user's live sessions, most recently used first.
#[utoipa::path(
    tag = "sessions",
    responses(
        (status = 200, description = "Live sessions", body = [SessionView]),
        (status = 401, description = "No valid token", body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/sessions")]
async fn sessions(
    auth: &State<Arc<Auth>>,
    session: &CurrentSession,
) -> ApiResult<Json<Vec<SessionView>>> {
    Ok(Json(auth.sessions_of(session).await?))
}

/// Revoke one of the user's sessions by its public id.
#[utoipa::path(
    tag = "sessions",
    params(("id" = String, Path, description = "The session's public id")),
    responses(
        (status = 204, description = "Session ended"),
        (status = 401, description = "No valid token", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such session of this user", body = ProblemDoc, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/sessions/<id>")]
async fn revoke(auth: &State<Arc<Auth>>, session: &CurrentSession, id: &str) -> ApiResult<Status> {
    if crate::token::is_public_id(id) && auth.end_session(session.user_id(), id).await? {
        Ok(Status::NoContent)
    } else {
        Err(Problem::not_found().detail("no such session"))
    }
}

/// Liveness: answers without touching the database.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive", body = StatusView)))]
#[get("/health")]
fn health() -> Json<StatusView> {
    Json(StatusView { status: "ok" })
}

/// Readiness: 200 only when the database answers.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = StatusView),
        (status = 503, description = "The database does not answer", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
#[get("/ready")]
async fn ready(mut db: Connection<Db>) -> ApiResult<Json<StatusView>> {
    // A rocket_db_pools connection: when none can be had, the guard answers 503 itself.
    let ping = sqlx::query("SELECT 1").execute(&mut **db);
    match rocket::tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => Ok(Json(StatusView { status: "ready" })),
        _ => Err(Problem::database_unavailable()),
    }
}

/// This document: OpenAPI 3.1, generated from the route code.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The OpenAPI document")))]
#[get("/openapi.json")]
fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi::document())
}

#[catch(default)]
fn problem_catcher(status: Status, req: &Request<'_>) -> Problem {
    Problem::for_catcher(status, req)
}

/// The routes mounted at /api.
pub fn routes() -> Vec<rocket::Route> {
    routes![
        sign_up,
        login,
        logout,
        logout_all,
        change_password,
        me,
        sessions,
        revoke,
        health,
        ready,
        openapi_json
    ]
}

/// Mounts the API and its catchers.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("JSON API", |rocket| async {
        rocket
            .mount("/api", routes())
            .register("/api", catchers![problem_catcher])
    })
}
