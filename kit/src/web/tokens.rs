//! The personal tokens page: the account's tokens for scripts and CI, and the forms that make,
//! regenerate and revoke them.
//!
//! A new token's text is shown once, in the page that answers the form (200, and like every page
//! `Cache-Control: no-store`): never in a URL, a cookie, a flash message or a log. Making and
//! regenerating need sudo mode, so out of it the form leads to /sudo; revoking never does.

use super::cookie::CookieSession;
use super::csrf::{self, CheckedForm, CsrfChecked};
use super::devices::end_listed;
use super::flash;
use super::page::{sentence, Page, PageOrRedirect};
use super::sudo::sudo_uri;
use super::view::TokenRow;
use crate::auth::ClientInfo;
use crate::auth::{AuthError, Sessions, SignInError, TokenError, TokenRequest, Tokens};
use crate::config::AuthConfig;
use crate::scopes;
use crate::store::sessions::{Kind, SessionView};
use crate::token::{PublicId, Token};
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket_dyn_templates::{context, Template};
use serde::Serialize;

/// This page.
const TOKENS: &str = "/tokens";

/// The expiry choices: those up to `token_max_days`, and `token_max_days` itself.
const DAY_CHOICES: [u32; 4] = [7, 30, 90, 365];

/// What the form held, kept when it is shown again after an error.
#[derive(Default)]
struct Draft {
    name: String,
    scopes: Vec<String>,
    days: Option<u32>,
}

/// A token just made or regenerated: its text, shown this once.
#[derive(Serialize)]
struct Fresh {
    name: String,
    token: String,
    regenerated: bool,
}

/// What the page shows besides the list of tokens.
enum Shown {
    /// The form, empty.
    Blank,
    /// A token just made or regenerated, with an empty form.
    Fresh(Fresh),
    /// The form again after a refusal: the status, why, and what it held.
    Refused(Status, String, Draft),
}

impl Fresh {
    fn new(token: &Token, name: Option<String>, regenerated: bool) -> Fresh {
        Fresh {
            name: name.unwrap_or_default(),
            token: token.expose().to_string(),
            regenerated,
        }
    }
}

#[derive(Serialize)]
struct ScopeChoice {
    name: &'static str,
    description: &'static str,
    checked: bool,
}

#[derive(Serialize)]
struct DayChoice {
    days: u32,
    label: String,
    selected: bool,
}

fn day_choices(config: &AuthConfig, chosen: Option<u32>) -> Vec<DayChoice> {
    let max = config.token_max_days;
    let chosen = chosen.unwrap_or(config.default_token_days());
    let mut days: Vec<u32> = DAY_CHOICES.into_iter().filter(|d| *d <= max).collect();
    if !days.contains(&max) {
        days.push(max);
    }
    days.into_iter()
        .map(|days| DayChoice {
            days,
            label: match days {
                365 => "1 year".to_string(),
                1 => "1 day".to_string(),
                n => format!("{n} days"),
            },
            selected: days == chosen,
        })
        .collect()
}

/// The tokens page, with what the last form left: a new token to show, or an error.
async fn render(
    tokens: Tokens<'_>,
    sessions: Sessions<'_>,
    session: &CookieSession<'_>,
    jar: &CookieJar<'_>,
    shown: Shown,
) -> Page {
    let (status, fresh, error, draft) = match shown {
        Shown::Blank => (Status::Ok, None, None, Draft::default()),
        Shown::Fresh(fresh) => (Status::Ok, Some(fresh), None, Draft::default()),
        Shown::Refused(status, error, draft) => (status, None, Some(error), draft),
    };
    let in_sudo = match tokens.sudo_mode(session).await {
        Ok(_) => true,
        Err(AuthError::Unavailable) => return Page::error(Status::ServiceUnavailable, None),
        Err(AuthError::Fault(_)) => return Page::error(Status::InternalServerError, None),
        Err(_) => false,
    };
    let listed = match sessions.sessions_of(session).await {
        Ok(listed) => listed,
        Err(e) => return Page::from_db(e),
    };
    let now = sessions.clock().now();
    let rows: Vec<TokenRow> = listed
        .iter()
        .filter(|s| s.kind == Kind::Token)
        .map(|s| TokenRow::new(s, now))
        .collect();
    let scopes: Vec<ScopeChoice> = scopes::registered()
        .iter()
        .map(|s| ScopeChoice {
            name: s.name,
            description: s.description,
            checked: draft.scopes.iter().any(|chosen| chosen == s.name),
        })
        .collect();
    let template = Template::render(
        "tokens",
        context! {
            user: session.username(),
            csrf: csrf::session_token(session),
            flash: flash::take(jar, tokens.config().secure_cookie()),
            rows,
            fresh,
            error,
            in_sudo,
            name: draft.name.trim(),
            scopes,
            days: day_choices(tokens.config(), draft.days),
            at_limit: at_token_limit(tokens.config(), &listed),
        },
    );
    Page::new(status, template)
}

/// Whether the account has as many live tokens as `max_tokens` allows.
fn at_token_limit(config: &AuthConfig, sessions: &[SessionView]) -> bool {
    let live = sessions.iter().filter(|s| s.kind == Kind::Token).count();
    live >= config.max_tokens as usize
}

#[get("/tokens")]
async fn tokens_page(
    tokens: Tokens<'_>,
    sessions: Sessions<'_>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
) -> Page {
    render(tokens, sessions, &session, jar, Shown::Blank).await
}

/// To the password form, and back here once the session is in sudo mode.
fn to_sudo(config: &AuthConfig, jar: &CookieJar<'_>) -> PageOrRedirect {
    flash::set(
        jar,
        "Confirm your password to create or regenerate personal tokens.",
        config.secure_cookie(),
    );
    PageOrRedirect::Redirect(Redirect::to(sudo_uri(TOKENS)))
}

/// The form's wording for what the token rules refuse (they speak of the API's fields).
fn form_message(msg: &str) -> String {
    if msg.starts_with("scopes") {
        "Choose at least one scope.".into()
    } else if msg.starts_with("expires_in_days") {
        "Choose an expiry from the list.".into()
    } else if msg.starts_with("unknown scope") {
        "Choose scopes from the list.".into()
    } else {
        sentence(msg)
    }
}

/// The page for an error that is not the form's (the database, the password queue).
fn failure(e: TokenError) -> Page {
    match e {
        TokenError::Password(SignInError::Db(e)) => Page::from_db(e),
        TokenError::Password(SignInError::Busy) => Page::busy(),
        TokenError::Refused(AuthError::Unavailable) => {
            Page::error(Status::ServiceUnavailable, None)
        }
        TokenError::Refused(_) => Page::error(Status::Forbidden, None),
        _ => Page::error(Status::InternalServerError, None),
    }
}

#[derive(FromForm)]
struct NewTokenFields {
    name: String,
    scopes: Vec<String>,
    /// Text, not a number: Rocket reads a malformed `Option<u32>` (`-1`, `99999999999`) as
    /// missing, which would quietly give the default expiry instead of refusing it.
    expires_in_days: Option<String>,
}

/// The expiry the form asks for: `Ok(None)` when it asks for none (the default), `Err` when it is
/// not a number of days at all. The range is checked with the other token rules.
fn chosen_days(field: Option<&str>) -> Result<Option<u32>, ()> {
    match field.map(str::trim) {
        None | Some("") => Ok(None),
        Some(days) => days.parse().map(Some).map_err(|_| ()),
    }
}

#[post("/tokens", data = "<form>")]
async fn create(
    tokens: Tokens<'_>,
    sessions: Sessions<'_>,
    session: CookieSession<'_>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    form: CheckedForm<NewTokenFields>,
) -> PageOrRedirect {
    let NewTokenFields {
        name,
        scopes,
        expires_in_days,
    } = form.0;
    let days = chosen_days(expires_in_days.as_deref());
    let draft = Draft {
        name: name.clone(),
        scopes: scopes.clone(),
        days: days.ok().flatten(),
    };
    // Sudo mode first, as the API's guard checks it (the form carries no password): out of it,
    // the form leads to the password check. Checked here, after the form's CSRF token.
    let created = match (tokens.sudo_mode(&session).await, days) {
        (Err(e), _) => Err(TokenError::Refused(e)),
        (Ok(sudo), Ok(expires_in_days)) => {
            let request = TokenRequest {
                name,
                scopes,
                expires_in_days,
            };
            tokens.create_token(sudo.proof(), request, &client).await
        }
        // Refused as the rules refuse a number out of range.
        (Ok(_), Err(())) => Err(TokenError::Invalid(
            "expires_in_days must be a number of days".into(),
        )),
    };
    let (status, error) = match created {
        Ok((token, created)) => {
            let fresh = Shown::Fresh(Fresh::new(&token, created.name, false));
            return PageOrRedirect::Page(render(tokens, sessions, &session, jar, fresh).await);
        }
        Err(TokenError::Refused(AuthError::SudoRequired)) => return to_sudo(tokens.config(), jar),
        Err(TokenError::Invalid(msg)) => (Status::UnprocessableEntity, form_message(&msg)),
        Err(TokenError::TooMany) => (
            Status::Conflict,
            format!(
                "You already have {} personal tokens, as many as allowed. Revoke one you no \
                 longer use, then try again.",
                tokens.config().max_tokens
            ),
        ),
        Err(e) => return PageOrRedirect::Page(failure(e)),
    };
    let refused = Shown::Refused(status, error, draft);
    PageOrRedirect::Page(render(tokens, sessions, &session, jar, refused).await)
}

#[post("/tokens/<id>/regenerate", data = "<_csrf>")]
async fn regenerate(
    tokens: Tokens<'_>,
    sessions: Sessions<'_>,
    session: CookieSession<'_>,
    client: ClientInfo,
    jar: &CookieJar<'_>,
    id: PublicId,
    _csrf: CsrfChecked,
) -> PageOrRedirect {
    let sudo = match tokens.sudo_mode(&session).await {
        Ok(sudo) => sudo,
        Err(AuthError::SudoRequired) => return to_sudo(tokens.config(), jar),
        Err(e) => return PageOrRedirect::Page(failure(TokenError::Refused(e))),
    };
    match tokens.regenerate_token(&sudo, &id, &client).await {
        Ok(Some((token, regenerated))) => {
            let fresh = Shown::Fresh(Fresh::new(&token, regenerated.name, true));
            PageOrRedirect::Page(render(tokens, sessions, &session, jar, fresh).await)
        }
        Ok(None) => PageOrRedirect::Page(gone()),
        Err(e) => PageOrRedirect::Page(failure(e)),
    }
}

fn gone() -> Page {
    Page::error(
        Status::NotFound,
        Some("That token does not exist or has already ended."),
    )
}

#[post("/tokens/<id>/revoke", data = "<_csrf>")]
async fn revoke(
    sessions: Sessions<'_>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
    id: PublicId,
    _csrf: CsrfChecked,
) -> Result<Redirect, Page> {
    // Only a token of this user: another user's id, or a sign-in session, is 404 here.
    let Some(ended) = end_listed(sessions, &session, &id, |s| s.kind == Kind::Token).await? else {
        return Err(gone());
    };
    let name = ended.name.unwrap_or_default();
    flash::set(
        jar,
        format!("Revoked token {name}."),
        sessions.config().secure_cookie(),
    );
    Ok(Redirect::to(TOKENS))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![tokens_page, create, regenerate, revoke]
}
