//! One-time links (email verification, password reset): single use, a lifetime of their own,
//! a newer link of a kind supersedes the older ones, a password change voids them all, and every
//! kind of dead token (used, expired, superseded, voided, tampered, unknown) gives one answer.

mod common;
use common::*;
use serde_json::json;
use session_kit::auth::{Auth, IssuedLink, LinkError, LinkKind};
use session_kit::store::links;
use sqlx::AnyConnection;

/// A user with an address, and a connection to the app's database.
async fn user_and_conn(app: &TestApp) -> (i64, sqlx::pool::PoolConnection<sqlx::Any>) {
    let body = json!({"username": "bob", "password": PASSWORD, "email": "bob@example.org"});
    let reply = app.post("/api/users", None, body).await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    let id = reply.json()["id"].as_i64().unwrap();
    (id, app.auth().db().acquire().await.unwrap())
}

async fn issue(auth: &Auth, conn: &mut AnyConnection, user: i64, kind: LinkKind) -> IssuedLink {
    auth.issue_link(conn, user, kind, "bob@example.org")
        .await
        .expect("a link")
}

async fn consume(auth: &Auth, conn: &mut AnyConnection, kind: LinkKind, token: &str) -> bool {
    match auth.consume_link(conn, kind, token).await {
        Ok(link) => {
            assert_eq!(link.email, "bob@example.org");
            true
        }
        Err(LinkError::Spent) => false,
        Err(LinkError::Db(e)) => panic!("{e}"),
    }
}

async fn links_stored(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM email_links").await
}

#[rocket::async_test]
async fn a_link_works_once_and_is_stored_only_as_a_hash() {
    let app = TestApp::new(build).await;
    let auth = app.auth();
    let (user, mut conn) = user_and_conn(&app).await;
    let link = issue(auth, &mut conn, user, LinkKind::Verify).await;
    let token = link.token.expose().to_string();
    assert!(token.starts_with(DEFAULT_PREFIX), "the kit's token format");
    assert_eq!(
        link.expires_at,
        app.clock().now() + 86400,
        "verify_lifetime"
    );
    let stored: (Vec<u8>, String) = sqlx::query_as("SELECT token_hash, kind FROM email_links")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(stored.0.len(), 32);
    assert!(!String::from_utf8_lossy(&stored.0).contains(&token[3..]));
    assert_eq!(stored.1, "verify");
    // The wrong kind finds nothing, and does not use the link up.
    assert!(!consume(auth, &mut conn, LinkKind::Reset, &token).await);
    let used = auth.consume_link(&mut conn, LinkKind::Verify, &token).await;
    assert_eq!(used.unwrap().user_id, user);
    assert!(
        !consume(auth, &mut conn, LinkKind::Verify, &token).await,
        "used"
    );
    assert_eq!(links_stored(&app).await, 0);
}

#[rocket::async_test]
async fn a_link_expires_after_its_kinds_lifetime() {
    let config = json!({"verify_lifetime": 600, "reset_lifetime": 60});
    let app = TestApp::with(build, config).await;
    let auth = app.auth();
    let (user, mut conn) = user_and_conn(&app).await;
    let reset = issue(auth, &mut conn, user, LinkKind::Reset).await;
    let verify = issue(auth, &mut conn, user, LinkKind::Verify).await;
    app.advance(59);
    let reset = reset.token.expose().to_string();
    let verify = verify.token.expose().to_string();
    assert!(consume(auth, &mut conn, LinkKind::Reset, &reset).await);
    let late = issue(auth, &mut conn, user, LinkKind::Reset).await;
    app.advance(60);
    let late = late.token.expose().to_string();
    assert!(
        !consume(auth, &mut conn, LinkKind::Reset, &late).await,
        "expired"
    );
    assert_eq!(
        links_stored(&app).await,
        1,
        "an expired link is deleted when tried"
    );
    app.advance(600 - 119);
    assert!(
        !consume(auth, &mut conn, LinkKind::Verify, &verify).await,
        "expired"
    );
}

#[rocket::async_test]
async fn the_sweep_deletes_expired_links() {
    let app = TestApp::new(build).await;
    let auth = app.auth();
    let (user, mut conn) = user_and_conn(&app).await;
    issue(auth, &mut conn, user, LinkKind::Reset).await;
    issue(auth, &mut conn, user, LinkKind::Verify).await;
    app.advance(3600);
    auth.sweep().await.unwrap();
    assert_eq!(links_stored(&app).await, 1, "the reset link is gone");
    assert_eq!(
        links::prune(&mut conn, app.clock().now() + 86400)
            .await
            .unwrap(),
        1
    );
}

#[rocket::async_test]
async fn a_new_link_of_a_kind_supersedes_the_older_ones_of_that_kind_only() {
    let app = TestApp::new(build).await;
    let auth = app.auth();
    let (user, mut conn) = user_and_conn(&app).await;
    let first = issue(auth, &mut conn, user, LinkKind::Reset).await;
    let verify = issue(auth, &mut conn, user, LinkKind::Verify).await;
    let second = issue(auth, &mut conn, user, LinkKind::Reset).await;
    let first = first.token.expose().to_string();
    assert!(
        !consume(auth, &mut conn, LinkKind::Reset, &first).await,
        "superseded"
    );
    let second = second.token.expose().to_string();
    assert!(consume(auth, &mut conn, LinkKind::Reset, &second).await);
    let verify = verify.token.expose().to_string();
    assert!(consume(auth, &mut conn, LinkKind::Verify, &verify).await);
}

#[rocket::async_test]
async fn tampered_and_unknown_tokens_are_refused_alike() {
    let app = TestApp::new(build).await;
    let auth = app.auth();
    let (user, mut conn) = user_and_conn(&app).await;
    let link = issue(auth, &mut conn, user, LinkKind::Verify).await;
    let token = link.token.expose().to_string();
    let mut tampered = token.clone().into_bytes();
    let i = DEFAULT_PREFIX.len() + 5;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let (unknown, _) = session_kit::token::Token::generate(DEFAULT_PREFIX);
    for bad in [
        tampered.as_str(),
        unknown.expose(),
        "",
        "mt_short",
        &token[1..],
    ] {
        assert!(
            !consume(auth, &mut conn, LinkKind::Verify, bad).await,
            "{bad}"
        );
    }
    assert!(
        consume(auth, &mut conn, LinkKind::Verify, &token).await,
        "left untouched"
    );
}

#[rocket::async_test]
async fn a_password_change_voids_every_outstanding_link() {
    let app = TestApp::new(build).await;
    let auth = app.auth();
    let (user, mut conn) = user_and_conn(&app).await;
    let reset = issue(auth, &mut conn, user, LinkKind::Reset).await;
    let verify = issue(auth, &mut conn, user, LinkKind::Verify).await;
    let token = app.login("bob", PASSWORD).await;
    let body = json!({"current_password": PASSWORD, "new_password": "another good password"});
    let reply = app.post("/api/auth/password", Some(&token), body).await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);
    assert_eq!(links_stored(&app).await, 0);
    for (kind, link) in [(LinkKind::Reset, reset), (LinkKind::Verify, verify)] {
        assert!(!consume(auth, &mut conn, kind, link.token.expose()).await);
    }
    issue(auth, &mut conn, user, LinkKind::Reset).await;
    assert_eq!(auth.void_links(&mut conn, user).await.unwrap(), 1);
}

#[rocket::async_test]
async fn a_consumed_link_comes_back_when_its_transaction_rolls_back() {
    let app = TestApp::new(build).await;
    let auth = app.auth();
    let (user, mut conn) = user_and_conn(&app).await;
    let link = issue(auth, &mut conn, user, LinkKind::Reset).await;
    let token = link.token.expose();
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    assert!(consume(auth, &mut tx, LinkKind::Reset, token).await);
    tx.rollback().await.unwrap();
    assert!(consume(auth, &mut conn, LinkKind::Reset, token).await);
}
