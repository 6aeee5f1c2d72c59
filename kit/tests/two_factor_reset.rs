//! A password reset is a way in, so with two-factor on it asks for the second factor through
//! the same check as every other way in: a mailbox alone never takes over the account. Without
//! a code the reset is 401 `mfa_required` and changes nothing (the link still works); a wrong
//! code is 401 `invalid_code` and counts as a failed sign-in; a current or recovery code lets it
//! through. The reset page asks the same.

mod common;
mod support;
use common::web::*;
use common::*;
use session_kit::two_factor::TotpSecret;
use support::inbox::MailApp;

const NEW_PASSWORD: &str = "a brand new password";

async fn confirm(app: &TestApp, token: &str, code: Option<&str>) -> Reply {
    let mut body = json!({"token": token, "new_password": NEW_PASSWORD});
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    app.post("/api/auth/password-reset/confirm", None, body)
        .await
}

/// alice, with a verified address and two-factor on; a reset link mailed to her.
async fn alice_with_two_factor(mail: &MailApp) -> (TotpSecret, Vec<String>, String) {
    let token = mail.verified_user("alice", "alice@example.org").await;
    let (secret, codes) = mail.app.enable_two_factor(&token).await;
    let body = json!({"login": "alice"});
    let reply = mail.app.post("/api/auth/password-reset", None, body).await;
    assert_eq!(reply.status.code, 202, "{}", reply.text);
    let link = mail.reset_token("alice@example.org").await;
    (secret, codes, link)
}

#[rocket::async_test]
async fn a_reset_of_a_two_factor_account_needs_a_code() {
    let mail = MailApp::new().await;
    let app = &mail.app;
    let (secret, _, link) = alice_with_two_factor(&mail).await;

    confirm(app, &link, None)
        .await
        .assert_problem(401, "mfa_required");
    let wrong = app.code_in(&secret, 5);
    confirm(app, &link, Some(&wrong))
        .await
        .assert_problem(401, "invalid_code");
    app.auth().entries_written().await;
    let failed = "SELECT COUNT(*) FROM activity WHERE type = 'sign_in_failed'";
    assert_eq!(app.count(failed).await, 1, "the wrong code is on record");
    assert_eq!(
        app.try_login("alice", NEW_PASSWORD).await.status.code,
        401,
        "the password did not change"
    );

    app.next_step(); // The set-up's confirmation used the current step's code.
    let reply = confirm(app, &link, Some(&app.code_now(&secret))).await;
    assert_eq!(
        reply.status.code, 204,
        "the link still works: {}",
        reply.text
    );
    let login =
        json!({"username": "alice", "password": NEW_PASSWORD, "code": app.code_in(&secret, 1)});
    let reply = app.post("/api/auth/login", None, login).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
}

#[rocket::async_test]
async fn a_recovery_code_lets_a_reset_through_once() {
    let mail = MailApp::new().await;
    let app = &mail.app;
    let (_, codes, link) = alice_with_two_factor(&mail).await;
    let reply = confirm(app, &link, Some(&codes[0])).await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);
    let login = json!({"username": "alice", "password": NEW_PASSWORD, "code": codes[0]});
    let reply = app.post("/api/auth/login", None, login).await;
    reply.assert_problem(401, "invalid_code");
}

#[rocket::async_test]
async fn the_reset_page_asks_for_the_code_too() {
    let mail = MailApp::new().await;
    let app = &mail.app;
    let (secret, _, link) = alice_with_two_factor(&mail).await;
    let page = get_page(app, &format!("/reset-password?token={link}")).await;
    assert!(page.text.contains(r#"name="code""#), "{}", page.text);
    let csrf = csrf_of(&page.text);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("token", link.as_str()),
        ("password", NEW_PASSWORD),
        ("confirm", NEW_PASSWORD),
    ];
    let reply = submit(app, "/reset-password", &fields).await;
    assert_eq!(reply.status.code, 401);
    assert!(reply.text.contains("recovery code"), "{}", reply.text);
    assert!(reply.text.contains(r#"name="code""#), "{}", reply.text);

    app.next_step(); // The set-up's confirmation used the current step's code.
    let code = app.code_now(&secret);
    fields.push(("code", code.as_str()));
    let reply = submit(app, "/reset-password", &fields).await;
    assert_redirect(&reply, "/login");
}
