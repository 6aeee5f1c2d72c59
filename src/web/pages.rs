//! The pages and form actions of SPEC §5. Handlers stay thin: they check the form, call the auth
//! service (the same one the JSON API uses) and pick a page or a redirect.

use super::cookie::{self, CookieSession, SESSION_COOKIE};
use super::csrf::{self, CheckedForm, CsrfChecked};
use super::flash;
use super::view::{self, DeviceRow};
use crate::auth::{Auth, ClientInfo, SignInError, SignUpError, SignupOpen};
use crate::store::now;
use crate::store::sessions::Kind;
use rocket::http::uri::Origin;
use rocket::http::{CookieJar, Status};
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder};
use rocket::State;
use rocket_dyn_templates::{context, Template};
use serde::Serialize;
use std::sync::Arc;

/// Where a signed-in browser lands.
const HOME: &str = "/sessions";

/// A rendered page with its status (forms shown again after an error are not 200).
pub struct Page {
    status: Status,
    template: Template,
    retry_after: Option<u64>,
}

impl Page {
    fn new(status: Status, template: Template) -> Page {
        Page {
            status,
            template,
            retry_after: None,
        }
    }

    fn ok(template: Template) -> Page {
        Page::new(Status::Ok, template)
    }

    fn error(status: Status, message: Option<&str>) -> Page {
        Page::new(status, view::error_page(status, message))
    }

    /// The page for a database failure; the details go to the log only.
    fn unavailable(e: impl std::fmt::Display) -> Page {
        rocket::warn!("database error: {e}");
        Page::error(Status::ServiceUnavailable, None)
    }
}

impl<'r> Responder<'r, 'static> for Page {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.template.respond_to(req)?;
        response.set_status(self.status);
        if let Some(secs) = self.retry_after {
            response.set_raw_header("Retry-After", secs.to_string());
        }
        Ok(response)
    }
}

/// A form page, or a redirect when the browser is already signed in.
#[derive(Responder)]
enum PageOrRedirect {
    Page(Page),
    Redirect(Redirect),
}

/// Whether `path` may be redirected to after sign-in: a path on this site, never another host
/// (`//evil.example`, `/\evil.example`, or one that a browser would turn into such by dropping
/// tabs or newlines).
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= 1024
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
        && Origin::parse(path).is_ok()
}

/// The sign-in page, with a return path when there is one.
pub fn login_uri(next: Option<&str>) -> String {
    uri!(login_page(next = next)).to_string()
}

fn landing(next: Option<&str>) -> String {
    next.filter(|path| is_local_path(path))
        .unwrap_or(HOME)
        .to_string()
}

/// "username must be 3 to 64 characters long" → "Username must be 3 to 64 characters long."
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
    format!("{}{}.", first.unwrap_or_default(), chars.as_str())
}

/// What the sign-in and sign-up templates show.
#[derive(Serialize, Default)]
struct FormView<'a> {
    csrf: String,
    username: &'a str,
    name: &'a str,
    next: Option<&'a str>,
    error: Option<String>,
    flash: Option<String>,
    signup: bool,
}

impl<'a> FormView<'a> {
    fn new(auth: &Auth, jar: &CookieJar<'_>) -> FormView<'a> {
        FormView {
            csrf: csrf::signed_out_token(jar, auth.config.secure_cookie()),
            flash: flash::take(jar),
            signup: auth.config.signup,
            ..FormView::default()
        }
    }
}

#[get("/")]
fn index(session: Option<CookieSession<'_>>) -> Redirect {
    match session {
        Some(_) => Redirect::to(HOME),
        None => Redirect::to(login_uri(None)),
    }
}

#[get("/login?<next>")]
fn login_page(
    auth: &State<Arc<Auth>>,
    session: Option<CookieSession<'_>>,
    jar: &CookieJar<'_>,
    next: Option<&str>,
) -> PageOrRedirect {
    if session.is_some() {
        return PageOrRedirect::Redirect(Redirect::to(landing(next)));
    }
    let form = FormView {
        next: next.filter(|path| is_local_path(path)),
        ..FormView::new(auth, jar)
    };
    PageOrRedirect::Page(Page::ok(Template::render("login", form)))
}

#[derive(FromForm)]
struct LoginFields {
    username: String,
    password: String,
    name: Option<String>,
    next: Option<String>,
}

#[post("/login", data = "<form>")]
async fn login(
    auth: &State<Arc<Auth>>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: CheckedForm<LoginFields>,
) -> Result<Redirect, Page> {
    let LoginFields {
        username,
        password,
        name,
        next,
    } = form.0;
    let name = name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let result = auth
        .sign_in(&username, password, name, Kind::Browser, &client)
        .await;
    let (status, error, retry_after) = match result {
        Ok((token, _session)) => {
            jar.add(cookie::session_cookie(&token, &auth.config));
            return Ok(Redirect::to(landing(next.as_deref())));
        }
        // One message for an unknown user, a wrong password and a disabled account.
        Err(SignInError::InvalidCredentials) | Err(SignInError::Invalid(_)) => (
            Status::UnprocessableEntity,
            "Incorrect username or password.".to_string(),
            None,
        ),
        Err(SignInError::Throttled(secs)) => (
            Status::TooManyRequests,
            format!(
                "Too many failed sign-ins. Try again in {}.",
                // Rounded up: "in 14 minutes" when 14.5 are left would be refused again.
                view::duration(if secs < 60 {
                    secs
                } else {
                    secs.div_ceil(60) * 60
                } as i64)
            ),
            Some(secs),
        ),
        Err(SignInError::Busy) => return Err(Page::unavailable("the password queue is full")),
        Err(SignInError::Db(e)) => return Err(Page::unavailable(e)),
    };
    let view = FormView {
        username: username.trim(),
        name: name.unwrap_or_default(),
        next: next.as_deref().filter(|path| is_local_path(path)),
        error: Some(error),
        ..FormView::new(auth, jar)
    };
    let mut page = Page::new(status, Template::render("login", view));
    page.retry_after = retry_after;
    Err(page)
}

#[get("/signup")]
fn signup_page(
    _open: SignupOpen,
    auth: &State<Arc<Auth>>,
    session: Option<CookieSession<'_>>,
    jar: &CookieJar<'_>,
) -> PageOrRedirect {
    if session.is_some() {
        return PageOrRedirect::Redirect(Redirect::to(HOME));
    }
    let form = FormView::new(auth, jar);
    PageOrRedirect::Page(Page::ok(Template::render("signup", form)))
}

#[derive(FromForm)]
struct SignupFields {
    username: String,
    password: String,
    confirm: String,
}

#[post("/signup", data = "<form>")]
async fn signup(
    _open: SignupOpen,
    auth: &State<Arc<Auth>>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: CheckedForm<SignupFields>,
) -> Result<Redirect, Page> {
    let SignupFields {
        username,
        password,
        confirm,
    } = form.0;
    let failure = if password != confirm {
        Some((
            Status::UnprocessableEntity,
            "The passwords do not match.".into(),
        ))
    } else {
        match auth.sign_up(&username, password.clone()).await {
            Ok(_) => None,
            Err(SignUpError::Invalid(msg)) => Some((Status::UnprocessableEntity, sentence(msg))),
            Err(SignUpError::Taken) => Some((
                Status::Conflict,
                "That username is taken. Choose another one.".into(),
            )),
            Err(SignUpError::Busy) => return Err(Page::unavailable("the password queue is full")),
            Err(SignUpError::Db(e)) => return Err(Page::unavailable(e)),
        }
    };
    if let Some((status, error)) = failure {
        let view = FormView {
            username: username.trim(),
            error: Some(error),
            ..FormView::new(auth, jar)
        };
        return Err(Page::new(status, Template::render("signup", view)));
    }
    // The new account is signed in at once, as a browser session like any other.
    let secure = auth.config.secure_cookie();
    match auth
        .sign_in(&username, password, None, Kind::Browser, &client)
        .await
    {
        Ok((token, _)) => {
            jar.add(cookie::session_cookie(&token, &auth.config));
            flash::set(jar, "Your account is ready. Welcome!", secure);
            Ok(Redirect::to(HOME))
        }
        Err(_) => {
            flash::set(jar, "Your account is ready. Sign in to continue.", secure);
            Ok(Redirect::to(login_uri(None)))
        }
    }
}

#[get("/sessions")]
async fn sessions_page(
    auth: &State<Arc<Auth>>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
) -> Page {
    let sessions = match auth.sessions_of(&session).await {
        Ok(sessions) => sessions,
        Err(e) => return Page::unavailable(e),
    };
    let now = now();
    let mut rows: Vec<DeviceRow> = sessions.iter().map(|s| DeviceRow::new(s, now)).collect();
    // This device is in use right now, so it leads; the rest stay most recently used first.
    rows.sort_by_key(|row| !row.current);
    let others = rows.iter().filter(|row| !row.current).count();
    Page::ok(Template::render(
        "sessions",
        context! {
            user: session.username(),
            csrf: csrf::session_token(&session),
            flash: flash::take(jar),
            rows,
            others,
        },
    ))
}

/// Ends the browser's own session and clears its cookie.
async fn sign_out(
    auth: &Auth,
    session: &CookieSession<'_>,
    jar: &CookieJar<'_>,
) -> Result<(), Page> {
    auth.logout(session).await.map_err(Page::unavailable)?;
    jar.remove(cookie::removal(SESSION_COOKIE));
    flash::set(
        jar,
        "You have been signed out.",
        auth.config.secure_cookie(),
    );
    Ok(())
}

#[post("/sessions/<id>/revoke", data = "<_csrf>")]
async fn revoke(
    auth: &State<Arc<Auth>>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
    id: &str,
    _csrf: CsrfChecked,
) -> Result<Redirect, Page> {
    let gone = || {
        Page::error(
            Status::NotFound,
            Some("That session does not exist or has already ended."),
        )
    };
    if !crate::token::is_public_id(id) {
        return Err(gone());
    }
    if id == session.id() {
        sign_out(auth, &session, jar).await?;
        return Ok(Redirect::to(login_uri(None)));
    }
    // Named before it goes, for the message. Another user's id is not in the list: 404, as for
    // an id that never existed (no hint that it does).
    let sessions = auth
        .sessions_of(&session)
        .await
        .map_err(Page::unavailable)?;
    let Some(target) = sessions.iter().find(|s| s.id == id) else {
        return Err(gone());
    };
    let title = DeviceRow::new(target, now()).title();
    if !auth
        .end_session(session.user_id(), id)
        .await
        .map_err(Page::unavailable)?
    {
        return Err(gone());
    }
    flash::set(
        jar,
        format!("Signed out {title}."),
        auth.config.secure_cookie(),
    );
    Ok(Redirect::to(HOME))
}

#[post("/sessions/revoke-others", data = "<_csrf>")]
async fn revoke_others(
    auth: &State<Arc<Auth>>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
    _csrf: CsrfChecked,
) -> Result<Redirect, Page> {
    let ended = auth
        .end_all_sessions(session.user_id(), Some(session.id()))
        .await
        .map_err(Page::unavailable)?;
    let message = match ended {
        0 => "No other device was signed in.".to_string(),
        1 => "Signed out 1 other device.".to_string(),
        n => format!("Signed out {n} other devices."),
    };
    flash::set(jar, message, auth.config.secure_cookie());
    Ok(Redirect::to(HOME))
}

#[post("/logout", data = "<_csrf>")]
async fn logout(
    auth: &State<Arc<Auth>>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
    _csrf: CsrfChecked,
) -> Result<Redirect, Page> {
    sign_out(auth, &session, jar).await?;
    Ok(Redirect::to(login_uri(None)))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![
        index,
        login_page,
        login,
        signup_page,
        signup,
        sessions_page,
        revoke,
        revoke_others,
        logout
    ]
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_paths_on_this_site_are_return_paths() {
        for good in ["/", "/sessions", "/sessions?x=1", "/a/b"] {
            assert!(is_local_path(good), "{good}");
        }
        for bad in [
            "",
            "sessions",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/ /x",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
    }
}
