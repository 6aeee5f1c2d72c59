//! The JSON API of SPEC §4, mounted at /api, with JSON catchers so that no /api request is ever
//! answered by an HTML error page.

mod json;

pub use json::JsonBody;

use crate::auth::{Auth, ClientInfo, CurrentSession};
use crate::problem::Problem;
use crate::store::sessions::{Kind, SessionView};
use rocket::fairing::AdHoc;
use rocket::http::{Header, Status};
use rocket::request::{self, FromRequest};
use rocket::serde::json::{json, Json, Value};
use rocket::{Request, State};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

type ApiResult<T> = Result<T, Problem>;

#[derive(Deserialize)]
struct SignUpRequest {
    username: String,
    password: String,
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct PasswordChangeRequest {
    current_password: String,
    new_password: String,
}

/// A user as the API shows it.
#[derive(Serialize)]
pub struct UserView {
    pub id: i64,
    pub username: String,
}

#[derive(Serialize)]
struct LoginResponse {
    token: String,
    session: SessionView,
}

/// A response that must not be stored by any cache (it carries a token).
#[derive(rocket::Responder)]
struct NoStore<R>(R, Header<'static>);

impl<R> NoStore<R> {
    fn new(inner: R) -> Self {
        NoStore(inner, Header::new("Cache-Control", "no-store"))
    }
}

/// Passes only while signup is open; otherwise the route does not exist (404), whatever the body.
struct SignupOpen;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignupOpen {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match req.rocket().state::<Arc<Auth>>() {
            Some(auth) if auth.config.signup => request::Outcome::Success(SignupOpen),
            _ => {
                Problem::not_found().detail("signup is disabled").stash(req);
                request::Outcome::Error((Status::NotFound, ()))
            }
        }
    }
}

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

#[post("/auth/logout")]
async fn logout(auth: &State<Arc<Auth>>, session: &CurrentSession) -> ApiResult<Status> {
    auth.logout(session).await?;
    Ok(Status::NoContent)
}

#[post("/auth/logout-all")]
async fn logout_all(auth: &State<Arc<Auth>>, session: &CurrentSession) -> ApiResult<Status> {
    auth.logout_all(session).await?;
    Ok(Status::NoContent)
}

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

#[get("/me")]
fn me(session: &CurrentSession) -> Json<UserView> {
    Json(UserView {
        id: session.user_id(),
        username: session.username().to_string(),
    })
}

#[get("/sessions")]
async fn sessions(
    auth: &State<Arc<Auth>>,
    session: &CurrentSession,
) -> ApiResult<Json<Vec<SessionView>>> {
    Ok(Json(auth.sessions_of(session).await?))
}

#[delete("/sessions/<id>")]
async fn revoke(auth: &State<Arc<Auth>>, session: &CurrentSession, id: &str) -> ApiResult<Status> {
    if crate::token::is_public_id(id) && auth.end_session(session.user_id(), id).await? {
        Ok(Status::NoContent)
    } else {
        Err(Problem::not_found().detail("no such session"))
    }
}

/// Liveness: answers without touching the database.
#[get("/health")]
fn health() -> Value {
    json!({ "status": "ok" })
}

/// Readiness: 200 only when the database answers.
#[get("/ready")]
async fn ready(auth: &State<Arc<Auth>>) -> ApiResult<Value> {
    let ping = sqlx::query("SELECT 1").execute(&**auth.db());
    match rocket::tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => Ok(json!({ "status": "ready" })),
        _ => Err(Problem::database_unavailable()),
    }
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
        ready
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
