//! Every way in asks for the second factor: the routes that open or elevate a session are
//! listed here, each proved to ask; any other route that a signed-out client may write to is
//! listed as opening nothing, so that a new way in fails this test until it is looked at.
//! Wrong codes are failed logins: throttled per account and per address, and on record.

mod common;
use common::*;
use rocket::http::Status;

/// The routes that open a session or elevate one, or take the account over, each checked below
/// (the login form's second step, which is the second factor, in two_factor_web.rs; the password
/// reset, API and page, in two_factor_reset.rs).
const WAYS_IN: [&str; 7] = [
    "POST /api/auth/login",
    "POST /login",
    "POST /login/two-factor",
    "POST /api/auth/sudo",
    "POST /sudo",
    "POST /api/auth/password-reset/confirm",
    "POST /reset-password",
];

/// Routes a signed-out client may write to that open no session for an existing account (sign-up
/// makes a new one, which has no second factor yet; logout ends one; a reset request only mails
/// a link; verifying an address grants nothing; cancelling a held sign-in drops it).
const OPEN_NOTHING: [&str; 9] = [
    "POST /api/users",
    "POST /signup",
    "POST /logout",
    "POST /api/auth/logout",
    "POST /api/auth/password-reset",
    "POST /forgot-password",
    "POST /api/auth/verify-email",
    "POST /verify-email",
    "POST /login/two-factor/cancel",
];

#[rocket::async_test]
async fn every_route_that_opens_or_elevates_a_session_is_listed() {
    let app = TestApp::new(build).await;
    let mut unlisted = Vec::new();
    for route in app.client.rocket().routes() {
        let name = format!("{} {}", route.method, route.uri.path());
        if route.method == rocket::http::Method::Get || WAYS_IN.contains(&name.as_str()) {
            continue;
        }
        // Signed out, a route behind the guard answers 401, 403, or (a page) a way to /login.
        // A well-formed id in each dynamic segment, so the request reaches the guards.
        let id = session_kit::token::new_public_id();
        let path: Vec<String> = route
            .uri
            .path()
            .split('/')
            .map(|s| {
                if s.starts_with('<') {
                    id.clone()
                } else {
                    s.to_string()
                }
            })
            .collect();
        let path = path.join("/");
        let reply = app
            .call(route.method.as_str(), &path, None, Some(json!({})))
            .await;
        let guarded = matches!(reply.status.code, 401 | 403 | 404 | 405)
            || reply
                .header("Location")
                .is_some_and(|l| l.starts_with("/login"));
        if !guarded && !OPEN_NOTHING.contains(&name.as_str()) {
            unlisted.push(format!("{name} ({})", reply.status.code));
        }
    }
    assert!(
        unlisted.is_empty(),
        "routes a signed-out client reaches, not looked at for two-factor: {unlisted:?}"
    );
}

#[rocket::async_test]
async fn the_json_login_asks_for_the_code() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    app.enable_two_factor(&token).await;
    let before = app.session_count().await;
    app.try_login("alice", PASSWORD)
        .await
        .assert_problem(401, "mfa_required");
    assert_eq!(app.session_count().await, before);
}

#[rocket::async_test]
async fn the_login_form_opens_no_session_on_the_password_alone() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    app.enable_two_factor(&token).await;
    let before = app.session_count().await;
    let reply = web::browser_sign_in(&app, "alice").await;
    web::assert_redirect(&reply, "/login/two-factor");
    assert_eq!(web::session_cookie(&app), None);
    assert_eq!(app.session_count().await, before);
}

/// `POST /api/auth/2fa/recovery-codes`: needs sudo.
async fn replace_codes(app: &TestApp, token: &str) -> Reply {
    let path = "/api/auth/2fa/recovery-codes";
    app.post(path, Some(token), json!({})).await
}

#[rocket::async_test]
async fn sudo_takes_a_code_in_place_of_the_password() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let token = app.user_token("alice").await;
    let (secret, codes) = app.enable_two_factor(&token).await;
    app.advance(61);
    replace_codes(&app, &token)
        .await
        .assert_problem(403, "sudo_required");

    let wrong = app.code_in(&secret, 5);
    let reply = app
        .post("/api/auth/sudo", Some(&token), json!({"code": wrong}))
        .await;
    reply.assert_problem(401, "invalid_code");
    replace_codes(&app, &token)
        .await
        .assert_problem(403, "sudo_required");

    app.next_step();
    let code = app.code_now(&secret);
    let reply = app
        .post("/api/auth/sudo", Some(&token), json!({"code": code}))
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    assert_eq!(replace_codes(&app, &token).await.status, Status::Ok);

    // A recovery code does too (and is spent); the password still does.
    app.advance(61);
    let reply = app
        .post("/api/auth/sudo", Some(&token), json!({"code": codes[0]}))
        .await;
    // The codes were replaced above: the old ones are void.
    reply.assert_problem(401, "invalid_code");
    let reply = app
        .post(
            "/api/auth/sudo",
            Some(&token),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);

    let activity = app.get("/api/activity", Some(&token)).await.json();
    let events = activity["events"].as_array().unwrap();
    assert!(events
        .iter()
        .any(|e| e["type"] == "sudo_granted" && e["detail"]["via"] == "second_factor"));
    assert!(events
        .iter()
        .any(|e| e["type"] == "sign_in_failed" && e["detail"]["reason"] == "wrong_code"));
}

#[rocket::async_test]
async fn the_sudo_form_refuses_the_password_alone_for_nothing_and_a_wrong_code() {
    let app = TestApp::new(build).await;
    app.signup("bob", PASSWORD).await;
    let token = app.login("bob", PASSWORD).await;
    // Without two-factor a code cannot stand in for the password.
    let reply = app
        .post("/api/auth/sudo", Some(&token), json!({"code": "123456"}))
        .await;
    reply.assert_problem(401, "invalid_credentials");
    let reply = app.post("/api/auth/sudo", Some(&token), json!({})).await;
    assert_eq!(reply.status, Status::UnprocessableEntity, "{}", reply.text);
}

#[rocket::async_test]
async fn wrong_codes_are_throttled_like_wrong_passwords() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    let token = app.user_token("alice").await;
    let (secret, _) = app.enable_two_factor(&token).await;
    app.next_step();
    for _ in 0..3 {
        let body = json!({"username": "alice", "password": PASSWORD, "code": "000000"});
        let reply = app.post("/api/auth/login", None, body).await;
        reply.assert_problem(401, "invalid_code");
    }
    // Even the right code (and password) is refused while throttled.
    let body = json!({"username": "alice", "password": PASSWORD, "code": app.code_now(&secret)});
    let reply = app.post("/api/auth/login", None, body).await;
    reply.assert_problem(429, "throttled");
    assert!(reply.header("Retry-After").is_some());
    // And sudo by code, from a session of the same account.
    let reply = app
        .post("/api/auth/sudo", Some(&token), json!({"code": "000000"}))
        .await;
    reply.assert_problem(429, "throttled");

    app.auth().entries_written().await;
    let failed = app
        .count("SELECT COUNT(*) FROM activity WHERE type = 'sign_in_failed' AND detail LIKE '%wrong_code%'")
        .await;
    assert_eq!(failed, 3);
}

#[rocket::async_test]
async fn wrong_codes_count_against_the_client_address_too() {
    let app = TestApp::with(build, json!({"login_max_failures_per_ip": 2})).await;
    let token = app.user_token("alice").await;
    app.enable_two_factor(&token).await;
    app.signup("bob", PASSWORD).await;
    for _ in 0..2 {
        let body = json!({"username": "alice", "password": PASSWORD, "code": "000000"});
        app.post("/api/auth/login", None, body)
            .await
            .assert_problem(401, "invalid_code");
    }
    // Another account, from the same address: throttled.
    app.try_login("bob", PASSWORD)
        .await
        .assert_problem(429, "throttled");
}
