//! `serve`, driven as a user would: the real binary on a free port, its log read from stdout.

mod support;
use session_kit::testing::*;
use std::time::{Duration, Instant};
use support::*;

#[rocket::async_test]
async fn a_revoke_from_the_command_line_is_refused_by_a_running_server_within_a_second() {
    let cli = Cli::new().await;
    cli.create_alice();
    let (server, port) = cli.serve("off");
    let token = login_alice(port);
    // Served from the server's cache from now on.
    for _ in 0..3 {
        assert_eq!(http(port, "GET", "/api/me", Some(&token), "").0, 200);
    }
    let (_, list) = http(port, "GET", "/api/sessions", Some(&token), "");
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let id = list[0]["id"].as_str().unwrap().to_string();
    let out = cli.run(&["revoke", "--", &id], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let revoked = Instant::now();
    loop {
        let (status, body) = http(port, "GET", "/api/me", Some(&token), "");
        if status == 401 {
            break;
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            revoked.elapsed() < Duration::from_secs(1),
            "the server still accepts a token revoked by the command line 1 s ago"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    stop(server);
}

#[rocket::async_test]
async fn a_server_fault_is_answered_with_an_id_that_its_log_line_carries() {
    let cli = Cli::new().await;
    cli.create_alice();
    let (server, port) = cli.serve("critical");
    let token = login_alice(port);
    // A bug to provoke: the login handler's throttle table is gone.
    let app = TestApp::on_url(multitoken::build, &cli.url).await;
    sqlx::query("DROP TABLE login_failures")
        .execute(&**app.auth().db())
        .await
        .unwrap();
    let login = r#"{"username":"alice","password":"a long password"}"#;
    let (status, body) = http(port, "POST", "/api/auth/login", None, login);
    assert_eq!(status, 500, "{body}");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["code"], "internal_error");
    let id = problem["error_id"]
        .as_str()
        .expect("an error id")
        .to_string();
    for internal in ["login_failures", "SELECT", "table", "relation", "sqlx"] {
        assert!(!body.contains(internal), "{internal} in {body}");
    }
    let (_, log) = stop(server);
    let line = log
        .lines()
        .find(|line| line.contains(&id))
        .unwrap_or_else(|| panic!("no log line carries {id}:\n{log}"));
    assert!(
        line.contains("login_failures"),
        "the log says what failed: {line}"
    );
    assert!(!log.contains(&token), "no token in the log");
}

#[rocket::async_test]
async fn serve_shuts_down_gracefully_and_keeps_last_use() {
    let cli = Cli::new().await;
    cli.create_alice();
    let (server, port) = cli.serve("off");
    let token = login_alice(port);
    // A use after touch_interval (1 s) leaves a last-used write pending.
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(http(port, "GET", "/api/me", Some(&token), "").0, 200);
    let used_at = session_kit::clock::Clock::system().now();

    let (status, audit) = stop(server);
    assert!(status.success(), "{status:?}");

    let app = TestApp::on_url(multitoken::build, &cli.url).await;
    let (last_used,): (i64,) = sqlx::query_as("SELECT MAX(last_used_at) FROM sessions")
        .fetch_one(&**app.auth().db())
        .await
        .unwrap();
    assert!(
        last_used >= used_at - 1,
        "last use {last_used} was lost (used at {used_at})"
    );
    assert!(
        audit.contains("audit: {\"event\":\"login_succeeded\""),
        "{audit}"
    );
    assert!(!audit.contains(&token));
}
