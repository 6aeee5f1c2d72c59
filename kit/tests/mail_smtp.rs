//! Mail through a real SMTP server (tests/support/smtp_sink.py, on aiosmtpd) that the test starts
//! and stops: delivered; queued while the server is down and delivered once it is up; a 4xx
//! answer retried, a 5xx given up; given up once `retry_for` has passed, and not sent when the
//! server comes back; kept across a restart of the app; sent once by two instances. The sender
//! runs when the test says (`deliver_mail`), on the app's clock: no sleeping.

mod common;
mod support;
use common::*;
use session_kit::mail::MailKind;
use support::{free_port, outbox_len, SmtpSink};

/// An app whose mail goes to an SMTP server on `port` (up or not).
async fn app_on(port: u16) -> TestApp {
    let other = json!({
        "mail.transport": "smtp",
        "mail.smtp_url": format!("smtp://127.0.0.1:{port}"),
        "mail.from": "kit@example.org",
        "metrics.enabled": true,
    });
    TestApp::with_config(build, json!({}), other).await
}

const LINK: &str = "http://127.0.0.1:8000/reset-password?token=mt_smtp_secret";

async fn queue(app: &TestApp, to: &str) {
    let mut tx = app.auth().db().begin().await.unwrap();
    let context = json!({ "username": "ada", "link": LINK });
    let now = app.clock().now();
    let mailer = app.mailer();
    let queued = mailer.queue(&mut tx, MailKind::PasswordReset, to, context, now);
    assert!(queued.await.unwrap());
    tx.commit().await.unwrap();
}

fn failed(app: &TestApp) -> u64 {
    let tallies = app.mailer().tallies();
    tallies.iter().map(|(_, t)| t.failed).sum()
}

#[rocket::async_test]
async fn a_message_is_delivered_over_smtp() {
    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(free_port(), folder.path(), &[]);
    let app = app_on(sink.port).await;
    queue(&app, "ada@example.org").await;
    app.deliver_mail().await;
    let received = sink.received();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.header("To").as_deref(), Some("ada@example.org"));
    assert_eq!(mail.header("From").as_deref(), Some("kit@example.org"));
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Reset your kit-test password")
    );
    assert!(mail.part("text/plain").contains(LINK));
    assert!(mail.part("text/html").contains("Choose a new password"));
    assert_eq!(outbox_len(&app).await, 0);
}

#[rocket::async_test]
async fn a_message_queued_while_the_server_is_down_is_delivered_once_it_is_up() {
    let port = free_port();
    let app = app_on(port).await;
    queue(&app, "ada@example.org").await;
    app.deliver_mail().await;
    assert_eq!(outbox_len(&app).await, 1, "kept for another try");

    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(port, folder.path(), &[]);
    app.deliver_mail().await;
    assert!(sink.received().is_empty(), "not before its backoff");
    app.advance(5);
    app.deliver_mail().await;
    assert_eq!(sink.received().len(), 1);
    assert_eq!(outbox_len(&app).await, 0);
}

#[rocket::async_test]
async fn a_4xx_answer_is_retried_with_backoff_and_a_5xx_is_given_up() {
    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(
        free_port(),
        folder.path(),
        &["--reply", "451", "--times", "2"],
    );
    let app = app_on(sink.port).await;
    queue(&app, "ada@example.org").await;
    app.deliver_mail().await;
    app.advance(5);
    app.deliver_mail().await;
    app.advance(5);
    app.deliver_mail().await;
    assert!(sink.received().is_empty(), "the second retry waits 10 s");
    app.advance(5);
    app.deliver_mail().await;
    assert_eq!(sink.received().len(), 1);
    drop(sink);

    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(free_port(), folder.path(), &["--reply", "550"]);
    let app = app_on(sink.port).await;
    queue(&app, "nobody@example.org").await;
    app.deliver_mail().await;
    assert_eq!(outbox_len(&app).await, 0, "given up at once");
    assert_eq!(failed(&app), 1);
    let metrics = app.get("/metrics", None).await.text;
    assert!(
        metrics.contains("mails_failed_total{kind=\"password_reset\"} 1"),
        "{metrics}"
    );
}

#[rocket::async_test]
async fn a_message_is_given_up_after_retry_for_and_not_sent_when_the_server_returns() {
    let port = free_port();
    let app = app_on(port).await;
    queue(&app, "ada@example.org").await;
    app.deliver_mail().await;
    app.advance(3601);
    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(port, folder.path(), &[]);
    app.deliver_mail().await;
    assert_eq!(outbox_len(&app).await, 0);
    assert_eq!(failed(&app), 1);
    app.advance(600);
    app.deliver_mail().await;
    assert!(sink.received().is_empty(), "never sent late");
}

#[rocket::async_test]
async fn a_queued_message_survives_a_restart() {
    let port = free_port();
    let app = app_on(port).await;
    queue(&app, "ada@example.org").await;
    app.deliver_mail().await;
    let app = app.restart().await;
    assert_eq!(outbox_len(&app).await, 1);
    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(port, folder.path(), &[]);
    app.advance(5);
    app.deliver_mail().await;
    assert_eq!(sink.received().len(), 1);
}

#[rocket::async_test]
async fn two_instances_on_one_database_send_a_message_once() {
    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(free_port(), folder.path(), &[]);
    let one = app_on(sink.port).await;
    let two = one.another_instance().await;
    for round in 0..5 {
        queue(&one, &format!("user{round}@example.org")).await;
        let (a, b) = rocket::tokio::join!(one.deliver_mail(), two.deliver_mail());
        assert!(a.sent + b.sent <= 1, "{a:?} {b:?}");
    }
    let received = sink.received();
    assert_eq!(received.len(), 5, "each message exactly once");
    let mut to: Vec<_> = received.iter().map(|m| m.header("To").unwrap()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 5);
}
