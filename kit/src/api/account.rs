//! Accounts and sign-in: sign up, log in and out, change the password, the current user.

use super::openapi::{Busy, InvalidCredentials, ProblemDoc, SignupThrottled, Throttled};
use super::{ApiResult, IssuedToken, JsonBody, NoStore};
use crate::auth::{Accounts, ClientInfo, CurrentSession, Scoped, SecondStep, Sessions, SignIns};
use crate::auth::{SignupOpen, Unscoped};
use crate::problem::Problem;
use crate::scopes::{ProfileRead, SessionsWrite};
use crate::store::sessions::{Kind, MAX_NAME};
use crate::text::label;
use rocket::http::Status;
use rocket::serde::json::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

api_routes![
    sign_up,
    login,
    logout,
    logout_all,
    change_password,
    sudo,
    me
];

/// A new account, with an email address or none (`signup_email` says whether one is required;
/// blank counts as none).
#[derive(Deserialize, ToSchema)]
struct SignUpRequest {
    #[schema(schema_with = super::schemas::username)]
    username: String,
    #[schema(schema_with = super::schemas::new_password)]
    password: String,
    #[schema(schema_with = super::schemas::email)]
    email: Option<String>,
}

/// Credentials, and an optional name for the new session ("laptop", "CI"). With two-factor
/// on, also `code`: a current authenticator code or a recovery code.
#[derive(Deserialize, ToSchema)]
struct LoginRequest {
    /// The username, or the account's email address once verified; matched
    /// case-insensitively, trimmed.
    #[schema(example = "alice")]
    username: String,
    /// Not trimmed.
    password: String,
    #[schema(schema_with = super::schemas::session_name)]
    name: Option<String>,
    /// With two-factor on: a current authenticator code, or an unused recovery code.
    #[schema(example = "123456")]
    code: Option<String>,
}

/// The user's password, or (with two-factor on) a current authenticator code or recovery code
/// in its place, to enter sudo mode.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
enum SudoRequest {
    Password {
        password: String,
    },
    Code {
        #[schema(example = "123456")]
        code: String,
    },
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

/// The current user, with the account's email address (`null` when there is none) and whether
/// it is verified.
#[derive(Serialize, ToSchema)]
pub struct MeView {
    pub id: i64,
    pub username: String,
    #[schema(examples("alice@example.org"))]
    pub email: Option<String>,
    pub email_verified: bool,
    /// Whether two-factor authentication is on.
    pub two_factor: bool,
    /// Unused recovery codes (0 when two-factor is off).
    pub recovery_codes_left: i64,
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
        (status = 409, description = "Username taken (`username_taken`), or email address taken (`email_taken`)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`invalid_input`), or an email address that is invalid, too long, or missing while required (`invalid_email`)", body = ProblemDoc, content_type = "application/problem+json"),
        SignupThrottled,
        Busy,
    )
)]
#[post("/users", data = "<body>")]
async fn sign_up(
    sign_ins: SignIns<'_>,
    _open: SignupOpen,
    client: ClientInfo,
    body: JsonBody<SignUpRequest>,
) -> ApiResult<(Status, Json<UserView>)> {
    let SignUpRequest {
        username,
        password,
        email,
    } = body.0;
    let user = sign_ins
        .sign_up_from(&username, password, email.as_deref(), &client)
        .await?;
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
        (status = 200, description = "A new session", body = IssuedToken),
        InvalidCredentials,
        Throttled,
        Busy,
    )
)]
#[post("/auth/login", data = "<body>")]
async fn login(
    sign_ins: SignIns<'_>,
    client: ClientInfo,
    body: JsonBody<LoginRequest>,
) -> ApiResult<NoStore<Json<IssuedToken>>> {
    let LoginRequest {
        username,
        password,
        name,
        code,
    } = body.0;
    // An empty name is a name left empty; one that only looks empty is refused.
    if name
        .as_deref()
        .is_some_and(|n| !n.is_empty() && label(n, MAX_NAME).is_none())
    {
        let msg = "name must have a visible character (leave it out for none)";
        return Err(Problem::unprocessable(msg));
    }
    let (token, session) = sign_ins
        .sign_in(
            &username,
            password,
            SecondStep::Code(code.as_deref()),
            name.as_deref(),
            Kind::Api,
            &client,
        )
        .await?
        .opened()?;
    Ok(IssuedToken::answer(
        sign_ins.config(),
        token,
        &session,
        true,
    ))
}

/// Log out: ends the session of the presented token only (any token may end itself).
#[utoipa::path(
    tag = "auth",
    responses((status = 204, description = "Session ended"))
)]
#[post("/auth/logout")]
async fn logout(sessions: Sessions<'_>, session: Unscoped<'_>) -> ApiResult<Status> {
    sessions.logout(&session).await?;
    Ok(Status::NoContent)
}

/// Log out everywhere: ends every session of the user, browser ones too.
#[utoipa::path(
    tag = "auth",
    responses((status = 204, description = "All sessions ended"))
)]
#[post("/auth/logout-all")]
async fn logout_all(
    sessions: Sessions<'_>,
    session: Scoped<'_, SessionsWrite>,
) -> ApiResult<Status> {
    sessions.logout_all(&session).await?;
    Ok(Status::NoContent)
}

/// Change the password; every other session of the user ends, personal tokens included. Needs
/// a sign-in session; the current password counts as a re-authentication (sudo mode).
#[utoipa::path(
    tag = "auth",
    request_body = PasswordChangeRequest,
    responses(
        (status = 204, description = "Password changed"),
        InvalidCredentials,
        Throttled,
        Busy,
    )
)]
#[post("/auth/password", data = "<body>")]
async fn change_password(
    accounts: Accounts<'_>,
    session: &CurrentSession,
    client: ClientInfo,
    body: JsonBody<PasswordChangeRequest>,
) -> ApiResult<Status> {
    let PasswordChangeRequest {
        current_password,
        new_password,
    } = body.0;
    accounts
        .change_password(session, current_password, new_password, &client)
        .await?;
    Ok(Status::NoContent)
}

/// Enter sudo mode: after the password (or, with two-factor on, a code) is checked, this session
/// may do what needs a recent password check (create and regenerate personal tokens, two-factor
/// changes) for `sudo_window` seconds. The same session is elevated: no new token. A wrong
/// password or code counts as a failed login.
#[utoipa::path(
    tag = "auth",
    request_body = SudoRequest,
    responses(
        (status = 204, description = "This session is in sudo mode"),
        InvalidCredentials,
        Throttled,
        Busy,
    )
)]
#[post("/auth/sudo", data = "<body>")]
async fn sudo(
    sign_ins: SignIns<'_>,
    session: &CurrentSession,
    client: ClientInfo,
    body: JsonBody<SudoRequest>,
) -> ApiResult<Status> {
    match body.0 {
        SudoRequest::Password { password } => sign_ins.sudo(session, password, &client).await?,
        SudoRequest::Code { code } => sign_ins.sudo_with_code(session, &code, &client).await?,
    }
    Ok(Status::NoContent)
}

// readme: me-handler
/// The user of the presented token.
#[utoipa::path(
    tag = "users",
    responses((status = 200, description = "The current user", body = MeView))
)]
#[get("/me")]
fn me(session: Scoped<'_, ProfileRead>) -> Json<MeView> {
    Json(MeView {
        id: session.user_id(),
        username: session.username().to_string(),
        email: session.email().map(str::to_string),
        email_verified: session.email_verified(),
        two_factor: session.two_factor(),
        recovery_codes_left: session.recovery_codes_left(),
    })
}
// readme: end
