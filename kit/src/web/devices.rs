//! The device page: every live session of the account, and the forms that end them.

use super::account::{end_own_session, login_uri};
use super::cookie::CookieSession;
use super::csrf::{self, CsrfChecked};
use super::flash;
use super::page::{Page, HOME};
use super::view::{DeviceRow, EndedRow};
use crate::auth::Sessions;
use crate::store::sessions::{Kind, SessionView};
use crate::token::PublicId;
use rocket::http::{CookieJar, Status};
use rocket::response::Redirect;
use rocket_dyn_templates::{context, Template};

/// How many ended sessions "Recently signed out" shows.
const RECENTLY_ENDED: i64 = 10;

#[get("/sessions")]
async fn sessions_page(
    sessions: Sessions<'_>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
) -> Page {
    let listed = async {
        let live = sessions.sessions_of(&session).await?;
        let ended = sessions.ended_sessions_of(session.user_id(), RECENTLY_ENDED);
        Ok::<_, sqlx::Error>((live, ended.await?))
    };
    let (live, ended) = match listed.await {
        Ok(listed) => listed,
        Err(e) => return Page::from_db(e),
    };
    let now = sessions.clock().now();
    // Personal tokens have their own page; this one lists the sign-ins.
    let (tokens, sign_ins): (Vec<_>, Vec<_>) = live.iter().partition(|s| s.kind == Kind::Token);
    let mut rows: Vec<DeviceRow> = sign_ins.iter().map(|s| DeviceRow::new(s, now)).collect();
    // This device is in use right now, so it leads; the rest stay most recently used first.
    rows.sort_by_key(|row| !row.current);
    let others = rows.iter().filter(|row| !row.current).count();
    let ended: Vec<EndedRow> = ended.iter().filter_map(|s| EndedRow::new(s, now)).collect();
    Page::ok(Template::render(
        "sessions",
        context! {
            user: session.username(),
            csrf: csrf::session_token(&session),
            flash: flash::take(jar, sessions.config().secure_cookie()),
            rows,
            others,
            ended,
            tokens: tokens.len(),
        },
    ))
}

/// Signs the browser out, with a message for the sign-in page.
async fn sign_out(
    sessions: Sessions<'_>,
    session: &CookieSession<'_>,
    jar: &CookieJar<'_>,
) -> Result<(), Page> {
    end_own_session(sessions, session, jar).await?;
    flash::set(
        jar,
        "You have been signed out.",
        sessions.config().secure_cookie(),
    );
    Ok(())
}

/// Ends the user's session `id` if `pick` accepts it, and returns it as it was listed (to name it
/// in the message). `None` when the id is unknown, another user's (no hint that it exists),
/// refused by `pick`, or ended meanwhile.
pub(super) async fn end_listed(
    sessions: Sessions<'_>,
    session: &CookieSession<'_>,
    id: &PublicId,
    pick: impl Fn(&SessionView) -> bool,
) -> Result<Option<SessionView>, Page> {
    let id = id.as_str();
    let listed = sessions.sessions_of(session).await.map_err(Page::from_db)?;
    let Some(target) = listed.into_iter().find(|s| s.id == id && pick(s)) else {
        return Ok(None);
    };
    let ended = sessions
        .end_session(session.user_id(), id)
        .await
        .map_err(Page::from_db)?;
    Ok(ended.then_some(target))
}

#[post("/sessions/<id>/revoke", data = "<_csrf>")]
async fn revoke(
    sessions: Sessions<'_>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
    id: PublicId,
    _csrf: CsrfChecked,
) -> Result<Redirect, Page> {
    if id.as_str() == session.id() {
        sign_out(sessions, &session, jar).await?;
        return Ok(Redirect::to(login_uri(None)));
    }
    let Some(ended) = end_listed(sessions, &session, &id, |_| true).await? else {
        return Err(Page::error(
            Status::NotFound,
            Some("That session does not exist or has already ended."),
        ));
    };
    let title = DeviceRow::new(&ended, sessions.clock().now()).title();
    flash::set(
        jar,
        format!("Signed out {title}."),
        sessions.config().secure_cookie(),
    );
    Ok(Redirect::to(HOME))
}

#[post("/sessions/revoke-others", data = "<_csrf>")]
async fn revoke_others(
    sessions: Sessions<'_>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
    _csrf: CsrfChecked,
) -> Result<Redirect, Page> {
    // Personal tokens end too (as with a password change): counted before, for the message.
    let listed = sessions
        .sessions_of(&session)
        .await
        .map_err(Page::from_db)?;
    let tokens = listed.iter().filter(|s| s.kind == Kind::Token).count();
    let ended = sessions
        .end_other_sessions(session.user_id(), session.id())
        .await
        .map_err(Page::from_db)?;
    let tokens = ended.min(tokens);
    let devices = match ended - tokens {
        0 if tokens > 0 => String::new(),
        0 => "No other device was signed in.".to_string(),
        1 => "Signed out 1 other device.".to_string(),
        n => format!("Signed out {n} other devices."),
    };
    let tokens = match tokens {
        0 => String::new(),
        1 => "Your personal token has ended.".to_string(),
        n => format!("Your {n} personal tokens have ended."),
    };
    let message = format!("{devices} {tokens}").trim().to_string();
    flash::set(jar, message, sessions.config().secure_cookie());
    Ok(Redirect::to(HOME))
}

#[post("/logout", data = "<_csrf>")]
async fn logout(
    sessions: Sessions<'_>,
    session: CookieSession<'_>,
    jar: &CookieJar<'_>,
    _csrf: CsrfChecked,
) -> Result<Redirect, Page> {
    sign_out(sessions, &session, jar).await?;
    Ok(Redirect::to(login_uri(None)))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![sessions_page, revoke, revoke_others, logout]
}
