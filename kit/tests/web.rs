//! The HTML pages through Rocket's local client: every page and action, CSRF and IDOR
//! attempts, the session cookie's flags and life, escaping, and the headers on every response.
//!
//! The client is "tracked": like a browser, it keeps the cookies that responses set and sends
//! them back. Requests from other devices use API tokens, which the pages list alongside.

mod common;
use common::web::*;
use common::*;

use rocket::http::{ContentType, Cookie, Header, Status};
use serde_json::json;

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

// --- Helpers -----------------------------------------------------------------------------------

/// A signed-in browser on the device page; returns the page.
async fn signed_in(app: &TestApp, username: &str) -> Reply {
    let landed = browser_sign_in(app, username).await;
    assert_redirect(&landed, "/sessions");
    let page = get_page(app, "/sessions").await;
    assert_eq!(page.status, Status::Ok, "{}", page.text);
    page
}

/// Logs in through the API as another device and returns `(token, session id)`.
async fn api_device(
    app: &TestApp,
    username: &str,
    user_agent: &str,
    name: Option<&str>,
) -> (String, String) {
    let mut body = json!({"username": username, "password": PASSWORD});
    if let Some(name) = name {
        body["name"] = json!(name);
    }
    let reply = app.login_with(body, user_agent, "10.1.2.3:4000").await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    let json = reply.json();
    (
        json["token"].as_str().unwrap().to_string(),
        json["session"]["id"].as_str().unwrap().to_string(),
    )
}

// --- Navigation --------------------------------------------------------------------------------

#[rocket::async_test]
async fn root_sends_visitors_to_sign_in_and_members_to_their_devices() {
    let app = TestApp::new(build).await;
    assert_redirect(&get_page(&app, "/").await, "/login");
    signed_in(&app, "alice").await;
    assert_redirect(&get_page(&app, "/").await, "/sessions");
    // Signed in, the sign-in and sign-up pages step aside.
    assert_redirect(&get_page(&app, "/login").await, "/sessions");
    assert_redirect(&get_page(&app, "/signup").await, "/sessions");
}

#[rocket::async_test]
async fn a_signed_out_visit_to_a_page_redirects_to_sign_in_and_back() {
    let app = TestApp::new(build).await;
    assert_redirect(&get_page(&app, "/sessions").await, "/login");
    let reply = get_page(&app, "/sessions?view=all").await;
    assert_redirect(&reply, "/login?next=%2Fsessions%3Fview%3Dall");

    app.signup("alice", PASSWORD).await;
    let form = get_page(&app, "/login?next=%2Fsessions%3Fview%3Dall").await;
    assert!(
        form.text
            .contains(r#"name="next" value="&#x2f;sessions?view=all""#),
        "{}",
        form.text
    );
    let fields = [
        ("csrf", csrf_of(&form.text)),
        ("username", "alice".into()),
        ("password", PASSWORD.into()),
        ("next", "/sessions?view=all".into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_redirect(&submit(&app, "/login", &fields).await, "/sessions?view=all");
}

#[rocket::async_test]
async fn the_return_path_never_leaves_the_site() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    for next in [
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "/\t/evil.example",
        "javascript:alert(1)",
    ] {
        let form = get_page(&app, &format!("/login?next={}", encode(next))).await;
        assert_eq!(form.status, Status::Ok);
        assert!(!form.text.contains("name=\"next\""), "kept {next:?}");
        let csrf = csrf_of(&form.text);
        let reply = submit(
            &app,
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", PASSWORD),
                ("next", next),
            ],
        )
        .await;
        assert_redirect(&reply, "/sessions");
        // Signed in, /login?next= redirects at once: still only inside the site.
        let again = get_page(&app, &format!("/login?next={}", encode(next))).await;
        assert_redirect(&again, "/sessions");
        let page = get_page(&app, "/sessions").await;
        assert_redirect(
            &submit(&app, "/logout", &[("csrf", &csrf_of(&page.text))]).await,
            "/login",
        );
    }
}

// --- Sign-in ------------------------------------------------------------------------------------

#[rocket::async_test]
async fn the_sign_in_page_is_an_accessible_form_with_a_csrf_cookie() {
    let app = TestApp::new(build).await;
    let page = get_page(&app, "/login").await;
    assert_eq!(page.status, Status::Ok);
    assert_eq!(
        page.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    for label in [
        r#"<label for="username">"#,
        r#"<label for="password">"#,
        r#"<label for="name">"#,
    ] {
        assert!(page.text.contains(label), "missing {label}");
    }
    assert!(page.text.contains(r#"action="/login""#));
    assert!(
        page.text.contains(r#"href="/signup""#),
        "signup is open: a link to it"
    );
    assert!(!page.text.contains("<script"), "no JavaScript");
    let cookie = set_cookie(&page, CSRF_COOKIE).expect("a CSRF cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(
        cookie.contains(&format!("{CSRF_COOKIE}={}", csrf_of(&page.text))),
        "{cookie}"
    );
    // The same token while the cookie lasts (several tabs keep working).
    let again = get_page(&app, "/login").await;
    assert_eq!(csrf_of(&again.text), csrf_of(&page.text));
    assert!(set_cookie(&again, CSRF_COOKIE).is_none());
}

#[rocket::async_test]
async fn browser_sign_in_creates_a_browser_session_in_a_hardened_cookie() {
    let app = TestApp::new(build).await;
    let landed = browser_sign_in(&app, "alice").await;
    assert_redirect(&landed, "/sessions");
    let cookie = set_cookie(&landed, SESSION_COOKIE).expect("a session cookie");
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches(&format!("{SESSION_COOKIE}="));
    assert!(token.starts_with(DEFAULT_PREFIX), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "secure_cookie is off in debug: {cookie}"
    );
    // One row, of kind "browser", in the same table as API tokens.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE kind = 'browser'")
            .await,
        1
    );
    assert_eq!(app.session_count().await, 1);
}

#[rocket::async_test]
async fn the_cookie_is_secure_when_configured_and_lives_as_long_as_the_session() {
    let app = TestApp::with(
        build,
        json!({"secure_cookie": true, "session_lifetime": 3600}),
    )
    .await;
    let landed = browser_sign_in(&app, "alice").await;
    // Secure, it carries the __Host- prefix (see tests/web_cookies.rs).
    let name = format!("__Host-{SESSION_COOKIE}");
    let cookie = set_cookie(&landed, &name).expect("a session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("Max-Age=3600"), "{cookie}");

    let forever = TestApp::with(build, json!({"session_lifetime": 0})).await;
    let landed = browser_sign_in(&forever, "alice").await;
    let cookie = set_cookie(&landed, SESSION_COOKIE).expect("a session cookie");
    assert!(
        !cookie.contains("Max-Age"),
        "no lifetime, no expiry: {cookie}"
    );
}

#[rocket::async_test]
async fn a_failed_sign_in_shows_one_generic_message_and_keeps_the_username() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let form = get_page(&app, "/login").await;
    let csrf = csrf_of(&form.text);
    let mut pages = Vec::new();
    for (user, password) in [("alice", "wrong password"), ("nobody", PASSWORD)] {
        let reply = submit(
            &app,
            "/login",
            &[("csrf", &csrf), ("username", user), ("password", password)],
        )
        .await;
        assert_eq!(reply.status, Status::UnprocessableEntity);
        assert!(set_cookie(&reply, SESSION_COOKIE).is_none());
        assert!(
            reply.text.contains(&format!(r#"value="{user}""#)),
            "username kept"
        );
        assert!(reply.text.contains("Incorrect username or password."));
        assert!(
            !reply.text.contains(password),
            "the password is never shown again"
        );
        pages.push(reply.text.replace(user, "USER"));
    }
    assert_eq!(pages[0], pages[1], "no hint whether the user exists");
    assert_eq!(app.session_count().await, 0);
}

#[rocket::async_test]
async fn repeated_failures_are_throttled_with_retry_after() {
    let app = TestApp::with(build, json!({"login_max_failures": 2})).await;
    app.signup("alice", PASSWORD).await;
    let csrf = csrf_of(&get_page(&app, "/login").await.text);
    for _ in 0..2 {
        let fields = [
            ("csrf", csrf.as_str()),
            ("username", "alice"),
            ("password", "nope nope"),
        ];
        assert_eq!(
            submit(&app, "/login", &fields).await.status,
            Status::UnprocessableEntity
        );
    }
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", "alice"),
        ("password", PASSWORD),
    ];
    let reply = submit(&app, "/login", &fields).await;
    assert_eq!(reply.status, Status::TooManyRequests);
    assert!(reply.header("Retry-After").is_some());
    assert!(
        reply
            .text
            .contains("Too many failed sign-ins. Try again in 15 minutes."),
        "{}",
        reply.text
    );
    assert_eq!(app.session_count().await, 0);
}

/// Submits the sign-in form with `csrf` as `username`.
async fn sign_in_with(app: &TestApp, csrf: &str, username: &str, password: &str) -> Reply {
    let fields = [
        ("csrf", csrf),
        ("username", username),
        ("password", password),
    ];
    submit(app, "/login", &fields).await
}

#[rocket::async_test]
async fn signing_in_from_a_signed_in_browser_ends_its_session_first() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    app.signup("bob", PASSWORD).await;
    // A sign-in form loaded signed out, left open in a tab.
    let stale = csrf_of(&get_page(&app, "/login").await.text);
    // Signed in as Alice (in another tab: the same cookies).
    assert_redirect(
        &sign_in_with(&app, &stale, "alice", PASSWORD).await,
        "/sessions",
    );
    let alice_browser = session_cookie(&app).expect("Alice's cookie");
    let alice = app.login("alice", PASSWORD).await;
    assert_eq!(app.session_count().await, 2);

    // The stale form still signs in (it was answered 403 before), as Bob.
    let reply = sign_in_with(&app, &stale, "bob", PASSWORD).await;
    assert_redirect(&reply, "/sessions");
    let page = get_page(&app, "/sessions").await;
    assert!(page.text.contains("Signed in as <strong>bob</strong>"));
    // Alice's browser session has ended, as a sign-out would end it: her cookie opens nothing.
    let bob_browser = session_cookie(&app).expect("Bob's cookie");
    assert_ne!(bob_browser, alice_browser);
    assert_eq!(
        app.get("/api/me", Some(&alice_browser)).await.status,
        Status::Unauthorized
    );
    let ended = app
        .get("/api/sessions?state=ended", Some(&alice))
        .await
        .json();
    assert_eq!(ended[0]["kind"], "browser", "{ended}");
    assert_eq!(ended[0]["end_reason"], "logout", "{ended}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity WHERE type = 'signed_out'")
            .await,
        1
    );
    // Alice's API session and Bob's browser are what is left.
    assert_eq!(app.session_count().await, 2);

    // Signing in again as the same user ends the old session too: one browser, one session.
    let reply = sign_in_with(&app, &stale, "bob", PASSWORD).await;
    assert_redirect(&reply, "/sessions");
    assert_eq!(app.session_count().await, 2);
    assert_eq!(
        app.get("/api/me", Some(&bob_browser)).await.status,
        Status::Unauthorized
    );
}

#[rocket::async_test]
async fn a_sign_in_from_a_signed_in_browser_needs_the_sign_in_forms_own_token() {
    let app = TestApp::new(build).await;
    let page = signed_in(&app, "alice").await;
    app.signup("bob", PASSWORD).await;
    // The device page's token (the session's) is not the sign-in form's, nor is no token.
    let session_token = csrf_of(&page.text);
    for csrf in [session_token.as_str(), "", "forged-token"] {
        let reply = sign_in_with(&app, csrf, "bob", PASSWORD).await;
        assert_eq!(reply.status, Status::Forbidden, "{csrf:?}");
    }
    assert_eq!(app.session_count().await, 1);
    let page = get_page(&app, "/sessions").await;
    assert!(page.text.contains("Signed in as <strong>alice</strong>"));

    // A wrong password from a stale form: the browser is signed out all the same (it asked to
    // sign in as someone), and the form says why.
    let stale = app
        .client
        .cookies()
        .get(CSRF_COOKIE)
        .expect("the sign-in form's cookie")
        .value()
        .to_string();
    let reply = sign_in_with(&app, &stale, "bob", "wrong password").await;
    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert!(reply.text.contains("Incorrect username or password."));
    assert_eq!(app.session_count().await, 0);
    assert_redirect(&get_page(&app, "/sessions").await, "/login");
}

// --- Sign-up ------------------------------------------------------------------------------------

#[rocket::async_test]
async fn signing_up_in_the_browser_creates_the_account_and_signs_in() {
    let app = TestApp::new(build).await;
    let form = get_page(&app, "/signup").await;
    assert_eq!(form.status, Status::Ok);
    for label in [
        r#"<label for="username">"#,
        r#"<label for="password">"#,
        r#"<label for="confirm">"#,
    ] {
        assert!(form.text.contains(label), "missing {label}");
    }
    let csrf = csrf_of(&form.text);
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", "carol"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    let reply = submit(&app, "/signup", &fields).await;
    assert_redirect(&reply, "/sessions");
    assert!(set_cookie(&reply, SESSION_COOKIE).is_some());
    let page = get_page(&app, "/sessions").await;
    assert!(page.text.contains("Your account is ready."));
    assert!(page.text.contains("Signed in as <strong>carol</strong>"));
    assert_eq!(
        app.get("/api/me", Some(&app.login("carol", PASSWORD).await))
            .await
            .json()["username"],
        "carol"
    );
}

#[rocket::async_test]
async fn signing_up_from_a_signed_in_browser_ends_its_session_first() {
    let app = TestApp::new(build).await;
    // The sign-up form, loaded signed out and left open.
    let stale = csrf_of(&get_page(&app, "/signup").await.text);
    signed_in(&app, "alice").await;
    let alice_browser = session_cookie(&app).expect("Alice's cookie");
    let fields = [
        ("csrf", stale.as_str()),
        ("username", "carol"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    let reply = submit(&app, "/signup", &fields).await;
    assert_redirect(&reply, "/sessions");
    let page = get_page(&app, "/sessions").await;
    assert!(page.text.contains("Signed in as <strong>carol</strong>"));
    assert_eq!(
        app.get("/api/me", Some(&alice_browser)).await.status,
        Status::Unauthorized
    );
    let alice = app.login("alice", PASSWORD).await;
    let ended = app
        .get("/api/sessions?state=ended", Some(&alice))
        .await
        .json();
    assert_eq!(ended[0]["end_reason"], "logout", "{ended}");
    // Carol's browser and Alice's new API session.
    assert_eq!(app.session_count().await, 2);
}

#[rocket::async_test]
async fn sign_up_errors_are_explained_and_keep_the_username() {
    let app = TestApp::new(build).await;
    app.signup("taken", PASSWORD).await;
    let csrf = csrf_of(&get_page(&app, "/signup").await.text);
    let cases = [
        ("taken", PASSWORD, PASSWORD, 409, "That username is taken."),
        (
            "dave",
            PASSWORD,
            "something else",
            422,
            "The passwords do not match.",
        ),
        (
            "dave",
            "short",
            "short",
            422,
            "Password must be at least 8 bytes.",
        ),
        (
            "no spaces",
            PASSWORD,
            PASSWORD,
            422,
            "Username may contain only",
        ),
    ];
    for (user, password, confirm, status, message) in cases {
        let fields = [
            ("csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
            ("confirm", confirm),
        ];
        let reply = submit(&app, "/signup", &fields).await;
        assert_eq!(reply.status.code, status, "{user}: {}", reply.text);
        assert!(reply.text.contains(message), "{user}: {}", reply.text);
        assert!(
            reply.text.contains(&format!(r#"value="{user}""#)),
            "username kept"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}

#[rocket::async_test]
async fn sign_up_pages_do_not_exist_when_signup_is_off() {
    let app = TestApp::with(build, json!({"signup": false})).await;
    let page = get_page(&app, "/signup").await;
    assert_eq!(page.status, Status::NotFound);
    assert_eq!(
        page.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    let csrf = csrf_of(&get_page(&app, "/login").await.text);
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", "eve"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    assert_eq!(
        submit(&app, "/signup", &fields).await.status,
        Status::NotFound
    );
    assert!(
        !get_page(&app, "/login").await.text.contains("/signup"),
        "no link to it"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}

// --- The device page ----------------------------------------------------------------------------

#[rocket::async_test]
async fn the_device_page_lists_browser_and_api_sessions_most_recent_first() {
    let app = TestApp::new(build).await;
    signed_in(&app, "alice").await;
    api_device(&app, "alice", "curl/8.5.0", Some("deploy script")).await;
    api_device(&app, "alice", IPHONE, None).await;

    let page = get_page(&app, "/sessions").await;
    let html = &page.text;
    assert_eq!(count(html, r#"<li class="session"#), 3, "{html}");
    for label in [
        "Firefox on Linux",
        "curl",
        "Safari on iPhone",
        "“deploy script”",
        "10.1.2.3",
        "127.0.0.1",
    ] {
        assert!(html.contains(label), "missing {label}");
    }
    assert_eq!(count(html, "This device"), 1);
    let current = html
        .find(r#"<li class="session current""#)
        .expect("the current row");
    let firefox = html.find("Firefox on Linux").unwrap();
    assert!(current < firefox && html[current..firefox].matches("<li").count() == 1);
    // A Revoke button on every other row, and one to sign out all others.
    assert_eq!(count(html, "/revoke\""), 2);
    assert!(html.contains("Sign out all other devices"));
    // A sign-in through the API is not a personal token: its badge says what it is.
    assert!(html.contains("API sign-in") && html.contains("Browser"));
    assert!(!html.contains("API token"));
    // Relative times with the exact RFC 3339 time on hover.
    assert!(html.contains(">just now</time>"));
    assert!(
        html.contains(r#"title="20"#),
        "exact time in a title attribute"
    );
    // Most recently used first (timestamps are whole seconds: a newer one needs a second).
    app.advance(1);
    api_device(&app, "alice", "python-requests/2.32", None).await;
    let html = get_page(&app, "/sessions").await.text;
    let newest = html.find("python-requests").unwrap();
    let older = html.find("Safari on iPhone").unwrap();
    assert!(newest < older, "newest first");
}

#[rocket::async_test]
async fn a_single_session_page_offers_nothing_to_revoke() {
    let app = TestApp::new(build).await;
    let page = signed_in(&app, "alice").await;
    assert!(page
        .text
        .contains("Only this device is signed in to your account."));
    assert_eq!(count(&page.text, "This device"), 1);
    assert!(!page.text.contains("/revoke\""));
    assert!(!page.text.contains("Sign out all other devices"));
    assert!(page.text.contains("Signed in as <strong>alice</strong>"));
}

#[rocket::async_test]
async fn revoking_an_api_session_from_the_page_ends_it_with_a_one_time_message() {
    let app = TestApp::new(build).await;
    let page = signed_in(&app, "alice").await;
    let (token, id) = api_device(&app, "alice", "curl/8.5.0", None).await;
    let (other, _) = api_device(&app, "alice", IPHONE, None).await;

    let reply = submit(
        &app,
        &format!("/sessions/{id}/revoke"),
        &[("csrf", &csrf_of(&page.text))],
    )
    .await;
    assert_redirect(&reply, "/sessions");
    app.get("/api/me", Some(&token))
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(app.get("/api/me", Some(&other)).await.status, Status::Ok);

    let after = get_page(&app, "/sessions").await;
    assert!(after.text.contains("Signed out curl."), "{}", after.text);
    assert!(!after.text.contains(&id), "the row is gone");
    assert_eq!(count(&after.text, r#"<li class="session"#), 2);
    let later = get_page(&app, "/sessions").await;
    assert!(
        !later.text.contains("Signed out curl."),
        "the message shows once"
    );
}

#[rocket::async_test]
async fn sign_out_all_other_devices_keeps_only_this_one() {
    let app = TestApp::new(build).await;
    let page = signed_in(&app, "alice").await;
    let (a, _) = api_device(&app, "alice", "curl/8.5.0", None).await;
    let (b, _) = api_device(&app, "alice", IPHONE, None).await;

    let reply = submit(
        &app,
        "/sessions/revoke-others",
        &[("csrf", &csrf_of(&page.text))],
    )
    .await;
    assert_redirect(&reply, "/sessions");
    for token in [a, b] {
        app.get("/api/me", Some(&token))
            .await
            .assert_problem(401, "invalid_token");
    }
    let after = get_page(&app, "/sessions").await;
    assert_eq!(after.status, Status::Ok, "this browser is still signed in");
    assert!(after.text.contains("Signed out 2 other devices."));
    assert!(after.text.contains("Only this device is signed in"));
    assert_eq!(app.session_count().await, 1);
}

#[rocket::async_test]
async fn signing_out_ends_the_browser_session_and_clears_the_cookie() {
    let app = TestApp::new(build).await;
    let page = signed_in(&app, "alice").await;
    let old_cookie = session_cookie(&app).expect("a session cookie");
    let reply = submit(&app, "/logout", &[("csrf", &csrf_of(&page.text))]).await;
    assert_redirect(&reply, "/login");
    assert!(removes(
        set_cookie(&reply, SESSION_COOKIE).expect("a removal")
    ));
    assert_eq!(app.session_count().await, 0);

    let login = get_page(&app, "/login").await;
    assert_eq!(login.status, Status::Ok);
    assert!(login.text.contains("You have been signed out."));
    // The old cookie, replayed, is worth nothing.
    let replay = app
        .client
        .get("/sessions")
        .cookie(Cookie::new(SESSION_COOKIE, old_cookie));
    let replay = read(replay.dispatch().await).await;
    assert_redirect(&replay, "/login");
}

// --- CSRF ---------------------------------------------------------------------------------------

#[rocket::async_test]
async fn page_actions_without_a_valid_csrf_token_are_refused_and_change_nothing() {
    let app = TestApp::new(build).await;
    let page = signed_in(&app, "alice").await;
    let good = csrf_of(&page.text);
    let (token, id) = api_device(&app, "alice", "curl/8.5.0", None).await;
    let revoke = format!("/sessions/{id}/revoke");
    // A token of another session of the same user (e.g. a second browser) does not fit this one.
    let other_browser = TestApp::new(build).await;
    let foreign = csrf_of(&signed_in(&other_browser, "alice").await.text);

    for path in [revoke.as_str(), "/sessions/revoke-others", "/logout"] {
        for fields in [
            vec![],
            vec![("csrf", "")],
            vec![("csrf", "0000")],
            vec![("csrf", foreign.as_str())],
        ] {
            let reply = submit(&app, path, &fields).await;
            assert_eq!(reply.status, Status::Forbidden, "{path} {fields:?}");
            assert_eq!(
                reply.content_type.as_deref(),
                Some("text/html; charset=utf-8")
            );
            assert!(reply.text.contains("This form has expired"));
        }
    }
    assert_eq!(app.get("/api/me", Some(&token)).await.status, Status::Ok);
    assert_eq!(
        get_page(&app, "/sessions").await.status,
        Status::Ok,
        "still signed in"
    );
    assert_eq!(app.session_count().await, 2);
    // The right token in a request that says it came from another site is refused too.
    let cross = as_browser(app.client.post(revoke.as_str()))
        .header(ContentType::Form)
        .header(Header::new("Sec-Fetch-Site", "cross-site"))
        .body(form_body(&[("csrf", &good)]));
    assert_eq!(read(cross.dispatch().await).await.status, Status::Forbidden);
    assert_eq!(app.get("/api/me", Some(&token)).await.status, Status::Ok);
}

#[rocket::async_test]
async fn the_sign_in_form_needs_its_token_and_the_site_as_origin() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let csrf = csrf_of(&get_page(&app, "/login").await.text);
    let credentials = [("username", "alice"), ("password", PASSWORD)];

    let post = |csrf: Option<&str>, headers: Vec<(&'static str, &'static str)>| {
        let mut fields = credentials.to_vec();
        if let Some(csrf) = csrf {
            fields.push(("csrf", csrf));
        }
        let mut req = as_browser(app.client.post("/login"))
            .header(ContentType::Form)
            .body(form_body(&fields));
        for (name, value) in headers {
            req = req.header(Header::new(name, value));
        }
        async move { read(req.dispatch().await).await.status }
    };
    assert_eq!(post(None, vec![]).await, Status::Forbidden);
    assert_eq!(post(Some("forged-token"), vec![]).await, Status::Forbidden);
    assert_eq!(
        post(Some(&csrf), vec![("Sec-Fetch-Site", "cross-site")]).await,
        Status::Forbidden
    );
    assert_eq!(
        post(Some(&csrf), vec![("Sec-Fetch-Site", "same-site")]).await,
        Status::Forbidden
    );
    let evil = vec![("Host", "app.example"), ("Origin", "https://evil.example")];
    assert_eq!(post(Some(&csrf), evil).await, Status::Forbidden);
    assert_eq!(
        post(Some(&csrf), vec![("Origin", "null")]).await,
        Status::Forbidden
    );
    assert_eq!(app.session_count().await, 0);
    // Without the double-submit cookie, a token from the page is worthless.
    let no_cookie = app
        .client
        .post("/login")
        .cookie(Cookie::new(CSRF_COOKIE, ""))
        .header(ContentType::Form)
        .body(form_body(&[
            ("csrf", &csrf),
            ("username", "alice"),
            ("password", PASSWORD),
        ]));
    assert_eq!(
        read(no_cookie.dispatch().await).await.status,
        Status::Forbidden
    );
    assert_eq!(app.session_count().await, 0);

    // This app is served over plain HTTP (secure_cookie is off): an https origin is another one.
    let https = vec![("Host", "app.example"), ("Origin", "https://app.example")];
    assert_eq!(post(Some(&csrf), https).await, Status::Forbidden);
    assert_eq!(app.session_count().await, 0);

    let same = vec![
        ("Host", "app.example"),
        ("Origin", "http://app.example"),
        ("Sec-Fetch-Site", "same-origin"),
    ];
    assert_eq!(post(Some(&csrf), same).await, Status::SeeOther);
    assert_eq!(app.session_count().await, 1);
}

#[rocket::async_test]
async fn get_requests_never_change_state() {
    let app = TestApp::new(build).await;
    signed_in(&app, "alice").await;
    let (token, id) = api_device(&app, "alice", "curl/8.5.0", None).await;
    for path in [
        format!("/sessions/{id}/revoke"),
        "/sessions/revoke-others".into(),
        "/logout".into(),
    ] {
        let reply = get_page(&app, &path).await;
        assert_eq!(reply.status, Status::NotFound, "{path}");
    }
    assert_eq!(app.get("/api/me", Some(&token)).await.status, Status::Ok);
    assert_eq!(get_page(&app, "/sessions").await.status, Status::Ok);
    assert_eq!(app.session_count().await, 2);
}

// --- IDOR, bad cookies, the API boundary --------------------------------------------------------

#[rocket::async_test]
async fn another_users_session_id_is_not_found_and_untouched() {
    let app = TestApp::new(build).await;
    let page = signed_in(&app, "alice").await;
    let csrf = csrf_of(&page.text);
    app.signup("mallory", PASSWORD).await;
    let (token, id) = api_device(&app, "mallory", "curl/8.5.0", None).await;
    let unknown = "AAAAAAAAAAAAAAAAAAAAAA";
    for target in [id.as_str(), unknown, "not-an-id", "%00"] {
        let reply = submit(
            &app,
            &format!("/sessions/{target}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(reply.status, Status::NotFound, "{target}");
        assert_eq!(
            reply.content_type.as_deref(),
            Some("text/html; charset=utf-8")
        );
    }
    assert_eq!(app.get("/api/me", Some(&token)).await.status, Status::Ok);
    assert_eq!(app.session_count().await, 2);
}

#[rocket::async_test]
async fn an_expired_cookie_sends_the_browser_back_to_sign_in() {
    let app = TestApp::with(build, json!({"session_lifetime": 2})).await;
    signed_in(&app, "alice").await;
    app.advance(3);
    let reply = get_page(&app, "/sessions").await;
    assert_redirect(&reply, "/login");
    assert!(removes(
        set_cookie(&reply, SESSION_COOKIE).expect("the dead cookie is cleared")
    ));
    assert_eq!(get_page(&app, "/login").await.status, Status::Ok);
}

#[rocket::async_test]
async fn a_forged_cookie_sends_the_browser_back_to_sign_in() {
    let app = TestApp::new(build).await;
    let (well_formed, _) = session_kit::token::Token::generate(DEFAULT_PREFIX);
    for forged in ["mt_forged", "<script>", well_formed.expose(), ""] {
        let req = app
            .client
            .get("/sessions")
            .cookie(Cookie::new(SESSION_COOKIE, forged.to_string()));
        let reply = read(req.dispatch().await).await;
        assert_redirect(&reply, "/login");
        assert!(!reply.text.contains(DEFAULT_PREFIX), "nothing echoed");
    }
    // A forged cookie on a form action: still a redirect, never a 500, nothing done.
    let req = app
        .client
        .post("/logout")
        .cookie(Cookie::new(SESSION_COOKIE, "mt_forged"))
        .header(ContentType::Form)
        .body("csrf=x");
    assert_redirect(&read(req.dispatch().await).await, "/login");
}

#[rocket::async_test]
async fn the_session_cookie_is_never_accepted_by_the_api() {
    let app = TestApp::new(build).await;
    signed_in(&app, "alice").await;
    let cookie = session_cookie(&app).expect("a session cookie");
    // The tracked client sends the cookie with every request, as a browser would.
    for path in ["/api/me", "/api/sessions"] {
        app.get(path, None)
            .await
            .assert_problem(401, "not_authenticated");
    }
    let logout = app.call("POST", "/api/auth/logout-all", None, None).await;
    logout.assert_problem(401, "not_authenticated");
    // The same token as a bearer token is another matter: it is a session like any other.
    assert_eq!(app.get("/api/me", Some(&cookie)).await.status, Status::Ok);
}

// --- Escaping -----------------------------------------------------------------------------------

#[rocket::async_test]
async fn user_agents_and_names_are_rendered_as_text() {
    let app = TestApp::new(build).await;
    let script = "<script>alert(1)</script>";
    let attr = r#""onmouseover="x"#;
    signed_in(&app, "alice").await;
    api_device(&app, "alice", script, Some(attr)).await;
    let (_, id) = api_device(&app, "alice", attr, Some(script)).await;

    let page = get_page(&app, "/sessions").await;
    let html = &page.text;
    assert!(!html.contains(script), "raw script in the page");
    assert!(!html.contains(attr), "raw attribute break-out in the page");
    assert!(!html.contains("<script"));
    // Each appears, escaped, twice as user agent or name (plus in the Revoke button's label).
    assert!(
        count(html, "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;") >= 2,
        "{html}"
    );
    assert!(count(html, "&quot;onmouseover=&quot;x") >= 2, "{html}");

    // The flash message that names the revoked session is escaped too.
    let reply = submit(
        &app,
        &format!("/sessions/{id}/revoke"),
        &[("csrf", &csrf_of(html))],
    )
    .await;
    assert_redirect(&reply, "/sessions");
    let after = get_page(&app, "/sessions").await;
    assert!(
        after
            .text
            .contains("Signed out Unknown device (&lt;script&gt;"),
        "{}",
        after.text
    );
    assert!(!after.text.contains("<script"));

    // And a name typed into the sign-in form.
    let other = TestApp::new(build).await;
    other.signup("bob", PASSWORD).await;
    let csrf = csrf_of(&get_page(&other, "/login").await.text);
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", "bob"),
        ("password", PASSWORD),
        ("name", script),
    ];
    assert_redirect(&submit(&other, "/login", &fields).await, "/sessions");
    let page = get_page(&other, "/sessions").await;
    assert!(!page.text.contains("<script") && page.text.contains("&lt;script&gt;"));
}

// --- Headers on every response ------------------------------------------------------------------

fn assert_hardened(reply: &Reply, what: &str) {
    assert_eq!(reply.header("Content-Security-Policy"), Some(CSP), "{what}");
    assert_eq!(reply.header("X-Frame-Options"), Some("DENY"), "{what}");
    assert_eq!(
        reply.header("X-Content-Type-Options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        reply.header("Referrer-Policy"),
        Some("same-origin"),
        "{what}"
    );
    assert_eq!(reply.header("Server"), None, "{what}");
    assert_eq!(
        reply
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("X-Frame-Options"))
            .count(),
        1,
        "{what}"
    );
}

#[rocket::async_test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::new(build).await;
    let mut replies = vec![
        ("login page", get_page(&app, "/login").await),
        ("redirect", get_page(&app, "/").await),
        ("html 404", get_page(&app, "/no/such/page").await),
        (
            "html 403",
            submit(&app, "/login", &[("username", "x")]).await,
        ),
        ("api health", app.get("/api/health", None).await),
        ("api 401", app.get("/api/me", None).await),
        ("api 404", app.get("/api/nope", None).await),
    ];
    signed_in(&app, "alice").await;
    replies.push(("device page", get_page(&app, "/sessions").await));
    for (what, reply) in &replies {
        assert_hardened(reply, what);
        assert_eq!(reply.header("Cache-Control"), Some("no-store"), "{what}");
    }
    let css = get_page(&app, "/static/style.css").await;
    assert_eq!(css.status, Status::Ok);
    assert_eq!(css.content_type.as_deref(), Some("text/css; charset=utf-8"));
    assert_hardened(&css, "stylesheet");
    assert_eq!(css.header("Cache-Control"), Some("public, max-age=3600"));
}

#[rocket::async_test]
async fn unknown_pages_get_an_html_error_page() {
    let app = TestApp::new(build).await;
    let reply = get_page(&app, "/no/such/page").await;
    assert_eq!(reply.status, Status::NotFound);
    assert_eq!(
        reply.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(reply.text.contains("Page not found"));
    // ...while /api keeps its problem+json errors.
    app.get("/api/nope", None)
        .await
        .assert_problem(404, "not_found");
}

#[rocket::async_test]
async fn malformed_forms_get_clear_html_errors() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let csrf = csrf_of(&get_page(&app, "/login").await.text);
    let post = |content_type: ContentType, body: String| {
        let req = as_browser(app.client.post("/login"))
            .header(content_type)
            .body(body);
        async move { read(req.dispatch().await).await }
    };
    let json = post(ContentType::JSON, json!({"csrf": csrf}).to_string()).await;
    assert_eq!(json.status, Status::UnsupportedMediaType);
    let huge = format!(
        "csrf={csrf}&username=alice&password={}",
        "x".repeat(64 * 1024)
    );
    assert_eq!(
        post(ContentType::Form, huge).await.status,
        Status::PayloadTooLarge
    );
    let missing = post(ContentType::Form, format!("csrf={csrf}&username=alice")).await;
    assert_eq!(missing.status, Status::UnprocessableEntity);
    let bad_utf8 = post(
        ContentType::Form,
        format!("csrf={csrf}&username=%FF&password=x"),
    )
    .await;
    assert_eq!(bad_utf8.status.code / 100, 4, "{}", bad_utf8.status);
    for reply in [&json, &missing, &bad_utf8] {
        assert_eq!(
            reply.content_type.as_deref(),
            Some("text/html; charset=utf-8")
        );
    }
    assert_eq!(app.session_count().await, 0);
}
