//! GET /metrics: off by default (404); on, the Prometheus text of requests, logins, sessions, the
//! cache and the hashing queue, moving with traffic; guarded by a token when one is set; never a
//! name, IP, token or session id in it.

mod common;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// The value of the sample `name{labels}` (labels as the exposition writes them, sorted).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(app: &TestApp, token: Option<&str>) -> Reply {
    app.get("/metrics", token).await
}

/// Scrapes until `series` reaches at least `want` (events reach the metrics on their own task).
async fn until(app: &TestApp, series: &str, want: f64) -> String {
    let start = Instant::now();
    loop {
        let text = scrape(app, None).await.text;
        if sample(&text, series).is_some_and(|v| v >= want) {
            return text;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{series} never reached {want}:\n{text}"
        );
        rocket::tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn enabled(other: serde_json::Value) -> TestApp {
    TestApp::with_config(json!({}), other).await
}

#[rocket::async_test]
async fn metrics_are_off_by_default() {
    let app = TestApp::new().await;
    assert_eq!(scrape(&app, None).await.status.code, 404);
}

#[rocket::async_test]
async fn the_values_move_with_traffic_and_name_no_one() {
    let app = enabled(json!({"metrics.enabled": true})).await;
    let token = app.user_token("alice").await;
    app.try_login("alice", "wrong password").await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/me", Some(&token)).await.status.code, 200);
    }
    let other = app.login("alice", PASSWORD).await;
    app.call("POST", "/api/auth/logout", Some(&other), None)
        .await;
    let reply = scrape(&app, None).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    assert!(reply
        .header("Content-Type")
        .is_some_and(|t| t.starts_with("text/plain")));
    let text = until(&app, r#"sessions_ended_total{reason="logout"}"#, 1.0).await;
    let me = r#"http_requests_total{method="GET",route="/api/me",status="200"}"#;
    assert_eq!(sample(&text, me), Some(3.0), "{text}");
    assert!(sample(&text, r#"logins_total{outcome="succeeded"}"#) >= Some(2.0));
    assert_eq!(
        sample(&text, r#"logins_total{outcome="failed"}"#),
        Some(1.0)
    );
    assert!(sample(&text, r#"sessions_started_total{kind="api"}"#) >= Some(2.0));
    assert!(text.contains(r#"http_request_duration_seconds_bucket{route="/api/me",le="#));
    // The cache answered the repeated /api/me; the first use read the database.
    assert!(
        sample(&text, "session_cache_hits_total") >= Some(2.0),
        "{text}"
    );
    assert!(
        sample(&text, "session_cache_misses_total") >= Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "session_cache_trusted"), Some(1.0));
    assert_eq!(sample(&text, "password_hash_queue"), Some(0.0));
    // Labels are route templates and outcomes: no one is named.
    for secret in ["alice", "127.0.0.1", DEFAULT_PREFIX, token.as_str()] {
        assert!(!text.contains(secret), "{secret:?} in the metrics");
    }
    let list = app.get("/api/sessions", Some(&token)).await.json();
    let id = list[0]["id"].as_str().unwrap();
    assert!(!scrape(&app, None).await.text.contains(id));
}

#[rocket::async_test]
async fn a_route_with_an_id_is_counted_under_its_template() {
    let app = enabled(json!({"metrics.enabled": true})).await;
    let token = app.user_token("alice").await;
    app.get("/api/notes/AAAAAAAAAAAAAAAAAAAAAA", Some(&token))
        .await;
    app.get("/nowhere/at/all", None).await;
    let text = scrape(&app, None).await.text;
    let series = r#"http_requests_total{method="GET",route="/api/notes/<id>",status="404"}"#;
    assert_eq!(sample(&text, series), Some(1.0), "{text}");
    assert!(!text.contains("AAAAAAAAAAAAAAAAAAAAAA") && !text.contains("nowhere"));
    assert!(text.contains(r#"route="unmatched""#), "{text}");
}

#[rocket::async_test]
async fn with_a_token_a_scrape_must_present_it() {
    let app = enabled(json!({"metrics.enabled": true, "metrics.token": "scrape-secret-123"})).await;
    let refused = scrape(&app, None).await;
    assert_eq!(refused.status.code, 401);
    assert!(refused.header("WWW-Authenticate").is_some());
    assert_eq!(
        scrape(&app, Some("scrape-secret-12")).await.status.code,
        401
    );
    assert_eq!(
        scrape(&app, Some("scrape-secret-1234")).await.status.code,
        401
    );
    let admitted = scrape(&app, Some("scrape-secret-123")).await;
    assert_eq!(admitted.status.code, 200);
    assert!(admitted.text.contains("http_requests_total"));
}

#[rocket::async_test]
async fn an_empty_token_or_an_unknown_key_stops_the_app() {
    for bad in [
        json!({"metrics.enabled": true, "metrics.token": " "}),
        json!({"metrics.enabled": true, "metrics.colour": "blue"}),
    ] {
        let (_db, url) = TestDb::new().await;
        let mut figment = rocket::Config::figment()
            .merge(("databases.db.url", url))
            .merge(("log_level", "off"));
        for (key, value) in bad.as_object().unwrap() {
            figment = figment.merge((key.as_str(), value.clone()));
        }
        match multitoken::build(figment).ignite().await {
            Ok(_) => panic!("{bad} ignited"),
            // Inspecting a launch error marks it handled (unhandled ones panic on drop).
            Err(e) => drop(e.kind()),
        }
    }
}

#[rocket::async_test]
async fn the_trusted_gauge_falls_and_rises_with_the_postgresql_listener() {
    let app = enabled(json!({"metrics.enabled": true})).await;
    if !app.db.is_postgres() {
        eprintln!("skipped: set TEST_DATABASE_URL to run the listener test on PostgreSQL");
        return;
    }
    assert_eq!(
        sample(&scrape(&app, None).await.text, "session_cache_trusted"),
        Some(1.0)
    );
    let pid = app.auth().listener_pid().expect("listening");
    let (killed,): (bool,) = sqlx::query_as("SELECT pg_terminate_backend($1::int)")
        .bind(pid)
        .fetch_one(&**app.auth().db())
        .await
        .unwrap();
    assert!(killed);
    // It falls (the listener noticed) and rises again (a new listener), within a few seconds.
    let start = Instant::now();
    let mut fell = false;
    loop {
        let trusted = sample(&scrape(&app, None).await.text, "session_cache_trusted");
        fell |= trusted == Some(0.0) || app.auth().listener_pid() != Some(pid);
        if fell && trusted == Some(1.0) && app.auth().listener_pid().is_some() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "fell: {fell}");
        rocket::tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
