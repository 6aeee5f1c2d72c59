//! Notices to a verified address: a new-device sign-in, a password change, a personal token
//! created; none carries a link or a token; `mail.notices = false` turns every one off (the
//! old address's notice of a change included), while the mails the reader asked for still go.

mod common;
mod support;
use common::*;
use support::inbox::MailApp;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// A new-device sign-in, a personal token, a password change and an address change by alice.
async fn the_noticed_actions(app: &TestApp, token: &str) {
    let body = json!({"username": "alice", "password": PASSWORD});
    let reply = app.login_with(body, FIREFOX, "203.0.113.5:4000").await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    app.personal_token(token, "ci", &["sessions:read"]).await;
    let body = json!({"current_password": PASSWORD, "new_password": "another password"});
    let reply = app.post("/api/auth/password", Some(token), body).await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);
    let body = json!({"email": "new@example.net"});
    let reply = app
        .call("PUT", "/api/me/email", Some(token), Some(body))
        .await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
}

#[rocket::async_test]
async fn each_noticed_action_tells_the_verified_address_with_no_link() {
    let mail = MailApp::new().await;
    let token = mail.verified_user("alice", "alice@example.org").await;
    the_noticed_actions(&mail.app, &token).await;
    let mails = mail.mails_to("alice@example.org").await;
    // Sorted: the file transport names files by outbox id, which SQLite may give again.
    let mut subjects: Vec<String> = mails.iter().filter_map(|m| m.header("Subject")).collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "A personal access token was created on kit-test",
            "Confirm your email address for kit-test",
            "New sign-in to your kit-test account",
            "Your kit-test email address is about to change",
            "Your kit-test password was changed",
        ]
    );
    let notices = mails
        .iter()
        .filter(|m| !m.part("text/plain").contains("token="));
    assert_eq!(
        notices.count(),
        4,
        "no notice carries a link that grants anything"
    );
    for notice in &mails {
        for part in ["text/plain", "text/html"] {
            let text = notice.part(part);
            let link = text.contains("token=");
            assert!(!link || text.contains("verify-email?token="), "{text}");
        }
    }
    let sign_in = mails
        .iter()
        .find(|m| m.header("Subject").unwrap().starts_with("New sign-in"));
    let sign_in = sign_in.unwrap().part("text/plain");
    assert!(sign_in.contains("Firefox"), "the device: {sign_in}");
}

#[rocket::async_test]
async fn notices_off_sends_only_the_links_asked_for() {
    let mail = MailApp::with(json!({}), json!({"mail.notices": false})).await;
    let token = mail.verified_user("alice", "alice@example.org").await;
    the_noticed_actions(&mail.app, &token).await;
    let subjects = mail.subjects_to("alice@example.org").await;
    assert_eq!(subjects, ["Confirm your email address for kit-test"]);
    let subjects = mail.subjects_to("new@example.net").await;
    assert_eq!(subjects, ["Confirm your email address for kit-test"]);
}

#[rocket::async_test]
async fn an_unverified_address_gets_no_notice() {
    let mail = MailApp::new().await;
    let app = &mail.app;
    let body = json!({"username": "alice", "password": PASSWORD, "email": "alice@example.org"});
    assert_eq!(app.post("/api/users", None, body).await.status.code, 201);
    let token = app.login("alice", PASSWORD).await;
    the_noticed_actions(app, &token).await;
    let subjects = mail.subjects_to("alice@example.org").await;
    assert_eq!(subjects, ["Confirm your email address for kit-test"]);
}
