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

mod common;
use common::build;
use common::served::ServedApp as App;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery";
const CURL: &str = "curl/8.5.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Says why the test did not run, past cargo's output capture.
fn skip(why: &str) {
    if std::env::var("REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("the browser test must run (REQUIRE_BROWSER=1) but cannot: {why}");
    }
    let _ = writeln!(std::io::stderr(), "browser test skipped: {why}");
}

fn binary(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(env) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

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

// --- chromedriver -------------------------------------------------------------------------------

/// The chromedriver process this test started, in a process group of its own with the Chromium
/// it starts; on drop, even when the test fails, that group (the PID we started) is killed.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(path: &Path) -> TestResult<Driver> {
        let port = free_port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let driver = Driver { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("chromedriver did not start listening within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group's id is chromedriver's PID: this ends it and any Chromium left behind.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn open_browser(driver: &Driver, chromium: &Path, profile: &Path) -> TestResult<Client> {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--password-store=basic",
        "--hide-scrollbars",
        "--window-size=1100,1000",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect::<Vec<_>>();
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await?;
    Ok(client)
}

// --- Page helpers -------------------------------------------------------------------------------

async fn wait_for_path(browser: &Client, path: &str) -> TestResult {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = browser.current_url().await?;
        if url.path() == path {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("expected {path}, still on {url}").into());
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn type_into(browser: &Client, id: &str, text: &str) -> TestResult {
    let input = browser.find(Locator::Id(id)).await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

async fn click(browser: &Client, css: &str) -> TestResult {
    browser.find(Locator::Css(css)).await?.click().await?;
    Ok(())
}

/// The text of each row of the device page.
async fn rows(browser: &Client) -> TestResult<Vec<String>> {
    let mut texts = Vec::new();
    for row in browser.find_all(Locator::Css("li.session")).await? {
        texts.push(row.text().await?);
    }
    Ok(texts)
}

/// Resizes the window to `width` and to the height of the whole page, for a full screenshot.
async fn fit_height(browser: &Client, width: u32) -> TestResult {
    browser.set_window_size(width, 800).await?;
    let height = browser
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await?;
    let height = height.as_u64().unwrap_or(800).clamp(400, 4000) as u32;
    // The window is a little taller than the page it shows.
    let (_, window_height) = browser.get_window_size().await?;
    let inner = browser
        .execute("return window.innerHeight;", vec![])
        .await?;
    let chrome = window_height.saturating_sub(inner.as_u64().unwrap_or(window_height)) as u32;
    browser.set_window_size(width, height + chrome).await?;
    Ok(())
}

async fn flash(browser: &Client) -> TestResult<String> {
    text_of(browser, ".flash").await
}

/// The text of the first element matching `css`, waiting (up to 10 s) while a page loads: a form
/// post's answer may still be on its way, and an element of the old page may go stale.
async fn text_of(browser: &Client, css: &str) -> TestResult<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = match browser.find(Locator::Css(css)).await {
            Ok(element) => element.text().await,
            Err(e) => Err(e),
        };
        match found {
            Ok(text) => return Ok(text),
            Err(e) if Instant::now() > deadline => return Err(e.into()),
            Err(_) => rocket::tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

fn screenshot_dir() -> PathBuf {
    // The test binary lives in <target>/debug/deps/.
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the target folder")
        .to_path_buf();
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("a screenshot folder");
    dir
}

async fn save_screenshot(browser: &Client, name: &str) -> TestResult<PathBuf> {
    let path = screenshot_dir().join(name);
    std::fs::write(&path, browser.screenshot().await?)?;
    Ok(path)
}

/// Waits (up to 10 s) until the first element matching `css` contains `needle`: the answer to a
/// form posted to the page it is on.
async fn wait_for_text(browser: &Client, css: &str, needle: &str) -> TestResult<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = text_of(browser, css).await.unwrap_or_default();
        if text.contains(needle) {
            return Ok(text);
        }
        if Instant::now() > deadline {
            return Err(format!("{css}: expected {needle:?}, found {text:?}").into());
        }
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The new token's text in the "copy it now" box.
async fn new_token(browser: &Client) -> TestResult<String> {
    Ok(browser.find(Locator::Id("new-token")).await?.text().await?)
}

/// Full-page screenshots at `wide` px and at 360 px (where nothing may scroll sideways); returns
/// the path of the wide one.
async fn screenshots(browser: &Client, name: &str, wide: u32) -> TestResult<PathBuf> {
    fit_height(browser, wide).await?;
    let path = save_screenshot(browser, &format!("{name}.png")).await?;
    fit_height(browser, 360).await?;
    let width: Value = browser
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await?;
    assert!(
        width[0].as_u64() <= width[1].as_u64(),
        "{name}: horizontal scroll at 360 px: {width}"
    );
    save_screenshot(browser, &format!("{name}-360.png")).await?;
    browser.set_window_size(1100, 1000).await?;
    Ok(path)
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
    let Some(chromedriver) = binary("CHROMEDRIVER", &["/usr/bin/chromedriver"]) else {
        return skip("chromedriver is not installed (apt-get install chromium-driver)");
    };
    let Some(chromium) = binary(
        "CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    ) else {
        return skip("chromium is not installed (apt-get install chromium)");
    };
    let app = App::launch(build);
    let driver = Driver::start(&chromedriver).expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("a browser profile folder");
    let browser = open_browser(&driver, &chromium, profile.path())
        .await
        .expect("a Chromium session");
    // In a task of its own, so that a failed assertion still lets the browser be closed.
    let outcome = rocket::tokio::spawn(walk_through(Api { port: app.port }, browser.clone())).await;
    let _ = browser.close().await;
    drop(driver);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{e}"),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
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
