//! Mail through the file transport: a queued message becomes one parseable `.eml` file with a
//! text and an HTML part; it is written in the caller's transaction (a rollback queues nothing);
//! `notices = false` keeps notices back; bad `[mail]` values stop the start; the metrics count.
//! SMTP is in mail_smtp.rs, the log in mail_log.rs.

mod common;
mod support;
use common::*;
use session_kit::mail::{MailError, MailKind, RenderError};
use support::{eml_files, outbox_len};

/// An app whose mail goes to files in a folder of its own.
async fn app_with_mail_folder(extra: serde_json::Value) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut other = json!({
        "mail.dir": dir.path().join("mail"),
        "mail.from": "Kit <kit@example.org>",
        "metrics.enabled": true,
    });
    for (key, value) in extra.as_object().expect("an object") {
        other[key] = value.clone();
    }
    let app = TestApp::with_config(build, json!({}), other).await;
    (app, dir)
}

/// Queues one mail in a transaction of its own, committed or not.
async fn queue(
    app: &TestApp,
    kind: MailKind,
    to: &str,
    context: Value,
    commit: bool,
) -> Result<bool, MailError> {
    let mut tx = app.auth().db().begin().await.expect("a transaction");
    let now = app.clock().now();
    let queued = app.mailer().queue(&mut tx, kind, to, context, now).await;
    if commit {
        tx.commit().await.expect("committed");
        app.mailer().wake();
    } else {
        tx.rollback().await.expect("rolled back");
    }
    queued
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[rocket::async_test]
async fn the_file_transport_writes_one_eml_with_a_text_and_an_html_part() {
    let (app, dir) = app_with_mail_folder(json!({})).await;
    let link = "http://127.0.0.1:8000/verify-email?token=mt_0123456789abcdef";
    let context = json!({ "username": "<b>ada</b>", "link": link });
    let queued = queue(
        &app,
        MailKind::VerifyEmail,
        "ada@example.org",
        context,
        true,
    )
    .await;
    assert!(queued.unwrap());
    app.deliver_mail().await;

    let mails = eml_files(&dir.path().join("mail"));
    assert_eq!(mails.len(), 1, "one file per message");
    let mail = &mails[0];
    assert_eq!(mail.header("To").as_deref(), Some("ada@example.org"));
    assert_eq!(
        mail.header("From").as_deref(),
        Some("Kit <kit@example.org>")
    );
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Confirm your email address for kit-test")
    );
    assert!(mail.header("Date").is_some() && mail.header("Message-ID").is_some());
    let text = mail.part("text/plain");
    assert!(
        text.contains(link) && text.contains("Hello <b>ada</b>,"),
        "{text}"
    );
    assert!(!text.starts_with("Subject:"), "{text}");
    let html = mail.part("text/html");
    // The HTML escapes every '/', in attributes too (a reader's client decodes it).
    let escaped = link.replace('/', "&#x2f;");
    assert!(html.contains(&format!("href=\"{escaped}\"")), "{html}");
    assert!(
        html.contains("&lt;b&gt;ada&lt;&#x2f;b&gt;"),
        "escaped: {html}"
    );
    assert_eq!(outbox_len(&app).await, 0, "deleted once sent");

    let metrics = app.get("/metrics", None).await.text;
    for (series, want) in [
        ("mails_queued_total{kind=\"verify_email\"}", 1.0),
        ("mails_sent_total{kind=\"verify_email\"}", 1.0),
        ("mail_outbox_length", 0.0),
    ] {
        assert_eq!(sample(&metrics, series), Some(want), "{series}:\n{metrics}");
    }
    assert!(!metrics.contains("ada"), "{metrics}");
}

#[rocket::async_test]
async fn every_kind_renders_with_its_subject_and_no_notice_carries_a_link() {
    let (app, dir) = app_with_mail_folder(json!({})).await;
    let context = json!({
        "username": "ada",
        "link": "http://127.0.0.1:8000/reset-password?token=mt_secret",
        "new_email": "n***@example.org",
        "device": "Firefox on Linux",
        "ip": "192.0.2.7",
        "token_name": "deploy",
        "change": "two-factor authentication was turned on",
    });
    for kind in MailKind::BUILT_IN {
        assert!(queue(&app, kind, "ada@example.org", context.clone(), true)
            .await
            .unwrap());
    }
    app.deliver_mail().await;
    let mails = eml_files(&dir.path().join("mail"));
    assert_eq!(mails.len(), MailKind::BUILT_IN.len());
    for mail in &mails {
        let subject = mail.header("Subject").unwrap();
        let links = mail.part("text/plain").contains("token=");
        let asks = subject.starts_with("Confirm") || subject.starts_with("Reset");
        assert_eq!(
            links, asks,
            "only the two link mails carry a link: {subject}"
        );
        assert!(!mail.part("text/html").contains("{{"), "{subject}");
    }
}

#[rocket::async_test]
async fn a_rolled_back_transaction_queues_nothing() {
    let (app, dir) = app_with_mail_folder(json!({})).await;
    let context = json!({ "username": "ada" });
    let queued = queue(
        &app,
        MailKind::PasswordChanged,
        "a@example.org",
        context,
        false,
    )
    .await;
    assert!(queued.unwrap());
    assert_eq!(app.deliver_mail().await, Default::default());
    assert_eq!(outbox_len(&app).await, 0);
    assert!(eml_files(&dir.path().join("mail")).is_empty());
}

#[rocket::async_test]
async fn notices_off_keeps_every_notice_back_but_not_the_links() {
    let (app, dir) = app_with_mail_folder(json!({ "mail.notices": false })).await;
    let context = json!({ "username": "ada", "link": "http://x/verify-email?token=t" });
    for kind in [MailKind::PasswordChanged, MailKind::EmailChangeRequested] {
        let queued = queue(&app, kind, "a@example.org", context.clone(), true).await;
        assert!(!queued.unwrap(), "{kind}");
    }
    let queued = queue(&app, MailKind::VerifyEmail, "a@example.org", context, true).await;
    assert!(queued.unwrap());
    app.deliver_mail().await;
    assert_eq!(eml_files(&dir.path().join("mail")).len(), 1);
}

#[rocket::async_test]
async fn a_recipient_that_is_no_address_is_refused_and_nothing_is_queued() {
    let (app, _dir) = app_with_mail_folder(json!({})).await;
    for to in ["not an address", "a@example.org\r\nBcc: b@example.org", ""] {
        let queued = queue(&app, MailKind::TokenCreated, to, json!({}), true).await;
        assert!(
            matches!(queued, Err(MailError::Render(RenderError::Recipient))),
            "{to:?}: {queued:?}"
        );
    }
    assert_eq!(outbox_len(&app).await, 0);
}

#[rocket::async_test]
async fn bad_mail_settings_stop_the_start() {
    let (_db, url) = TestDb::new().await;
    for (key, value) in [
        ("mail.transport", json!("smtp")),
        ("mail.transport", json!("carrier-pigeon")),
        ("mail.from", json!("nobody")),
        ("mail.base_url", json!("127.0.0.1:8000")),
        ("mail.retry_for", json!(0)),
    ] {
        let figment = rocket::Config::figment()
            .merge(("databases.db.url", url.clone()))
            .merge(("log_level", "off"))
            .merge((key, value.clone()));
        match rocket::local::asynchronous::Client::tracked(build(figment)).await {
            // Reading the kind marks the error handled (it panics on drop otherwise).
            Err(e) => assert!(matches!(
                e.kind(),
                rocket::error::ErrorKind::FailedFairings(_)
            )),
            Ok(_) => panic!("{key} = {value} must stop the start"),
        }
    }
}
