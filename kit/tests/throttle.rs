//! Login throttling: failed logins count per username and per client IP within a
//! window, in the database (so that every instance sees the same counts); past the limit even the
//! right password is refused with 429 and a Retry-After.

mod common;
use common::*;

use serde_json::json;

const WRONG: &str = "wrong password";

/// Asserts a 429 `throttled` answer with a sensible Retry-After, and returns its seconds.
fn assert_throttled(reply: &Reply, window: u64) -> u64 {
    reply.assert_problem(429, "throttled");
    let retry = reply.header("Retry-After").expect("a Retry-After header");
    let secs: u64 = retry
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not a number of seconds: {retry:?}"));
    assert!(secs >= 1, "Retry-After: {secs}");
    assert!(
        secs <= window,
        "Retry-After {secs} is longer than the {window} s window"
    );
    assert!(reply.json().get("token").is_none(), "{}", reply.text);
    secs
}

fn assert_invalid_credentials(reply: &Reply) {
    reply.assert_problem(401, "invalid_credentials");
    assert!(reply.header("Retry-After").is_none());
}

async fn login_from(app: &TestApp, username: &str, password: &str, from: &str) -> Reply {
    let body = json!({"username": username, "password": password});
    app.call_from("POST", "/api/auth/login", None, Some(body), from)
        .await
}

async fn failures(app: &TestApp, key: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM login_failures WHERE key = '{key}'");
    app.count(&sql).await
}

async fn password_hash(app: &TestApp) -> String {
    let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM users")
        .fetch_one(&**app.auth().db())
        .await
        .expect("one user");
    hash
}

// ---------------------------------------------------------------------------------------------
// Per username
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn the_fourth_attempt_after_three_failures_is_throttled_even_with_the_right_password() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    for _ in 0..3 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
    }
    let reply = app.try_login("alice", PASSWORD).await;
    assert_throttled(&reply, 900);
    // Still throttled, wrong password or right.
    assert_throttled(&app.try_login("alice", WRONG).await, 900);
    assert_throttled(&app.try_login("alice", PASSWORD).await, 900);
    assert_eq!(app.session_count().await, 0);
}

#[rocket::async_test]
async fn two_failures_under_a_limit_of_three_do_not_throttle() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    for _ in 0..2 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
    }
    app.login("alice", PASSWORD).await;
}

#[rocket::async_test]
async fn another_username_is_not_affected_by_a_throttled_one() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    app.signup("bob", PASSWORD).await;
    for _ in 0..3 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
    }
    assert_throttled(&app.try_login("alice", PASSWORD).await, 900);
    let token = app.login("bob", PASSWORD).await;
    assert_eq!(app.get("/api/me", Some(&token)).await.status.code, 200);
}

#[rocket::async_test]
async fn a_throttled_user_keeps_the_sessions_already_open() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    let token = app.user_token("alice").await;
    for _ in 0..3 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
    }
    assert_throttled(&app.try_login("alice", PASSWORD).await, 900);
    assert_eq!(app.get("/api/me", Some(&token)).await.status.code, 200);
}

#[rocket::async_test]
async fn variants_of_one_username_share_one_count() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    for variant in ["alice", "ALICE", "  Alice "] {
        assert_invalid_credentials(&app.try_login(variant, WRONG).await);
    }
    assert_throttled(&app.try_login("aLiCe", PASSWORD).await, 900);
}

#[rocket::async_test]
async fn unknown_usernames_are_throttled_like_known_ones() {
    // Otherwise the 429 would tell which accounts exist.
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    for _ in 0..3 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
        assert_invalid_credentials(&app.try_login("nobody", WRONG).await);
    }
    let known = app.try_login("alice", WRONG).await;
    let unknown = app.try_login("nobody", WRONG).await;
    assert_throttled(&known, 900);
    assert_throttled(&unknown, 900);
    assert_eq!(known.text, unknown.text);
}

#[rocket::async_test]
async fn throttled_attempts_are_not_counted_again() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    for _ in 0..3 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
    }
    for _ in 0..5 {
        assert_throttled(&app.try_login("alice", WRONG).await, 900);
    }
    assert_eq!(failures(&app, "user:alice").await, 3);
}

#[rocket::async_test]
async fn failures_are_stored_in_the_login_failures_table() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM login_failures").await, 0);
    for n in 1..=3 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
        assert_eq!(failures(&app, "user:alice").await, n);
        assert_eq!(failures(&app, "ip:127.0.0.1").await, n);
    }
    // No password or hash of one is kept with them.
    let (key, _): (String, i64) = sqlx::query_as("SELECT key, failed_at FROM login_failures")
        .fetch_one(&**app.auth().db())
        .await
        .expect("a row");
    assert!(!key.contains(WRONG));
}

#[rocket::async_test]
async fn failures_recorded_in_the_database_throttle_without_any_failed_request() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    let now = app.clock().now();
    for _ in 0..3 {
        sqlx::query("INSERT INTO login_failures (key, failed_at) VALUES ($1, $2)")
            .bind("user:alice")
            .bind(now)
            .execute(&**app.auth().db())
            .await
            .expect("insert");
    }
    assert_throttled(&app.try_login("alice", PASSWORD).await, 900);
}

#[rocket::async_test]
async fn failures_on_one_instance_throttle_the_other_instances() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    let other = app.another_instance().await;
    for _ in 0..3 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
    }
    let reply = other.try_login("alice", PASSWORD).await;
    assert_throttled(&reply, 900);
}

#[rocket::async_test]
async fn retry_after_counts_down_to_the_end_of_the_window() {
    let app = TestApp::with(
        build,
        json!({"login_max_failures": 3, "login_failure_window": 60}),
    )
    .await;
    app.signup("alice", PASSWORD).await;
    for _ in 0..3 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
    }
    let secs = assert_throttled(&app.try_login("alice", PASSWORD).await, 60);
    assert!(
        secs >= 58,
        "Retry-After {secs} for a 60 s window that just began"
    );
}

#[rocket::async_test]
async fn the_right_password_works_again_once_the_window_has_passed() {
    let app = TestApp::with(
        build,
        json!({"login_max_failures": 3, "login_failure_window": 2}),
    )
    .await;
    app.signup("alice", PASSWORD).await;
    for _ in 0..3 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
    }
    assert_throttled(&app.try_login("alice", PASSWORD).await, 2);
    app.advance(3);
    app.login("alice", PASSWORD).await;
}

#[rocket::async_test]
async fn a_successful_login_clears_the_usernames_failures() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    for _ in 0..2 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
    }
    assert_eq!(failures(&app, "user:alice").await, 2);
    app.login("alice", PASSWORD).await;
    assert_eq!(failures(&app, "user:alice").await, 0);
    // Two more failures are again below the limit.
    for _ in 0..2 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
    }
    app.login("alice", PASSWORD).await;
}

#[rocket::async_test]
async fn a_successful_login_does_not_clear_another_usernames_failures() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    app.signup("bob", PASSWORD).await;
    for _ in 0..3 {
        assert_invalid_credentials(&app.try_login("alice", WRONG).await);
    }
    app.login("bob", PASSWORD).await;
    assert_throttled(&app.try_login("alice", PASSWORD).await, 900);
}

// ---------------------------------------------------------------------------------------------
// Per client IP
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn many_usernames_from_one_ip_are_throttled_while_another_ip_still_works() {
    let app = TestApp::with(build, json!({"login_max_failures_per_ip": 3})).await;
    app.signup("alice", PASSWORD).await;
    let attacker = "10.1.2.3:4000";
    for name in ["ghost1", "ghost2", "alice"] {
        assert_invalid_credentials(&login_from(&app, name, WRONG, attacker).await);
    }
    // Another username, and even the right password, from the same IP: throttled.
    assert_throttled(&login_from(&app, "ghost4", WRONG, attacker).await, 900);
    assert_throttled(&login_from(&app, "alice", PASSWORD, attacker).await, 900);
    // The same IP on another port is the same client.
    assert_throttled(
        &login_from(&app, "alice", PASSWORD, "10.1.2.3:5999").await,
        900,
    );
    // Another IP is not affected.
    let reply = login_from(&app, "alice", PASSWORD, "10.9.9.9:4000").await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    assert_eq!(failures(&app, "ip:10.1.2.3").await, 3);
}

#[rocket::async_test]
async fn a_successful_login_does_not_clear_the_ips_failures() {
    let app = TestApp::with(build, json!({"login_max_failures_per_ip": 3})).await;
    app.signup("alice", PASSWORD).await;
    let from = "10.1.2.3:4000";
    for name in ["ghost1", "ghost2"] {
        assert_invalid_credentials(&login_from(&app, name, WRONG, from).await);
    }
    // A valid login from the attacking IP must not reset its count.
    let reply = login_from(&app, "alice", PASSWORD, from).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    assert_invalid_credentials(&login_from(&app, "ghost3", WRONG, from).await);
    assert_throttled(&login_from(&app, "ghost4", WRONG, from).await, 900);
}

#[rocket::async_test]
async fn usernames_that_cannot_exist_still_count_against_the_ip() {
    let app = TestApp::with(build, json!({"login_max_failures_per_ip": 3})).await;
    let from = "10.1.2.3:4000";
    let long = "x".repeat(500);
    for name in ["no spaces allowed", long.as_str(), "a"] {
        assert_invalid_credentials(&login_from(&app, name, WRONG, from).await);
    }
    assert_throttled(&login_from(&app, "ghost", WRONG, from).await, 900);
}

#[rocket::async_test]
async fn ipv6_clients_are_throttled_per_64_so_a_subnet_gives_no_fresh_keys() {
    let app = TestApp::with(build, json!({"login_max_failures_per_ip": 3})).await;
    app.signup("alice", PASSWORD).await;
    // Three addresses of one /64, as one subscriber may use.
    for (name, from) in [
        ("ghost1", "[2001:db8:0:1::1]:4000"),
        ("ghost2", "[2001:db8:0:1::2]:4000"),
        ("ghost3", "[2001:db8:0:1:ffff:eeee:dddd:cccc]:4000"),
    ] {
        assert_invalid_credentials(&login_from(&app, name, WRONG, from).await);
    }
    assert_throttled(
        &login_from(&app, "alice", PASSWORD, "[2001:db8:0:1::99]:4001").await,
        900,
    );
    assert_eq!(failures(&app, "ip:2001:db8:0:1::/64").await, 3);
    // The next /64 is another client.
    let reply = login_from(&app, "alice", PASSWORD, "[2001:db8:0:2::1]:4000").await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
}

#[rocket::async_test]
async fn an_ipv4_mapped_ipv6_client_is_its_ipv4_address() {
    let app = TestApp::with(build, json!({"login_max_failures_per_ip": 3})).await;
    app.signup("alice", PASSWORD).await;
    for name in ["ghost1", "ghost2"] {
        assert_invalid_credentials(&login_from(&app, name, WRONG, "10.1.2.3:4000").await);
    }
    let mapped = "[::ffff:10.1.2.3]:4000";
    assert_invalid_credentials(&login_from(&app, "ghost3", WRONG, mapped).await);
    assert_throttled(
        &login_from(&app, "alice", PASSWORD, "10.1.2.3:4000").await,
        900,
    );
    assert_eq!(failures(&app, "ip:10.1.2.3").await, 3);
    // IPv4 clients stay keyed by their own address, not their network.
    let reply = login_from(&app, "alice", PASSWORD, "10.1.2.4:4000").await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
}

#[rocket::async_test]
async fn a_forged_x_real_ip_header_does_not_dodge_the_ip_throttle() {
    let app = TestApp::with(build, json!({"login_max_failures_per_ip": 3})).await;
    for n in 0..4 {
        let req = app
            .client
            .post("/api/auth/login")
            .remote("10.1.2.3:4000".parse().unwrap())
            .header(rocket::http::ContentType::JSON)
            .header(rocket::http::Header::new(
                "X-Real-IP",
                format!("192.0.2.{n}"),
            ))
            .header(rocket::http::Header::new(
                "X-Forwarded-For",
                format!("198.51.100.{n}"),
            ))
            .body(json!({"username": format!("ghost{n}"), "password": WRONG}).to_string());
        let reply = read(req.dispatch().await).await;
        if n < 3 {
            assert_invalid_credentials(&reply);
        } else {
            assert_throttled(&reply, 900);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Password changes
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn a_wrong_current_password_counts_toward_the_throttle() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    let token = app.user_token("alice").await;
    let hash_before = password_hash(&app).await;
    let change = |current: &str| json!({"current_password": current, "new_password": "a brand new password"});
    for _ in 0..3 {
        let reply = app
            .post("/api/auth/password", Some(&token), change(WRONG))
            .await;
        assert_invalid_credentials(&reply);
    }
    // Even the right current password is refused now...
    let reply = app
        .post("/api/auth/password", Some(&token), change(PASSWORD))
        .await;
    assert_throttled(&reply, 900);
    // ...and so is a login with the right password.
    assert_throttled(&app.try_login("alice", PASSWORD).await, 900);
    // The password did not change, and the session that tried is still open.
    assert_eq!(password_hash(&app).await, hash_before);
    assert_eq!(app.get("/api/me", Some(&token)).await.status.code, 200);
}

#[rocket::async_test]
async fn a_wrong_current_password_from_a_stolen_token_does_not_end_the_session() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    let token = app.user_token("alice").await;
    let reply = app
        .post(
            "/api/auth/password",
            Some(&token),
            json!({"current_password": WRONG, "new_password": "a brand new password"}),
        )
        .await;
    assert_invalid_credentials(&reply);
    assert_eq!(failures(&app, "user:alice").await, 1);
    assert_eq!(app.get("/api/me", Some(&token)).await.status.code, 200);
    // The right current password (below the limit) works, and the new password logs in.
    let reply = app
        .post(
            "/api/auth/password",
            Some(&token),
            json!({"current_password": PASSWORD, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);
    app.login("alice", "a brand new password").await;
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn concurrent_wrong_passwords_get_no_more_guesses_than_the_limit() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    let attempts = (0..20).map(|_| app.try_login("alice", WRONG));
    let replies = rocket::futures::future::join_all(attempts).await;
    let guesses = replies.iter().filter(|r| r.status.code == 401).count();
    for reply in &replies {
        assert!(matches!(reply.status.code, 401 | 429), "{}", reply.text);
    }
    assert!(
        guesses <= 3,
        "{guesses} password guesses were checked with a limit of 3"
    );
}

#[rocket::async_test]
async fn concurrent_wrong_passwords_get_exactly_the_limit_of_checks_and_the_rest_429() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    app.signup("alice", PASSWORD).await;
    let attempts = (0..30).map(|_| app.try_login("alice", WRONG));
    let replies = rocket::futures::future::join_all(attempts).await;
    let checked = replies.iter().filter(|r| r.status.code == 401).count();
    // Failures count once known, and the checks in flight are waited for: so exactly the limit
    // of guesses are checked, and every other answer is the throttle's.
    assert_eq!(checked, 3, "{:?}", codes(&replies));
    assert_eq!(replies.iter().filter(|r| r.status.code == 429).count(), 27);
    assert_eq!(failures(&app, "user:alice").await, 3);
}

#[rocket::async_test]
async fn concurrent_right_passwords_for_one_user_are_never_throttled() {
    // Far more logins at once than the limit: none of them is a failure, so none is refused.
    let app = TestApp::with(
        build,
        json!({"login_max_failures": 3, "login_max_failures_per_ip": 3}),
    )
    .await;
    app.signup("alice", PASSWORD).await;
    let attempts = (0..30).map(|_| app.try_login("alice", PASSWORD));
    let replies = rocket::futures::future::join_all(attempts).await;
    assert!(
        replies.iter().all(|r| r.status.code == 200),
        "{:?}",
        codes(&replies)
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM login_failures").await, 0);
}

#[rocket::async_test]
async fn right_passwords_among_concurrent_guesses_never_open_more_checks_than_the_limit() {
    let app = TestApp::with(build, json!({"login_max_failures": 5})).await;
    app.signup("alice", PASSWORD).await;
    let attempts = (0..20).map(|i| {
        let password = if i % 4 == 0 { PASSWORD } else { WRONG };
        app.try_login("alice", password)
    });
    let replies = rocket::futures::future::join_all(attempts).await;
    let wrong_checked = replies.iter().filter(|r| r.status.code == 401).count();
    let signed_in = replies.iter().filter(|r| r.status.code == 200).count();
    // A sign-in clears the username's failures: each one starts a new budget of 5 guesses.
    assert!(
        wrong_checked <= 5 * (signed_in + 1),
        "{:?}",
        codes(&replies)
    );
    for reply in &replies {
        assert!(
            matches!(reply.status.code, 200 | 401 | 429),
            "{}",
            reply.text
        );
    }
}

#[rocket::async_test]
async fn concurrent_guesses_from_one_ip_get_exactly_its_limit_of_checks() {
    let app = TestApp::with(build, json!({"login_max_failures_per_ip": 4})).await;
    let names: Vec<String> = (0..24).map(|i| format!("user{i}")).collect();
    let attempts = names
        .iter()
        .map(|name| login_from(&app, name, WRONG, "198.51.100.7:4000"));
    let replies = rocket::futures::future::join_all(attempts).await;
    let checked = replies.iter().filter(|r| r.status.code == 401).count();
    assert_eq!(checked, 4, "{:?}", codes(&replies));
    assert_eq!(failures(&app, "ip:198.51.100.7").await, 4);
}

#[rocket::async_test]
async fn concurrent_guesses_on_two_instances_share_one_limit() {
    let a = TestApp::with(build, json!({"login_max_failures": 4})).await;
    let b = a.another_instance().await;
    a.signup("alice", PASSWORD).await;
    let on_a = (0..12).map(|_| a.try_login("alice", WRONG));
    let on_b = (0..12).map(|_| b.try_login("alice", WRONG));
    let (ra, rb) = rocket::futures::future::join(
        rocket::futures::future::join_all(on_a),
        rocket::futures::future::join_all(on_b),
    )
    .await;
    let checked = ra
        .iter()
        .chain(&rb)
        .filter(|r| r.status.code == 401)
        .count();
    assert!(
        checked <= 4,
        "{checked} guesses checked across two instances"
    );
    assert_eq!(failures(&a, "user:alice").await, checked as i64);
}

#[rocket::async_test]
async fn a_check_left_in_flight_by_a_dead_process_counts_as_a_failure_after_a_while() {
    let app = TestApp::with(build, json!({"login_max_failures": 1})).await;
    app.signup("alice", PASSWORD).await;
    // A row marked in flight, as a process that died mid-check leaves it.
    let now = app.clock().now();
    sqlx::query("INSERT INTO login_failures (key, failed_at, attempt) VALUES ($1, $2, $3)")
        .bind("user:alice")
        .bind(now)
        .bind("dead-attempt")
        .execute(&**app.auth().db())
        .await
        .unwrap();
    // While it may still be running, a login waits for it (and, as it never ends, gives up
    // as busy rather than risk a second check past the limit)...
    app.advance(session_kit::store::throttle::IN_FLIGHT_TTL + 1);
    // ...and once its time is up it is a known failure: the limit of 1 is reached.
    let reply = app.try_login("alice", PASSWORD).await;
    assert_throttled(&reply, 900);
}

fn codes(replies: &[Reply]) -> Vec<u16> {
    replies.iter().map(|r| r.status.code).collect()
}
