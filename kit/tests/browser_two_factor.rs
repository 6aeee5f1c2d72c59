//! Two-factor in a real browser (Chromium through chromedriver, see tests/chromium/): set it up
//! on the account page by reading the key off the page, compute codes as an authenticator app
//! would, sign out, and sign in with the password and then a code. Screenshots of the set-up, the
//! recovery codes and the second step, at 1100 and 360 px (where nothing may scroll sideways),
//! go to `target/screenshots/`. Skipped without Chromium, unless `REQUIRE_BROWSER=1`.

mod chromium;
mod common;
use chromium::*;
use common::build;
use common::served::ServedApp as App;
use fantoccini::Client;
use session_kit::clock::Clock;
use session_kit::two_factor::{TotpSecret, STEP};

#[rocket::async_test]
async fn a_person_turns_two_factor_on_and_signs_in_with_a_code() {
    let app = App::launch(build);
    chromium::run(&app, walk_through).await;
}

/// The authenticator's code `ahead` steps from now (the app runs on the system clock).
fn code(secret: &TotpSecret, ahead: i64) -> String {
    secret.code_at(Clock::system().now().div_euclid(STEP) + ahead)
}

async fn walk_through(app: Api, browser: Client) -> TestResult {
    let browser = &browser;
    browser.goto(&app.url("/signup")).await?;
    type_into(browser, "username", "ada").await?;
    type_into(browser, "password", PASSWORD).await?;
    type_into(browser, "confirm", PASSWORD).await?;
    click(browser, "form[action='/signup'] button[type=submit]").await?;
    wait_for_path(browser, "/sessions").await?;

    // Set up from the device page's link: a QR code, and the key as text.
    click(browser, "a[href='/account/two-factor']").await?;
    wait_for_path(browser, "/account/two-factor").await?;
    click(browser, "form[action='/account/two-factor/setup'] button").await?;
    let key = text_of(browser, ".secret-key").await?;
    let secret = TotpSecret::from_base32(&key).ok_or("the page shows a base32 key")?;
    text_of(browser, ".qr svg").await?;
    screenshots(browser, "two-factor-setup", 1100).await?;
    type_into(browser, "code", &code(&secret, 0)).await?;
    click(browser, "form[action='/account/two-factor/confirm'] button").await?;
    let codes = wait_for_text(browser, ".recovery-codes", "-").await?;
    assert_eq!(codes.lines().count(), 10, "{codes}");
    screenshots(browser, "two-factor-codes", 1100).await?;

    // Signed out, the password alone leads to the second step, and a code signs in.
    click(browser, "form[action='/logout'] button").await?;
    wait_for_path(browser, "/login").await?;
    type_into(browser, "username", "ada").await?;
    type_into(browser, "password", PASSWORD).await?;
    click(browser, "form[action='/login'] button[type=submit]").await?;
    wait_for_path(browser, "/login/two-factor").await?;
    screenshots(browser, "two-factor-login", 1100).await?;
    // The next step's code: the one confirmed with may not be used again.
    type_into(browser, "code", &code(&secret, 1)).await?;
    click(
        browser,
        "form[action='/login/two-factor'] button[type=submit]",
    )
    .await?;
    wait_for_path(browser, "/sessions").await?;
    wait_for_text(browser, "li.session.current .badges", "Two-factor").await?;
    Ok(())
}
