//! The pages for personal tokens, sudo mode and the password change, through Rocket's local
//! client as a browser uses them: the tokens page and its forms, the new token shown once, the
//! /sudo password check and where it returns to, and the password form.

mod common;
use common::web::*;
use common::*;

use rocket::http::{ContentType, Header, Status};
use serde_json::json;

const NEW_PASSWORD: &str = "a brand new passphrase";

// --- Helpers -----------------------------------------------------------------------------------

/// Signs up `username` through the API and in through the form (a fresh sign-in is in sudo
/// mode); returns the CSRF token of this browser's session.
async fn signed_in(app: &TestApp, username: &str) -> String {
    assert_redirect(&browser_sign_in(app, username).await, "/sessions");
    let page = get_page(app, "/tokens").await;
    assert_eq!(page.status, Status::Ok, "{}", page.text);
    csrf_of(&page.text)
}

/// The token text in the page's "copy it now" box.
fn new_token_of(html: &str) -> String {
    let start = html
        .find("<code id=\"new-token\">")
        .expect("a new-token box")
        + 21;
    let end = start + html[start..].find("</code>").unwrap();
    html[start..end].to_string()
}

/// Submits the new-token form.
async fn create_token(app: &TestApp, csrf: &str, name: &str, scopes: &[&str]) -> Reply {
    let mut fields = vec![("csrf", csrf), ("name", name), ("expires_in_days", "30")];
    fields.extend(scopes.iter().map(|s| ("scopes", *s)));
    submit(app, "/tokens", &fields).await
}

/// Creates a token through the form, asserting success; returns its text.
async fn created_token(app: &TestApp, csrf: &str, name: &str, scopes: &[&str]) -> String {
    let reply = create_token(app, csrf, name, scopes).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    new_token_of(&reply.text)
}

/// The public id of the user's personal token named `name`, from the API.
async fn token_id(app: &TestApp, api: &str, name: &str) -> String {
    let list = app.get("/api/sessions", Some(api)).await.json();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "token" && s["name"] == name)
        .expect("the token");
    entry["id"].as_str().unwrap().to_string()
}

async fn token_rows(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM sessions WHERE kind = 'token'")
        .await
}

/// An app whose sudo window is a minute, and a browser signed in whose window has passed.
async fn out_of_sudo(username: &str) -> (TestApp, String) {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let csrf = signed_in(&app, username).await;
    app.advance(61);
    (app, csrf)
}

// --- The tokens page ---------------------------------------------------------------------------

#[rocket::async_test]
async fn the_tokens_page_lists_personal_tokens_and_the_device_page_links_to_it() {
    let app = TestApp::new(build).await;
    signed_in(&app, "alice").await;
    let api = app.login("alice", PASSWORD).await;
    app.personal_token(&api, "deploy <ci>", &["profile:read", "sessions:write"])
        .await;

    let page = get_page(&app, "/tokens").await;
    assert_eq!(page.status, Status::Ok);
    let html = &page.text;
    assert_eq!(count(html, r#"<li class="session token""#), 1, "{html}");
    assert!(html.contains("deploy &lt;ci&gt;"), "the name, escaped");
    assert!(!html.contains("deploy <ci>"));
    for scope in ["profile:read", "sessions:write"] {
        assert!(html.contains(&format!(r#"<span class="badge scope">{scope}</span>"#)));
    }
    assert!(html.contains(">in 1 month</time>"), "the expiry, relative");
    assert!(html.contains("title=\"20"), "the exact expiry on hover");
    assert_eq!(count(html, "/regenerate\""), 1);
    assert_eq!(count(html, "/revoke\""), 1);
    // The form: one checkbox per declared scope, labelled with its description.
    for scope in served_scopes() {
        assert!(html.contains(&format!(r#"value="{}""#, scope.name)));
        assert!(html.contains(scope.description));
    }
    assert!(html.contains(r#"<option value="30" selected>30 days</option>"#));
    assert!(html.contains(r#"<option value="365">1 year</option>"#));

    // The device page lists sign-ins only, and links here with the count.
    let devices = get_page(&app, "/sessions").await.text;
    assert!(!devices.contains("deploy &lt;ci&gt;"), "{devices}");
    assert_eq!(count(&devices, r#"<li class="session"#), 2);
    assert!(devices.contains(r#"<a href="/tokens">Personal tokens (1)</a>"#));
    assert!(devices.contains(r#"<a href="/password">"#));
}

#[rocket::async_test]
async fn the_expiry_choices_stop_at_token_max_days() {
    let app = TestApp::with(build, json!({"token_max_days": 60})).await;
    signed_in(&app, "alice").await;
    let html = get_page(&app, "/tokens").await.text;
    assert!(html.contains(r#"<option value="7">"#));
    assert!(html.contains(r#"<option value="30" selected>"#));
    assert!(html.contains(r#"<option value="60">60 days</option>"#));
    assert!(!html.contains(r#"<option value="90">"#));
    assert!(!html.contains(r#"<option value="365">"#));
}

#[rocket::async_test]
async fn a_token_made_in_the_form_is_shown_once_and_works_within_its_scopes() {
    let app = TestApp::new(build).await;
    let csrf = signed_in(&app, "alice").await;
    let reply = create_token(&app, &csrf, "laptop script", &["profile:read"]).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    assert!(reply
        .text
        .contains("Copy it now: it will not be shown again"));
    let token = new_token_of(&reply.text);
    assert!(token.starts_with(DEFAULT_PREFIX), "{token}");
    assert_eq!(count(&reply.text, &token), 1, "shown exactly once");
    assert!(set_cookies(&reply).iter().all(|c| !c.contains(&token)));
    assert!(reply.header("Location").is_none());
    // It is listed, with its scope, in the page that shows it.
    assert_eq!(count(&reply.text, r#"<li class="session token""#), 1);

    let me = app.get("/api/me", Some(&token)).await;
    assert_eq!(me.status, Status::Ok, "{}", me.text);
    assert_eq!(me.json()["username"], "alice");
    app.get("/api/sessions", Some(&token))
        .await
        .assert_problem(403, "insufficient_scope");

    // Never again: not on the next visit, nor in a flash.
    let later = get_page(&app, "/tokens").await;
    assert!(!later.text.contains(&token));
    assert!(!later.text.contains("id=\"new-token\""));
}

#[rocket::async_test]
async fn token_forms_without_a_valid_csrf_token_change_nothing() {
    let app = TestApp::new(build).await;
    let csrf = signed_in(&app, "alice").await;
    let api = app.login("alice", PASSWORD).await;
    let (ci, _) = app.personal_token(&api, "ci", &["profile:read"]).await;
    let id = token_id(&app, &api, "ci").await;
    let fields = [("name", "x"), ("scopes", "profile:read")];
    assert_eq!(
        submit(&app, "/tokens", &fields).await.status,
        Status::Forbidden
    );
    let forged = [("csrf", "0".repeat(64)).clone()];
    let forged: Vec<(&str, &str)> = forged.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for path in [
        format!("/tokens/{id}/regenerate"),
        format!("/tokens/{id}/revoke"),
    ] {
        assert_eq!(submit(&app, &path, &[]).await.status, Status::Forbidden);
        assert_eq!(submit(&app, &path, &forged).await.status, Status::Forbidden);
    }
    assert_eq!(token_rows(&app).await, 1);
    assert_eq!(app.get("/api/me", Some(&ci)).await.status, Status::Ok);
    // The right token from another site is refused too.
    let req = as_browser(app.client.post("/tokens"))
        .header(ContentType::Form)
        .header(Header::new("Sec-Fetch-Site", "cross-site"))
        .body(form_body(&[
            ("csrf", &csrf),
            ("name", "x"),
            ("scopes", "profile:read"),
        ]));
    assert_eq!(req.dispatch().await.status(), Status::Forbidden);
    assert_eq!(token_rows(&app).await, 1);
}

#[rocket::async_test]
async fn a_refused_token_form_is_shown_again_with_the_reason_and_the_name_kept() {
    let app = TestApp::with(build, json!({"max_tokens": 1})).await;
    let csrf = signed_in(&app, "alice").await;
    let reply = create_token(&app, &csrf, "no scopes", &[]).await;
    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert!(
        reply.text.contains("Choose at least one scope."),
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains(r#"value="no scopes""#),
        "the name is kept"
    );

    let long = "n".repeat(101);
    let reply = create_token(&app, &csrf, &long, &["sessions:read"]).await;
    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert!(reply.text.contains("Name must be 1 to 100 characters."));
    assert!(
        reply.text.contains(r#"value="sessions:read" checked"#),
        "the scopes are kept"
    );
    assert_eq!(token_rows(&app).await, 0);

    created_token(&app, &csrf, "first", &["sessions:read"]).await;
    let reply = create_token(&app, &csrf, "second", &["sessions:read"]).await;
    assert_eq!(reply.status, Status::Conflict);
    assert!(reply.text.contains("as many as allowed"), "{}", reply.text);
    assert!(!reply.text.contains("id=\"new-token\""));
    assert_eq!(token_rows(&app).await, 1);
}

#[rocket::async_test]
async fn an_expiry_that_is_not_a_choice_is_refused_as_the_api_refuses_it() {
    let app = TestApp::new(build).await;
    let csrf = signed_in(&app, "alice").await;
    let api = app.login("alice", PASSWORD).await;
    for days in ["-1", "99999999999", "0", "366", "1.5", "thirty"] {
        let fields = [
            ("csrf", csrf.as_str()),
            ("name", "deploy"),
            ("scopes", "sessions:read"),
            ("expires_in_days", days),
        ];
        let reply = submit(&app, "/tokens", &fields).await;
        assert_eq!(reply.status, Status::UnprocessableEntity, "{days}");
        assert!(
            reply.text.contains("Choose an expiry from the list."),
            "{days}: {}",
            reply.text
        );
        assert!(reply.text.contains(r#"value="deploy""#), "the name is kept");
        assert!(!reply.text.contains("id=\"new-token\""), "{days}");
        // The API refuses the same values.
        let body =
            format!(r#"{{"name":"deploy","scopes":["sessions:read"],"expires_in_days":{days}}}"#);
        let days_json: Result<serde_json::Value, _> = serde_json::from_str(&body);
        if let Ok(body) = days_json {
            let reply = app.post("/api/tokens", Some(&api), body).await;
            assert_eq!(reply.status, Status::UnprocessableEntity, "{days}");
        }
    }
    assert_eq!(token_rows(&app).await, 0);
    // Left out, the expiry is the default.
    let fields = [
        ("csrf", csrf.as_str()),
        ("name", "deploy"),
        ("scopes", "sessions:read"),
    ];
    assert_eq!(submit(&app, "/tokens", &fields).await.status, Status::Ok);
    assert_eq!(token_rows(&app).await, 1);
}

// --- Sudo ----------------------------------------------------------------------------------------

#[rocket::async_test]
async fn out_of_sudo_mode_the_token_forms_lead_to_the_password_check() {
    let (app, csrf) = out_of_sudo("alice").await;
    let api = app.login("alice", PASSWORD).await;
    let (ci, _) = app.personal_token(&api, "ci", &["profile:read"]).await;
    let id = token_id(&app, &api, "ci").await;

    let page = get_page(&app, "/tokens").await;
    assert_eq!(page.status, Status::Ok);
    assert!(
        page.text.contains(r#"href="/sudo?next=%2Ftokens""#),
        "{}",
        page.text
    );
    assert!(page.text.contains("Confirm your password to create tokens"));
    assert!(
        !page.text.contains(r#"action="/tokens""#),
        "no form out of sudo"
    );

    let reply = create_token(&app, &csrf, "sneaky", &["profile:read"]).await;
    assert_redirect(&reply, "/sudo?next=%2Ftokens");
    let path = format!("/tokens/{id}/regenerate");
    assert_redirect(
        &submit(&app, &path, &[("csrf", &csrf)]).await,
        "/sudo?next=%2Ftokens",
    );
    assert_eq!(token_rows(&app).await, 1);
    assert_eq!(
        app.get("/api/me", Some(&ci)).await.status,
        Status::Ok,
        "not regenerated"
    );
    let sudo = get_page(&app, "/sudo?next=%2Ftokens").await;
    assert!(sudo
        .text
        .contains("Confirm your password to create or regenerate"));

    // Revoking never needs sudo.
    let path = format!("/tokens/{id}/revoke");
    assert_redirect(&submit(&app, &path, &[("csrf", &csrf)]).await, "/tokens");
    assert_eq!(token_rows(&app).await, 0);
}

#[rocket::async_test]
async fn the_sudo_form_elevates_the_same_session_and_returns_to_next() {
    let (app, csrf) = out_of_sudo("alice").await;
    let cookie = session_cookie(&app).expect("a session cookie");
    let sessions = app.session_count().await;

    let page = get_page(&app, "/sudo?next=%2Ftokens").await;
    assert_eq!(page.status, Status::Ok);
    assert!(
        page.text.contains("Confirm it's you, alice"),
        "{}",
        page.text
    );
    assert!(page.text.contains(r#"name="next" value="&#x2f;tokens""#));
    assert!(page.text.contains(r#"type="password""#));

    let fields = [
        ("csrf", csrf.as_str()),
        ("password", PASSWORD),
        ("next", "/tokens"),
    ];
    let reply = submit(&app, "/sudo", &fields).await;
    assert_redirect(&reply, "/tokens");
    assert!(!reply.header("Location").unwrap().contains(PASSWORD));
    assert!(
        set_cookies(&reply)
            .iter()
            .all(|c| !c.starts_with(SESSION_COOKIE)),
        "no new cookie"
    );
    assert_eq!(session_cookie(&app), Some(cookie));
    assert_eq!(app.session_count().await, sessions, "no new session row");

    let page = get_page(&app, "/tokens").await;
    assert!(
        page.text.contains(r#"action="/tokens""#),
        "the form is back"
    );
    assert!(page
        .text
        .contains("Password confirmed. It will not be asked again for 1 minute."));
    created_token(&app, &csrf, "after sudo", &["profile:read"]).await;
}

#[rocket::async_test]
async fn sudo_never_returns_to_another_site() {
    let (app, csrf) = out_of_sudo("alice").await;
    for next in [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "evil.example",
        "",
    ] {
        let fields = [
            ("csrf", csrf.as_str()),
            ("password", PASSWORD),
            ("next", next),
        ];
        assert_redirect(&submit(&app, "/sudo", &fields).await, "/sessions");
        // Nor does the form carry it along.
        let page = get_page(&app, &format!("/sudo?next={}", encode(next))).await;
        assert!(
            !page.text.contains("name=\"next\""),
            "{next}: {}",
            page.text
        );
    }
}

#[rocket::async_test]
async fn a_wrong_sudo_password_counts_toward_the_login_throttle() {
    let app = TestApp::with(build, json!({"sudo_window": 60, "login_max_failures": 3})).await;
    let csrf = signed_in(&app, "alice").await;
    app.advance(61);
    for _ in 0..3 {
        let fields = [
            ("csrf", csrf.as_str()),
            ("password", "wrong guess"),
            ("next", "/tokens"),
        ];
        let reply = submit(&app, "/sudo", &fields).await;
        assert_eq!(reply.status, Status::UnprocessableEntity, "{}", reply.text);
        assert_eq!(count(&reply.text, r#"class="alert""#), 1);
        assert!(reply.text.contains("Incorrect password."));
        assert!(
            !reply.text.contains("wrong guess"),
            "the password is never shown"
        );
    }
    let fields = [
        ("csrf", csrf.as_str()),
        ("password", PASSWORD),
        ("next", "/tokens"),
    ];
    let reply = submit(&app, "/sudo", &fields).await;
    assert_eq!(reply.status, Status::TooManyRequests, "{}", reply.text);
    assert!(reply.header("Retry-After").is_some());
    assert!(reply.text.contains("Try again in"), "{}", reply.text);
    // Still not in sudo mode; and the API sign-in is throttled alike.
    let page = get_page(&app, "/tokens").await;
    assert!(!page.text.contains(r#"action="/tokens""#));
    assert_eq!(app.try_login("alice", PASSWORD).await.status.code, 429);
}

// --- Regenerate and revoke ---------------------------------------------------------------------

#[rocket::async_test]
async fn regenerating_from_the_page_shows_a_new_secret_and_refuses_the_old() {
    let app = TestApp::new(build).await;
    let csrf = signed_in(&app, "alice").await;
    let old = created_token(&app, &csrf, "ci", &["profile:read"]).await;
    let api = app.login("alice", PASSWORD).await;
    let id = token_id(&app, &api, "ci").await;

    let reply = submit(
        &app,
        &format!("/tokens/{id}/regenerate"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    let new = new_token_of(&reply.text);
    assert_ne!(new, old);
    assert_eq!(count(&reply.text, &new), 1);
    assert!(reply.text.contains("The old secret no longer works."));
    assert!(set_cookies(&reply).iter().all(|c| !c.contains(&new)));
    app.get("/api/me", Some(&old))
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(app.get("/api/me", Some(&new)).await.status, Status::Ok);
    assert_eq!(token_id(&app, &api, "ci").await, id, "the same token");

    // An unknown id, or a sign-in session's, is 404.
    let browser_id = {
        let list = app.get("/api/sessions", Some(&api)).await.json();
        let browser = list
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == "browser");
        browser.unwrap()["id"].as_str().unwrap().to_string()
    };
    let mallory = app.user_token("mallory").await;
    let (theirs, _) = app
        .personal_token(&mallory, "theirs", &["profile:read"])
        .await;
    let theirs_id = token_id(&app, &mallory, "theirs").await;
    for id in ["AAAAAAAAAAAAAAAAAAAAAA", &browser_id, &theirs_id, "junk"] {
        let reply = submit(
            &app,
            &format!("/tokens/{id}/regenerate"),
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(reply.status, Status::NotFound, "{id}");
    }
    assert_eq!(
        app.get("/api/me", Some(&theirs)).await.status,
        Status::Ok,
        "untouched"
    );
}

#[rocket::async_test]
async fn revoking_a_token_from_the_page_ends_it_and_only_tokens_of_this_user() {
    let app = TestApp::new(build).await;
    let csrf = signed_in(&app, "alice").await;
    let token = created_token(&app, &csrf, "ci <1>", &["profile:read"]).await;
    let api = app.login("alice", PASSWORD).await;
    let id = token_id(&app, &api, "ci <1>").await;
    // Mallory's token, and Alice's own API sign-in, are out of this form's reach.
    let mallory = app.user_token("mallory").await;
    app.personal_token(&mallory, "theirs", &["profile:read"])
        .await;
    let theirs = token_id(&app, &mallory, "theirs").await;
    let api_id = {
        let list = app.get("/api/sessions", Some(&api)).await.json();
        let current = list
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == true);
        current.unwrap()["id"].as_str().unwrap().to_string()
    };
    for other in [&theirs, &api_id] {
        let reply = submit(&app, &format!("/tokens/{other}/revoke"), &[("csrf", &csrf)]).await;
        assert_eq!(reply.status, Status::NotFound);
    }
    assert_eq!(token_rows(&app).await, 2);
    assert_eq!(app.get("/api/me", Some(&api)).await.status, Status::Ok);

    let reply = submit(&app, &format!("/tokens/{id}/revoke"), &[("csrf", &csrf)]).await;
    assert_redirect(&reply, "/tokens");
    app.get("/api/me", Some(&token))
        .await
        .assert_problem(401, "invalid_token");
    let page = get_page(&app, "/tokens").await;
    assert!(
        page.text.contains("Revoked token ci &lt;1&gt;."),
        "{}",
        page.text
    );
    assert!(page.text.contains("You have no personal tokens."));
    assert_eq!(token_rows(&app).await, 1);
}

#[rocket::async_test]
async fn signing_out_other_devices_says_that_personal_tokens_end_too() {
    let app = TestApp::new(build).await;
    let csrf = signed_in(&app, "alice").await;
    let ci = created_token(&app, &csrf, "ci", &["profile:read"]).await;
    let api = app.login("alice", PASSWORD).await;
    let page = get_page(&app, "/sessions").await.text;
    assert!(page.contains("your personal tokens stop working"), "{page}");
    let reply = submit(&app, "/sessions/revoke-others", &[("csrf", &csrf)]).await;
    assert_redirect(&reply, "/sessions");
    let page = get_page(&app, "/sessions").await.text;
    assert!(
        page.contains("Signed out 1 other device. Your personal token has ended."),
        "{page}"
    );
    for token in [ci, api] {
        assert_eq!(
            app.get("/api/me", Some(&token)).await.status,
            Status::Unauthorized
        );
    }
}

// --- The password change -----------------------------------------------------------------------

async fn change_password(
    app: &TestApp,
    csrf: &str,
    current: &str,
    new: &str,
    again: &str,
) -> Reply {
    let fields = [
        ("csrf", csrf),
        ("current", current),
        ("password", new),
        ("confirm", again),
    ];
    submit(app, "/password", &fields).await
}

#[rocket::async_test]
async fn changing_the_password_ends_every_other_session_and_token_but_not_this_browser() {
    let app = TestApp::new(build).await;
    let csrf = signed_in(&app, "alice").await;
    let ci = created_token(&app, &csrf, "ci", &["profile:read"]).await;
    let api = app.login("alice", PASSWORD).await;
    let cookie = session_cookie(&app);

    let page = get_page(&app, "/password").await;
    assert_eq!(page.status, Status::Ok);
    assert!(page
        .text
        .contains("This signs you out on every other device and ends your personal tokens."));
    for label in [r#"for="current""#, r#"for="password""#, r#"for="confirm""#] {
        assert!(page.text.contains(label), "{label}");
    }

    let reply = change_password(&app, &csrf, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_redirect(&reply, "/sessions");
    for token in [&ci, &api] {
        app.get("/api/me", Some(token))
            .await
            .assert_problem(401, "invalid_token");
    }
    let page = get_page(&app, "/sessions").await;
    assert_eq!(page.status, Status::Ok, "this browser stays signed in");
    assert_eq!(session_cookie(&app), cookie);
    assert!(
        page.text
            .contains("Password changed. 2 other sessions ended, personal tokens included."),
        "{}",
        page.text
    );
    assert_eq!(app.session_count().await, 1);
    assert_eq!(app.try_login("alice", PASSWORD).await.status.code, 401);
    app.login("alice", NEW_PASSWORD).await;
}

#[rocket::async_test]
async fn a_refused_password_change_shows_why_and_changes_nothing() {
    let app = TestApp::new(build).await;
    let csrf = signed_in(&app, "alice").await;
    let api = app.login("alice", PASSWORD).await;
    let cases = [
        (
            "wrong current",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "Incorrect current password.",
        ),
        (
            PASSWORD,
            NEW_PASSWORD,
            "something else",
            "The new passwords do not match.",
        ),
        (PASSWORD, "short", "short", "at least 8"),
    ];
    for (current, new, again, message) in cases {
        let reply = change_password(&app, &csrf, current, new, again).await;
        assert_eq!(reply.status, Status::UnprocessableEntity, "{message}");
        assert!(reply.text.contains(message), "{message}: {}", reply.text);
        assert!(!reply.text.contains(NEW_PASSWORD) && !reply.text.contains(PASSWORD));
    }
    assert_eq!(app.get("/api/me", Some(&api)).await.status, Status::Ok);
    app.login("alice", PASSWORD).await;
    // Without the CSRF token, nothing either.
    let fields = [
        ("current", PASSWORD),
        ("password", NEW_PASSWORD),
        ("confirm", NEW_PASSWORD),
    ];
    assert_eq!(
        submit(&app, "/password", &fields).await.status,
        Status::Forbidden
    );
    app.login("alice", PASSWORD).await;
}

#[rocket::async_test]
async fn a_throttled_password_change_is_429() {
    let app = TestApp::with(build, json!({"login_max_failures": 2})).await;
    let csrf = signed_in(&app, "alice").await;
    for _ in 0..2 {
        let reply = change_password(&app, &csrf, "wrong", NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(reply.status, Status::UnprocessableEntity);
    }
    let reply = change_password(&app, &csrf, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(reply.status, Status::TooManyRequests, "{}", reply.text);
    assert!(reply.header("Retry-After").is_some());
    assert!(reply
        .text
        .contains("Too many wrong passwords. Try again in"));
    assert_eq!(
        app.try_login("alice", NEW_PASSWORD).await.status.code,
        429,
        "unchanged"
    );
}

#[rocket::async_test]
async fn a_malformed_id_in_a_form_path_is_the_not_found_page() {
    let app = TestApp::new(build).await;
    let csrf = signed_in(&app, "alice").await;
    created_token(&app, &csrf, "ci", &["profile:read"]).await;
    for path in [
        "/tokens/nope/regenerate",
        "/tokens/nope/revoke",
        "/sessions/nope/revoke",
        "/tokens/AAAAAAAAAAAAAAAAAAAAAAA/regenerate",
    ] {
        let reply = submit(&app, path, &[("csrf", &csrf)]).await;
        assert_eq!(reply.status, Status::NotFound, "{path}: {}", reply.text);
        assert!(reply.text.contains("<html"), "{path}: {}", reply.text);
    }
    assert_eq!(token_rows(&app).await, 1);
    assert_eq!(get_page(&app, "/tokens").await.status, Status::Ok);
}
