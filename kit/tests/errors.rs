//! Honest database errors: an outage is 503 (worth a retry), a missing row 404, a unique
//! violation 409, and anything else a 500 with an opaque error id, never SQL or internals.

mod common;
use common::*;
use rocket::http::{Cookie, Header};
use serde_json::json;
use session_kit::problem::Problem;

/// The words a leaked database error would carry.
fn assert_no_internals(body: &str) {
    for word in [
        "SELECT",
        "sessions",
        "login_failures",
        "table",
        "relation",
        "sqlx",
    ] {
        assert!(!body.contains(word), "{word:?} leaked: {body}");
    }
}

#[rocket::async_test]
async fn a_closed_database_is_a_503_to_retry() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    // Cached now, so the guard passes and the handler meets the closed pool.
    assert_eq!(app.get("/api/me", Some(&token)).await.status.code, 200);
    app.auth().db().close().await;
    let reply = app.get("/api/sessions", Some(&token)).await;
    reply.assert_problem(503, "database_unavailable");
    // As /api/ready answers: when to try again.
    assert_eq!(reply.header("Retry-After"), Some("5"));
    let ready = app.get("/api/ready", None).await;
    assert_eq!(
        (ready.json(), ready.header("Retry-After")),
        (reply.json(), Some("5"))
    );
}

#[rocket::async_test]
async fn a_broken_query_in_a_handler_is_a_500_with_an_error_id() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    // A bug to provoke: the login handler's throttle table is gone.
    sqlx::query("DROP TABLE login_failures")
        .execute(&**app.auth().db())
        .await
        .unwrap();
    let reply = app.try_login("alice", PASSWORD).await;
    reply.assert_problem(500, "internal_error");
    let id = reply.json()["error_id"]
        .as_str()
        .expect("an error id")
        .to_string();
    assert!(
        id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert_no_internals(&reply.text);
    // Every fault gets its own id.
    let again = app.try_login("alice", PASSWORD).await.json();
    assert_ne!(again["error_id"], id.as_str());
}

#[rocket::async_test]
async fn a_broken_query_while_authenticating_is_a_500_not_an_outage() {
    let app = TestApp::with(build, json!({"cache_capacity": 0})).await;
    let token = app.user_token("alice").await;
    sqlx::query("DROP TABLE sessions")
        .execute(&**app.auth().db())
        .await
        .unwrap();
    let reply = app.get("/api/me", Some(&token)).await;
    reply.assert_problem(500, "internal_error");
    assert!(reply.json()["error_id"].is_string());
    assert!(reply.header("Retry-After").is_none());
    assert_no_internals(&reply.text);
}

#[rocket::async_test]
async fn a_unique_violation_is_a_409_conflict() {
    let app = TestApp::new(build).await;
    app.user_token("alice").await;
    let duplicate = sqlx::query(
        "INSERT INTO users (username, username_key, password_hash, disabled, created_at) \
         VALUES ('Alice', 'alice', 'x', 0, 0)",
    )
    .execute(&**app.auth().db())
    .await
    .expect_err("username_key is unique");
    let problem = Problem::from(duplicate);
    assert_eq!((problem.status.code, problem.code), (409, "conflict"));
    // And the sign-up route says so in its own words.
    app.signup("ALICE", PASSWORD)
        .await
        .assert_problem(409, "username_taken");
}

#[rocket::async_test]
async fn a_missing_row_is_a_404() {
    let app = TestApp::new(build).await;
    let missing = match sqlx::query_as::<_, (i64,)>("SELECT id FROM users WHERE id = 12345")
        .fetch_one(&**app.auth().db())
        .await
    {
        Ok(row) => panic!("found {row:?}"),
        Err(e) => e,
    };
    let problem = Problem::from(missing);
    assert_eq!((problem.status.code, problem.code), (404, "not_found"));
}

#[rocket::async_test]
async fn a_fault_on_a_page_shows_the_error_id_and_no_internals() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let page = |token: String| {
        app.client
            .get("/sessions")
            .cookie(Cookie::new(SESSION_COOKIE, token))
            .header(Header::new("Accept", "text/html"))
    };
    // The cookie's session is validated (and cached) once, so the next request reaches the page.
    assert_eq!(page(token.clone()).dispatch().await.status().code, 200);
    sqlx::query("DROP TABLE sessions")
        .execute(&**app.auth().db())
        .await
        .unwrap();
    let reply = read(page(token).dispatch().await).await;
    assert_eq!(reply.status.code, 500, "{}", reply.text);
    assert!(reply.text.contains("logged as "), "{}", reply.text);
    assert_no_internals(&reply.text);
}
