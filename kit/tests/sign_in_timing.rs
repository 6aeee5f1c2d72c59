//! A failed sign-in takes as long for an unknown username as for an existing account: both do
//! the same work before answering (the same lookup, the same hash, the same throttle write); the
//! `sign_in_failed` entry of an existing account is written after the answer, so the answer's
//! timing does not tell whether an account exists.

mod common;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// Many failures, never throttled.
fn unthrottled() -> serde_json::Value {
    json!({"login_max_failures": 1_000_000, "login_max_failures_per_ip": 1_000_000})
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn failed_sign_in(app: &TestApp, username: &str) -> Duration {
    let started = Instant::now();
    let reply = app.try_login(username, "not the password").await;
    let took = started.elapsed();
    reply.assert_problem(401, "invalid_credentials");
    took
}

#[rocket::async_test]
async fn failed_sign_ins_take_as_long_for_unknown_usernames_as_for_existing_accounts() {
    let app = TestApp::with(build, unthrottled()).await;
    app.signup("alice", PASSWORD).await;
    // Warm up: the pool's connections, the hasher's threads.
    for _ in 0..10 {
        failed_sign_in(&app, "alice").await;
        failed_sign_in(&app, "nobody").await;
    }
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for round in 0..150 {
        // Alternating which goes first, so that drift in the machine's load hits both alike.
        if round % 2 == 0 {
            known.push(failed_sign_in(&app, "alice").await);
            unknown.push(failed_sign_in(&app, "nobody").await);
        } else {
            unknown.push(failed_sign_in(&app, "nobody").await);
            known.push(failed_sign_in(&app, "alice").await);
        }
    }
    let (known, unknown) = (median(known), median(unknown));
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    eprintln!("median failed sign-in: existing {known:?}, unknown {unknown:?}, ratio {ratio:.3}");
    // Generous, for a busy shared machine: the medians differ by a few percent at most.
    assert!(
        (0.8..1.25).contains(&ratio),
        "existing {known:?}, unknown {unknown:?}"
    );
    // Every failure of the existing account is on record all the same.
    let failures = "SELECT COUNT(*) FROM activity WHERE type = 'sign_in_failed'";
    assert_eq!(app.count(failures).await, 160);
}

#[rocket::async_test]
async fn a_failed_sign_in_answers_without_waiting_for_its_activity_entry() {
    let app = TestApp::new(build).await;
    if !app.db.is_postgres() {
        eprintln!("skipped: set TEST_DATABASE_URL to run the table-lock test on PostgreSQL");
        return;
    }
    app.signup("alice", PASSWORD).await;
    // Another client holds the activity table: no entry can be written until it lets go.
    let mut holder = app.auth().db().begin().await.unwrap();
    sqlx::query("LOCK TABLE activity IN SHARE MODE")
        .execute(&mut *holder)
        .await
        .unwrap();
    // The answer does not wait for the entry (the deadline is for a test that would hang).
    let answer = rocket::tokio::time::timeout(
        Duration::from_secs(10),
        app.try_login("alice", "not the password"),
    )
    .await
    .expect("the failed sign-in waited for its activity entry");
    answer.assert_problem(401, "invalid_credentials");
    holder.rollback().await.unwrap();
    // Written as soon as the table is free.
    let failures = "SELECT COUNT(*) FROM activity WHERE type = 'sign_in_failed'";
    assert_eq!(app.count(failures).await, 1);
}
