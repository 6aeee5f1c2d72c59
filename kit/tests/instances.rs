//! Several instances on one PostgreSQL database: a revocation on one is honoured by the
//! others within a second (a password reset's too), even when a listener connection is killed; the
//! login throttle is shared.
//! Needs `TEST_DATABASE_URL`; on SQLite these tests say they were skipped.

mod common;
use common::*;
use rocket::http::Status;
use serde_json::json;
use std::time::{Duration, Instant};

async fn two_instances(auth: serde_json::Value) -> Option<(TestApp, TestApp)> {
    let a = TestApp::with(build, auth).await;
    if !a.db.is_postgres() {
        eprintln!("skipped: set TEST_DATABASE_URL to run the multi-instance tests on PostgreSQL");
        return None;
    }
    let b = a.another_instance().await;
    Some((a, b))
}

/// Polls `app` until it refuses `token`; panics unless that happens within one second.
async fn refused_within_a_second(app: &TestApp, token: &str) -> Duration {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        let reply = app.get("/api/me", Some(token)).await;
        if reply.status == Status::Unauthorized {
            return start.elapsed();
        }
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
        rocket::tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the other instance still accepted a revoked token after 1 s");
}

async fn cached_on(app: &TestApp, token: &str) {
    for _ in 0..2 {
        assert_eq!(app.get("/api/me", Some(token)).await.status, Status::Ok);
    }
}

#[rocket::async_test]
async fn a_token_from_one_instance_works_on_the_other() {
    let Some((a, b)) = two_instances(json!({})).await else {
        return;
    };
    let token = a.user_token("user1").await;
    let me = b.get("/api/me", Some(&token)).await;
    assert_eq!(me.status, Status::Ok);
    assert_eq!(me.json()["username"], "user1");
}

#[rocket::async_test]
async fn logout_on_one_instance_is_refused_by_the_other() {
    let Some((a, b)) = two_instances(json!({})).await else {
        return;
    };
    let token = a.user_token("user1").await;
    cached_on(&b, &token).await;
    a.call("POST", "/api/auth/logout", Some(&token), None).await;
    refused_within_a_second(&b, &token).await;
}

#[rocket::async_test]
async fn revoke_by_id_on_one_instance_is_refused_by_the_other() {
    let Some((a, b)) = two_instances(json!({})).await else {
        return;
    };
    let keeper = a.user_token("user1").await;
    let victim = a.login("user1", PASSWORD).await;
    cached_on(&b, &victim).await;
    let id = a.other_session_id(&keeper).await;
    let reply = a.revoke(&keeper, &id).await;
    assert_eq!(reply.status, Status::NoContent);
    refused_within_a_second(&b, &victim).await;
}

#[rocket::async_test]
async fn logout_all_and_password_change_reach_the_other_instance() {
    let Some((a, b)) = two_instances(json!({})).await else {
        return;
    };
    let first = a.user_token("user1").await;
    let second = a.login("user1", PASSWORD).await;
    cached_on(&b, &second).await;
    let body = json!({"current_password": PASSWORD, "new_password": "another password"});
    let reply = a.post("/api/auth/password", Some(&first), body).await;
    assert_eq!(reply.status, Status::NoContent);
    refused_within_a_second(&b, &second).await;

    cached_on(&b, &first).await;
    a.call("POST", "/api/auth/logout-all", Some(&first), None)
        .await;
    refused_within_a_second(&b, &first).await;
}

#[rocket::async_test]
async fn a_password_reset_reaches_the_other_instance() {
    let Some((a, b)) = two_instances(json!({})).await else {
        return;
    };
    let token = a.user_token("user1").await;
    cached_on(&b, &token).await;
    let user_id = a.get("/api/me", Some(&token)).await.json()["id"].as_i64();
    let mut conn = a.auth().db().acquire().await.unwrap();
    let (kind, to) = (session_kit::auth::LinkKind::Reset, "user1@example.org");
    let link = a.auth().issue_link(&mut conn, user_id.unwrap(), kind, to);
    let link = link.await.unwrap();
    drop(conn);
    let body = json!({"token": link.token.expose(), "new_password": "another password"});
    let reply = a.post("/api/auth/password-reset/confirm", None, body).await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    refused_within_a_second(&b, &token).await;
}

#[rocket::async_test]
async fn a_killed_listener_never_lets_a_revoked_token_through() {
    let Some((a, b)) = two_instances(json!({})).await else {
        return;
    };
    let token = a.user_token("user1").await;
    for round in 0..3 {
        let second = a.login("user1", PASSWORD).await;
        cached_on(&b, &second).await;
        // The previous round's kill may not have been followed by a new listener yet.
        b.wait_for_listener().await;
        let pid = b.auth().listener_pid().expect("B listens");
        let (killed,): (bool,) = sqlx::query_as("SELECT pg_terminate_backend($1::int)")
            .bind(pid)
            .fetch_one(&**a.auth().db())
            .await
            .unwrap();
        assert!(killed, "round {round}");
        // Wait until B has seen its listener go (it may already be back with a new connection).
        let start = Instant::now();
        while b.auth().listener_pid() == Some(pid) {
            assert!(start.elapsed() < Duration::from_secs(2), "B never noticed");
            rocket::tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // Revoked while B's listener may be down or just back: B must still refuse it.
        a.call("POST", "/api/auth/logout", Some(&second), None)
            .await;
        refused_within_a_second(&b, &second).await;
        assert_eq!(b.get("/api/me", Some(&token)).await.status, Status::Ok);
    }
    b.wait_for_listener().await;
    assert!(b.auth().cache_is_trusted());
}

#[rocket::async_test]
async fn the_login_throttle_is_shared_between_instances() {
    let Some((a, b)) = two_instances(json!({"login_max_failures": 3})).await else {
        return;
    };
    a.signup("user1", PASSWORD).await;
    for app in [&a, &b, &a] {
        app.try_login("user1", "wrong password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    let reply = b.try_login("user1", PASSWORD).await;
    reply.assert_problem(429, "throttled");
    assert!(reply.header("Retry-After").is_some());
}

#[rocket::async_test]
async fn a_regenerated_token_s_old_secret_is_refused_by_the_other_instance() {
    let Some((a, b)) = two_instances(json!({})).await else {
        return;
    };
    let user = a.user_token("user1").await;
    let (old, entry) = a.personal_token(&user, "ci", &["profile:read"]).await;
    cached_on(&b, &old).await;
    let reply = a.regenerate(&user, entry["id"].as_str().unwrap()).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    let new = reply.json()["token"].as_str().unwrap().to_string();
    assert_eq!(
        a.get("/api/me", Some(&old)).await.status,
        Status::Unauthorized
    );
    refused_within_a_second(&b, &old).await;
    cached_on(&b, &new).await;
}

#[rocket::async_test]
async fn a_password_change_ends_the_tokens_on_the_other_instance() {
    let Some((a, b)) = two_instances(json!({})).await else {
        return;
    };
    let user = a.user_token("user1").await;
    let (token, _) = a.personal_token(&user, "ci", &["profile:read"]).await;
    cached_on(&b, &token).await;
    let body = json!({"current_password": PASSWORD, "new_password": "another password"});
    let reply = a.post("/api/auth/password", Some(&user), body).await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    refused_within_a_second(&b, &token).await;
}

#[rocket::async_test]
async fn sudo_granted_on_one_instance_is_honoured_by_the_other() {
    let Some((a, b)) = two_instances(json!({"sudo_window": 60})).await else {
        return;
    };
    let user = a.user_token("user1").await;
    cached_on(&b, &user).await;
    // The clock is shared: both see the sign-in's window end.
    a.advance(61);
    let body = json!({"name": "ci", "scopes": ["profile:read"]});
    let reply = b.post("/api/tokens", Some(&user), body.clone()).await;
    reply.assert_problem(403, "sudo_required");
    let reply = a
        .post("/api/auth/sudo", Some(&user), json!({"password": PASSWORD}))
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    // B's copy says no; it reads the row again.
    let reply = b.post("/api/tokens", Some(&user), body).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    let id = reply.json()["session"]["id"].as_str().unwrap().to_string();
    let reply = b.regenerate(&user, &id).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    // And the window ends on both.
    a.advance(61);
    for app in [&a, &b] {
        let reply = app.regenerate(&user, &id).await;
        reply.assert_problem(403, "sudo_required");
    }
}

#[rocket::async_test]
async fn a_fresh_sign_in_on_one_instance_is_in_sudo_on_the_other() {
    let Some((a, b)) = two_instances(json!({"sudo_window": 60})).await else {
        return;
    };
    let user = a.user_token("user1").await;
    let body = json!({"name": "ci", "scopes": ["profile:read"]});
    let reply = b.post("/api/tokens", Some(&user), body.clone()).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    let token = reply.json()["token"].as_str().unwrap().to_string();
    cached_on(&a, &token).await;
    a.advance(61);
    b.post("/api/tokens", Some(&user), body)
        .await
        .assert_problem(403, "sudo_required");
}
