//! The validation cache: a cached request runs no SQL, and every way a session can
//! end is honoured on the very next request, with the cache on.

mod common;
use common::*;
use rocket::http::Status;
use serde_json::json;

async fn warm(app: &TestApp, token: &str) {
    // Twice: the second is certainly a cache hit.
    for _ in 0..2 {
        assert_eq!(app.get("/api/me", Some(token)).await.status, Status::Ok);
    }
}

async fn assert_refused(app: &TestApp, token: &str) {
    app.get("/api/me", Some(token))
        .await
        .assert_problem(401, "invalid_token");
}

#[rocket::async_test]
async fn cached_request_runs_no_sql() {
    let app = TestApp::new(build).await;
    let token = app.user_token("user1").await;
    warm(&app, &token).await;
    // With the pool closed, any query would fail with 503: a 200 proves none ran.
    app.auth().db().close().await;
    for _ in 0..5 {
        let me = app.get("/api/me", Some(&token)).await;
        assert_eq!(me.status, Status::Ok, "{}", me.text);
        assert_eq!(me.json()["username"], "user1");
    }
}

#[rocket::async_test]
async fn without_the_cache_every_request_asks_the_database() {
    let app = TestApp::with(build, json!({"cache_capacity": 0})).await;
    let token = app.user_token("user1").await;
    warm(&app, &token).await;
    app.auth().db().close().await;
    app.get("/api/me", Some(&token))
        .await
        .assert_problem(503, "database_unavailable");
}

#[rocket::async_test]
async fn logout_is_honoured_on_the_next_request() {
    let app = TestApp::new(build).await;
    let token = app.user_token("user1").await;
    warm(&app, &token).await;
    app.call("POST", "/api/auth/logout", Some(&token), None)
        .await;
    assert_refused(&app, &token).await;
}

#[rocket::async_test]
async fn revoke_by_id_is_honoured_on_the_next_request() {
    let app = TestApp::new(build).await;
    let keeper = app.user_token("user1").await;
    let victim = app.login("user1", PASSWORD).await;
    warm(&app, &victim).await;
    let id = app.other_session_id(&keeper).await;
    let reply = app.revoke(&keeper, &id).await;
    assert_eq!(reply.status, Status::NoContent);
    assert_refused(&app, &victim).await;
}

#[rocket::async_test]
async fn logout_all_is_honoured_on_the_next_request() {
    let app = TestApp::new(build).await;
    let a = app.user_token("user1").await;
    let b = app.login("user1", PASSWORD).await;
    warm(&app, &a).await;
    warm(&app, &b).await;
    app.call("POST", "/api/auth/logout-all", Some(&a), None)
        .await;
    assert_refused(&app, &a).await;
    assert_refused(&app, &b).await;
}

#[rocket::async_test]
async fn password_change_is_honoured_on_the_next_request() {
    let app = TestApp::new(build).await;
    let a = app.user_token("user1").await;
    let b = app.login("user1", PASSWORD).await;
    warm(&app, &b).await;
    let body = json!({"current_password": PASSWORD, "new_password": "another password"});
    let reply = app.post("/api/auth/password", Some(&a), body).await;
    assert_eq!(reply.status, Status::NoContent);
    assert_refused(&app, &b).await;
}

#[rocket::async_test]
async fn eviction_over_the_cap_is_honoured_on_the_next_request() {
    let app = TestApp::with(build, json!({"max_sessions": 1})).await;
    let first = app.user_token("user1").await;
    warm(&app, &first).await;
    let second = app.login("user1", PASSWORD).await;
    assert_refused(&app, &first).await;
    assert_eq!(app.get("/api/me", Some(&second)).await.status, Status::Ok);
}

#[rocket::async_test]
async fn disabling_a_user_is_honoured_on_the_next_request() {
    let app = TestApp::new(build).await;
    let token = app.user_token("user1").await;
    warm(&app, &token).await;
    let id = app.get("/api/me", Some(&token)).await.json()["id"]
        .as_i64()
        .unwrap();
    assert!(app.auth().set_disabled(id, true).await.unwrap());
    assert_refused(&app, &token).await;
    // A disabled user gets the same answer as a wrong password.
    app.try_login("user1", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    assert!(app.auth().set_disabled(id, false).await.unwrap());
    app.login("user1", PASSWORD).await;
}

#[rocket::async_test]
async fn concurrent_revocations_and_requests_never_leave_a_revoked_token_usable() {
    let app = TestApp::new(build).await;
    app.signup("user1", PASSWORD).await;
    for _ in 0..10 {
        let token = app.login("user1", PASSWORD).await;
        let logout = app.call("POST", "/api/auth/logout", Some(&token), None);
        let me = app.get("/api/me", Some(&token));
        let (out, _) = rocket::tokio::join!(logout, me);
        assert_eq!(out.status, Status::NoContent);
        assert_refused(&app, &token).await;
    }
}
