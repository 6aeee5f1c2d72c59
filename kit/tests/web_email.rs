//! The email pages through the local client: /forgot-password asks for a link with the same
//! answer for every login; /reset-password and /verify-email show a button and consume nothing
//! on GET (mail scanners open links), consume on POST, and show one page for every dead link;
//! the account page shows the address, changes it in sudo mode and mails a new link. The
//! device page links to it.

mod common;
mod support;
use common::web::*;
use common::*;
use support::inbox::MailApp;

const NEW_PASSWORD: &str = "a brand new password";

async fn signed_up(mail: &MailApp, username: &str, email: &str) {
    let body = json!({"username": username, "password": PASSWORD, "email": email});
    let reply = mail.app.post("/api/users", None, body).await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
}

/// Opens a link's page and presses its button, with `fields` added to the form.
async fn press(app: &TestApp, path: &str, token: &str, fields: &[(&str, &str)]) -> Reply {
    let page = get_page(app, &format!("{path}?token={token}")).await;
    assert_eq!(page.status.code, 200, "{}", page.text);
    let csrf = csrf_of(&page.text);
    let mut all = vec![("csrf", csrf.as_str()), ("token", token)];
    all.extend_from_slice(fields);
    submit(app, path, &all).await
}

#[rocket::async_test]
async fn a_forgotten_password_is_reset_through_the_pages() {
    let mail = MailApp::new().await;
    let app = &mail.app;
    signed_up(&mail, "alice", "alice@example.org").await;
    let login = get_page(app, "/login").await;
    assert!(login.text.contains("href=\"/forgot-password\""));

    let mut answers = Vec::new();
    for name in ["alice", "nobody"] {
        let page = get_page(app, "/forgot-password").await;
        let csrf = csrf_of(&page.text);
        let reply = submit(app, "/forgot-password", &[("csrf", &csrf), ("login", name)]).await;
        assert_redirect(&reply, "/login");
        answers.push(get_page(app, "/login").await.text);
    }
    assert_eq!(
        answers[0],
        answers[1].replace(&csrf_of(&answers[1]), &csrf_of(&answers[0]))
    );
    assert!(answers[0].contains("a link to reset its password is on its way"));

    let token = mail.reset_token("alice@example.org").await;
    let links = "SELECT COUNT(*) FROM email_links WHERE kind = 'reset'";
    for _ in 0..2 {
        let page = get_page(app, &format!("/reset-password?token={token}")).await;
        assert_eq!(page.status.code, 200);
        assert!(page
            .text
            .contains(&format!("name=\"token\" value=\"{token}\"")));
        // No two-factor on this account: the form asks for no code.
        assert!(!page.text.contains(r#"name="code""#), "{}", page.text);
    }
    assert_eq!(
        app.count(links).await,
        1,
        "opening the link consumed nothing"
    );

    let mismatch = [("password", NEW_PASSWORD), ("confirm", "something else")];
    let reply = press(app, "/reset-password", &token, &mismatch).await;
    assert_eq!(reply.status.code, 422);
    assert!(reply.text.contains("do not match"));
    let fields = [("password", NEW_PASSWORD), ("confirm", NEW_PASSWORD)];
    let reply = press(app, "/reset-password", &token, &fields).await;
    assert_redirect(&reply, "/login");
    assert!(get_page(app, "/login")
        .await
        .text
        .contains("Your password is set"));
    assert_eq!(app.try_login("alice", NEW_PASSWORD).await.status.code, 200);

    let dead = get_page(app, &format!("/reset-password?token={token}")).await;
    assert_eq!(dead.status.code, 410);
    assert!(dead.text.contains("This link is no longer valid"));
    let tampered = get_page(app, "/reset-password?token=mt_%3Cscript%3E").await;
    assert_eq!(tampered.status.code, 410);
    assert_eq!(tampered.text, dead.text, "one page for every dead link");
    assert!(!tampered.text.contains("<script>"));
}

#[rocket::async_test]
async fn the_verification_page_verifies_only_when_its_button_is_pressed() {
    let mail = MailApp::new().await;
    let app = &mail.app;
    signed_up(&mail, "alice", "alice@example.org").await;
    let token = mail.verify_token("alice@example.org").await;
    let page = get_page(app, &format!("/verify-email?token={token}")).await;
    assert_eq!(page.status.code, 200);
    let api = app.login("alice", PASSWORD).await;
    let verified = || app.get("/api/me/email", Some(&api));
    assert_eq!(
        verified().await.json()["verified"],
        false,
        "a scanner's GET verifies nothing"
    );
    let reply = press(app, "/verify-email", &token, &[]).await;
    assert_redirect(&reply, "/account");
    assert_eq!(verified().await.json()["verified"], true);
    let dead = get_page(app, &format!("/verify-email?token={token}")).await;
    assert_eq!(dead.status.code, 410);
}

#[rocket::async_test]
async fn the_account_page_shows_changes_and_resends() {
    let mail = MailApp::with(json!({"sudo_window": 60}), json!({})).await;
    let app = &mail.app;
    signed_up(&mail, "alice", "alice@example.org").await;
    let landing = browser_sign_in(app, "alice").await;
    assert_redirect(&landing, "/sessions");
    assert!(get_page(app, "/sessions")
        .await
        .text
        .contains("href=\"/account\""));

    let page = get_page(app, "/account").await;
    assert_eq!(page.status.code, 200);
    assert!(page.text.contains("alice@example.org") && page.text.contains("not verified"));
    let csrf = csrf_of(&page.text);
    let reply = submit(app, "/account/email/verification", &[("csrf", &csrf)]).await;
    assert_redirect(&reply, "/account");
    assert_eq!(mail.mails_to("alice@example.org").await.len(), 2);
    let forged = submit(app, "/account/email/verification", &[("csrf", "forged")]).await;
    assert_eq!(forged.status.code, 403);

    let fields = [("csrf", csrf.as_str()), ("email", "new@example.net")];
    let reply = submit(app, "/account/email", &fields).await;
    assert_redirect(&reply, "/account");
    let page = get_page(app, "/account").await;
    assert!(
        page.text
            .contains("Changing to <strong>new@example.net</strong>"),
        "{}",
        page.text
    );

    let invalid = [("csrf", csrf.as_str()), ("email", "<b>not</b>")];
    let reply = submit(app, "/account/email", &invalid).await;
    assert_eq!(reply.status.code, 422);
    assert!(reply.text.contains("&lt;b&gt;not&lt;&#x2f;b&gt;") && !reply.text.contains("<b>not"));

    app.advance(61);
    let reply = submit(app, "/account/email", &fields).await;
    assert_redirect(&reply, "/sudo?next=%2Faccount");
}
