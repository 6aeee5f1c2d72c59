//! The password hashing pool as configured: its threads, their priority, and its bounded queue.

mod common;

use common::{build, TestApp};
use rocket::futures::future::join_all;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

/// The `nice` value of each of this process's threads named `bcrypt-*` (Linux).
fn hashing_threads_nice() -> Vec<i64> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let task = task.expect("a task").path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        if !name.starts_with("bcrypt-") {
            continue;
        }
        let stat = std::fs::read_to_string(task.join("stat")).unwrap_or_default();
        // Fields after the parenthesised name; `nice` is the 19th field of the whole line.
        let after = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let fields: Vec<&str> = after.split_whitespace().collect();
        found.push(fields[16].parse().expect("a nice value"));
    }
    found
}

#[rocket::async_test]
async fn the_pool_has_the_threads_and_priority_configured() {
    let _app = TestApp::with(build, json!({"hash_threads": 3, "hash_nice": 7})).await;
    let niced: Vec<i64> = hashing_threads_nice()
        .into_iter()
        .filter(|&n| n == 7)
        .collect();
    assert_eq!(niced.len(), 3, "three hashing threads at nice 7");
}

#[rocket::async_test]
async fn past_a_full_queue_logins_are_refused_as_busy_and_the_rest_succeed() {
    // One thread, one waiting place, and hashes slow enough that ten logins overlap.
    let app = TestApp::with(
        build,
        json!({"hash_threads": 1, "hash_queue": 1, "bcrypt_cost": 12}),
    )
    .await;
    let users: Vec<String> = (0..10).map(|i| format!("user{i}")).collect();
    for user in &users {
        assert_eq!(app.signup(user, PASSWORD).await.status.code, 201);
    }
    let replies = join_all(users.iter().map(|u| app.try_login(u, PASSWORD))).await;
    let busy: Vec<_> = replies.iter().filter(|r| r.status.code == 503).collect();
    let signed_in = replies.iter().filter(|r| r.status.code == 200).count();
    assert!(signed_in >= 2, "the running and the queued login succeed");
    assert!(
        !busy.is_empty(),
        "ten logins at once do not fit one thread and one place"
    );
    assert_eq!(
        signed_in + busy.len(),
        replies.len(),
        "nothing but 200 or 503"
    );
    for reply in busy {
        reply.assert_problem(503, "busy");
        assert_eq!(reply.header("Retry-After"), Some("1"));
    }
}

#[rocket::async_test]
async fn a_check_that_would_wait_past_hash_wait_is_refused_as_busy() {
    // One thread and eight checks at once, each a verify at bcrypt cost 10 (an unknown user's
    // login verifies against the dummy hash, made at start with no bound): the first ones fit in
    // the one second allowed, the later ones would wait past it.
    let app = TestApp::with(
        build,
        json!({"hash_threads": 1, "hash_wait": 1, "bcrypt_cost": 10}),
    )
    .await;
    let replies = join_all((0..8).map(|_| app.try_login("nobody", PASSWORD))).await;
    let busy: Vec<_> = replies.iter().filter(|r| r.status.code == 503).collect();
    let checked = replies.iter().filter(|r| r.status.code == 401).count();
    assert!(
        checked >= 1,
        "the first check fits in the wait: {:?}",
        codes(&replies)
    );
    assert!(
        !busy.is_empty(),
        "eight checks on one thread fit in one second"
    );
    assert_eq!(checked + busy.len(), replies.len(), "{:?}", codes(&replies));
    for reply in busy {
        reply.assert_problem(503, "busy");
    }
    // The checks given up are never worked out: the queue empties well before eight hashes.
    let started = std::time::Instant::now();
    while app.auth().hasher.queue_len() > 0 {
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        rocket::tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn codes(replies: &[common::Reply]) -> Vec<u16> {
    replies.iter().map(|r| r.status.code).collect()
}
