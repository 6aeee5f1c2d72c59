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
    TestApp::with_config(build, json!({}), other).await
}

#[rocket::async_test]
async fn metrics_are_off_by_default() {
    let app = TestApp::new(build).await;
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
    app.call(
        "DELETE",
        "/api/sessions/AAAAAAAAAAAAAAAAAAAAAA",
        Some(&token),
        None,
    )
    .await;
    app.get("/nowhere/at/all", None).await;
    let text = scrape(&app, None).await.text;
    let series = r#"http_requests_total{method="DELETE",route="/api/sessions/<id>",status="404"}"#;
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
        match build(figment).ignite().await {
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

/// `logins_total` by outcome, read now: (succeeded, failed, throttled).
async fn logins(app: &TestApp) -> (f64, f64, f64) {
    let text = scrape(app, None).await.text;
    let outcome = |o: &str| sample(&text, &format!("logins_total{{outcome=\"{o}\"}}"));
    let read = |o: &str| outcome(o).unwrap_or_else(|| panic!("no {o} sample:\n{text}"));
    (read("succeeded"), read("failed"), read("throttled"))
}

#[rocket::async_test]
async fn thirty_wrong_sudo_passwords_are_ten_failures_and_twenty_throttled() {
    let app = enabled(json!({"metrics.enabled": true})).await;
    let user = app.user_token("alice").await;
    assert_eq!(logins(&app).await, (1.0, 0.0, 0.0));
    let mut answers = Vec::new();
    for _ in 0..30 {
        let body = json!({"password": "not the password"});
        answers.push(
            app.post("/api/auth/sudo", Some(&user), body)
                .await
                .status
                .code,
        );
    }
    assert_eq!(answers.iter().filter(|&&code| code == 401).count(), 10);
    assert_eq!(answers.iter().filter(|&&code| code == 429).count(), 20);
    // Read from the machinery at the scrape: exact at once, no waiting for events.
    assert_eq!(logins(&app).await, (1.0, 10.0, 20.0));

    // A right sudo password is a check that succeeded.
    let bob = app.user_token("bob").await;
    let reply = app
        .post("/api/auth/sudo", Some(&bob), json!({"password": PASSWORD}))
        .await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);
    assert_eq!(logins(&app).await, (3.0, 10.0, 20.0));
}

/// Asserts that `step` moved `logins_total` by exactly `by` (succeeded, failed, throttled).
async fn assert_counted(
    app: &TestApp,
    before: &mut (f64, f64, f64),
    by: (f64, f64, f64),
    step: &str,
) {
    let now = logins(app).await;
    let moved = (now.0 - before.0, now.1 - before.1, now.2 - before.2);
    assert_eq!(moved, by, "{step}");
    *before = now;
}

#[rocket::async_test]
async fn every_password_check_is_counted_once_wherever_it_is_made() {
    use common::web::*;
    let app = enabled(json!({"metrics.enabled": true})).await;
    let api = app.user_token("alice").await;
    let mut seen = logins(&app).await;
    const RIGHT: (f64, f64, f64) = (1.0, 0.0, 0.0);
    const WRONG: (f64, f64, f64) = (0.0, 1.0, 0.0);

    // Sign-in: the API and the form.
    app.login("alice", PASSWORD).await;
    assert_counted(&app, &mut seen, RIGHT, "API sign-in").await;
    app.try_login("nobody", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    assert_counted(&app, &mut seen, WRONG, "API sign-in, unknown user").await;
    assert_redirect(&browser_sign_in(&app, "alice").await, "/sessions");
    assert_counted(&app, &mut seen, RIGHT, "form sign-in").await;
    let csrf = csrf_of(&get_page(&app, "/sudo").await.text);

    // Sudo: the API and the form.
    let sudo =
        |password: &str| app.post("/api/auth/sudo", Some(&api), json!({"password": password}));
    assert_eq!(sudo(PASSWORD).await.status.code, 204);
    assert_counted(&app, &mut seen, RIGHT, "API sudo").await;
    assert_eq!(sudo("wrong password").await.status.code, 401);
    assert_counted(&app, &mut seen, WRONG, "API sudo, wrong").await;
    let form = |password: &'static str| {
        let csrf = csrf.clone();
        let app = &app;
        async move { submit(app, "/sudo", &[("csrf", &csrf), ("password", password)]).await }
    };
    assert_redirect(&form(PASSWORD).await, "/sessions");
    assert_counted(&app, &mut seen, RIGHT, "form sudo").await;
    assert_eq!(form("wrong password").await.status.code, 422);
    assert_counted(&app, &mut seen, WRONG, "form sudo, wrong").await;

    // A token created with the password in its body.
    let create = |password: &str| {
        let body = json!({"name": "ci", "scopes": ["profile:read"], "password": password});
        app.post("/api/tokens", Some(&api), body)
    };
    assert_eq!(create(PASSWORD).await.status.code, 201);
    assert_counted(&app, &mut seen, RIGHT, "token with a password").await;
    assert_eq!(create("wrong password").await.status.code, 401);
    assert_counted(&app, &mut seen, WRONG, "token with a wrong password").await;
    // Without a password there is no check to count.
    let body = json!({"name": "ci2", "scopes": ["profile:read"]});
    assert_eq!(
        app.post("/api/tokens", Some(&api), body).await.status.code,
        201
    );
    assert_counted(&app, &mut seen, (0.0, 0.0, 0.0), "token in sudo mode").await;

    // The password change: the form, then the API.
    let change = |current: &'static str, new: &'static str| {
        let csrf = csrf.clone();
        let app = &app;
        async move {
            let fields = [
                ("csrf", csrf.as_str()),
                ("current", current),
                ("password", new),
                ("confirm", new),
            ];
            submit(app, "/password", &fields).await
        }
    };
    assert_eq!(
        change("wrong password", "first new password")
            .await
            .status
            .code,
        422
    );
    assert_counted(&app, &mut seen, WRONG, "form change, wrong").await;
    assert_redirect(&change(PASSWORD, "first new password").await, "/sessions");
    assert_counted(&app, &mut seen, RIGHT, "form change").await;
    let api = app.login("alice", "first new password").await;
    assert_counted(&app, &mut seen, RIGHT, "API sign-in").await;
    let change = |current: &str| {
        let body = json!({"current_password": current, "new_password": "second new password"});
        app.post("/api/auth/password", Some(&api), body)
    };
    assert_eq!(change("wrong password").await.status.code, 401);
    assert_counted(&app, &mut seen, WRONG, "API change, wrong").await;
    assert_eq!(change("first new password").await.status.code, 204);
    assert_counted(&app, &mut seen, RIGHT, "API change").await;

    // Throttled, wherever: one count each.
    let app = enabled(json!({"metrics.enabled": true, "auth.login_max_failures": 1})).await;
    let api = app.user_token("carol").await;
    app.try_login("carol", "wrong password")
        .await
        .assert_problem(401, "invalid_credentials");
    let mut seen = logins(&app).await;
    app.try_login("carol", PASSWORD)
        .await
        .assert_problem(429, "throttled");
    let sudo = json!({"password": PASSWORD});
    app.post("/api/auth/sudo", Some(&api), sudo)
        .await
        .assert_problem(429, "throttled");
    let change = json!({"current_password": PASSWORD, "new_password": "a new password"});
    app.post("/api/auth/password", Some(&api), change)
        .await
        .assert_problem(429, "throttled");
    assert_counted(&app, &mut seen, (0.0, 0.0, 3.0), "throttled").await;
}
