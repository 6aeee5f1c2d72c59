//! Two-factor in the browser: set up on the account page (QR code as inline SVG, the key as
//! text, recovery codes shown once with a download), then sign in through the login form's second
//! step, which holds the half-done sign-in server-side for `mfa_pending_lifetime` and for this
//! browser only.

mod common;
use common::web::*;
use common::*;
use rocket::http::Status;
use session_kit::two_factor::TotpSecret;

const PENDING_COOKIE: &str = "kit_test_session_2fa";

/// The text between `start` and the next `end` in `html`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).expect(start) + start.len();
    &html[from..from + html[from..].find(end).expect(end)]
}

/// A browser signed in as alice, who turns two-factor on through the pages; answers the secret
/// and the page that shows the recovery codes.
async fn enabled_in_browser(app: &TestApp) -> (TotpSecret, Reply) {
    assert_redirect(&browser_sign_in(app, "alice").await, "/sessions");
    let page = get_page(app, "/account/two-factor").await;
    assert!(
        page.text.contains("Set up two-factor authentication"),
        "{}",
        page.text
    );
    let csrf = csrf_of(&page.text);
    let started = submit(app, "/account/two-factor/setup", &[("csrf", &csrf)]).await;
    assert_redirect(&started, "/account/two-factor");
    let page = get_page(app, "/account/two-factor").await;
    assert!(page.text.contains("<svg viewBox=\"0 0 "), "{}", page.text);
    let secret = between(&page.text, "<code class=\"secret-key\">", "</code>");
    let secret = TotpSecret::from_base32(secret).expect("the key as text");
    let code = app.code_now(&secret);
    let confirmed = submit(
        app,
        "/account/two-factor/confirm",
        &[("csrf", &csrf), ("code", &code)],
    )
    .await;
    assert_eq!(confirmed.status, Status::Ok, "{}", confirmed.text);
    (secret, confirmed)
}

/// Signs the browser out through its Sign out button.
async fn sign_out(app: &TestApp) {
    let page = get_page(app, "/sessions").await;
    let out = submit(app, "/logout", &[("csrf", &csrf_of(&page.text))]).await;
    assert_eq!(out.status, Status::SeeOther);
    assert_eq!(session_cookie(app), None);
}

/// The sign-in form's first step, with the right password.
async fn first_step(app: &TestApp) -> Reply {
    let form = get_page(app, "/login").await;
    let fields = [
        ("csrf", csrf_of(&form.text)),
        ("username", "alice".into()),
        ("password", PASSWORD.into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    submit(app, "/login", &fields).await
}

/// The second step's form, answered with `code`.
async fn second_step(app: &TestApp, code: &str) -> Reply {
    let form = get_page(app, "/login/two-factor").await;
    let csrf = match form.status {
        Status::Ok => csrf_of(&form.text),
        _ => csrf_of(&get_page(app, "/login").await.text),
    };
    submit(app, "/login/two-factor", &[("csrf", &csrf), ("code", code)]).await
}

#[rocket::async_test]
async fn the_account_page_sets_two_factor_up_and_shows_the_codes_once() {
    let app = TestApp::new(build).await;
    let (_, confirmed) = enabled_in_browser(&app).await;
    let codes: Vec<&str> = confirmed
        .text
        .match_indices("<li><code>")
        .map(|(i, _)| between(&confirmed.text[i..], "<li><code>", "</code>"))
        .collect();
    assert_eq!(codes.len(), 10);
    // The href is HTML-escaped (`/` as `&#x2f;`), as every value on the page is.
    assert!(
        confirmed.text.contains("href=\"data:text"),
        "{}",
        confirmed.text
    );
    assert!(confirmed
        .text
        .contains("download=\"kit-test-recovery-codes.txt\""));
    assert!(confirmed.text.contains("Sign out all other devices"));
    let csp = confirmed.header("Content-Security-Policy").unwrap();
    assert_eq!(
        csp,
        get_page(&app, "/sessions")
            .await
            .header("Content-Security-Policy")
            .unwrap()
    );
    assert!(!confirmed.text.contains("<script"));

    // Shown once: the page now says on, with the count, and no code.
    let page = get_page(&app, "/account/two-factor").await;
    assert!(page.text.contains("10 unused"), "{}", page.text);
    assert!(!codes.iter().any(|code| page.text.contains(code)));
    let sessions = get_page(&app, "/sessions").await;
    assert!(sessions.text.contains("href=\"/account/two-factor\""));
}

#[rocket::async_test]
async fn the_login_form_asks_for_the_code_on_a_second_step() {
    let app = TestApp::new(build).await;
    let (secret, _) = enabled_in_browser(&app).await;
    sign_out(&app).await;

    let step = first_step(&app).await;
    assert_redirect(&step, "/login/two-factor");
    assert_eq!(session_cookie(&app), None);
    let pending = set_cookie(&step, PENDING_COOKIE).expect("the pending cookie");
    assert!(
        pending.contains("HttpOnly") && pending.contains("SameSite=Strict"),
        "{pending}"
    );
    assert!(!pending.contains(PASSWORD) && !step.header("Location").unwrap().contains("alice"));

    let wrong = second_step(&app, &app.code_in(&secret, 4)).await;
    assert_eq!(wrong.status, Status::UnprocessableEntity, "{}", wrong.text);
    assert!(wrong.text.contains("That code is not right."));
    assert_eq!(session_cookie(&app), None);

    app.next_step();
    let done = second_step(&app, &app.code_now(&secret)).await;
    assert_redirect(&done, "/sessions");
    assert!(session_cookie(&app).is_some());
    let devices = get_page(&app, "/sessions").await;
    assert!(
        devices
            .text
            .contains("<span class=\"badge mfa\">Two-factor</span>"),
        "{}",
        devices.text
    );
    // Finished: the handle holds nothing more.
    assert_redirect(&get_page(&app, "/login/two-factor").await, "/login");
}

#[rocket::async_test]
async fn a_half_done_sign_in_expires_and_belongs_to_its_browser() {
    let app = TestApp::with(build, json!({"mfa_pending_lifetime": 60})).await;
    let (secret, codes) = enabled_in_browser(&app).await;
    let recovery: Vec<&str> = vec![between(&codes.text, "<li><code>", "</code>")];
    sign_out(&app).await;

    assert_redirect(&first_step(&app).await, "/login/two-factor");
    // Another browser (a client with no cookie of this one) gets nowhere with its own handle.
    let other = app.another_instance().await;
    let tried = second_step(&other, &app.code_now(&secret)).await;
    assert_redirect(&tried, "/login");
    assert_eq!(session_cookie(&other), None);

    app.advance(61);
    let late = second_step(&app, recovery[0]).await;
    assert_redirect(&late, "/login");
    assert_eq!(session_cookie(&app), None);
    let page = get_page(&app, "/login/two-factor").await;
    assert_redirect(&page, "/login");
}

#[rocket::async_test]
async fn cancel_drops_the_half_done_sign_in_at_once() {
    let app = TestApp::new(build).await;
    let (secret, _) = enabled_in_browser(&app).await;
    sign_out(&app).await;
    assert_redirect(&first_step(&app).await, "/login/two-factor");
    let held = "SELECT COUNT(*) FROM mfa_pending";
    assert_eq!(app.count(held).await, 1);

    let page = get_page(&app, "/login/two-factor?next=/tokens").await;
    assert!(page.text.contains("Cancel this sign-in"), "{}", page.text);
    let csrf = csrf_of(&page.text);
    let fields = [("csrf", csrf.as_str()), ("next", "/tokens")];
    let cancelled = submit(&app, "/login/two-factor/cancel", &fields).await;
    assert_redirect(&cancelled, "/login?next=%2Ftokens");
    assert_eq!(app.count(held).await, 0, "the held sign-in is gone");
    // A right code, from this browser, no longer finishes it.
    let late = second_step(&app, &app.code_now(&secret)).await;
    assert_redirect(&late, "/login");
    assert_eq!(session_cookie(&app), None);
    // Without its form's CSRF token, nothing is cancelled.
    assert_redirect(&first_step(&app).await, "/login/two-factor");
    let forged = submit(&app, "/login/two-factor/cancel", &[("next", "/tokens")]).await;
    assert_eq!(forged.status, Status::Forbidden, "{}", forged.text);
    assert_eq!(app.count(held).await, 1);
}

#[rocket::async_test]
async fn the_sudo_form_takes_a_code() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let (secret, _) = enabled_in_browser(&app).await;
    app.advance(61);
    let page = get_page(&app, "/account/two-factor").await;
    let csrf = csrf_of(&page.text);
    let off = submit(&app, "/account/two-factor/disable", &[("csrf", &csrf)]).await;
    assert_redirect(&off, "/sudo?next=%2Faccount%2Ftwo-factor");
    let form = get_page(&app, "/sudo?next=/account/two-factor").await;
    assert!(form.text.contains("name=\"code\""), "{}", form.text);
    app.next_step();
    let code = app.code_now(&secret);
    let fields = [
        ("csrf", csrf.as_str()),
        ("code", code.as_str()),
        ("next", "/account/two-factor"),
    ];
    assert_redirect(&submit(&app, "/sudo", &fields).await, "/account/two-factor");
    let off = submit(&app, "/account/two-factor/disable", &[("csrf", &csrf)]).await;
    assert_redirect(&off, "/account/two-factor");
    let page = get_page(&app, "/account/two-factor").await;
    assert!(
        page.text.contains("Two-factor authentication is off."),
        "{}",
        page.text
    );
}
