//! The account's "Two-factor authentication" page (`/account/two-factor`): set up with a QR code
//! made on the server (an inline SVG: no script, no image request) and the secret as text,
//! confirm with a code, the recovery codes shown once (with a text file to download), replace
//! them, turn it off. Every change needs sudo mode; every form carries its CSRF token.

use super::cookie::CookieSession;
use super::csrf::{self, CheckedForm, CsrfChecked};
use super::flash;
use super::page::{Page, PageOrRedirect};
use super::sudo::sudo_uri;
use crate::auth::{AuthError, ClientInfo, Sudo, TwoFactor, TwoFactorError};
use crate::site;
use crate::two_factor::{qr_svg, RecoveryCode};
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket_dyn_templates::{context, Template};

/// The account's two-factor page.
const PAGE: &str = "/account/two-factor";

/// What the two-factor page shows besides the account's standing.
#[derive(Default)]
struct Shown {
    /// A set-up under way: the QR code and the secret.
    setup: Option<(String, String)>,
    /// Recovery codes just made, shown this once.
    codes: Option<Vec<RecoveryCode>>,
    /// Two-factor was just turned on: offer to sign out every other device.
    just_enabled: bool,
    error: Option<&'static str>,
}

/// The page: whether two-factor is on, and what `shown` adds.
async fn render(
    two_factor: TwoFactor<'_>,
    session: &CookieSession<'_>,
    jar: &CookieJar<'_>,
    shown: Shown,
) -> Page {
    let mut shown = shown;
    if shown.setup.is_none() && shown.codes.is_none() && !session.two_factor() {
        // A set-up begun earlier is shown again, in sudo mode only.
        if let Ok(sudo) = two_factor.sudo_mode(session).await {
            if let Ok(Some(setup)) = two_factor.pending_totp(&sudo).await {
                shown.setup = qr_svg(&setup.otpauth_url).map(|qr| (qr, setup.secret));
            }
        }
    }
    let codes: Option<Vec<&str>> = shown
        .codes
        .as_ref()
        .map(|c| c.iter().map(RecoveryCode::expose).collect());
    let download = codes
        .as_ref()
        .map(|codes| codes_file(session.username(), codes));
    let on = session.two_factor() || shown.codes.is_some();
    let status = if shown.error.is_some() {
        Status::UnprocessableEntity
    } else {
        Status::Ok
    };
    let template = Template::render(
        "two_factor",
        context! {
            user: session.username(),
            csrf: csrf::session_token(session),
            flash: flash::take(jar, two_factor.config().secure_cookie()),
            on,
            codes_left: shown.codes.as_ref().map_or(session.recovery_codes_left(), |c| c.len() as i64),
            qr: shown.setup.as_ref().map(|(qr, _)| qr),
            secret: shown.setup.as_ref().map(|(_, secret)| secret),
            codes,
            download,
            just_enabled: shown.just_enabled,
            error: shown.error,
        },
    );
    Page::new(status, template)
}

/// The recovery codes as a text file, in a `data:` URL for the download link (the codes never
/// travel again: the page is their only copy).
fn codes_file(username: &str, codes: &[&str]) -> String {
    let text = format!(
        "Recovery codes of {username} on {}. Each works once, in place of an authenticator code.\n\n{}\n",
        site::get().name,
        codes.join("\n")
    );
    let encoded: String = text
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("data:text/plain;charset=utf-8,{encoded}")
}

#[get("/account/two-factor")]
async fn page(two_factor: TwoFactor<'_>, session: CookieSession<'_>, jar: &CookieJar<'_>) -> Page {
    render(two_factor, &session, jar, Shown::default()).await
}

/// To the password form, and back to this page once the session is in sudo mode.
fn to_sudo(two_factor: TwoFactor<'_>, jar: &CookieJar<'_>) -> PageOrRedirect {
    let message = "Confirm it's you to change two-factor authentication.";
    flash::set(jar, message, two_factor.config().secure_cookie());
    PageOrRedirect::Redirect(Redirect::to(sudo_uri(PAGE)))
}

/// Sudo mode, or the way to it (after the form's CSRF token is checked by its guard).
async fn in_sudo<'r>(
    two_factor: TwoFactor<'_>,
    session: &'r CookieSession<'_>,
    jar: &CookieJar<'_>,
) -> Result<Sudo<'r>, PageOrRedirect> {
    match two_factor.sudo_mode(session).await {
        Ok(sudo) => Ok(sudo),
        Err(AuthError::SudoRequired) => Err(to_sudo(two_factor, jar)),
        Err(e) => Err(PageOrRedirect::Page(Page::error(e.problem().status, None))),
    }
}

/// A failed change: the page again, or what is no fault of the form.
fn failed(e: TwoFactorError) -> PageOrRedirect {
    let page = match e {
        TwoFactorError::Db(e) => Page::from_db(e),
        _ => Page::error(
            Status::Conflict,
            Some("That changed meanwhile; look again."),
        ),
    };
    PageOrRedirect::Page(page)
}

#[post("/account/two-factor/setup", data = "<_csrf>")]
async fn setup(
    two_factor: TwoFactor<'_>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
    _csrf: CsrfChecked,
) -> PageOrRedirect {
    let sudo = match in_sudo(two_factor, &session, jar).await {
        Ok(sudo) => sudo,
        Err(away) => return away,
    };
    if let Err(e) = two_factor.begin_totp(&sudo).await {
        return failed(e);
    }
    PageOrRedirect::Redirect(Redirect::to(PAGE))
}

#[derive(FromForm)]
struct ConfirmFields {
    code: String,
}

#[post("/account/two-factor/confirm", data = "<form>")]
async fn confirm(
    two_factor: TwoFactor<'_>,
    session: CookieSession<'_>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: CheckedForm<ConfirmFields>,
) -> PageOrRedirect {
    let sudo = match in_sudo(two_factor, &session, jar).await {
        Ok(sudo) => sudo,
        Err(away) => return away,
    };
    let shown = match two_factor.confirm_totp(&sudo, &form.0.code, &client).await {
        Ok(codes) => Shown {
            codes: Some(codes),
            just_enabled: true,
            ..Shown::default()
        },
        Err(TwoFactorError::WrongCode) => Shown {
            error: Some("That code is not right. Enter the code your app shows now."),
            ..Shown::default()
        },
        Err(e) => return failed(e),
    };
    PageOrRedirect::Page(render(two_factor, &session, jar, shown).await)
}

#[post("/account/two-factor/recovery-codes", data = "<_csrf>")]
async fn replace_codes(
    two_factor: TwoFactor<'_>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
    _csrf: CsrfChecked,
) -> PageOrRedirect {
    let sudo = match in_sudo(two_factor, &session, jar).await {
        Ok(sudo) => sudo,
        Err(away) => return away,
    };
    match two_factor.replace_recovery_codes(&sudo).await {
        Ok(codes) => {
            let shown = Shown {
                codes: Some(codes),
                ..Shown::default()
            };
            PageOrRedirect::Page(render(two_factor, &session, jar, shown).await)
        }
        Err(e) => failed(e),
    }
}

#[post("/account/two-factor/disable", data = "<_csrf>")]
async fn disable(
    two_factor: TwoFactor<'_>,
    session: CookieSession<'_>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    _csrf: CsrfChecked,
) -> PageOrRedirect {
    let sudo = match in_sudo(two_factor, &session, jar).await {
        Ok(sudo) => sudo,
        Err(away) => return away,
    };
    match two_factor.disable_two_factor(&sudo, &client).await {
        Ok(()) | Err(TwoFactorError::NotOn) => {
            let message = "Two-factor authentication is off.";
            flash::set(jar, message, two_factor.config().secure_cookie());
            PageOrRedirect::Redirect(Redirect::to(PAGE))
        }
        Err(e) => failed(e),
    }
}

pub fn routes() -> Vec<rocket::Route> {
    routes![page, setup, confirm, replace_codes, disable]
}
