//! What the real-browser tests share: Debian's Chromium driven through chromedriver with
//! fantoccini (the driver in a process group of its own, killed on drop), and page helpers that
//! wait while a page loads. Screenshots go to `target/screenshots/`.
#![allow(dead_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Says why the test did not run, past cargo's output capture.
pub fn skip(why: &str) {
    if std::env::var("REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("the browser test must run (REQUIRE_BROWSER=1) but cannot: {why}");
    }
    let _ = writeln!(std::io::stderr(), "browser test skipped: {why}");
}

pub fn binary(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(env) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

// --- chromedriver -------------------------------------------------------------------------------

/// The chromedriver process this test started, in a process group of its own with the Chromium
/// it starts; on drop, even when the test fails, that group (the PID we started) is killed.
pub struct Driver {
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

pub async fn open_browser(driver: &Driver, chromium: &Path, profile: &Path) -> TestResult<Client> {
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

pub async fn wait_for_path(browser: &Client, path: &str) -> TestResult {
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

pub async fn type_into(browser: &Client, id: &str, text: &str) -> TestResult {
    let input = browser.find(Locator::Id(id)).await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

pub async fn click(browser: &Client, css: &str) -> TestResult {
    browser.find(Locator::Css(css)).await?.click().await?;
    Ok(())
}

/// Resizes the window to `width` and to the height of the whole page, for a full screenshot.
pub async fn fit_height(browser: &Client, width: u32) -> TestResult {
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

pub async fn flash(browser: &Client) -> TestResult<String> {
    text_of(browser, ".flash").await
}

/// The text of the first element matching `css`, waiting (up to 10 s) while a page loads: a form
/// post's answer may still be on its way, and an element of the old page may go stale.
pub async fn text_of(browser: &Client, css: &str) -> TestResult<String> {
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

pub fn screenshot_dir() -> PathBuf {
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

pub async fn save_screenshot(browser: &Client, name: &str) -> TestResult<PathBuf> {
    let path = screenshot_dir().join(name);
    std::fs::write(&path, browser.screenshot().await?)?;
    Ok(path)
}

/// Waits (up to 10 s) until the first element matching `css` contains `needle`: the answer to a
/// form posted to the page it is on.
pub async fn wait_for_text(browser: &Client, css: &str, needle: &str) -> TestResult<String> {
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

/// Full-page screenshots at `wide` px and at 360 px (where nothing may scroll sideways); returns
/// the path of the wide one.
pub async fn screenshots(browser: &Client, name: &str, wide: u32) -> TestResult<PathBuf> {
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

/// Chromedriver and Chromium, when both are installed: runs `walk` (in a task of its own, so that
/// a failed assertion still lets the browser be closed) on a browser, then closes it. Without them
/// the test is skipped (see [`skip`]).
pub async fn in_browser<F, Fut>(walk: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = TestResult> + Send + 'static,
{
    let Some(chromedriver) = binary("CHROMEDRIVER", &["/usr/bin/chromedriver"]) else {
        return skip("chromedriver is not installed (apt-get install chromium-driver)");
    };
    let Some(chromium) = binary(
        "CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    ) else {
        return skip("chromium is not installed (apt-get install chromium)");
    };
    let driver = Driver::start(&chromedriver).expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("a browser profile folder");
    let browser = open_browser(&driver, &chromium, profile.path())
        .await
        .expect("a Chromium session");
    let outcome = rocket::tokio::spawn(walk(browser.clone())).await;
    let _ = browser.close().await;
    drop(driver);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{e}"),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
