//! The pages a link from a mail leads to, and the one that asks for it: /forgot-password,
//! /reset-password and /verify-email. Signed-out forms, with the signed-out CSRF token as at
//! sign-in.
//!
//! Opening a link (GET) shows a page with a button and consumes nothing, since mail scanners
//! open links; the button's POST consumes it. The token travels in the query string of the GET
//! (the request log leaves query values out) and in a hidden field of the form.

use super::account::login_uri;
use super::csrf::{self, SignedOutForm};
use super::flash;
use super::page::{sentence, Page};
use crate::auth::{
    Accounts, ClientInfo, LinkError, LinkKind, Recovery, RecoveryError, Settings, SignInError,
};
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket_dyn_templates::{context, Template};

/// The one page of every dead link: used, expired, superseded, tampered or unknown.
fn link_invalid(kind: LinkKind) -> Page {
    let reset = kind == LinkKind::Reset;
    Page::new(
        Status::Gone,
        Template::render("link_invalid", context! { reset }),
    )
}

/// A link's page: its form while the link works, with the token in a hidden field (and `error`
/// when shown again), the dead-link page otherwise. The reset form asks for a two-factor code
/// only when the link's account has two-factor on.
async fn link_page(
    recovery: &Recovery<'_>,
    jar: &CookieJar<'_>,
    kind: LinkKind,
    token: &str,
    status: Status,
    error: Option<&str>,
) -> Page {
    let (checked, template) = match kind {
        LinkKind::Reset => (recovery.reset_asks_for_code(token).await, "reset_password"),
        LinkKind::Verify => {
            let checked = recovery.check_link(kind, token).await;
            (checked.map(|_| false), "verify_email")
        }
    };
    let two_factor = match checked {
        Ok(two_factor) => two_factor,
        Err(LinkError::Spent) => return link_invalid(kind),
        Err(LinkError::Db(e)) => return Page::from_db(e),
    };
    let secure = recovery.config().secure_cookie();
    let csrf = csrf::signed_out_token(jar, secure);
    let flash = flash::take(jar, secure);
    let view = context! { csrf, token, error, two_factor, flash };
    Page::new(status, Template::render(template, view))
}

#[get("/forgot-password")]
fn forgot_page(settings: Settings<'_>, jar: &CookieJar<'_>) -> Page {
    let csrf = csrf::signed_out_token(jar, settings.config().secure_cookie());
    Page::ok(Template::render("forgot_password", context! { csrf }))
}

#[derive(FromForm)]
struct ForgotFields {
    login: String,
}

/// The same answer whatever the login names: back to the sign-in page, with a flash.
#[post("/forgot-password", data = "<form>")]
fn forgot(
    recovery: Recovery<'_>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: SignedOutForm<ForgotFields>,
) -> Redirect {
    recovery.request_password_reset(&form.0.login, &client);
    let message = "If an account has this username or email address, and an address to mail, \
                   a link to reset its password is on its way.";
    flash::set(jar, message, recovery.config().secure_cookie());
    Redirect::to(login_uri(None))
}

#[get("/reset-password?<token>")]
async fn reset_page(recovery: Recovery<'_>, jar: &CookieJar<'_>, token: Option<&str>) -> Page {
    let token = token.unwrap_or_default();
    link_page(&recovery, jar, LinkKind::Reset, token, Status::Ok, None).await
}

#[derive(FromForm)]
struct ResetFields {
    token: String,
    password: String,
    confirm: String,
    /// With two-factor authentication on: an authenticator or recovery code.
    code: Option<String>,
}

#[post("/reset-password", data = "<form>")]
async fn reset(
    recovery: Recovery<'_>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: SignedOutForm<ResetFields>,
) -> Result<Redirect, Page> {
    let ResetFields {
        token,
        password,
        confirm,
        code,
    } = form.0;
    // The form again, with what went wrong (or the dead-link page, if the link died meanwhile).
    let again = async |status, error: &str| {
        link_page(&recovery, jar, LinkKind::Reset, &token, status, Some(error)).await
    };
    if password != confirm {
        return Err(again(Status::UnprocessableEntity, "The passwords do not match.").await);
    }
    let code = code.as_deref().map(str::trim).filter(|c| !c.is_empty());
    match recovery
        .confirm_password_reset(&token, password, code, &client)
        .await
    {
        Ok(()) => {
            let message = "Your password is set, and every device was signed out. Sign in with \
                           the new password.";
            flash::set(jar, message, recovery.config().secure_cookie());
            Ok(Redirect::to(login_uri(None)))
        }
        Err(RecoveryError::LinkInvalid) => Err(link_invalid(LinkKind::Reset)),
        Err(RecoveryError::Invalid(msg)) => {
            Err(again(Status::UnprocessableEntity, &sentence(msg)).await)
        }
        Err(RecoveryError::SecondFactor(SignInError::MfaRequired)) => Err(again(
            Status::Unauthorized,
            "Enter a code from your authenticator app, or a recovery code.",
        )
        .await),
        Err(RecoveryError::SecondFactor(SignInError::WrongCode)) => Err(again(
            Status::Unauthorized,
            "That code is not right. Enter the current code, or a recovery code.",
        )
        .await),
        Err(RecoveryError::SecondFactor(SignInError::Throttled(_))) => Err(again(
            Status::TooManyRequests,
            "Too many wrong codes. Wait a few minutes, then try again.",
        )
        .await),
        Err(RecoveryError::Busy) => Err(Page::busy()),
        Err(RecoveryError::Db(e)) => Err(Page::from_db(e)),
        Err(e) => Err(Page::error(crate::problem::Problem::from(e).status, None)),
    }
}

#[get("/verify-email?<token>")]
async fn verify_page(recovery: Recovery<'_>, jar: &CookieJar<'_>, token: Option<&str>) -> Page {
    let token = token.unwrap_or_default();
    link_page(&recovery, jar, LinkKind::Verify, token, Status::Ok, None).await
}

#[derive(FromForm)]
struct VerifyFields {
    token: String,
}

#[post("/verify-email", data = "<form>")]
async fn verify(
    accounts: Accounts<'_>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: SignedOutForm<VerifyFields>,
) -> Result<Redirect, Page> {
    match accounts.verify_email(&form.0.token, &client).await {
        Ok(_) => {
            let message = "Your email address is verified.";
            flash::set(jar, message, accounts.config().secure_cookie());
            Ok(Redirect::to(super::address::ACCOUNT))
        }
        Err(RecoveryError::LinkInvalid) => Err(link_invalid(LinkKind::Verify)),
        Err(RecoveryError::EmailTaken) => Err(Page::error(
            Status::Conflict,
            Some("That email address belongs to another account now."),
        )),
        Err(RecoveryError::Db(e)) => Err(Page::from_db(e)),
        Err(e) => Err(Page::error(crate::problem::Problem::from(e).status, None)),
    }
}

pub fn routes() -> Vec<rocket::Route> {
    routes![forgot_page, forgot, reset_page, reset, verify_page, verify]
}
