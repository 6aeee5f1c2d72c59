//! Sudo mode: a password check on a session lets it mint tokens for `sudo_window` seconds. A
//! fresh sign-in is in sudo; later, `POST /api/auth/sudo` or a password in the creating request
//! elevates the same session. A wrong password there is a failed login. Reducing access is never
//! gated.

mod common;
use common::*;
use rocket::http::Status;
use serde_json::json;

/// `POST /api/tokens` with `token`: a `profile:read` token named `name`, without a password.
async fn mint(app: &TestApp, token: &str, name: &str) -> Reply {
    let body = json!({"name": name, "scopes": ["profile:read"]});
    app.post("/api/tokens", Some(token), body).await
}

/// Asserts that `token`'s session is out of sudo mode: a token without a password is refused.
async fn assert_out_of_sudo(app: &TestApp, token: &str) {
    mint(app, token, "refused")
        .await
        .assert_problem(403, "sudo_required");
}

async fn token_rows(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM sessions WHERE kind = 'token'")
        .await
}

#[rocket::async_test]
async fn a_fresh_sign_in_is_in_sudo_until_the_window_ends() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    let reply = mint(&app, &user, "one").await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    app.advance(59);
    let reply = mint(&app, &user, "two").await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    app.advance(2);
    assert_out_of_sudo(&app, &user).await;
    assert_eq!(token_rows(&app).await, 2);
    // Another sign-in of the same user is in sudo on its own.
    let other = app.login("alice", PASSWORD).await;
    let reply = mint(&app, &other, "three").await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    assert_out_of_sudo(&app, &user).await;
}

#[rocket::async_test]
async fn a_password_in_the_body_creates_the_token_and_elevates_the_session() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    let (_, entry) = app.personal_token(&user, "ci", &["profile:read"]).await;
    let id = entry["id"].as_str().unwrap().to_string();
    let sessions = app.session_count().await;
    app.advance(61);
    app.regenerate(&user, &id)
        .await
        .assert_problem(403, "sudo_required");

    let body = json!({"name": "two", "scopes": ["profile:read"], "password": PASSWORD});
    let reply = app.post("/api/tokens", Some(&user), body).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    assert_eq!(app.session_count().await, sessions + 1);
    // Now in sudo: regenerate needs no password, and neither does another token.
    let reply = app.regenerate(&user, &id).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    let reply = mint(&app, &user, "three").await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    // For the window only.
    app.advance(61);
    app.regenerate(&user, &id)
        .await
        .assert_problem(403, "sudo_required");
}

#[rocket::async_test]
async fn a_wrong_password_in_the_body_is_401_and_elevates_nothing() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    app.advance(61);
    let body = json!({"name": "two", "scopes": ["profile:read"], "password": "wrong password"});
    let reply = app.post("/api/tokens", Some(&user), body).await;
    reply.assert_problem(401, "invalid_credentials");
    assert_eq!(token_rows(&app).await, 0);
    assert_out_of_sudo(&app, &user).await;
    // The session itself is not ended by it.
    assert_eq!(app.get("/api/me", Some(&user)).await.status, Status::Ok);
}

#[rocket::async_test]
async fn post_sudo_elevates_the_same_session_for_the_window() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    let list = app.get("/api/sessions", Some(&user)).await.json();
    app.advance(61);
    assert_out_of_sudo(&app, &user).await;

    let reply = app
        .post("/api/auth/sudo", Some(&user), json!({"password": PASSWORD}))
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    assert!(reply.header("Set-Cookie").is_none());
    // The same single session, the same token.
    let after = app.get("/api/sessions", Some(&user)).await.json();
    assert_eq!(after.as_array().unwrap().len(), 1);
    assert_eq!(after[0]["id"], list[0]["id"]);
    assert_eq!(after[0]["current"], true);
    assert_eq!(app.session_count().await, 1);
    let reply = mint(&app, &user, "one").await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);

    app.advance(61);
    assert_out_of_sudo(&app, &user).await;
}

#[rocket::async_test]
async fn sudo_with_a_wrong_password_is_401_and_elevates_nothing() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    app.advance(61);
    let reply = app
        .post(
            "/api/auth/sudo",
            Some(&user),
            json!({"password": "wrong password"}),
        )
        .await;
    reply.assert_problem(401, "invalid_credentials");
    assert_out_of_sudo(&app, &user).await;
    // A body without the password is malformed, not a credential check.
    let reply = app.post("/api/auth/sudo", Some(&user), json!({})).await;
    assert_eq!(reply.status.code, 422, "{}", reply.text);
    // Without any token: 401.
    let reply = app
        .post("/api/auth/sudo", None, json!({"password": PASSWORD}))
        .await;
    reply.assert_problem(401, "not_authenticated");
}

#[rocket::async_test]
async fn wrong_sudo_passwords_count_as_failed_logins() {
    let app = TestApp::with(build, json!({"login_max_failures": 3, "sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    app.advance(61);
    for _ in 0..2 {
        app.post("/api/auth/sudo", Some(&user), json!({"password": "wrong"}))
            .await
            .assert_problem(401, "invalid_credentials");
    }
    // One more, through the token creation's password.
    let body = json!({"name": "x", "scopes": ["profile:read"], "password": "wrong"});
    app.post("/api/tokens", Some(&user), body)
        .await
        .assert_problem(401, "invalid_credentials");

    let reply = app.try_login("alice", PASSWORD).await;
    reply.assert_problem(429, "throttled");
    assert!(reply.header("Retry-After").is_some());
    // And sudo itself is throttled now, the right password too.
    let reply = app
        .post("/api/auth/sudo", Some(&user), json!({"password": PASSWORD}))
        .await;
    reply.assert_problem(429, "throttled");
    assert_out_of_sudo(&app, &user).await;
}

#[rocket::async_test]
async fn a_right_sudo_password_does_not_count_as_a_failure() {
    let app = TestApp::with(build, json!({"login_max_failures": 3, "sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    for _ in 0..5 {
        let reply = app
            .post("/api/auth/sudo", Some(&user), json!({"password": PASSWORD}))
            .await;
        assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    }
    assert_eq!(app.try_login("alice", PASSWORD).await.status, Status::Ok);
}

#[rocket::async_test]
async fn reducing_access_never_needs_sudo() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    let login = app.try_login("alice", PASSWORD).await.json();
    let second = login["token"].as_str().unwrap().to_string();
    let second_id = login["session"]["id"].as_str().unwrap().to_string();
    let third = app.login("alice", PASSWORD).await;
    let (token, entry) = app.personal_token(&user, "ci", &["profile:read"]).await;
    app.advance(61);
    // Out of sudo, as the gated route shows.
    assert_out_of_sudo(&app, &user).await;

    let reply = app.get("/api/sessions", Some(&user)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.json().as_array().unwrap().len(), 4);
    assert_eq!(app.get("/api/me", Some(&user)).await.status, Status::Ok);
    let id = entry["id"].as_str().unwrap();
    assert_eq!(app.revoke(&user, id).await.status, Status::NoContent);
    app.get("/api/me", Some(&token))
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(
        app.revoke(&user, &second_id).await.status,
        Status::NoContent
    );
    app.get("/api/me", Some(&second))
        .await
        .assert_problem(401, "invalid_token");
    let reply = app
        .call("POST", "/api/auth/logout", Some(&third), None)
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    let reply = app
        .call("POST", "/api/auth/logout-all", Some(&user), None)
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    for token in [&user, &second, &third] {
        app.get("/api/me", Some(token))
            .await
            .assert_problem(401, "invalid_token");
    }
}

#[rocket::async_test]
async fn the_password_change_needs_no_sudo_and_elevates_the_session() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    app.advance(61);
    let change = json!({"current_password": PASSWORD, "new_password": "a new password"});
    let reply = app.post("/api/auth/password", Some(&user), change).await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    let reply = mint(&app, &user, "x").await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
}

#[rocket::async_test]
async fn sudo_elevates_only_the_session_that_asked() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let first = app.user_token("alice").await;
    let second = app.login("alice", PASSWORD).await;
    app.advance(61);
    let reply = app
        .post(
            "/api/auth/sudo",
            Some(&first),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    let reply = mint(&app, &first, "one").await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    assert_out_of_sudo(&app, &second).await;
    // Nor does a password in one session's request elevate another.
    let body = json!({"name": "three", "scopes": ["profile:read"], "password": PASSWORD});
    let reply = app.post("/api/tokens", Some(&second), body).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    let third = app.login("alice", PASSWORD).await;
    app.advance(61);
    assert_out_of_sudo(&app, &third).await;
}

#[rocket::async_test]
async fn concurrent_sudo_requests_all_succeed() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    let other = app.login("alice", PASSWORD).await;
    app.advance(61);
    let sudo = json!({"password": PASSWORD});
    let create = json!({"name": "ci", "scopes": ["profile:read"], "password": PASSWORD});
    let replies = rocket::futures::future::join_all([
        app.post("/api/auth/sudo", Some(&user), sudo.clone()),
        app.post("/api/auth/sudo", Some(&user), sudo.clone()),
        app.post("/api/auth/sudo", Some(&other), sudo),
        app.post("/api/tokens", Some(&other), create.clone()),
        app.post("/api/tokens", Some(&user), create),
    ])
    .await;
    for reply in &replies[..3] {
        assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    }
    for reply in &replies[3..] {
        assert_eq!(reply.status, Status::Created, "{}", reply.text);
    }
    for token in [&user, &other] {
        let reply = mint(&app, token, "x").await;
        assert_eq!(reply.status, Status::Created, "{}", reply.text);
    }
}

#[rocket::async_test]
async fn wrong_sudo_passwords_count_toward_the_per_ip_limit() {
    let app = TestApp::with(
        build,
        json!({"login_max_failures_per_ip": 2, "sudo_window": 60}),
    )
    .await;
    let user = app.user_token("alice").await;
    app.signup("bob", PASSWORD).await;
    app.advance(61);
    for _ in 0..2 {
        app.call_from(
            "POST",
            "/api/auth/sudo",
            Some(&user),
            Some(json!({"password": "wrong"})),
            "10.9.9.9:1000",
        )
        .await
        .assert_problem(401, "invalid_credentials");
    }
    let login = json!({"username": "bob", "password": PASSWORD});
    let reply = app
        .call_from(
            "POST",
            "/api/auth/login",
            None,
            Some(login.clone()),
            "10.9.9.9:1000",
        )
        .await;
    reply.assert_problem(429, "throttled");
    // Another address is not throttled.
    let reply = app
        .call_from(
            "POST",
            "/api/auth/login",
            None,
            Some(login),
            "10.9.9.8:1000",
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
}

#[rocket::async_test]
async fn sudo_works_with_the_cache_off() {
    let app = TestApp::with(build, json!({"cache_capacity": 0, "sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    let (token, entry) = app.personal_token(&user, "ci", &["profile:read"]).await;
    app.advance(61);
    let id = entry["id"].as_str().unwrap().to_string();
    app.regenerate(&user, &id)
        .await
        .assert_problem(403, "sudo_required");
    let reply = app
        .post("/api/auth/sudo", Some(&user), json!({"password": PASSWORD}))
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    let reply = app.regenerate(&user, &id).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    let new = reply.json()["token"].as_str().unwrap().to_string();
    app.get("/api/me", Some(&token))
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(app.get("/api/me", Some(&new)).await.status, Status::Ok);
    app.advance(61);
    app.regenerate(&user, &id)
        .await
        .assert_problem(403, "sudo_required");
}

#[rocket::async_test]
async fn a_password_in_a_request_that_breaks_the_rules_is_never_checked() {
    // The request's own rules come first: a bad request costs no login attempt, whether its
    // password is right (the session stays out of sudo) or wrong (no failure counted).
    let app = TestApp::with(build, json!({"login_max_failures": 2, "sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    app.advance(61);
    for password in [PASSWORD, "wrong", "wrong", "wrong"] {
        let body = json!({"name": "", "scopes": ["profile:read"], "password": password});
        let reply = app.post("/api/tokens", Some(&user), body).await;
        reply.assert_problem(422, "invalid_input");
    }
    assert_out_of_sudo(&app, &user).await;
    assert_eq!(app.try_login("alice", PASSWORD).await.status, Status::Ok);
    assert_eq!(token_rows(&app).await, 0);
}

#[rocket::async_test]
async fn regenerating_needs_sudo_and_a_password_in_the_body_does_not_stand_in() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    let (_, entry) = app.personal_token(&user, "ci", &["profile:read"]).await;
    let id = entry["id"].as_str().unwrap().to_string();
    app.advance(61);
    let path = format!("/api/tokens/{id}/regenerate");
    let reply = app
        .post(&path, Some(&user), json!({"password": PASSWORD}))
        .await;
    reply.assert_problem(403, "sudo_required");
    app.regenerate(&user, &id)
        .await
        .assert_problem(403, "sudo_required");
    app.post("/api/auth/sudo", Some(&user), json!({"password": PASSWORD}))
        .await;
    assert_eq!(app.regenerate(&user, &id).await.status, Status::Ok);
}
