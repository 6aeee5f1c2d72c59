//! The password hashing pool as configured: its threads, their priority, and its bounded queue.

mod common;

use common::TestApp;
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
    let _app = TestApp::with(json!({"hash_threads": 3, "hash_nice": 7})).await;
    let niced: Vec<i64> = hashing_threads_nice()
        .into_iter()
        .filter(|&n| n == 7)
        .collect();
    assert_eq!(niced.len(), 3, "three hashing threads at nice 7");
}

#[rocket::async_test]
async fn past_a_full_queue_logins_are_refused_as_busy_and_the_rest_succeed() {
    // One thread, one waiting place, and hashes slow enough that ten logins overlap.
    let app = TestApp::with(json!({"hash_threads": 1, "hash_queue": 1, "bcrypt_cost": 12})).await;
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
