//! The account page: the username, the email address and whether it is verified (or a change
//! waiting for its link), a form to change the address (in sudo mode, as the token forms: out
//! of it, the password form first) and a button that mails a new verification link.

use super::cookie::CookieSession;
use super::csrf::{self, CheckedForm, CsrfChecked};
use super::flash;
use super::page::{sentence, wait_message, Page, PageOrRedirect};
use super::sudo::sudo_uri;
use crate::auth::{Accounts, AuthError, ClientInfo, EmailError, SignInError};
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket_dyn_templates::{context, Template};

/// The account page's path.
pub const ACCOUNT: &str = "/account";

/// Why a change or a new link was refused, as the page says it.
struct Refusal {
    status: Status,
    message: String,
    retry_after: Option<u64>,
}

/// A refusal: the form again with the reason, or a page of its own (an outage, a fault).
enum Refused {
    Again(Refusal),
    Page(Box<Page>),
}

/// The page, with an error (and the address as typed) when a change was refused.
async fn render(
    accounts: Accounts<'_>,
    session: &CookieSession<'_>,
    jar: &CookieJar<'_>,
    refused: Option<(Refusal, &str)>,
) -> Page {
    let user = match accounts.account(session.user_id()).await {
        Ok(Some(user)) => user,
        Ok(None) => return Page::error(Status::NotFound, None),
        Err(e) => return Page::from_db(e),
    };
    let (status, error, retry_after, typed) = match refused {
        Some((r, typed)) => (r.status, Some(r.message), r.retry_after, typed),
        None => (Status::Ok, None, None, ""),
    };
    let view = context! {
        user: session.username(),
        csrf: csrf::session_token(session),
        flash: flash::take(jar, accounts.config().secure_cookie()),
        verified: user.is_email_verified(),
        email: user.email,
        pending_email: user.pending_email,
        typed,
        error,
    };
    let mut page = Page::new(status, Template::render("account", view));
    page.retry_after = retry_after;
    page
}

#[get("/account")]
async fn account_page(
    accounts: Accounts<'_>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
) -> Page {
    render(accounts, &session, jar, None).await
}

#[derive(FromForm)]
struct EmailFields {
    email: String,
}

#[post("/account/email", data = "<form>")]
async fn change_email(
    accounts: Accounts<'_>,
    session: CookieSession<'_>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: CheckedForm<EmailFields>,
) -> PageOrRedirect {
    let email = form.0.email;
    // Sudo mode, checked after the form's CSRF token: out of it, the password form first.
    let changed = match accounts.sudo_mode(&session).await {
        Ok(sudo) => accounts.change_email(sudo.proof(), &email, &client).await,
        Err(e) => Err(EmailError::Refused(e)),
    };
    let refused = match changed {
        Ok(()) => {
            let message = "A link is on its way to the new address. The change happens once \
                           you open it.";
            flash::set(jar, message, accounts.config().secure_cookie());
            return PageOrRedirect::Redirect(Redirect::to(ACCOUNT));
        }
        Err(EmailError::Refused(AuthError::SudoRequired)) => {
            let message = "Confirm your password to change your email address.";
            flash::set(jar, message, accounts.config().secure_cookie());
            return PageOrRedirect::Redirect(Redirect::to(sudo_uri(ACCOUNT)));
        }
        Err(e) => refusal(e),
    };
    match refused {
        Refused::Again(refused) => {
            let typed = Some((refused, email.trim()));
            PageOrRedirect::Page(render(accounts, &session, jar, typed).await)
        }
        Refused::Page(page) => PageOrRedirect::Page(*page),
    }
}

/// What the page says when a change or a new link is refused; a page of its own for what is no
/// fault of the form.
fn refusal(e: EmailError) -> Refused {
    let said = |status, message: &str| Refusal {
        status,
        message: message.to_string(),
        retry_after: None,
    };
    Refused::Again(match e {
        EmailError::Invalid(msg) => said(Status::UnprocessableEntity, &sentence(msg)),
        EmailError::Taken => said(
            Status::Conflict,
            "That email address belongs to another account.",
        ),
        EmailError::Throttled(secs) => Refusal {
            retry_after: Some(secs),
            ..said(
                Status::TooManyRequests,
                &format!("Too many mails to this address. {}", wait_message(secs)),
            )
        },
        EmailError::NothingToVerify => said(
            Status::Conflict,
            "There is no address waiting for verification.",
        ),
        EmailError::Db(e) | EmailError::Password(SignInError::Db(e)) => {
            return Refused::Page(Box::new(Page::from_db(e)))
        }
        other => {
            let status = crate::problem::Problem::from(other).status;
            return Refused::Page(Box::new(Page::error(status, None)));
        }
    })
}

#[post("/account/email/verification", data = "<_csrf>")]
async fn send_verification(
    accounts: Accounts<'_>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
    _csrf: CsrfChecked,
) -> PageOrRedirect {
    match accounts.send_verification(&session).await {
        Ok(()) => {
            flash::set(
                jar,
                "A new link is on its way.",
                accounts.config().secure_cookie(),
            );
            PageOrRedirect::Redirect(Redirect::to(ACCOUNT))
        }
        Err(e) => match refusal(e) {
            Refused::Again(refused) => {
                PageOrRedirect::Page(render(accounts, &session, jar, Some((refused, ""))).await)
            }
            Refused::Page(page) => PageOrRedirect::Page(*page),
        },
    }
}

pub fn routes() -> Vec<rocket::Route> {
    routes![account_page, change_email, send_verification]
}
