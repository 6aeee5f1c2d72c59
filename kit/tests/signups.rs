//! The bound on sign-ups per client: `signup_max_per_ip` an hour from one IPv4 address or IPv6
//! /64, `POST /api/users` and the `/signup` form alike, counted in the database; past it 429 with
//! `Retry-After`.

mod common;
use common::web::*;
use common::*;
use rocket::http::Status;
use serde_json::json;

async fn sign_up_from(app: &TestApp, username: &str, from: &str) -> Reply {
    let body = json!({"username": username, "password": PASSWORD});
    app.call_from("POST", "/api/users", None, Some(body), from)
        .await
}

/// Asserts a 429 `throttled` with a Retry-After within the hour; returns its seconds.
fn assert_throttled(reply: &Reply) -> u64 {
    reply.assert_problem(429, "throttled");
    let secs: u64 = reply
        .header("Retry-After")
        .expect("a Retry-After header")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&secs), "Retry-After: {secs}");
    secs
}

async fn users(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM users").await
}

#[rocket::async_test]
async fn sign_ups_past_the_limit_from_one_address_are_429_while_another_address_still_signs_up() {
    let app = TestApp::with(build, json!({"signup_max_per_ip": 3})).await;
    for name in ["user1", "user2", "user3"] {
        let reply = sign_up_from(&app, name, "10.1.2.3:4000").await;
        assert_eq!(reply.status.code, 201, "{}", reply.text);
    }
    let reply = sign_up_from(&app, "user4", "10.1.2.3:5999").await;
    let retry = assert_throttled(&reply);
    assert_eq!(retry, 3600, "the first sign-up counts for a full hour");
    assert_eq!(users(&app).await, 3, "no account was made");
    // Another address is another client; a refused sign-up did not count again.
    let reply = sign_up_from(&app, "user4", "10.1.2.4:4000").await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM signups").await, 4);
}

#[rocket::async_test]
async fn the_limit_lifts_as_sign_ups_leave_the_hour_and_the_sweep_deletes_them() {
    let app = TestApp::with(build, json!({"signup_max_per_ip": 2})).await;
    let from = "10.1.2.3:4000";
    sign_up_from(&app, "user1", from).await;
    app.advance(1000);
    sign_up_from(&app, "user2", from).await;
    app.advance(1000);
    assert_eq!(
        assert_throttled(&sign_up_from(&app, "user3", from).await),
        1600
    );
    app.advance(1600);
    let reply = sign_up_from(&app, "user3", from).await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    app.advance(3600);
    app.auth().sweep().await.expect("a sweep");
    assert_eq!(app.count("SELECT COUNT(*) FROM signups").await, 0);
}

#[rocket::async_test]
async fn a_taken_username_counts_and_invalid_input_does_not() {
    let app = TestApp::with(build, json!({"signup_max_per_ip": 2})).await;
    let from = "10.1.2.3:4000";
    for invalid in [
        json!({"username": "x", "password": PASSWORD}),
        json!({"username": "bob"}),
    ] {
        let reply = app
            .call_from("POST", "/api/users", None, Some(invalid), from)
            .await;
        reply.assert_problem(422, "invalid_input");
    }
    assert_eq!(sign_up_from(&app, "alice", from).await.status.code, 201);
    sign_up_from(&app, "alice", from)
        .await
        .assert_problem(409, "username_taken");
    assert_throttled(&sign_up_from(&app, "bob", from).await);
}

#[rocket::async_test]
async fn ipv6_clients_are_counted_per_64() {
    let app = TestApp::with(build, json!({"signup_max_per_ip": 2})).await;
    assert_eq!(
        sign_up_from(&app, "user1", "[2001:db8:0:1::1]:4000")
            .await
            .status
            .code,
        201
    );
    assert_eq!(
        sign_up_from(&app, "user2", "[2001:db8:0:1::2]:4000")
            .await
            .status
            .code,
        201
    );
    assert_throttled(&sign_up_from(&app, "user3", "[2001:db8:0:1:aaaa::3]:4000").await);
    let reply = sign_up_from(&app, "user3", "[2001:db8:0:2::1]:4000").await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
}

/// Signs up through the form, as a signed-out browser at 127.0.0.1.
async fn form_sign_up(app: &TestApp, name: &str) -> Reply {
    let csrf = csrf_of(&get_page(app, "/signup").await.text);
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", name),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    submit(app, "/signup", &fields).await
}

#[rocket::async_test]
async fn the_form_and_the_api_share_one_count_and_the_form_says_how_long_to_wait() {
    let app = TestApp::with(build, json!({"signup_max_per_ip": 2})).await;
    // The form posts from 127.0.0.1, as the API calls below do.
    assert_eq!(
        sign_up_from(&app, "user1", "127.0.0.1:4000")
            .await
            .status
            .code,
        201
    );
    let reply = form_sign_up(&app, "user2").await;
    assert_redirect(&reply, "/sessions");
    let page = get_page(&app, "/sessions").await;
    submit(&app, "/logout", &[("csrf", &csrf_of(&page.text))]).await;
    assert_eq!(session_cookie(&app), None, "signed out");
    // Over the limit: the form again, 429, with the wait in words and in Retry-After.
    let reply = form_sign_up(&app, "user3").await;
    assert_eq!(reply.status, Status::TooManyRequests, "{}", reply.text);
    assert!(
        reply
            .text
            .contains("Too many sign-ups from your address. Try again in 1 hour."),
        "{}",
        reply.text
    );
    assert_eq!(reply.header("Retry-After"), Some("3600"));
    assert!(
        reply.text.contains(r#"value="user3""#),
        "the username is kept"
    );
    assert_throttled(&sign_up_from(&app, "user4", "127.0.0.1:4000").await);
    assert_eq!(users(&app).await, 2);
}

#[rocket::async_test]
async fn parallel_sign_ups_never_get_past_the_limit() {
    let app = TestApp::with(build, json!({"signup_max_per_ip": 3})).await;
    let names: Vec<String> = (0..10).map(|i| format!("user{i}")).collect();
    let replies = rocket::futures::future::join_all(
        names
            .iter()
            .map(|name| sign_up_from(&app, name, "10.1.2.3:4000")),
    )
    .await;
    let mut codes: Vec<u16> = replies.iter().map(|r| r.status.code).collect();
    codes.sort();
    assert_eq!(codes, [201, 201, 201, 429, 429, 429, 429, 429, 429, 429]);
    assert_eq!(users(&app).await, 3);
}

#[rocket::async_test]
async fn sign_ups_on_one_instance_count_on_the_others() {
    let app = TestApp::with(build, json!({"signup_max_per_ip": 1})).await;
    let other = app.another_instance().await;
    assert_eq!(
        sign_up_from(&app, "user1", "10.1.2.3:4000")
            .await
            .status
            .code,
        201
    );
    assert_throttled(&sign_up_from(&other, "user2", "10.1.2.3:4000").await);
}

#[rocket::async_test]
async fn zero_means_no_bound_and_nothing_is_recorded() {
    let app = TestApp::with(build, json!({"signup_max_per_ip": 0})).await;
    for i in 0..5 {
        let reply = sign_up_from(&app, &format!("user{i}"), "10.1.2.3:4000").await;
        assert_eq!(reply.status.code, 201, "{}", reply.text);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM signups").await, 0);
}
