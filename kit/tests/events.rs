//! Events, ported from the Django original's signal tests: each fires exactly once
//! when its action happens, and none carries a secret.

mod common;
use common::*;
use rocket::http::Status;
use serde_json::json;
use session_kit::events::AuthEvent;
use tokio::sync::broadcast::Receiver;

fn drain(events: &mut Receiver<AuthEvent>) -> Vec<AuthEvent> {
    std::iter::from_fn(|| events.try_recv().ok()).collect()
}

fn names(events: &[AuthEvent]) -> Vec<&'static str> {
    events.iter().map(AuthEvent::name).collect()
}

#[rocket::async_test]
async fn a_wrong_password_emits_no_login_succeeded() {
    let app = TestApp::new(build).await;
    app.signup("user1", PASSWORD).await;
    let mut events = app.events().subscribe();
    app.try_login("user1", "wrong password").await;
    let seen = drain(&mut events);
    assert_eq!(names(&seen), ["login_attempt", "login_failed"]);
    assert!(matches!(
        &seen[1],
        AuthEvent::LoginFailed { username, reason: "invalid_credentials", .. } if username == "user1"
    ));
}

#[rocket::async_test]
async fn a_good_login_emits_attempt_and_success_once_each() {
    let app = TestApp::new(build).await;
    app.signup("user1", PASSWORD).await;
    let mut events = app.events().subscribe();
    let reply = app.try_login("user1", PASSWORD).await;
    let session_id = reply.json()["session"]["id"].as_str().unwrap().to_string();
    let seen = drain(&mut events);
    assert_eq!(names(&seen), ["login_attempt", "login_succeeded"]);
    match &seen[1] {
        AuthEvent::LoginSucceeded {
            username,
            session_id: id,
            ip,
            ..
        } => {
            assert_eq!(username, "user1");
            assert_eq!(id, &session_id);
            assert_eq!(ip.as_deref(), Some("127.0.0.1"));
        }
        other => panic!("{other:?}"),
    }
}

#[rocket::async_test]
async fn each_session_ending_action_emits_its_event_once() {
    let app = TestApp::new(build).await;
    let a = app.user_token("user1").await;
    let b = app.login("user1", PASSWORD).await;
    let c = app.login("user1", PASSWORD).await;
    let mut events = app.events().subscribe();

    app.call("POST", "/api/auth/logout", Some(&c), None).await;
    assert_eq!(names(&drain(&mut events)), ["logged_out"]);

    let b_id = app.other_session_id(&a).await;
    let reply = app.revoke(&a, &b_id).await;
    assert_eq!(reply.status, Status::NoContent);
    let seen = drain(&mut events);
    assert_eq!(names(&seen), ["session_revoked"]);
    assert!(
        matches!(&seen[0], AuthEvent::SessionRevoked { session_id: Some(id), .. } if *id == b_id)
    );
    drop(b);

    let d = app.login("user1", PASSWORD).await;
    drain(&mut events);
    let body = json!({"current_password": PASSWORD, "new_password": "another password"});
    app.post("/api/auth/password", Some(&a), body).await;
    let seen = drain(&mut events);
    // The current password was checked: this session is in sudo mode, and says so.
    assert_eq!(names(&seen), ["sudo_granted", "password_changed"]);
    assert!(matches!(
        &seen[1],
        AuthEvent::PasswordChanged {
            sessions_ended: 1,
            ..
        }
    ));
    drop(d);

    app.call("POST", "/api/auth/logout-all", Some(&a), None)
        .await;
    let seen = drain(&mut events);
    assert_eq!(names(&seen), ["logged_out"]);
    assert!(matches!(&seen[0], AuthEvent::LoggedOut { all: true, .. }));
}

#[rocket::async_test]
async fn events_never_carry_secrets() {
    let app = TestApp::new(build).await;
    app.signup("user1", PASSWORD).await;
    let mut events = app.events().subscribe();
    let token = app.login("user1", PASSWORD).await;
    app.try_login("user1", "a wrong secret").await;
    let body = json!({"current_password": PASSWORD, "new_password": "the next secret"});
    app.post("/api/auth/password", Some(&token), body).await;
    app.call("POST", "/api/auth/logout", Some(&token), None)
        .await;
    let text = format!("{:?}", drain(&mut events));
    for secret in [PASSWORD, "a wrong secret", "the next secret", &token] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(!text.contains(DEFAULT_PREFIX), "{text}");
}

#[rocket::async_test]
async fn a_subscriber_that_never_reads_does_not_stall_logins() {
    let app = TestApp::new(build).await;
    app.signup("user1", PASSWORD).await;
    let _idle = app.events().subscribe();
    // Far more events than the channel holds: logins must still go through.
    for _ in 0..(session_kit::events::CAPACITY / 2 + 10) {
        app.try_login("nobody", "x").await;
    }
    app.login("user1", PASSWORD).await;
}

#[rocket::async_test]
async fn a_subscriber_without_the_event_stage_fails_at_ignition() {
    let figment = rocket::Config::figment().merge(("log_level", "off"));
    let rocket = rocket::custom(figment).attach(session_kit::events::subscriber("mailer", |_| {}));
    let Err(error) = rocket::local::asynchronous::Client::tracked(rocket).await else {
        panic!("ignition should fail without events::stage()");
    };
    assert!(matches!(
        error.kind(),
        rocket::error::ErrorKind::FailedFairings(_)
    ));
    // With the stage, the same subscriber ignites.
    let figment = rocket::Config::figment().merge(("log_level", "off"));
    let rocket = rocket::custom(figment)
        .attach(session_kit::events::stage())
        .attach(session_kit::events::subscriber("mailer", |_| {}));
    assert!(rocket::local::asynchronous::Client::tracked(rocket)
        .await
        .is_ok());
}

#[rocket::async_test]
async fn token_creation_regeneration_and_sudo_emit_their_events_without_secrets() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("user1").await;
    let mut events = app.events().subscribe();
    let mut log: Vec<AuthEvent> = Vec::new();

    // A fresh sign-in is in sudo: the creation needs no re-authentication.
    let (first, entry) = app
        .personal_token(&user, "CI deploy", &["sessions:read", "profile:read"])
        .await;
    let id = entry["id"].as_str().unwrap().to_string();
    let seen = drain(&mut events);
    log.extend(seen.iter().cloned());
    assert_eq!(names(&seen), ["token_created"]);
    match &seen[0] {
        AuthEvent::TokenCreated {
            session_id,
            name,
            scopes,
            expires_at,
            ..
        } => {
            assert_eq!(session_id, &id);
            assert_eq!(name, "CI deploy");
            assert_eq!(scopes, &["profile:read", "sessions:read"]);
            assert!(expires_at.is_some());
        }
        other => panic!("{other:?}"),
    }

    let reply = app.regenerate(&user, &id).await;
    let second = reply.json()["token"].as_str().unwrap().to_string();
    let seen = drain(&mut events);
    log.extend(seen.iter().cloned());
    assert_eq!(names(&seen), ["token_regenerated"]);
    assert!(
        matches!(&seen[0], AuthEvent::TokenRegenerated { session_id, .. } if *session_id == id)
    );

    app.advance(61);
    let reply = app
        .post("/api/auth/sudo", Some(&user), json!({"password": PASSWORD}))
        .await;
    assert_eq!(reply.status, Status::NoContent);
    let seen = drain(&mut events);
    log.extend(seen.iter().cloned());
    assert_eq!(names(&seen), ["sudo_granted"]);
    let me = app.get("/api/sessions", Some(&user)).await.json();
    let me = me
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .clone();
    assert!(matches!(
        &seen[0],
        AuthEvent::SudoGranted { session_id, via: session_kit::events::Reauth::Sudo, .. }
            if *session_id == me
    ));

    app.advance(61);
    let body = json!({"name": "other", "scopes": ["sessions:write"], "password": PASSWORD});
    let reply = app.post("/api/tokens", Some(&user), body).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    let third = reply.json()["token"].as_str().unwrap().to_string();
    let seen = drain(&mut events);
    log.extend(seen.iter().cloned());
    assert_eq!(names(&seen), ["sudo_granted", "token_created"]);
    assert!(matches!(
        &seen[0],
        AuthEvent::SudoGranted { session_id, via: session_kit::events::Reauth::Password, .. }
            if *session_id == me
    ));

    // Refusals emit none of these.
    app.advance(61);
    app.try_personal_token(&user, "x", &["sessions:read"]).await;
    app.post(
        "/api/tokens",
        Some(&third),
        json!({"name": "x", "scopes": ["sessions:read"]}),
    )
    .await;
    assert!(drain(&mut events).is_empty());

    // None carries a token or its hash, however it is serialized.
    assert_eq!(log.len(), 5);
    let mut texts = vec![format!("{log:?}")];
    for event in &log {
        texts.push(serde_json::to_string(event).unwrap());
    }
    for token in [&first, &second, &third, &user] {
        let hash = session_kit::token::TokenHash::parse(DEFAULT_PREFIX, token)
            .expect("a well-formed token")
            .to_hex();
        for text in &texts {
            assert!(!text.contains(token.as_str()), "{text}");
            assert!(
                !text.to_lowercase().contains(&hash.to_lowercase()),
                "{text}"
            );
            assert!(!text.contains(PASSWORD), "{text}");
        }
    }
}

#[rocket::async_test]
async fn a_wrong_sudo_password_emits_login_failed_and_no_sudo_granted() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("user1").await;
    app.advance(61);
    let mut events = app.events().subscribe();
    let reply = app
        .post(
            "/api/auth/sudo",
            Some(&user),
            json!({"password": "a wrong secret"}),
        )
        .await;
    reply.assert_problem(401, "invalid_credentials");
    let body = json!({"name": "x", "scopes": ["sessions:read"], "password": "a wrong secret"});
    app.post("/api/tokens", Some(&user), body).await;
    let seen = drain(&mut events);
    assert_eq!(names(&seen), ["login_failed", "login_failed"]);
    assert!(matches!(
        &seen[0],
        AuthEvent::LoginFailed { username, reason: "invalid_credentials", .. } if username == "user1"
    ));
    assert!(!format!("{seen:?}").contains("a wrong secret"));
}
