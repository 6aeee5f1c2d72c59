//! Password reset by email, through the API: the request answers the same whatever its login
//! names (an account with an address, one without, none, one over its hourly limit); the link
//! works once; a used, expired, superseded, tampered or unknown link gets one answer; a reset
//! sets the password, ends every session and personal token, voids the other links, and signs
//! nobody in; a password change voids an outstanding link.

mod common;
mod support;
use common::*;
use session_kit::events::AuthEvent;
use support::inbox::MailApp;

const NEW_PASSWORD: &str = "a brand new password";

async fn ask_reset(app: &TestApp, login: &str) -> Reply {
    app.post("/api/auth/password-reset", None, json!({ "login": login }))
        .await
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> Reply {
    let body = json!({"token": token, "new_password": password});
    app.post("/api/auth/password-reset/confirm", None, body)
        .await
}

#[rocket::async_test]
async fn every_reset_request_gets_the_same_answer_and_only_an_address_gets_mail() {
    // The sign-up's verification link is alice's first mail of the hour, the reset her second.
    let mail = MailApp::with(json!({"mail_max_per_hour": 2}), json!({})).await;
    let app = &mail.app;
    mail.verified_user("alice", "alice@example.org").await;
    app.user_token("bob").await; // No address.
    let mut events = app.events().subscribe();

    let first = ask_reset(app, "alice").await;
    assert_eq!(first.status.code, 202, "{}", first.text);
    for login in [
        "ALICE@example.org",
        "bob",
        "nobody",
        "nobody@example.org",
        "  ",
    ] {
        let reply = ask_reset(app, login).await;
        assert_eq!(reply.status, first.status, "{login}");
        assert_eq!(reply.text, first.text, "{login}: the same body");
        assert_eq!(reply.content_type, first.content_type);
    }
    let subjects = mail.subjects_to("alice@example.org").await;
    let resets = subjects.iter().filter(|s| s.starts_with("Reset")).count();
    assert_eq!(
        resets, 1,
        "the second request for alice is over her hourly limit"
    );

    let requested: Vec<AuthEvent> = std::iter::from_fn(|| events.try_recv().ok())
        .filter(|e| e.name() == "password_reset_requested")
        .collect();
    assert_eq!(
        requested.len(),
        3,
        "alice twice and bob; none for unknown logins"
    );
    let token = mail.reset_token("alice@example.org").await;
    for event in &requested {
        let text = serde_json::to_string(event).unwrap();
        assert!(!text.contains(&token[3..]), "no token in events: {text}");
    }
}

#[rocket::async_test]
async fn a_reset_link_works_once_and_ends_every_session_and_token() {
    let mail = MailApp::new().await;
    let app = &mail.app;
    let first = mail.verified_user("alice", "alice@example.org").await;
    let second = app.login("alice", PASSWORD).await;
    let (personal, _) = app.personal_token(&first, "ci", &["sessions:read"]).await;
    ask_reset(app, "alice").await;
    let token = mail.reset_token("alice@example.org").await;

    let reply = confirm(app, &token, "short").await;
    reply.assert_problem(422, "invalid_input");
    let reply = confirm(app, &token, NEW_PASSWORD).await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);
    assert!(reply.header("Set-Cookie").is_none(), "nobody is signed in");

    for token in [&first, &second, &personal] {
        let me = app.get("/api/me", Some(token)).await;
        assert_eq!(me.status.code, 401, "every session and token ended");
    }
    assert_eq!(app.try_login("alice", PASSWORD).await.status.code, 401);
    let fresh = app.login("alice", NEW_PASSWORD).await;
    let ended = app.get("/api/sessions?state=ended", Some(&fresh)).await;
    let reasons: Vec<String> = ended
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["end_reason"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(reasons.len(), 3);
    assert!(reasons.iter().all(|r| r == "password_reset"), "{reasons:?}");
    let activity = app.get("/api/activity", Some(&fresh)).await.json();
    let types: Vec<&str> = activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(types.contains(&"password_reset"), "{types:?}");
    let subjects = mail.subjects_to("alice@example.org").await;
    assert!(
        subjects.iter().any(|s| s.contains("password was changed")),
        "{subjects:?}"
    );

    confirm(app, &token, "yet another password")
        .await
        .assert_problem(410, "link_invalid");
}

#[rocket::async_test]
async fn every_dead_link_gets_one_and_the_same_answer() {
    let mail = MailApp::with(json!({"reset_lifetime": 600}), json!({})).await;
    let app = &mail.app;
    mail.verified_user("alice", "alice@example.org").await;
    mail.verified_user("bob", "bob@example.org").await;

    ask_reset(app, "alice").await;
    let superseded = mail.reset_token("alice@example.org").await;
    ask_reset(app, "alice").await;
    let alice_link = mail.reset_token("alice@example.org").await;
    ask_reset(app, "bob").await;
    let expired = mail.reset_token("bob@example.org").await;
    let mut tampered = alice_link.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (unknown, _) = session_kit::token::Token::generate(DEFAULT_PREFIX);
    let unknown = unknown.expose().to_string();

    assert_eq!(
        confirm(app, &alice_link, NEW_PASSWORD).await.status.code,
        204
    );
    app.advance(601);
    let used = alice_link;
    let answers = [
        ("used", confirm(app, &used, NEW_PASSWORD).await),
        ("expired", confirm(app, &expired, NEW_PASSWORD).await),
        ("superseded", confirm(app, &superseded, NEW_PASSWORD).await),
        ("tampered", confirm(app, &tampered, NEW_PASSWORD).await),
        ("unknown", confirm(app, &unknown, NEW_PASSWORD).await),
        ("not a token", confirm(app, "hello", NEW_PASSWORD).await),
    ];
    let (_, first) = &answers[0];
    first.assert_problem(410, "link_invalid");
    for (what, reply) in &answers {
        assert_eq!(reply.status, first.status, "{what}");
        assert_eq!(reply.text, first.text, "{what}: the same body");
    }
    // None of them changed a password: bob still signs in with his.
    assert_eq!(app.try_login("bob", PASSWORD).await.status.code, 200);
}

#[rocket::async_test]
async fn a_password_change_voids_an_outstanding_reset_link() {
    let mail = MailApp::new().await;
    let app = &mail.app;
    let token = mail.verified_user("alice", "alice@example.org").await;
    ask_reset(app, "alice").await;
    let link = mail.reset_token("alice@example.org").await;
    let body = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let reply = app.post("/api/auth/password", Some(&token), body).await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);
    confirm(app, &link, "stolen password")
        .await
        .assert_problem(410, "link_invalid");
    assert_eq!(app.try_login("alice", NEW_PASSWORD).await.status.code, 200);
}

#[rocket::async_test]
async fn a_reset_proves_the_address_it_was_mailed_to() {
    let mail = MailApp::new().await;
    let app = &mail.app;
    let body = json!({"username": "carol", "password": PASSWORD, "email": "carol@example.org"});
    assert_eq!(app.post("/api/users", None, body).await.status.code, 201);
    ask_reset(app, "carol@example.org").await;
    let link = mail.reset_token("carol@example.org").await;
    assert_eq!(confirm(app, &link, NEW_PASSWORD).await.status.code, 204);
    let token = app.login("carol@example.org", NEW_PASSWORD).await;
    let me = app.get("/api/me", Some(&token)).await.json();
    assert_eq!(me["email_verified"], true);
}

#[rocket::async_test]
async fn a_client_past_ten_times_the_hourly_limit_gets_no_more_reset_mail() {
    // alice's sign-up link is her address's first mail of two; a client may ask twenty times.
    let mail = MailApp::with(json!({"mail_max_per_hour": 2}), json!({})).await;
    let app = &mail.app;
    let body = json!({"username": "alice", "password": PASSWORD, "email": "alice@example.org"});
    assert_eq!(app.post("/api/users", None, body).await.status.code, 201);
    let ask = |login: &'static str, from: &'static str| {
        let body = Some(json!({ "login": login }));
        app.call_from("POST", "/api/auth/password-reset", None, body, from)
    };
    let first = ask("nobody", "10.0.0.1:1000").await;
    for _ in 1..20 {
        assert_eq!(ask("nobody", "10.0.0.1:1000").await.text, first.text);
    }
    app.auth().entries_written().await; // Each request's work done, in the order asked.
    let refused = ask("alice", "10.0.0.1:1000").await;
    assert_eq!((refused.status, &refused.text), (first.status, &first.text));
    let resets = |subjects: Vec<String>| subjects.iter().filter(|s| s.starts_with("Reset")).count();
    assert_eq!(resets(mail.subjects_to("alice@example.org").await), 0);
    ask("alice", "10.0.0.2:1000").await;
    assert_eq!(
        resets(mail.subjects_to("alice@example.org").await),
        1,
        "another client"
    );
}

#[rocket::async_test]
async fn of_two_parallel_uses_of_a_link_one_wins() {
    let mail = MailApp::new().await;
    let app = &mail.app;
    mail.verified_user("alice", "alice@example.org").await;
    ask_reset(app, "alice").await;
    let link = mail.reset_token("alice@example.org").await;
    let (a, b) = rocket::tokio::join!(
        confirm(app, &link, "first new password"),
        confirm(app, &link, "second new password"),
    );
    let mut codes = [a.status.code, b.status.code];
    codes.sort();
    assert_eq!(codes, [204, 410], "{} / {}", a.text, b.text);
    let winner = if a.status.code == 204 {
        "first new password"
    } else {
        "second new password"
    };
    assert_eq!(app.try_login("alice", winner).await.status.code, 200);
}
