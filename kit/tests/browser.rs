//! The device page in a real browser: Debian's Chromium, driven through chromedriver with
//! fantoccini, against the app launched for real on a free port.
//!
//! Signs up and signs in through the forms, sees the browser and two API sessions, revokes one by
//! clicking, makes a personal token and regenerates it, confirms the password on /sudo, signs out
//! all other devices, signs out. Screenshots of the tokens and sudo pages go there too. Screenshots of the device page (desktop and
//! 360 px wide) go to `target/screenshots/`; with `SAVE_DOCS_SCREENSHOT=1` the desktop one also
//! replaces `docs/device-page.png`.
//!
//! Without Chromium or chromedriver the test prints "skipped: <why>" and passes, unless
//! `REQUIRE_BROWSER=1` (as in CI), when it fails. `CHROMIUM` and `CHROMEDRIVER` override the
//! binaries' paths.

mod browser_kit;
mod common;
use browser_kit::*;
use common::build;
use common::served::ServedApp as App;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";
const CURL: &str = "curl/8.5.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

// --- The app, launched for real -----------------------------------------------------------------

/// Where the launched app listens, for the browser and for plain HTTP requests.
#[derive(Clone, Copy)]
struct Api {
    port: u16,
}

impl Api {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A plain HTTP/1.0 request (as a script would send), returning status and body.
    fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut request = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n",
            self.port
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() {
            request.push_str("Content-Type: application/json\r\n");
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("receive");
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// Signs in through the JSON API as another device; returns the token.
    fn api_login(&self, user: &str, user_agent: &str, name: &str) -> String {
        let body = json!({"username": user, "password": PASSWORD, "name": name});
        let (status, text) = self.http(
            "POST",
            "/api/auth/login",
            &[("User-Agent", user_agent)],
            Some(&body),
        );
        assert_eq!(status, 200, "{text}");
        let json: Value = serde_json::from_str(&text).expect("JSON");
        json["token"].as_str().expect("a token").to_string()
    }

    fn me_status(&self, token: &str) -> u16 {
        self.http(
            "GET",
            "/api/me",
            &[("Authorization", &format!("Bearer {token}"))],
            None,
        )
        .0
    }
}

/// The text of each row of the device page.
async fn rows(browser: &Client) -> TestResult<Vec<String>> {
    let mut texts = Vec::new();
    for row in browser.find_all(Locator::Css("li.session")).await? {
        texts.push(row.text().await?);
    }
    Ok(texts)
}

/// The new token's text in the "copy it now" box.
async fn new_token(browser: &Client) -> TestResult<String> {
    Ok(browser.find(Locator::Id("new-token")).await?.text().await?)
}

/// From the device page: make a personal token in the form, use it, regenerate it; confirm the
/// password on /sudo.
async fn personal_tokens(app: Api, browser: &Client) -> TestResult {
    click(browser, "a[href='/tokens']").await?;
    wait_for_path(browser, "/tokens").await?;
    type_into(browser, "token-name", "deploy bot").await?;
    click(browser, "input[type=checkbox][value='profile:read']").await?;
    click(browser, "form[action='/tokens'] button[type=submit]").await?;
    wait_for_text(browser, "#secret-title", "Your new token").await?;
    let token = new_token(browser).await?;
    assert!(token.starts_with("mt_"), "{token}");
    assert_eq!(app.me_status(&token), 200, "the new token works");
    let row = text_of(browser, "li.session.token").await?;
    assert!(
        row.contains("deploy bot") && row.contains("profile:read"),
        "{row}"
    );
    screenshots(browser, "tokens-page", 1200).await?;

    click(browser, "form[action$='/regenerate'] button").await?;
    wait_for_text(browser, "#secret-title", "New secret").await?;
    let regenerated = new_token(browser).await?;
    assert_ne!(regenerated, token);
    assert_eq!(app.me_status(&token), 401, "the old secret is refused");
    assert_eq!(app.me_status(&regenerated), 200);

    // The password check, which returns to where it was asked for.
    browser.goto(&app.url("/sudo?next=%2Ftokens")).await?;
    wait_for_path(browser, "/sudo").await?;
    assert!(text_of(browser, "h1")
        .await?
        .contains("Confirm it's you, ada"));
    screenshots(browser, "sudo-page", 1200).await?;
    type_into(browser, "password", PASSWORD).await?;
    click(browser, "form[action='/sudo'] button[type=submit]").await?;
    wait_for_path(browser, "/tokens").await?;
    assert!(
        browser.find(Locator::Id("new-token")).await.is_err(),
        "shown once"
    );
    assert!(flash(browser).await?.starts_with("Password confirmed."));

    // The password form, as it looks (it is exercised in tests/web_tokens.rs).
    browser.goto(&app.url("/password")).await?;
    wait_for_path(browser, "/password").await?;
    screenshots(browser, "password-page", 1200).await?;
    browser.goto(&app.url("/sessions")).await?;
    wait_for_path(browser, "/sessions").await?;
    Ok(())
}

// --- The test -----------------------------------------------------------------------------------

#[rocket::async_test]
async fn a_person_manages_their_devices_in_a_real_browser() {
    let app = App::launch(build);
    let port = app.port;
    in_browser(|browser| walk_through(Api { port }, browser)).await;
    drop(app);
}

async fn walk_through(app: Api, browser: Client) -> TestResult {
    let browser = &browser;
    // Sign up through the form: the new account is signed in at once.
    browser.goto(&app.url("/")).await?;
    wait_for_path(browser, "/login").await?;
    click(browser, "a[href='/signup']").await?;
    wait_for_path(browser, "/signup").await?;
    type_into(browser, "username", "ada").await?;
    type_into(browser, "password", PASSWORD).await?;
    type_into(browser, "confirm", PASSWORD).await?;
    click(browser, "form[action='/signup'] button[type=submit]").await?;
    wait_for_path(browser, "/sessions").await?;
    assert!(flash(browser).await?.contains("Your account is ready"));
    assert_eq!(rows(browser).await?.len(), 1);

    // Sign out, then sign in through the form, naming this device.
    click(browser, "form[action='/logout'] button").await?;
    wait_for_path(browser, "/login").await?;
    assert_eq!(flash(browser).await?, "You have been signed out.");
    fit_height(browser, 1100).await?;
    save_screenshot(browser, "login-page.png").await?;
    type_into(browser, "username", "ada").await?;
    type_into(browser, "password", "not the password").await?;
    click(browser, "form[action='/login'] button[type=submit]").await?;
    // The form posts and the page reloads: wait for the answer rather than race it.
    let error = text_of(browser, ".alert").await?;
    assert_eq!(error, "Incorrect username or password.");
    let kept = browser
        .find(Locator::Id("username"))
        .await?
        .prop("value")
        .await?;
    assert_eq!(kept.as_deref(), Some("ada"), "the username is kept");
    type_into(browser, "password", PASSWORD).await?;
    type_into(browser, "name", "Work laptop").await?;
    click(browser, "form[action='/login'] button[type=submit]").await?;
    wait_for_path(browser, "/sessions").await?;

    // Two more devices sign in through the API.
    let curl = app.api_login("ada", CURL, "deploy script");
    let phone = app.api_login("ada", IPHONE, "Ada's iPhone");
    browser.refresh().await?;
    let texts = rows(browser).await?;
    assert_eq!(texts.len(), 3, "{texts:#?}");
    let this: Vec<&String> = texts.iter().filter(|t| t.contains("This device")).collect();
    assert_eq!(this.len(), 1, "{texts:#?}");
    assert!(
        this[0].contains("Chrome on Linux") && this[0].contains("Work laptop"),
        "{}",
        this[0]
    );
    assert!(texts
        .iter()
        .any(|t| t.contains("curl") && t.contains("deploy script") && t.contains("API sign-in")));
    assert!(texts
        .iter()
        .any(|t| t.contains("Safari on iPhone") && t.contains("Ada's iPhone")));
    // Exact times on hover.
    let time = browser.find(Locator::Css("li.session time")).await?;
    let exact = time.attr("title").await?.unwrap_or_default();
    assert!(exact.ends_with('Z') && exact.contains('T'), "{exact}");

    // Screenshots, wide and at 360 px (where nothing may scroll sideways), each of the whole page.
    let wide = screenshots(browser, "device-page", 1100).await?;
    if std::env::var("SAVE_DOCS_SCREENSHOT").as_deref() == Ok("1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/device-page.png");
        std::fs::copy(&wide, docs)?;
    }

    // Revoke the curl session by clicking its row's button.
    assert_eq!(app.me_status(&curl), 200);
    let mut revoked = false;
    for row in browser.find_all(Locator::Css("li.session")).await? {
        if row.text().await?.contains("deploy script") {
            row.find(Locator::Css("button")).await?.click().await?;
            revoked = true;
            break;
        }
    }
    assert!(revoked, "a Revoke button on the curl row");
    wait_for_path(browser, "/sessions").await?;
    assert_eq!(flash(browser).await?, "Signed out curl (deploy script).");
    let texts = rows(browser).await?;
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(!texts.iter().any(|t| t.contains("deploy script")));
    assert_eq!(app.me_status(&curl), 401, "the revoked token is refused");
    assert_eq!(app.me_status(&phone), 200);
    // It is listed under "Recently signed out", with why, and nothing to click.
    let ended = text_of(browser, "section.history").await?;
    assert!(ended.contains("curl “deploy script”"), "{ended}");
    assert!(ended.contains("Revoked from another device"), "{ended}");
    let buttons = browser
        .find_all(Locator::Css("section.history button"))
        .await?;
    assert!(buttons.is_empty());
    screenshots(browser, "device-page-history", 1100).await?;

    personal_tokens(app, browser).await?;

    // The security activity, linked from the device page: in words, the revocation with why.
    click(browser, "a[href='/activity']").await?;
    wait_for_path(browser, "/activity").await?;
    let log = text_of(browser, "main").await?;
    assert!(log.contains("Signed in"), "{log}");
    assert!(log.contains("revoked from another device"), "{log}");
    assert!(log.contains("Personal token “deploy bot” created"), "{log}");
    screenshots(browser, "activity-page", 1100).await?;
    browser.goto(&app.url("/sessions")).await?;
    wait_for_path(browser, "/sessions").await?;

    // Sign out all other devices: only this browser is left.
    click(browser, "form[action='/sessions/revoke-others'] button").await?;
    wait_for_path(browser, "/sessions").await?;
    assert_eq!(
        flash(browser).await?,
        "Signed out 1 other device. Your personal token has ended."
    );
    assert_eq!(rows(browser).await?.len(), 1);
    assert_eq!(app.me_status(&phone), 401);

    // Sign out; the device page is then out of reach.
    click(browser, "form[action='/logout'] button").await?;
    wait_for_path(browser, "/login").await?;
    browser.goto(&app.url("/sessions")).await?;
    wait_for_path(browser, "/login").await?;
    Ok(())
}
