//! No link and no token of the email flows reaches the log, at the debug level: the tokens
//! mailed (verification, reset) are looked for in every line printed while the flows ran,
//! the request lines of the pages their links open included.
//! In a test binary of its own, as the log level is the process's.

mod common;
mod support;
use common::*;
use session_kit::logging::printed;
use support::inbox::{token_in, MailApp};

#[rocket::async_test]
async fn no_log_line_holds_a_link_or_its_token() {
    let mail = MailApp::with(json!({}), json!({"log_level": "debug"})).await;
    let app = &mail.app;
    let token = mail.verified_user("alice", "alice@example.org").await;
    let body = json!({"email": "new@example.net"});
    app.call("PUT", "/api/me/email", Some(&token), Some(body))
        .await;
    app.post("/api/auth/password-reset", None, json!({"login": "alice"}))
        .await;
    let reset = mail.reset_token("alice@example.org").await;
    let body = json!({"token": reset, "new_password": "a brand new password"});
    let reply = app
        .post("/api/auth/password-reset/confirm", None, body)
        .await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);

    // The pages a link opens: its token is in the query string of the request line.
    // (The reset voided the verification link: a dead link's request line counts as much.)
    let verify = mail.verify_token("new@example.net").await;
    let page = web::get_page(app, &format!("/verify-email?token={verify}")).await;
    assert_eq!(page.status.code, 410);
    let page = web::get_page(app, &format!("/reset-password?token={reset}")).await;
    assert_eq!(page.status.code, 410);

    let mut tokens: Vec<String> = mail
        .mails_to("@")
        .await
        .iter()
        .filter_map(token_in)
        .collect();
    tokens.push(mail.verify_token("new@example.net").await);
    assert!(tokens.len() >= 3, "{tokens:?}");
    let lines = printed::lines();
    assert!(
        lines.iter().any(|l| l.contains("password-reset")),
        "the log was captured"
    );
    for line in &lines {
        assert!(!line.contains("token=mt_"), "a link in the log: {line}");
        for token in &tokens {
            assert!(!line.contains(&token[3..]), "a token in the log: {line}");
        }
    }
}
