//! Signing in and up with a browser.
//!
//! A browser holds one session at a time: signing in or up from a browser that is signed in (a
//! form left open in another tab, or on purpose as someone else) ends its session first, as the
//! Sign out button does (reason `logout`), so the old cookie opens nothing afterwards.

use super::cookie::{self, CookieSession};
use super::csrf::SignedOutForm;
use super::flash;
use super::page::{is_local_path, landing, sentence, FormView, Page, PageOrRedirect, HOME};
use super::view;
use crate::auth::{ClientInfo, SecondStep, Sessions, Settings, SignInError, SignIns};
use crate::auth::{SignUpError, SignedIn, SignupOpen};
use crate::store::sessions::Kind;
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket_dyn_templates::Template;

/// The sign-in page, with a return path when there is one.
pub fn login_uri(next: Option<&str>) -> String {
    uri!(login_page(next = next)).to_string()
}

/// Ends the browser's own session and clears its cookie (also before the browser signs in or up
/// as someone: one browser, one session).
pub(super) async fn end_own_session(
    sessions: Sessions<'_>,
    session: &CookieSession<'_>,
    jar: &CookieJar<'_>,
) -> Result<(), Page> {
    sessions.logout(session).await.map_err(Page::from_db)?;
    jar.remove(cookie::session().removal(sessions.config().secure_cookie()));
    Ok(())
}

/// The login form's second step (see `second_step.rs`), then on to `next`.
fn second_step_uri(next: Option<&str>) -> String {
    match next.filter(|path| is_local_path(path)) {
        Some(next) => format!(
            "/login/two-factor?next={}",
            rocket::http::RawStr::new(next).percent_encode()
        ),
        None => "/login/two-factor".to_string(),
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
pub fn login_page(
    settings: Settings<'_>,
    session: Option<CookieSession<'_>>,
    jar: &CookieJar<'_>,
    next: Option<&str>,
) -> PageOrRedirect {
    if session.is_some() {
        return PageOrRedirect::Redirect(Redirect::to(landing(next)));
    }
    let form = FormView {
        next: next.filter(|path| is_local_path(path)),
        ..FormView::new(settings.config(), jar)
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

/// Ends the session this browser holds, if any (see the module's comment).
async fn end_held(
    sessions: Sessions<'_>,
    held: Option<CookieSession<'_>>,
    jar: &CookieJar<'_>,
) -> Result<(), Page> {
    match held {
        Some(held) => end_own_session(sessions, &held, jar).await,
        None => Ok(()),
    }
}

#[post("/login", data = "<form>")]
async fn login(
    sign_ins: SignIns<'_>,
    sessions: Sessions<'_>,
    held: Option<CookieSession<'_>>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: SignedOutForm<LoginFields>,
) -> Result<Redirect, Page> {
    let LoginFields {
        username,
        password,
        name,
        next,
    } = form.0;
    end_held(sessions, held, jar).await?;
    let name = name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let result = sign_ins
        .sign_in(
            &username,
            password,
            SecondStep::Later,
            name,
            Kind::Browser,
            &client,
        )
        .await;
    let (status, error, retry_after) = match result {
        Ok(SignedIn::Opened(token, _session)) => {
            jar.add(cookie::session_cookie(&token, sign_ins.config()));
            return Ok(Redirect::to(landing(next.as_deref())));
        }
        // Two-factor is on: the code is asked on a page of its own.
        Ok(SignedIn::Held(handle)) => {
            jar.add(cookie::pending_cookie(&handle, sign_ins.config()));
            return Ok(Redirect::to(second_step_uri(next.as_deref())));
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
        Err(SignInError::MfaRequired) | Err(SignInError::WrongCode) => (
            Status::Unauthorized,
            "This account asks for a two-factor code.".to_string(),
            None,
        ),
        Err(SignInError::Busy) => return Err(Page::busy()),
        Err(SignInError::Db(e)) => return Err(Page::from_db(e)),
    };
    let view = FormView {
        username: username.trim(),
        name: name.unwrap_or_default(),
        next: next.as_deref().filter(|path| is_local_path(path)),
        error: Some(error),
        ..FormView::new(sign_ins.config(), jar)
    };
    let mut page = Page::new(status, Template::render("login", view));
    page.retry_after = retry_after;
    Err(page)
}

#[get("/signup")]
fn signup_page(
    _open: SignupOpen,
    settings: Settings<'_>,
    session: Option<CookieSession<'_>>,
    jar: &CookieJar<'_>,
) -> PageOrRedirect {
    if session.is_some() {
        return PageOrRedirect::Redirect(Redirect::to(HOME));
    }
    let form = FormView::new(settings.config(), jar);
    PageOrRedirect::Page(Page::ok(Template::render("signup", form)))
}

#[derive(FromForm)]
struct SignupFields {
    username: String,
    /// Empty when left out (allowed unless `signup_email = "required"`).
    email: Option<String>,
    password: String,
    confirm: String,
}

#[post("/signup", data = "<form>")]
async fn signup(
    _open: SignupOpen,
    sign_ins: SignIns<'_>,
    sessions: Sessions<'_>,
    held: Option<CookieSession<'_>>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: SignedOutForm<SignupFields>,
) -> Result<Redirect, Page> {
    let SignupFields {
        username,
        email,
        password,
        confirm,
    } = form.0;
    end_held(sessions, held, jar).await?;
    let mut retry_after = None;
    let failure = if password != confirm {
        Some((
            Status::UnprocessableEntity,
            "The passwords do not match.".into(),
        ))
    } else {
        match sign_ins
            .sign_up_from(&username, password.clone(), email.as_deref(), &client)
            .await
        {
            Ok(_) => None,
            Err(SignUpError::Invalid(msg) | SignUpError::InvalidEmail(msg)) => {
                Some((Status::UnprocessableEntity, sentence(msg)))
            }
            Err(SignUpError::Taken) => Some((
                Status::Conflict,
                "That username is taken. Choose another one.".into(),
            )),
            Err(SignUpError::EmailTaken) => Some((
                Status::Conflict,
                "That email address belongs to another account.".into(),
            )),
            Err(SignUpError::Throttled(secs)) => {
                retry_after = Some(secs);
                let wait = view::duration(secs.div_ceil(60) as i64 * 60);
                let msg = format!("Too many sign-ups from your address. Try again in {wait}.");
                Some((Status::TooManyRequests, msg))
            }
            Err(SignUpError::Busy) => return Err(Page::busy()),
            Err(SignUpError::Db(e)) => return Err(Page::from_db(e)),
        }
    };
    if let Some((status, error)) = failure {
        let view = FormView {
            username: username.trim(),
            email: email.as_deref().unwrap_or_default().trim(),
            error: Some(error),
            ..FormView::new(sign_ins.config(), jar)
        };
        let mut page = Page::new(status, Template::render("signup", view));
        page.retry_after = retry_after;
        return Err(page);
    }
    // The new account is signed in at once, as a browser session like any other.
    let secure = sign_ins.config().secure_cookie();
    match sign_ins
        .sign_in(
            &username,
            password,
            SecondStep::Code(None),
            None,
            Kind::Browser,
            &client,
        )
        .await
        .and_then(SignedIn::opened)
    {
        Ok((token, _)) => {
            jar.add(cookie::session_cookie(&token, sign_ins.config()));
            flash::set(jar, "Your account is ready. Welcome!", secure);
            Ok(Redirect::to(HOME))
        }
        Err(_) => {
            flash::set(jar, "Your account is ready. Sign in to continue.", secure);
            Ok(Redirect::to(login_uri(None)))
        }
    }
}

pub fn routes() -> Vec<rocket::Route> {
    routes![index, login_page, login, signup_page, signup]
}
