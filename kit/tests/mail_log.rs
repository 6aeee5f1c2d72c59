//! What mail leaves in the log: where mail goes, once at start, and each message by its id and
//! kind, sent or given up; never a recipient, a body or a link. In a test binary of its own, as
//! the log level is the process's.

mod common;
mod support;
use common::*;
use session_kit::logging::printed;
use session_kit::mail::MailKind;
use support::{free_port, SmtpSink};

#[rocket::async_test]
async fn no_log_line_holds_a_recipient_a_body_or_a_link() {
    let folder = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(
        free_port(),
        folder.path(),
        &["--reply", "550", "--times", "1"],
    );
    let other = json!({
        "log_level": "debug",
        "mail.transport": "smtp",
        "mail.smtp_url": format!("smtp://127.0.0.1:{}", sink.port),
    });
    let app = TestApp::with_config(build, json!({}), other).await;
    let secret = "mt_logsecret0123456789";
    let context = json!({
        "username": "loguser",
        "link": format!("http://127.0.0.1:8000/verify-email?token={secret}"),
    });
    for to in ["first@mail-log.example", "second@mail-log.example"] {
        let mut tx = app.auth().db().begin().await.unwrap();
        let now = app.clock().now();
        let mailer = app.mailer();
        let queued = mailer.queue(&mut tx, MailKind::VerifyEmail, to, context.clone(), now);
        assert!(queued.await.unwrap());
        tx.commit().await.unwrap();
        app.deliver_mail().await;
    }
    assert_eq!(
        sink.received().len(),
        1,
        "the first refused, the second sent"
    );

    let lines = printed::lines();
    let mail_lines: Vec<_> = lines.iter().filter(|l| l.contains("mail")).collect();
    assert!(
        mail_lines
            .iter()
            .any(|l| l.contains(&format!("SMTP server 127.0.0.1:{}", sink.port))),
        "where mail goes: {mail_lines:#?}"
    );
    assert!(
        mail_lines
            .iter()
            .any(|l| l.contains("(verify_email) given up")),
        "{mail_lines:#?}"
    );
    assert!(
        mail_lines.iter().any(|l| l.contains("(verify_email) sent")),
        "{mail_lines:#?}"
    );
    for line in &lines {
        for never in [
            secret,
            "127.0.0.1:8000/verify-email",
            "mail-log.example",
            "loguser",
            "Confirm your email",
        ] {
            assert!(!line.contains(never), "{never:?} in the log: {line}");
        }
    }
}
