//! Session lifetimes with short timeouts: the absolute lifetime, the idle timeout, the per-user
//! cap, the touch interval and the expiry sweep; and the `[auth]` settings that must stop the app
//! from starting.
//!
//! Time passes by the test app's manual clock (`app.advance`), not by sleeping; only the periodic
//! sweep's timer is real.

mod common;
use common::*;

use rocket::local::asynchronous::Client;
use rocket::tokio::time::sleep;
use serde_json::{json, Value};
use std::time::Duration;

/// Waits in real time, for the background tasks' timers.
async fn real_wait(secs: f64) {
    assert!(secs <= 2.0, "keep each wait short");
    sleep(Duration::from_secs_f64(secs)).await;
}

/// Asserts that `token` authenticates `GET /api/me`.
async fn assert_valid(app: &TestApp, token: &str) {
    let reply = app.get("/api/me", Some(token)).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
}

/// Asserts that `token` is refused as an invalid token (RFC 6750 challenge included).
async fn assert_refused(app: &TestApp, token: &str) {
    let reply = app.get("/api/me", Some(token)).await;
    reply.assert_problem(401, "invalid_token");
    let challenge = reply.header("WWW-Authenticate").expect("a challenge");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

/// The public id of the session that `token` belongs to.
async fn session_id(app: &TestApp, token: &str) -> String {
    let reply = app.get("/api/sessions", Some(token)).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    let list = reply.json();
    let current = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .expect("the current session is listed");
    current["id"].as_str().unwrap().to_string()
}

async fn last_used_at(app: &TestApp) -> i64 {
    app.count("SELECT last_used_at FROM sessions").await
}

/// Whether the app ignites with these `[auth]` overrides (built as `TestApp::with` does).
async fn ignites(auth: Value) -> bool {
    let (_db, url) = TestDb::new().await;
    let mut figment = rocket::Config::figment()
        .merge(("databases.db.url", url))
        .merge(("log_level", "off"))
        .merge(("auth.bcrypt_cost", 4));
    for (key, value) in auth.as_object().expect("an object").clone() {
        figment = figment.merge((format!("auth.{key}"), value));
    }
    match Client::tracked(build(figment)).await {
        Ok(_client) => true,
        Err(e) => {
            // Inspecting a launch error marks it handled (unhandled ones panic on drop).
            let _ = e.kind();
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Absolute lifetime
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn a_session_ends_at_its_absolute_lifetime_even_while_in_use() {
    let app = TestApp::with(build, json!({"session_lifetime": 3})).await;
    app.signup("alice", PASSWORD).await;
    let reply = app.try_login("alice", PASSWORD).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    let token = reply.json()["token"].as_str().unwrap().to_string();
    assert_valid(&app, &token).await;
    app.advance(1);
    assert_valid(&app, &token).await;
    app.advance(3);
    assert_refused(&app, &token).await;
    // Refused for good, and the row is gone.
    assert_refused(&app, &token).await;
    assert_eq!(app.session_count().await, 0);
}

#[rocket::async_test]
async fn the_login_response_shows_when_the_session_ends() {
    let app = TestApp::with(build, json!({"session_lifetime": 3, "idle_timeout": 0})).await;
    app.signup("alice", PASSWORD).await;
    let reply = app.try_login("alice", PASSWORD).await;
    let session = &reply.json()["session"];
    let parse = |v: &Value| {
        time::OffsetDateTime::parse(
            v.as_str().expect("a timestamp"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("RFC 3339")
    };
    let created = parse(&session["created_at"]);
    let expires = parse(&session["expires_at"]);
    assert_eq!((expires - created).whole_seconds(), 3, "{session}");
    assert!(
        session["expires_at"].as_str().unwrap().ends_with('Z'),
        "{session}"
    );
}

#[rocket::async_test]
async fn without_any_lifetime_a_session_does_not_expire() {
    let app = TestApp::with(build, json!({"session_lifetime": 0, "idle_timeout": 0})).await;
    let token = app.user_token("alice").await;
    let reply = app.get("/api/sessions", Some(&token)).await;
    assert_eq!(reply.json()[0]["expires_at"], Value::Null, "{}", reply.text);
    app.advance(2);
    assert_valid(&app, &token).await;
    assert_eq!(app.auth().sweep().await.expect("sweep"), 0);
    assert_eq!(app.session_count().await, 1);
}

// ---------------------------------------------------------------------------------------------
// Idle timeout
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn a_session_used_every_second_outlives_the_idle_timeout() {
    let app = TestApp::with(build, json!({"idle_timeout": 3, "touch_interval": 1})).await;
    let token = app.user_token("alice").await;
    for _ in 0..6 {
        app.advance(1);
        assert_valid(&app, &token).await;
    }
    // Six seconds after login, twice the idle timeout: still valid.
    assert_eq!(app.session_count().await, 1);
}

#[rocket::async_test]
async fn a_session_left_idle_past_the_idle_timeout_is_refused() {
    let app = TestApp::with(build, json!({"idle_timeout": 3, "touch_interval": 1})).await;
    let idle = app.user_token("alice").await;
    let busy = app.login("alice", PASSWORD).await;
    // In the cache, so that the refusal below is not merely a cache miss.
    assert_valid(&app, &idle).await;
    for _ in 0..4 {
        app.advance(1);
        assert_valid(&app, &busy).await;
    }
    assert_refused(&app, &idle).await;
    assert_valid(&app, &busy).await;
}

#[rocket::async_test]
async fn a_session_used_every_second_stays_valid_with_the_cache_off() {
    // Every request reads the row, so the row's last_used_at must keep up.
    let app = TestApp::with(
        build,
        json!({"idle_timeout": 4, "touch_interval": 1, "cache_capacity": 0}),
    )
    .await;
    let token = app.user_token("alice").await;
    let idle = app.login("alice", PASSWORD).await;
    for _ in 0..6 {
        app.advance(1);
        assert_valid(&app, &token).await;
        // What the flusher's timer does at least once per touch_interval.
        app.auth().flush_touches().await.expect("flush");
    }
    assert_refused(&app, &idle).await;
}

#[rocket::async_test]
async fn a_session_used_more_often_than_the_idle_timeout_never_ends() {
    let app = TestApp::with(build, json!({"idle_timeout": 3, "touch_interval": 2})).await;
    let token = app.user_token("alice").await;
    for _ in 0..4 {
        app.advance(2);
        assert_valid(&app, &token).await;
    }
}

#[rocket::async_test]
async fn expired_sessions_vanish_from_the_session_list() {
    let app = TestApp::with(build, json!({"session_lifetime": 4, "sweep_interval": 0})).await;
    let old = app.user_token("alice").await;
    let old_id = session_id(&app, &old).await;
    app.advance(3);
    let new = app.login("alice", PASSWORD).await;
    let new_id = session_id(&app, &new).await;
    assert_eq!(app.listed_ids(&new).await.len(), 2);
    app.advance(2);
    // `old` is past its 4 s lifetime, `new` is not; nothing has swept yet.
    let ids = app.listed_ids(&new).await;
    assert_eq!(ids, vec![new_id], "{old_id} is still listed");
}

#[rocket::async_test]
async fn idle_sessions_vanish_from_the_session_list() {
    let app = TestApp::with(
        build,
        json!({"idle_timeout": 3, "touch_interval": 1, "sweep_interval": 0}),
    )
    .await;
    let idle = app.user_token("alice").await;
    let idle_id = session_id(&app, &idle).await;
    let busy = app.login("alice", PASSWORD).await;
    let busy_id = session_id(&app, &busy).await;
    for _ in 0..4 {
        app.advance(1);
        assert_valid(&app, &busy).await;
    }
    let ids = app.listed_ids(&busy).await;
    assert_eq!(ids, vec![busy_id], "{idle_id} is still listed");
}

// ---------------------------------------------------------------------------------------------
// The per-user cap
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn a_login_over_max_sessions_evicts_the_least_recently_used_session() {
    let app = TestApp::with(build, json!({"max_sessions": 2, "touch_interval": 2})).await;
    let first = app.user_token("alice").await;
    app.advance(1);
    let second = app.login("alice", PASSWORD).await;
    // In the cache, so that its eviction must reach the cache too.
    assert_valid(&app, &second).await;
    app.advance(2);
    // `first` is older but was used last.
    assert_valid(&app, &first).await;
    app.auth().flush_touches().await.expect("flush");

    let third = app.login("alice", PASSWORD).await;
    assert_refused(&app, &second).await;
    assert_valid(&app, &first).await;
    assert_valid(&app, &third).await;
    assert_eq!(app.session_count().await, 2);
    assert_eq!(app.listed_ids(&third).await.len(), 2);
}

#[rocket::async_test]
async fn the_cap_counts_a_use_that_is_not_yet_written() {
    let app = TestApp::with(build, json!({"max_sessions": 2, "touch_interval": 4})).await;
    let first = app.user_token("alice").await;
    app.advance(1);
    let second = app.login("alice", PASSWORD).await;
    app.advance(4);
    assert_valid(&app, &first).await;
    // No flush: the login must still see that `first` was just used.
    let third = app.login("alice", PASSWORD).await;
    assert_valid(&app, &first).await;
    assert_refused(&app, &second).await;
    assert_valid(&app, &third).await;
}

#[rocket::async_test]
async fn the_cap_is_per_user() {
    let app = TestApp::with(build, json!({"max_sessions": 2})).await;
    let a1 = app.user_token("alice").await;
    let a2 = app.login("alice", PASSWORD).await;
    let b1 = app.user_token("bob").await;
    let b2 = app.login("bob", PASSWORD).await;
    for token in [&a1, &a2, &b1, &b2] {
        assert_valid(&app, token).await;
    }
    assert_eq!(app.session_count().await, 4);
}

#[rocket::async_test]
async fn with_max_sessions_1_each_login_replaces_the_previous_session() {
    let app = TestApp::with(build, json!({"max_sessions": 1})).await;
    let first = app.user_token("alice").await;
    assert_valid(&app, &first).await;
    let second = app.login("alice", PASSWORD).await;
    assert_refused(&app, &first).await;
    assert_valid(&app, &second).await;
    assert_eq!(app.session_count().await, 1);
}

// ---------------------------------------------------------------------------------------------
// Touch interval
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn requests_within_the_touch_interval_do_not_write_last_used_at() {
    let app = TestApp::with(build, json!({"touch_interval": 60})).await;
    let token = app.user_token("alice").await;
    let before = last_used_at(&app).await;
    app.advance(2);
    for _ in 0..5 {
        assert_valid(&app, &token).await;
    }
    app.auth().flush_touches().await.expect("flush");
    assert_eq!(last_used_at(&app).await, before);
}

#[rocket::async_test]
async fn a_request_after_the_touch_interval_writes_last_used_at() {
    let app = TestApp::with(build, json!({"touch_interval": 1})).await;
    let token = app.user_token("alice").await;
    let before = last_used_at(&app).await;
    app.advance(2);
    assert_valid(&app, &token).await;
    app.auth().flush_touches().await.expect("flush");
    let after = last_used_at(&app).await;
    assert!(
        after >= before + 2,
        "last_used_at went from {before} to {after}"
    );
}

#[rocket::async_test]
async fn the_session_list_shows_a_use_newer_than_the_row() {
    let app = TestApp::with(build, json!({"touch_interval": 1})).await;
    let token = app.user_token("alice").await;
    let reply = app.get("/api/sessions", Some(&token)).await;
    let at_login = reply.json()[0]["last_used_at"]
        .as_str()
        .unwrap()
        .to_string();
    app.advance(2);
    let reply = app.get("/api/sessions", Some(&token)).await;
    let later = reply.json()[0]["last_used_at"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(later > at_login, "{at_login} then {later}");
}

// ---------------------------------------------------------------------------------------------
// The expiry sweep
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn the_sweep_deletes_ended_sessions_and_old_failures_only() {
    let app = TestApp::with(
        build,
        json!({
            "session_lifetime": 2,
            "login_failure_window": 2,
            "sweep_interval": 0
        }),
    )
    .await;
    let failed = app.try_login("carol", "wrong password").await;
    failed.assert_problem(401, "invalid_credentials");
    app.user_token("alice").await;
    app.login("alice", PASSWORD).await;
    app.advance(3);
    let live = app.user_token("bob").await;
    // Nothing deleted them yet.
    assert_eq!(app.session_count().await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM login_failures").await, 2);

    let swept = app.auth().sweep().await.expect("sweep");
    assert_eq!(swept, 2);
    assert_eq!(app.session_count().await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM login_failures").await, 0);
    assert_valid(&app, &live).await;
    // A second sweep finds nothing.
    assert_eq!(app.auth().sweep().await.expect("sweep"), 0);
}

#[rocket::async_test]
async fn the_sweep_deletes_idle_sessions() {
    let app = TestApp::with(
        build,
        json!({"idle_timeout": 2, "touch_interval": 1, "sweep_interval": 0}),
    )
    .await;
    let idle = app.user_token("alice").await;
    assert_valid(&app, &idle).await;
    app.advance(3);
    let live = app.login("alice", PASSWORD).await;
    // The login itself may prune the user's ended sessions; either way the sweep leaves one.
    app.auth().sweep().await.expect("sweep");
    assert_eq!(app.session_count().await, 1);
    assert_valid(&app, &live).await;
    assert_refused(&app, &idle).await;
}

#[rocket::async_test]
async fn the_sweep_deletes_an_idle_session_of_another_user() {
    let app = TestApp::with(
        build,
        json!({"idle_timeout": 2, "touch_interval": 1, "sweep_interval": 0}),
    )
    .await;
    app.user_token("alice").await;
    app.advance(3);
    let live = app.user_token("bob").await;
    assert_eq!(app.session_count().await, 2);
    assert_eq!(app.auth().sweep().await.expect("sweep"), 1);
    assert_eq!(app.session_count().await, 1);
    assert_valid(&app, &live).await;
}

#[rocket::async_test]
async fn the_periodic_sweep_deletes_ended_sessions_without_any_request() {
    let app = TestApp::with(build, json!({"session_lifetime": 2, "sweep_interval": 1})).await;
    app.user_token("alice").await;
    app.user_token("bob").await;
    assert_eq!(app.session_count().await, 2);
    // A sweep runs every second, but nothing has ended yet.
    real_wait(1.5).await;
    assert_eq!(app.session_count().await, 2, "deleted before they ended");
    app.advance(3);
    let mut waited = 0.0;
    while app.session_count().await > 0 {
        assert!(waited < 7.0, "ended sessions still stored after {waited} s");
        real_wait(0.5).await;
        waited += 0.5;
    }
}

#[rocket::async_test]
async fn with_sweep_interval_0_nothing_is_swept() {
    let app = TestApp::with(build, json!({"session_lifetime": 1, "sweep_interval": 0})).await;
    app.user_token("alice").await;
    app.advance(3);
    assert_eq!(app.session_count().await, 1);
}

// ---------------------------------------------------------------------------------------------
// Configuration that must stop the app from starting
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn the_test_defaults_ignite() {
    assert!(ignites(json!({})).await);
}

#[rocket::async_test]
async fn a_bcrypt_cost_out_of_range_fails_to_ignite() {
    assert!(!ignites(json!({"bcrypt_cost": 2})).await);
    assert!(!ignites(json!({"bcrypt_cost": 3})).await);
    assert!(!ignites(json!({"bcrypt_cost": 32})).await);
    assert!(ignites(json!({"bcrypt_cost": 4})).await);
}

#[rocket::async_test]
async fn hashing_settings_out_of_range_fail_to_ignite() {
    assert!(!ignites(json!({"hash_nice": -1})).await);
    assert!(!ignites(json!({"hash_nice": 20})).await);
    assert!(!ignites(json!({"hash_queue": 0})).await);
    assert!(!ignites(json!({"hash_threads": 1025})).await);
    assert!(!ignites(json!({"hash_wait": 0})).await);
    assert!(!ignites(json!({"hash_wait": 3601})).await);
    assert!(ignites(json!({"hash_nice": 19, "hash_queue": 1, "hash_threads": 1})).await);
}

#[rocket::async_test]
async fn a_touch_interval_not_below_the_idle_timeout_fails_to_ignite() {
    assert!(!ignites(json!({"idle_timeout": 60, "touch_interval": 60})).await);
    assert!(!ignites(json!({"idle_timeout": 60, "touch_interval": 61})).await);
    assert!(!ignites(json!({"idle_timeout": 1, "touch_interval": 60})).await);
    assert!(ignites(json!({"idle_timeout": 60, "touch_interval": 59})).await);
    // No idle timeout: any touch interval goes.
    assert!(ignites(json!({"idle_timeout": 0, "touch_interval": 600})).await);
}

#[rocket::async_test]
async fn a_token_prefix_that_is_not_one_short_word_fails_to_ignite() {
    for bad in ["", "a-b", "with space", "seventeen_chars__"] {
        assert!(!ignites(json!({"token_prefix": bad})).await, "{bad:?}");
    }
    assert!(ignites(json!({"token_prefix": "acme_"})).await);
}

#[rocket::async_test]
async fn tokens_carry_the_configured_prefix_and_no_other() {
    let app = TestApp::with(build, json!({"token_prefix": "acme_"})).await;
    let token = app.user_token("alice").await;
    assert!(token.starts_with("acme_"), "{token}");
    assert_valid(&app, &token).await;
    // The same secret under another prefix is junk to this app.
    let other = format!("mt_{}", &token["acme_".len()..]);
    assert_refused(&app, &other).await;
}

#[rocket::async_test]
async fn an_unknown_auth_key_fails_to_ignite() {
    assert!(!ignites(json!({"sesion_lifetime": 5})).await);
    assert!(!ignites(json!({"max_session": 5})).await);
}

#[rocket::async_test]
async fn nonsensical_limits_fail_to_ignite() {
    for bad in [
        json!({"max_sessions": 0}),
        json!({"login_max_failures": 0}),
        json!({"login_max_failures_per_ip": 0}),
        json!({"login_failure_window": 0}),
        json!({"max_sessions": -1}),
        json!({"idle_timeout": "soon"}),
        json!({"session_lifetime": 100u64 * 365 * 24 * 3600}),
        json!({"sudo_window": 0}),
        json!({"token_max_days": 0}),
        json!({"token_max_days": 3651}),
        json!({"max_tokens": -1}),
    ] {
        assert!(!ignites(bad.clone()).await, "{bad} ignited");
    }
    // Personal tokens off, the shortest sudo window, the longest token: all fine.
    assert!(ignites(json!({"max_tokens": 0, "sudo_window": 1, "token_max_days": 3650})).await);
}

// ---------------------------------------------------------------------------------------------
// Personal tokens
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn a_cached_token_stays_valid_past_the_idle_timeout() {
    let app = TestApp::with(build, json!({"idle_timeout": 10, "touch_interval": 2})).await;
    let user = app.user_token("alice").await;
    let (token, _) = app.personal_token(&user, "ci", &["profile:read"]).await;
    assert_valid(&app, &token).await;
    assert_valid(&app, &token).await;
    app.advance(11);
    assert_refused(&app, &user).await;
    assert_valid(&app, &token).await;
    app.auth().flush_touches().await.expect("flush");
    app.advance(100);
    assert_valid(&app, &token).await;
}

#[rocket::async_test]
async fn the_sweep_spares_idle_tokens_and_deletes_expired_ones() {
    let app = TestApp::with(
        build,
        json!({"idle_timeout": 2, "touch_interval": 1, "sweep_interval": 0}),
    )
    .await;
    let user = app.user_token("alice").await;
    let body = json!({"name": "short", "scopes": ["profile:read"], "expires_in_days": 1});
    let short = app.post("/api/tokens", Some(&user), body).await.json();
    let short = short["token"].as_str().unwrap().to_string();
    let body = json!({"name": "long", "scopes": ["profile:read"], "expires_in_days": 2});
    let long = app.post("/api/tokens", Some(&user), body).await.json();
    let long = long["token"].as_str().unwrap().to_string();

    app.advance(3);
    // The sign-in is idle and goes; both tokens stay.
    assert_eq!(app.auth().sweep().await.expect("sweep"), 1);
    assert_eq!(app.session_count().await, 2);
    assert_valid(&app, &short).await;

    app.advance(86_400);
    assert_eq!(app.auth().sweep().await.expect("sweep"), 1);
    assert_eq!(app.session_count().await, 1);
    assert_refused(&app, &short).await;
    assert_valid(&app, &long).await;
}
