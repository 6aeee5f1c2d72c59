//! The kit's own tests: the harness (`session_kit::testing`), on an app that is the kit alone,
//! under a test site's names. No test of the kit depends on an app's features; a test that needs
//! a route of its own mounts it on [`build`]'s answer.
#![allow(dead_code, unused_imports)]

pub use session_kit::testing::*;
pub use session_kit::testing::{hidden, openapi, schemas, served, web};

use rocket::figment::Figment;
use rocket::{Build, Rocket};
use session_kit::{Kit, Site};

/// The names the kit's tests run under. Its pages' templates and stylesheet are the app's,
/// in the workspace folder above the kit.
pub const SITE: Site = Site {
    name: "kit-test",
    token_prefix: "mt_",
    root: concat!(env!("CARGO_MANIFEST_DIR"), "/.."),
    session_cookie: "kit_test_session",
    session_cookie_host_only: "__Host-kit_test_session",
    csrf_cookie: "kit_test_csrf",
    csrf_cookie_host_only: "__Host-kit_test_csrf",
    flash_cookie: "kit_test_flash",
    flash_cookie_host_only: "__Host-kit_test_flash",
    revoked_channel: "kit_test_revoked",
    default_database_url: "sqlite://data/kit-test.sqlite3",
};

pub const DEFAULT_PREFIX: &str = SITE.token_prefix;
pub const SESSION_COOKIE: &str = SITE.session_cookie;
pub const CSRF_COOKIE: &str = SITE.csrf_cookie;

/// The kit alone, as a test app.
pub fn build(figment: Figment) -> Rocket<Build> {
    Kit::new(SITE).rocket(figment)
}
