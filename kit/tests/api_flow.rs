//! The JSON API, route by route, including the Django original's test suite translated
//! into this contract.

mod common;
use common::*;
use rocket::http::{Header, Status};
use serde_json::json;

async fn sessions(app: &TestApp, token: &str) -> Vec<serde_json::Value> {
    let reply = app.get("/api/sessions", Some(token)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    reply.json().as_array().expect("a list").clone()
}

// --- Ported from django-rest-multitokenauth's tests -------------------------------------------

#[rocket::async_test]
async fn login_then_logout_leaves_no_session() {
    let app = TestApp::new(build).await;
    app.signup("user1", PASSWORD).await;
    let reply = app.try_login("user1", PASSWORD).await;
    assert_eq!(reply.status, Status::Ok);
    let body = reply.json();
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with(DEFAULT_PREFIX));
    assert_eq!(body["session"]["current"], true);
    assert_eq!(body["session"]["kind"], "api");
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    assert_eq!(app.session_count().await, 1);

    let out = app
        .call("POST", "/api/auth/logout", Some(token), None)
        .await;
    assert_eq!(out.status, Status::NoContent);
    assert_eq!(app.session_count().await, 0);
}

#[rocket::async_test]
async fn logout_of_one_device_keeps_the_others() {
    let app = TestApp::new(build).await;
    app.signup("user1", PASSWORD).await;
    let tokens = [
        app.login("user1", PASSWORD).await,
        app.login("user1", PASSWORD).await,
        app.login("user1", PASSWORD).await,
    ];
    assert_ne!(tokens[0], tokens[1]);
    assert_ne!(tokens[1], tokens[2]);
    assert_ne!(tokens[0], tokens[2]);
    assert_eq!(app.session_count().await, 3);

    let out = app
        .call("POST", "/api/auth/logout", Some(&tokens[1]), None)
        .await;
    assert_eq!(out.status, Status::NoContent);
    assert_eq!(
        app.get("/api/me", Some(&tokens[0])).await.status,
        Status::Ok
    );
    assert_eq!(
        app.get("/api/me", Some(&tokens[2])).await.status,
        Status::Ok
    );
    app.get("/api/me", Some(&tokens[1]))
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(app.session_count().await, 2);
}

#[rocket::async_test]
async fn wrong_password_or_unknown_user_gets_one_answer_and_no_token() {
    let app = TestApp::new(build).await;
    app.signup("user1", PASSWORD).await;
    let mut bodies = Vec::new();
    for (user, password) in [
        ("user1", "wrong password"),
        ("nobody", PASSWORD),
        ("nobody", "wrong password"),
    ] {
        let reply = app.try_login(user, password).await;
        reply.assert_problem(401, "invalid_credentials");
        assert!(!reply.text.contains(DEFAULT_PREFIX), "{}", reply.text);
        assert!(reply
            .header("WWW-Authenticate")
            .unwrap()
            .starts_with("Bearer realm="));
        bodies.push(reply.text);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert_eq!(app.session_count().await, 0);
}

#[rocket::async_test]
async fn each_token_names_its_own_user() {
    let app = TestApp::new(build).await;
    app.signup("user1", PASSWORD).await;
    app.signup("user2", PASSWORD).await;
    let logins = [
        ("user1", app.login("user1", PASSWORD).await),
        ("user2", app.login("user2", PASSWORD).await),
        ("user1", app.login("user1", PASSWORD).await),
    ];
    assert_eq!(app.session_count().await, 3);
    for (user, token) in &logins {
        let me = app.get("/api/me", Some(token)).await;
        assert_eq!(me.status, Status::Ok);
        assert_eq!(me.json()["username"], *user);
    }
}

#[rocket::async_test]
async fn logout_with_a_damaged_token_is_refused() {
    let app = TestApp::new(build).await;
    let token = app.user_token("user1").await;
    let reply = app
        .call("POST", "/api/auth/logout", Some(&format!("{token}a")), None)
        .await;
    reply.assert_problem(401, "invalid_token");
    assert!(reply
        .header("WWW-Authenticate")
        .unwrap()
        .contains("error=\"invalid_token\""));
    assert_eq!(app.session_count().await, 1);
}

#[rocket::async_test]
async fn logout_without_credentials_is_refused() {
    let app = TestApp::new(build).await;
    app.user_token("user1").await;
    let reply = app.call("POST", "/api/auth/logout", None, None).await;
    reply.assert_problem(401, "not_authenticated");
    let challenge = reply.header("WWW-Authenticate").unwrap();
    assert!(challenge.starts_with("Bearer realm=") && !challenge.contains("error="));
    assert_eq!(app.session_count().await, 1);
}

#[rocket::async_test]
async fn session_names_may_be_absent_empty_or_repeated() {
    let app = TestApp::new(build).await;
    app.signup("user1", PASSWORD).await;
    app.signup("user2", PASSWORD).await;
    let cases = [
        ("user1", None),
        ("user1", Some("")),
        ("user1", Some("phone")),
        ("user1", Some("phone")),
        ("user2", Some("phone")),
    ];
    for (user, name) in cases {
        let mut body = json!({"username": user, "password": PASSWORD});
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        let reply = app.post("/api/auth/login", None, body).await;
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
        assert_eq!(reply.json()["session"]["name"], json!(name));
    }
    assert_eq!(app.session_count().await, 5);
}

#[rocket::async_test]
async fn token_keyword_of_the_original_works_like_bearer_in_any_case() {
    let app = TestApp::new(build).await;
    let token = app.user_token("user1").await;
    for scheme in ["Token", "token", "TOKEN", "Bearer", "bearer", "BeArEr"] {
        let reply = read(
            app.client
                .get("/api/me")
                .header(Header::new("Authorization", format!("{scheme} {token}")))
                .dispatch()
                .await,
        )
        .await;
        assert_eq!(reply.status, Status::Ok, "scheme {scheme}");
    }
    // The token itself is case-sensitive.
    let reply = app.get("/api/me", Some(&token.to_uppercase())).await;
    reply.assert_problem(401, "invalid_token");
}

// --- The rest of the API ---------------------------------------------------------------------------

#[rocket::async_test]
async fn signup_returns_the_user_and_usernames_are_case_insensitive() {
    let app = TestApp::new(build).await;
    let reply = app.signup("  Alice.B-1_ ", PASSWORD).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["username"], "Alice.B-1_");
    assert!(body["id"].is_i64());
    assert!(body.get("password_hash").is_none());
    app.signup("alice.b-1_", PASSWORD)
        .await
        .assert_problem(409, "username_taken");
    // Login matches case-insensitively and trims the username, but not the password.
    let token = app.login(" ALICE.B-1_ ", PASSWORD).await;
    assert_eq!(
        app.get("/api/me", Some(&token)).await.json()["username"],
        "Alice.B-1_"
    );
    app.try_login("alice.b-1_", &format!(" {PASSWORD}"))
        .await
        .assert_problem(401, "invalid_credentials");
}

#[rocket::async_test]
async fn me_requires_a_token() {
    let app = TestApp::new(build).await;
    app.get("/api/me", None)
        .await
        .assert_problem(401, "not_authenticated");
    let token = app.user_token("user1").await;
    let me = app.get("/api/me", Some(&token)).await;
    assert_eq!(me.status, Status::Ok);
    assert_eq!(me.content_type.as_deref(), Some("application/json"));
    assert_eq!(me.json()["username"], "user1");
}

#[rocket::async_test]
async fn sessions_list_every_device_most_recent_first() {
    let app = TestApp::new(build).await;
    app.signup("user1", PASSWORD).await;
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let mut tokens = Vec::new();
    for (ua, name) in [(firefox, "laptop"), ("curl/8.5.0", "script")] {
        let body = json!({"username": "user1", "password": PASSWORD, "name": name});
        let reply = app.login_with(body, ua, "192.0.2.7:1234").await;
        assert_eq!(reply.status, Status::Ok);
        tokens.push(reply.json()["token"].as_str().unwrap().to_string());
    }
    let other = app.user_token("user2").await;

    let list = sessions(&app, &tokens[0]).await;
    assert_eq!(list.len(), 2, "only the user's own sessions");
    let devices: Vec<_> = list.iter().map(|s| s["device"].as_str().unwrap()).collect();
    assert!(
        devices.contains(&"Firefox on Linux") && devices.contains(&"curl"),
        "{devices:?}"
    );
    let current: Vec<_> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["name"], "laptop");
    for s in &list {
        for key in [
            "id",
            "device",
            "kind",
            "created_at",
            "last_used_at",
            "expires_at",
        ] {
            assert!(s[key].is_string(), "{key} in {s}");
        }
        assert_eq!(s["ip"], "192.0.2.7");
        assert!(s["created_at"].as_str().unwrap().ends_with('Z'));
        assert!(s.get("token_hash").is_none() && s.get("token").is_none());
        assert_ne!(s["id"].as_str().unwrap(), tokens[0]);
    }
    let stamps: Vec<_> = list
        .iter()
        .map(|s| s["last_used_at"].as_str().unwrap())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "{stamps:?}");
    assert_eq!(sessions(&app, &other).await.len(), 1);
}

#[rocket::async_test]
async fn revoking_by_id_ends_only_that_session() {
    let app = TestApp::new(build).await;
    let mine = app.user_token("user1").await;
    let second = app.login("user1", PASSWORD).await;
    let target = app.other_session_id(&mine).await;

    let reply = app.revoke(&mine, &target).await;
    assert_eq!(reply.status, Status::NoContent);
    app.get("/api/me", Some(&second))
        .await
        .assert_problem(401, "invalid_token");
    assert_eq!(app.get("/api/me", Some(&mine)).await.status, Status::Ok);
    // Gone now: 404.
    app.revoke(&mine, &target)
        .await
        .assert_problem(404, "not_found");
}

#[rocket::async_test]
async fn another_users_session_is_404_and_untouched() {
    let app = TestApp::new(build).await;
    let mine = app.user_token("user1").await;
    let theirs = app.user_token("user2").await;
    let their_id = sessions(&app, &theirs).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for id in [their_id.as_str(), "unknown-id", &"x".repeat(500)] {
        app.revoke(&mine, id).await.assert_problem(404, "not_found");
    }
    assert_eq!(app.get("/api/me", Some(&theirs)).await.status, Status::Ok);
    assert_eq!(app.session_count().await, 2);
}

#[rocket::async_test]
async fn logout_all_ends_every_session_of_the_user_only() {
    let app = TestApp::new(build).await;
    let a = app.user_token("user1").await;
    let b = app.login("user1", PASSWORD).await;
    let other = app.user_token("user2").await;
    let reply = app
        .call("POST", "/api/auth/logout-all", Some(&a), None)
        .await;
    assert_eq!(reply.status, Status::NoContent);
    for token in [&a, &b] {
        app.get("/api/me", Some(token))
            .await
            .assert_problem(401, "invalid_token");
    }
    assert_eq!(app.get("/api/me", Some(&other)).await.status, Status::Ok);
    assert_eq!(app.session_count().await, 1);
}

#[rocket::async_test]
async fn password_change_ends_every_other_session() {
    let app = TestApp::new(build).await;
    let current = app.user_token("user1").await;
    let other = app.login("user1", PASSWORD).await;
    let new_password = "a brand new password";

    let reply = app
        .post(
            "/api/auth/password",
            Some(&current),
            json!({"current_password": PASSWORD, "new_password": new_password}),
        )
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    assert_eq!(app.get("/api/me", Some(&current)).await.status, Status::Ok);
    app.get("/api/me", Some(&other))
        .await
        .assert_problem(401, "invalid_token");
    app.try_login("user1", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    app.login("user1", new_password).await;
}

#[rocket::async_test]
async fn password_change_refuses_a_wrong_current_or_invalid_new_password() {
    let app = TestApp::new(build).await;
    let token = app.user_token("user1").await;
    let other = app.login("user1", PASSWORD).await;
    app.post(
        "/api/auth/password",
        Some(&token),
        json!({"current_password": "not it at all", "new_password": "whatever123"}),
    )
    .await
    .assert_problem(401, "invalid_credentials");
    app.post(
        "/api/auth/password",
        Some(&token),
        json!({"current_password": PASSWORD, "new_password": "short"}),
    )
    .await
    .assert_problem(422, "invalid_input");
    app.post("/api/auth/password", None, json!({}))
        .await
        .assert_problem(401, "not_authenticated");
    // Nothing changed.
    assert_eq!(app.get("/api/me", Some(&other)).await.status, Status::Ok);
    app.login("user1", PASSWORD).await;
}

#[rocket::async_test]
async fn health_and_ready_answer() {
    let app = TestApp::new(build).await;
    let health = app.get("/api/health", None).await;
    assert_eq!(health.status, Status::Ok);
    assert_eq!(health.json(), json!({"status": "ok"}));
    let ready = app.get("/api/ready", None).await;
    assert_eq!(ready.status, Status::Ok);
}

#[rocket::async_test]
async fn database_down_is_503_and_health_stays_up() {
    let app = TestApp::with(build, json!({"cache_capacity": 0})).await;
    let token = app.user_token("user1").await;
    app.auth().db().close().await;
    app.get("/api/ready", None)
        .await
        .assert_problem(503, "database_unavailable");
    app.get("/api/me", Some(&token))
        .await
        .assert_problem(503, "database_unavailable");
    app.try_login("user1", PASSWORD)
        .await
        .assert_problem(503, "database_unavailable");
    assert_eq!(app.get("/api/health", None).await.status, Status::Ok);
}

#[rocket::async_test]
async fn responses_carry_no_server_banner() {
    let app = TestApp::new(build).await;
    let reply = app.get("/api/health", None).await;
    assert!(reply.header("Server").is_none(), "{:?}", reply.headers);
}
