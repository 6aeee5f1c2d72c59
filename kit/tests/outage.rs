//! A database that refuses connections is an outage, not a bug: every route that needs it
//! answers 503 with `Retry-After`, as `GET /api/ready` does (the pages too, in HTML), never a 500;
//! and the app recovers by itself once the database takes connections again.
//!
//! Runs on PostgreSQL only (`TEST_DATABASE_URL`): the test database is made to refuse every
//! connection (`ALLOW_CONNECTIONS false`, its sessions ended), as a server does during
//! maintenance.

mod common;
use common::web::*;
use common::*;
use rocket::http::{Cookie, Header};
use serde_json::{json, Value};

/// Runs `sql` on the server's maintenance database, from outside the app.
async fn admin(admin_url: &str, sql: &str) {
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin_url)
        .await
        .expect("the admin connection");
    sqlx::Executor::execute(&mut conn, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Asserts the outage answer: 503, `Retry-After`, and no internals.
fn assert_outage(reply: &Reply, what: &str) {
    assert_eq!(reply.status.code, 503, "{what}: {}", reply.text);
    assert_eq!(reply.header("Retry-After"), Some("5"), "{what}");
    assert!(!reply.text.contains("accepting"), "{what}: {}", reply.text);
}

/// A page request from a browser whose session cookie is `token`.
async fn page(app: &TestApp, path: &str, token: &str) -> Reply {
    let req = as_browser(app.client.get(path))
        .cookie(Cookie::new(SESSION_COOKIE, token.to_string()))
        .header(Header::new("Accept", "text/html"));
    read(req.dispatch().await).await
}

#[rocket::async_test]
async fn a_database_that_refuses_connections_is_a_503_everywhere_until_it_takes_them_again() {
    // Without the cache every request with a token asks the database.
    let app = TestApp::with(build, json!({"cache_capacity": 0})).await;
    let TestDb::Postgres { admin_url, name } = &app.db else {
        eprintln!("skipped: set TEST_DATABASE_URL to run the outage test on PostgreSQL");
        return;
    };
    let token = app.user_token("alice").await;
    let csrf = csrf_of(&get_page(&app, "/login").await.text);

    admin(
        admin_url,
        &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
    )
    .await;
    let end_sessions = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    admin(admin_url, &end_sessions).await;

    let ready = app.get("/api/ready", None).await;
    ready.assert_problem(503, "database_unavailable");
    assert_outage(&ready, "GET /api/ready");
    let api = [
        app.try_login("alice", PASSWORD).await,
        app.signup("bob", PASSWORD).await,
        app.get("/api/me", Some(&token)).await,
        app.get("/api/sessions", Some(&token)).await,
        app.get("/api/activity", Some(&token)).await,
    ];
    for (reply, what) in api
        .iter()
        .zip(["login", "sign-up", "me", "sessions", "activity"])
    {
        assert_outage(reply, what);
        // The very answer of /api/ready.
        assert_eq!(reply.json(), ready.json(), "{what}");
    }
    let pages = [
        page(&app, "/sessions", &token).await,
        page(&app, "/activity", &token).await,
        submit(
            &app,
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await,
    ];
    for (reply, what) in pages.iter().zip(["/sessions", "/activity", "POST /login"]) {
        assert_outage(reply, what);
        assert!(reply.text.contains("<html"), "{what}: an HTML page");
    }

    admin(
        admin_url,
        &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"),
    )
    .await;
    // Back at once, without a restart: the pool opens new connections on demand.
    assert_eq!(app.get("/api/ready", None).await.status.code, 200);
    let me = app.get("/api/me", Some(&token)).await;
    assert_eq!(me.status.code, 200, "{}", me.text);
    assert_eq!(me.json()["username"], Value::from("alice"));
    app.login("alice", PASSWORD).await;
    assert_eq!(app.signup("bob", PASSWORD).await.status.code, 201);
    assert_eq!(page(&app, "/sessions", &token).await.status.code, 200);
}

/// What the other errors stay: a unique violation is 409 and a missing row 404 even while the
/// same codes are checked for outages (never 503).
#[rocket::async_test]
async fn a_constraint_or_a_missing_row_is_never_an_outage() {
    let app = TestApp::new(build).await;
    app.user_token("alice").await;
    app.signup("ALICE", PASSWORD)
        .await
        .assert_problem(409, "username_taken");
    let token = app.login("alice", PASSWORD).await;
    let reply = app.revoke(&token, "AAAAAAAAAAAAAAAAAAAAAA").await;
    reply.assert_problem(404, "not_found");
    assert!(reply.header("Retry-After").is_none());
}
