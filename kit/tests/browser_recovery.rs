//! Account recovery in a real browser (see tests/chromium/): a person who forgot their password
//! asks for a link on /forgot-password, opens the mail the app wrote (the file transport, into a
//! folder of the test's own), follows the link, sets a new password, and signs in with it. The
//! reset ends the session they had elsewhere, and the spent link is refused. Screenshots of each
//! page, desktop and 360 px wide, go to `target/screenshots/`.

mod chromium;
mod common;
mod support;
use chromium::*;
use common::build;
use common::served::ServedApp;
use fantoccini::Client;
use rocket::figment::Figment;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::eml_files;

const NEW_PASSWORD: &str = "a brand new passphrase";

#[rocket::async_test]
async fn a_person_resets_a_forgotten_password_through_the_mailed_link() {
    let mail = tempfile::tempdir().expect("a mail folder");
    let folder = mail.path().to_path_buf();
    let app = ServedApp::launch_with(build, Figment::new().merge(("mail.dir", &folder)));
    chromium::run(&app, move |api, browser| walk_through(api, browser, folder)).await;
}

/// The path and query of the newest link to `path` mailed to `to` (the mail's links are built on
/// `mail.base_url`, not on the test's port), waiting up to 10 s for the sender to write it.
async fn mailed_link(folder: &Path, to: &str, path: &str) -> TestResult<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let link = eml_files(folder)
            .iter()
            .rev()
            .filter(|mail| mail.header("To").is_some_and(|t| t.contains(to)))
            .filter_map(|mail| {
                let text = mail.part("text/plain");
                let start = text.find(path)?;
                let end = text[start..]
                    .find(char::is_whitespace)
                    .map_or(text.len(), |n| start + n);
                Some(text[start..end].to_string())
            })
            .next();
        if let Some(link) = link {
            return Ok(link);
        }
        if Instant::now() > deadline {
            return Err(format!("no {path} link mailed to {to} within 10 s").into());
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn walk_through(app: Api, browser: Client, folder: PathBuf) -> TestResult {
    let browser = &browser;
    let account = json!({"username": "grace", "password": PASSWORD, "email": "grace@example.org"});
    let (status, text) = app.http("POST", "/api/users", &[], Some(&account));
    assert_eq!(status, 201, "{text}");
    let elsewhere = app.api_login("grace", CURL, "build server");
    assert_eq!(app.me_status(&elsewhere), 200);

    // Forgot the password: from the sign-in page, ask for a link by address.
    browser.goto(&app.url("/login")).await?;
    wait_for_path(browser, "/login").await?;
    click(browser, "a[href='/forgot-password']").await?;
    wait_for_path(browser, "/forgot-password").await?;
    screenshots(browser, "forgot-password-page", 1100).await?;
    type_into(browser, "login", "grace@example.org").await?;
    click(
        browser,
        "form[action='/forgot-password'] button[type=submit]",
    )
    .await?;
    wait_for_path(browser, "/login").await?;
    let said = flash(browser).await?;
    assert!(!said.is_empty(), "the sign-in page says what happens next");

    // The mail's link opens a page with a button; opening it spends nothing.
    let link = mailed_link(&folder, "grace@example.org", "/reset-password?").await?;
    browser.goto(&app.url(&link)).await?;
    wait_for_path(browser, "/reset-password").await?;
    browser.refresh().await?;
    wait_for_path(browser, "/reset-password").await?;
    screenshots(browser, "reset-password-page", 1100).await?;
    type_into(browser, "password", NEW_PASSWORD).await?;
    type_into(browser, "confirm", NEW_PASSWORD).await?;
    click(
        browser,
        "form[action='/reset-password'] button[type=submit]",
    )
    .await?;
    wait_for_path(browser, "/login").await?;
    let said = flash(browser).await?;
    assert!(said.contains("password"), "{said}");
    assert_eq!(
        app.me_status(&elsewhere),
        401,
        "the reset ended every session"
    );

    // The old password is refused, the new one signs in.
    type_into(browser, "username", "grace").await?;
    type_into(browser, "password", PASSWORD).await?;
    click(browser, "form[action='/login'] button[type=submit]").await?;
    wait_for_text(browser, ".alert", "Incorrect username or password.").await?;
    type_into(browser, "password", NEW_PASSWORD).await?;
    click(browser, "form[action='/login'] button[type=submit]").await?;
    wait_for_path(browser, "/sessions").await?;

    // The account page: the address, verified by the mail that reached it.
    click(browser, "a[href='/account']").await?;
    wait_for_path(browser, "/account").await?;
    let page = text_of(browser, "main").await?;
    assert!(
        page.contains("grace@example.org") && page.contains("verified"),
        "{page}"
    );
    screenshots(browser, "account-page", 1100).await?;

    // The spent link: its page says it is no longer valid, and offers nothing to press.
    browser.goto(&app.url(&link)).await?;
    wait_for_text(browser, "main", "no longer valid").await?;
    assert!(browser
        .find(fantoccini::Locator::Id("password"))
        .await
        .is_err());
    screenshots(browser, "link-invalid-page", 1100).await?;
    Ok(())
}
