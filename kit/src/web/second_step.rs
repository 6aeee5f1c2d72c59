//! The login form's second step (`/login/two-factor`), for an account with two-factor on: the
//! password was right, and the sign-in is held server-side (see `auth/second_step.rs`) under a
//! random handle that this browser's cookie alone holds. A right code opens the session; a wrong
//! one is a failed login, and the form again. "Cancel" drops the held sign-in.

use super::account::login_uri;
use super::cookie;
use super::csrf::SignedOutForm;
use super::flash;
use super::page::{is_local_path, landing, wait_message, FormView, Page};
use crate::auth::{ClientInfo, SignInError, SignIns};
use crate::config::AuthConfig;
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket_dyn_templates::Template;

/// The handle this browser holds, if any.
fn held_handle(config: &AuthConfig, jar: &CookieJar<'_>) -> Option<String> {
    let name = cookie::pending().get(config.secure_cookie());
    jar.get(name).map(|c| c.value().to_string())
}

/// Back to the sign-in form: the half-done sign-in is gone (expired, or never this browser's).
fn start_again(config: &AuthConfig, jar: &CookieJar<'_>, next: Option<&str>) -> Redirect {
    let secure = config.secure_cookie();
    jar.remove(cookie::pending().removal(secure));
    let message = "Your sign-in timed out. Sign in again.";
    flash::set(jar, message, secure);
    Redirect::to(login_uri(next.filter(|path| is_local_path(path))))
}

/// The second step's form, afresh or again with `error`.
fn second_step_form(
    config: &AuthConfig,
    jar: &CookieJar<'_>,
    next: Option<&str>,
    status: Status,
    error: Option<String>,
) -> Page {
    let view = FormView {
        next: next.filter(|path| is_local_path(path)),
        error,
        ..FormView::new(config, jar)
    };
    Page::new(status, Template::render("login_two_factor", view))
}

#[get("/login/two-factor?<next>")]
async fn second_step_page(
    sign_ins: SignIns<'_>,
    jar: &CookieJar<'_>,
    next: Option<&str>,
) -> Result<Page, Redirect> {
    let Some(handle) = held_handle(sign_ins.config(), jar) else {
        // Nothing begun in this browser: the sign-in form, without a word about time.
        return Err(Redirect::to(login_uri(next.filter(|p| is_local_path(p)))));
    };
    match sign_ins.sign_in_is_held(&handle).await {
        Ok(true) => Ok(second_step_form(
            sign_ins.config(),
            jar,
            next,
            Status::Ok,
            None,
        )),
        Ok(false) => Err(start_again(sign_ins.config(), jar, next)),
        Err(e) => Ok(Page::from_db(e)),
    }
}

#[derive(FromForm)]
struct CodeFields {
    code: String,
    next: Option<String>,
}

#[post("/login/two-factor", data = "<form>")]
async fn second_step(
    sign_ins: SignIns<'_>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: SignedOutForm<CodeFields>,
) -> Result<Redirect, Page> {
    let CodeFields { code, next } = form.0;
    let next = next.as_deref();
    let Some(handle) = held_handle(sign_ins.config(), jar) else {
        return Ok(start_again(sign_ins.config(), jar, next));
    };
    let (status, error) = match sign_ins.finish_sign_in(&handle, &code, &client).await {
        Ok(Some((token, _session))) => {
            let secure = sign_ins.config().secure_cookie();
            jar.remove(cookie::pending().removal(secure));
            jar.add(cookie::session_cookie(&token, sign_ins.config()));
            return Ok(Redirect::to(landing(next)));
        }
        Ok(None) => return Ok(start_again(sign_ins.config(), jar, next)),
        Err(SignInError::Throttled(secs)) => (
            Status::TooManyRequests,
            format!("Too many wrong codes. {}", wait_message(secs)),
        ),
        Err(SignInError::Busy) => return Err(Page::busy()),
        Err(SignInError::Db(e)) => return Err(Page::from_db(e)),
        Err(_) => (
            Status::UnprocessableEntity,
            "That code is not right.".into(),
        ),
    };
    Err(second_step_form(
        sign_ins.config(),
        jar,
        next,
        status,
        Some(error),
    ))
}

#[derive(FromForm)]
struct CancelFields {
    next: Option<String>,
}

/// "Cancel this sign-in": the held sign-in is dropped at once, not left to expire, and this
/// browser goes back to the sign-in form.
#[post("/login/two-factor/cancel", data = "<form>")]
async fn cancel(
    sign_ins: SignIns<'_>,
    jar: &CookieJar<'_>,
    form: SignedOutForm<CancelFields>,
) -> Result<Redirect, Page> {
    if let Some(handle) = held_handle(sign_ins.config(), jar) {
        sign_ins
            .cancel_held_sign_in(&handle)
            .await
            .map_err(Page::from_db)?;
    }
    jar.remove(cookie::pending().removal(sign_ins.config().secure_cookie()));
    let next = form.0.next.filter(|path| is_local_path(path));
    Ok(Redirect::to(login_uri(next.as_deref())))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![second_step_page, second_step, cancel]
}
