//! The kit's own tests: the harness (`session_kit::testing`), on an app that is the kit and one
//! small feature of the tests' own ([`widgets`], with a scope of its own), under a test site's
//! names. No test of the kit depends on an app's features; a test that needs a route of its own
//! mounts it on [`build`]'s answer.
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

/// The kit and [`widgets`], as a test app.
pub fn build(figment: Figment) -> Rocket<Build> {
    Kit::new(SITE)
        .api(widgets::FEATURE)
        .scopes(widgets::ALL)
        .rocket(figment)
}

/// Every scope the test app serves, in order: the kit's, then the widgets'.
pub fn served_scopes() -> Vec<session_kit::scopes::ScopeInfo> {
    session_kit::scopes::ALL
        .iter()
        .chain(widgets::ALL)
        .copied()
        .collect()
}

/// A feature as an app adds one, to test what the kit does with an app's scopes: the scope
/// `widgets:read`, declared with `session_kit::scopes!`, and a route guarded by it.
pub mod widgets {
    use session_kit::prelude::*;

    session_kit::scopes! {
        /// `GET /api/widgets`.
        WidgetsRead = "widgets:read", "Read your widgets";
    }

    session_kit::api_routes![list_widgets];

    /// The user's widgets: none, but only to a session allowed `widgets:read`.
    #[utoipa::path(
        tag = "users",
        responses((status = 200, description = "The user's widgets", body = [String]))
    )]
    #[get("/widgets")]
    fn list_widgets(session: Scoped<'_, WidgetsRead>) -> Json<Vec<String>> {
        let _ = session.user_id();
        Json(Vec::new())
    }
}
