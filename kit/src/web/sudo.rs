//! Asking a signed-in browser for its password again: the /sudo form (sudo mode for this very
//! session: same cookie, same row) and the password change.
//!
//! A wrong password here is a failed login for the throttle, as at sign-in, and gets the same
//! one generic message.

use super::cookie::CookieSession;
use super::csrf::{self, CheckedForm};
use super::flash;
use super::page::{is_local_path, landing, sentence, wait_message, Page, HOME};
use super::view;
use crate::auth::{Accounts, ClientInfo, Sessions, Settings, SignInError, SignIns};
use crate::config::AuthConfig;
use crate::store::sessions::Kind;
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket_dyn_templates::{context, Template};

/// How a refused password check is shown: the form again, with this status and message.
struct Refusal {
    status: Status,
    message: String,
    retry_after: Option<u64>,
}

/// The form again after a failed password check, or the page for what is no fault of the form.
fn refused(
    config: &AuthConfig,
    e: SignInError,
    wrong: &str,
    template: &'static str,
    session: &CookieSession<'_>,
    jar: &CookieJar<'_>,
    next: Option<&str>,
) -> Page {
    let refusal = |status, message: String| Refusal {
        status,
        message,
        retry_after: None,
    };
    let refusal = match e {
        // An unknown user cannot be signed in, and a disabled one loses the session: one
        // message, as at sign-in.
        SignInError::InvalidCredentials => refusal(Status::UnprocessableEntity, wrong.into()),
        SignInError::Invalid(msg) => refusal(Status::UnprocessableEntity, sentence(msg)),
        SignInError::Throttled(secs) => Refusal {
            retry_after: Some(secs),
            ..refusal(
                Status::TooManyRequests,
                format!("Too many wrong passwords. {}", wait_message(secs)),
            )
        },
        SignInError::MfaRequired | SignInError::WrongCode => refusal(
            Status::UnprocessableEntity,
            "That code is not right.".into(),
        ),
        SignInError::Busy => return Page::busy(),
        SignInError::Db(e) => return Page::from_db(e),
    };
    form_page(config, template, session, jar, next, Some(refusal))
}

/// One of this file's forms, shown afresh or again after a refusal.
fn form_page(
    config: &AuthConfig,
    template: &'static str,
    session: &CookieSession<'_>,
    jar: &CookieJar<'_>,
    next: Option<&str>,
    refused: Option<Refusal>,
) -> Page {
    let (status, error, retry_after) = match refused {
        Some(r) => (r.status, Some(r.message), r.retry_after),
        None => (Status::Ok, None, None),
    };
    let template = Template::render(
        template,
        context! {
            user: session.username(),
            csrf: csrf::session_token(session),
            flash: flash::take(jar, config.secure_cookie()),
            next: next.filter(|path| is_local_path(path)),
            two_factor: session.two_factor(),
            error,
        },
    );
    let mut page = Page::new(status, template);
    page.retry_after = retry_after;
    page
}

/// The password form that puts the session in sudo mode, then returns to `next`.
pub fn sudo_uri(next: &str) -> String {
    uri!(sudo_page(next = Some(next))).to_string()
}

#[get("/sudo?<next>")]
pub fn sudo_page(
    settings: Settings<'_>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
    next: Option<&str>,
) -> Page {
    form_page(settings.config(), "sudo", &session, jar, next, None)
}

/// The password, or (with two-factor on) a code in its place.
#[derive(FromForm)]
struct SudoFields {
    password: Option<String>,
    code: Option<String>,
    next: Option<String>,
}

#[post("/sudo", data = "<form>")]
async fn sudo(
    sign_ins: SignIns<'_>,
    session: CookieSession<'_>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: CheckedForm<SudoFields>,
) -> Result<Redirect, Page> {
    let SudoFields {
        password,
        code,
        next,
    } = form.0;
    // The password when it is typed; else a code (as the API takes them).
    let password = password.filter(|p| !p.is_empty());
    let code = code.filter(|c| !c.trim().is_empty() && password.is_none());
    let what = if code.is_some() { "Code" } else { "Password" };
    let checked = match code {
        Some(code) => sign_ins.sudo_with_code(&session, &code, &client).await,
        None => {
            let password = password.unwrap_or_default();
            sign_ins.sudo(&session, password, &client).await
        }
    };
    match checked {
        // The same session, now in sudo mode: no new cookie.
        Ok(()) => {
            let window = view::duration(sign_ins.config().sudo_window as i64);
            let message = format!("{what} confirmed. It will not be asked again for {window}.");
            flash::set(jar, message, sign_ins.config().secure_cookie());
            Ok(Redirect::to(landing(next.as_deref())))
        }
        Err(e) => Err(refused(
            sign_ins.config(),
            e,
            "Incorrect password.",
            "sudo",
            &session,
            jar,
            next.as_deref(),
        )),
    }
}

#[get("/password")]
fn password_page(settings: Settings<'_>, session: CookieSession<'_>, jar: &CookieJar<'_>) -> Page {
    form_page(settings.config(), "password", &session, jar, None, None)
}

#[derive(FromForm)]
struct PasswordFields {
    current: String,
    password: String,
    confirm: String,
}

#[post("/password", data = "<form>")]
async fn change_password(
    accounts: Accounts<'_>,
    sessions: Sessions<'_>,
    session: CookieSession<'_>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: CheckedForm<PasswordFields>,
) -> Result<Redirect, Page> {
    let PasswordFields {
        current,
        password,
        confirm,
    } = form.0;
    if password != confirm {
        let refused = Refusal {
            status: Status::UnprocessableEntity,
            message: "The new passwords do not match.".into(),
            retry_after: None,
        };
        return Err(form_page(
            accounts.config(),
            "password",
            &session,
            jar,
            None,
            Some(refused),
        ));
    }
    // Counted before, for the message: the change ends them all in one transaction.
    let others = sessions
        .sessions_of(&session)
        .await
        .map_err(Page::from_db)?;
    let others: Vec<_> = others.iter().filter(|s| !s.current).collect();
    let tokens = others.iter().filter(|s| s.kind == Kind::Token).count();
    if let Err(e) = accounts
        .change_password(&session, current, password, &client)
        .await
    {
        let wrong = "Incorrect current password.";
        return Err(refused(
            accounts.config(),
            e,
            wrong,
            "password",
            &session,
            jar,
            None,
        ));
    }
    let message = match (others.len(), tokens) {
        (0, _) => "Password changed. No other session was signed in.".to_string(),
        (1, 0) => "Password changed. 1 other session ended.".to_string(),
        (1, _) => "Password changed. Your personal token has ended.".to_string(),
        (n, 0) => format!("Password changed. {n} other sessions ended."),
        (n, _) => format!("Password changed. {n} other sessions ended, personal tokens included."),
    };
    flash::set(jar, message, accounts.config().secure_cookie());
    Ok(Redirect::to(HOME))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![sudo_page, sudo, password_page, change_password]
}
