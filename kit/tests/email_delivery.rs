//! The reset mail through a real SMTP server (tests/support/smtp_sink.py): asked for while the
//! server was down, it is delivered once the server is up; queued before a restart of the app,
//! it is delivered after it. Nothing is lost either way. The sender runs when the test says, on
//! the app's clock.

mod common;
mod support;
use common::*;
use support::inbox::token_in;
use support::{free_port, outbox_len, SmtpSink};

/// The longest wait between two attempts: however many attempts the background sender made
/// while the server was down, the messages are due again after it.
const MAX_BACKOFF: i64 = 300;

/// An app whose mail goes to an SMTP server on `port` (up or not), with alice (who has an
/// address) signed up.
async fn app_with_alice(port: u16) -> TestApp {
    let other = json!({
        "mail.transport": "smtp",
        "mail.smtp_url": format!("smtp://127.0.0.1:{port}"),
    });
    let app = TestApp::with_config(build, json!({}), other).await;
    let body = json!({"username": "alice", "password": PASSWORD, "email": "alice@example.org"});
    assert_eq!(app.post("/api/users", None, body).await.status.code, 201);
    let reply = app
        .post("/api/auth/password-reset", None, json!({"login": "alice"}))
        .await;
    assert_eq!(reply.status.code, 202);
    app.auth().entries_written().await;
    app
}

/// The reset link in what the sink received works.
async fn the_reset_link_works(app: &TestApp, sink: &SmtpSink) {
    let received = sink.received();
    let reset = received
        .iter()
        .find(|m| m.header("Subject").is_some_and(|s| s.starts_with("Reset")))
        .expect("the reset mail arrived");
    let token = token_in(reset).expect("a link");
    let body = json!({"token": token, "new_password": "a brand new password"});
    let reply = app
        .post("/api/auth/password-reset/confirm", None, body)
        .await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);
}

#[rocket::async_test]
async fn a_reset_asked_while_the_server_is_down_is_delivered_once_it_is_up() {
    let port = free_port();
    let app = app_with_alice(port).await;
    app.deliver_mail().await;
    assert_eq!(
        outbox_len(&app).await,
        2,
        "the verification and reset mails wait"
    );

    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(port, folder.path(), &[]);
    app.advance(MAX_BACKOFF);
    app.deliver_mail().await;
    assert_eq!(sink.received().len(), 2);
    assert_eq!(outbox_len(&app).await, 0);
    the_reset_link_works(&app, &sink).await;
}

#[rocket::async_test]
async fn a_reset_mail_queued_before_a_restart_is_delivered_after_it() {
    let port = free_port();
    let app = app_with_alice(port).await;
    let app = app.restart().await;
    assert_eq!(outbox_len(&app).await, 2, "the queue survives the restart");
    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(port, folder.path(), &[]);
    app.advance(MAX_BACKOFF);
    app.deliver_mail().await;
    assert_eq!(sink.received().len(), 2);
    the_reset_link_works(&app, &sink).await;
}
