//! The account's address after sign-up, through the API: the sign-up's verification link; a
//! change that waits for the new address's link while the old address is told (the new one
//! masked); sudo or the password for a change or a removal; a removal refused when the app
//! requires an address; a new link on request, within the hourly limit.

mod common;
mod support;
use common::*;
use support::inbox::MailApp;

async fn me(app: &TestApp, token: &str) -> Value {
    app.get("/api/me/email", Some(token)).await.json()
}

async fn activity_types(app: &TestApp, token: &str) -> Vec<String> {
    let activity = app.get("/api/activity", Some(token)).await.json();
    let events = activity["events"].as_array().unwrap().iter();
    events
        .filter_map(|e| e["type"].as_str())
        .map(String::from)
        .collect()
}

#[rocket::async_test]
async fn the_sign_up_address_is_verified_by_its_link() {
    let mail = MailApp::new().await;
    let app = &mail.app;
    let body = json!({"username": "alice", "password": PASSWORD, "email": "alice@example.org"});
    assert_eq!(app.post("/api/users", None, body).await.status.code, 201);
    let token = app.login("alice", PASSWORD).await;
    assert_eq!(me(app, &token).await["verified"], false);
    let subjects = mail.subjects_to("alice@example.org").await;
    assert_eq!(subjects, ["Confirm your email address for kit-test"]);

    let link = mail.verify_token("alice@example.org").await;
    let reply = app
        .post("/api/auth/verify-email", None, json!({"token": link}))
        .await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);
    let view = me(app, &token).await;
    assert_eq!(
        view["verified"], true,
        "the session sees it at once: {view}"
    );
    assert!(activity_types(app, &token)
        .await
        .contains(&"email_verified".into()));
    let again = app
        .post("/api/auth/verify-email", None, json!({"token": link}))
        .await;
    again.assert_problem(410, "link_invalid");
}

#[rocket::async_test]
async fn a_new_address_takes_over_only_once_verified_and_the_old_one_is_told() {
    let mail = MailApp::new().await;
    let app = &mail.app;
    let token = mail.verified_user("alice", "alice@example.org").await;
    let body = json!({"email": "new.alice@example.net"});
    let reply = app
        .call("PUT", "/api/me/email", Some(&token), Some(body))
        .await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    let view = reply.json();
    assert_eq!(view["email"], "alice@example.org", "the old address stays");
    assert_eq!(view["pending_email"], "new.alice@example.net");

    let told = mail.mails_to("alice@example.org").await;
    let notice = told.last().expect("a notice to the old address");
    assert_eq!(
        notice.header("Subject").as_deref(),
        Some("Your kit-test email address is about to change")
    );
    let text = notice.part("text/plain");
    assert!(text.contains("n***@example.net"), "{text}");
    assert!(
        !text.contains("new.alice") && !text.contains("token="),
        "{text}"
    );
    assert!(activity_types(app, &token)
        .await
        .contains(&"email_change_requested".into()));

    let link = mail.verify_token("new.alice@example.net").await;
    let reply = app
        .post("/api/auth/verify-email", None, json!({"token": link}))
        .await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);
    let me = app.get("/api/me", Some(&token)).await.json();
    assert_eq!(me["email"], "new.alice@example.net");
    assert_eq!(me["email_verified"], true);
    assert!(activity_types(app, &token)
        .await
        .contains(&"email_changed".into()));
}

#[rocket::async_test]
async fn a_change_needs_sudo_or_the_password_and_a_free_valid_address() {
    let mail = MailApp::with(json!({"sudo_window": 60}), json!({})).await;
    let app = &mail.app;
    let token = mail.verified_user("alice", "alice@example.org").await;
    mail.verified_user("bob", "bob@example.org").await;
    app.advance(61);
    let change = |body: Value| app.call("PUT", "/api/me/email", Some(&token), Some(body));
    change(json!({"email": "a@example.org"}))
        .await
        .assert_problem(403, "sudo_required");
    let wrong = json!({"email": "a@example.org", "password": "not the password"});
    change(wrong)
        .await
        .assert_problem(401, "invalid_credentials");
    let taken = json!({"email": "BOB@example.org", "password": PASSWORD});
    change(taken).await.assert_problem(409, "email_taken");
    let invalid = json!({"email": "not an address", "password": PASSWORD});
    change(invalid).await.assert_problem(422, "invalid_email");
    let right = json!({"email": "a@example.org", "password": PASSWORD});
    assert_eq!(change(right).await.status.code, 200);
    let reply = app
        .call("DELETE", "/api/me/email", Some(&token), None)
        .await;
    assert_eq!(
        reply.status.code, 204,
        "the password started sudo mode: {}",
        reply.text
    );
    let view = me(app, &token).await;
    assert_eq!(
        view,
        json!({"email": null, "verified": false, "pending_email": null})
    );
}

#[rocket::async_test]
async fn removing_the_address_is_refused_when_the_app_requires_one() {
    let mail = MailApp::with(json!({"signup_email": "required"}), json!({})).await;
    let app = &mail.app;
    let token = mail.verified_user("alice", "alice@example.org").await;
    let body = Some(json!({"password": PASSWORD}));
    let reply = app
        .call("DELETE", "/api/me/email", Some(&token), body)
        .await;
    reply.assert_problem(422, "email_required");
    assert_eq!(me(app, &token).await["email"], "alice@example.org");
}

#[rocket::async_test]
async fn a_new_link_is_mailed_on_request_within_the_hourly_limit() {
    let mail = MailApp::with(json!({"mail_max_per_hour": 2}), json!({})).await;
    let app = &mail.app;
    let body = json!({"username": "alice", "password": PASSWORD, "email": "alice@example.org"});
    assert_eq!(app.post("/api/users", None, body).await.status.code, 201);
    let token = app.login("alice", PASSWORD).await;
    let resend = || app.call("POST", "/api/me/email/verification", Some(&token), None);
    assert_eq!(resend().await.status.code, 202);
    let throttled = resend().await;
    throttled.assert_problem(429, "throttled");
    let wait: u64 = throttled.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    assert_eq!(mail.mails_to("alice@example.org").await.len(), 2);

    // The newest link works; the first one was superseded.
    let link = mail.verify_token("alice@example.org").await;
    let reply = app
        .post("/api/auth/verify-email", None, json!({"token": link}))
        .await;
    assert_eq!(reply.status.code, 204);
    resend().await.assert_problem(409, "nothing_to_verify");
}
