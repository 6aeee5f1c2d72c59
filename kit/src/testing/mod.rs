//! The test harness: every test gets its own app on its own fresh database, so tests run in
//! parallel. An app's tests start theirs with its `build` function:
//! `let app = TestApp::new(my_app::build).await;`.
//!
//! SQLite by default (a file in a temporary folder). With `TEST_DATABASE_URL` set to a PostgreSQL
//! server URL (e.g. `postgres://postgres@127.0.0.1:5432/test`), each test creates a database with a
//! random name on that server instead, and drops it afterwards, even when the test fails.
//!
//! Compiled with the `testing` feature, which an app turns on for its tests only.

/// The rules every /api operation keeps, for an app's tests to run on its own document.
pub mod api_rules;
/// Requests and the common steps (sign up, log in, tokens) on a [`TestApp`].
mod calls;
/// The test databases.
mod db;
/// Strings with hidden characters, for the text rules' tests.
pub mod hidden;
/// The mail machinery in tests.
mod mail;
/// The OpenAPI document's operations.
pub mod openapi;
/// Responses, read whole.
mod reply;
/// Values checked against the document's schemas.
pub mod schemas;
/// The app on a real socket.
pub mod served;
/// The tables of a migrations folder.
mod tables;
/// Two-factor set up through the API, and codes computed as an authenticator would.
mod two_factor;
/// A browser on the tracked client, for the page tests.
pub mod web;

pub use db::TestDb;
pub use reply::{read, Reply};
pub use serde_json::{json, Value};
pub use tables::{same_tables, tables};

use crate::auth::Auth;
use crate::clock::Clock;
use crate::events::EventBus;
use db::real_now;
use rocket::figment::Figment;
use rocket::local::asynchronous::Client;
use rocket::{Build, Rocket};

/// The key that seals two-factor secrets in tests (`[auth] totp_key`), so that no test writes
/// a key file; a test may set its own.
pub const TOTP_KEY: &str = "dGVzdHMgb25seTogbm90IGEgc2VjcmV0IGF0IGFsbCE=";

/// The password the harness signs users up with.
pub const PASSWORD: &str = "correct horse battery";

/// Public ids that are not well formed: too short, padded, one character too long.
pub const MALFORMED_IDS: [&str; 3] = [
    "nope",
    "AAAAAAAAAAAAAAAAAAAAA%3D",
    "AAAAAAAAAAAAAAAAAAAAAAA",
];

/// How a test makes its app: the app's `build` (or any function of the same shape).
pub type AppFn = fn(Figment) -> Rocket<Build>;

/// One app on its own database, driven through Rocket's local client, on a manual clock that
/// starts at the real time and moves only when a test advances it.
pub struct TestApp {
    build: AppFn,
    pub client: Client,
    pub db: TestDb,
    url: String,
    auth_overrides: Value,
    /// Settings outside `[auth]`, by dotted key (see [`TestApp::with_config`]).
    other_overrides: Value,
    clock: Clock,
}

impl TestApp {
    /// An app with the test defaults (bcrypt cost 4).
    pub async fn new(build: AppFn) -> TestApp {
        TestApp::with(build, json!({})).await
    }

    /// An app whose `[auth]` table is overridden by `auth` (e.g. `json!({"max_sessions": 2})`).
    pub async fn with(build: AppFn, auth: Value) -> TestApp {
        let (db, url) = TestDb::new().await;
        TestApp::on(build, db, url, auth, real_now()).await
    }

    /// An app whose `[auth]` table is overridden by `auth`, and other settings by `other`, a map
    /// of dotted keys (e.g. `json!({"metrics.enabled": true})`).
    pub async fn with_config(build: AppFn, auth: Value, other: Value) -> TestApp {
        let (db, url) = TestDb::new().await;
        let mut app = TestApp::configured(build, db, url, auth, other.clone(), real_now()).await;
        app.other_overrides = other;
        app
    }

    /// An app on an existing database (owned by someone else, e.g. a CLI test).
    pub async fn on_url(build: AppFn, url: &str) -> TestApp {
        let db = TestDb::Shared {
            postgres: url.starts_with("postgres"),
        };
        TestApp::on(build, db, url.to_string(), json!({}), real_now()).await
    }

    /// A second instance of the app on this one's database (as behind a load balancer).
    pub async fn another_instance(&self) -> TestApp {
        let db = TestDb::Shared {
            postgres: self.db.is_postgres(),
        };
        let mut app = TestApp::configured(
            self.build,
            db,
            self.url.clone(),
            self.auth_overrides.clone(),
            self.other_overrides.clone(),
            self.clock.clone(),
        )
        .await;
        app.other_overrides = self.other_overrides.clone();
        app
    }

    async fn on(build: AppFn, db: TestDb, url: String, auth: Value, clock: Clock) -> TestApp {
        TestApp::configured(build, db, url, auth, json!({}), clock).await
    }

    async fn configured(
        build: AppFn,
        db: TestDb,
        url: String,
        auth: Value,
        other: Value,
        clock: Clock,
    ) -> TestApp {
        let mut figment = rocket::Config::figment()
            .merge(("databases.db.url", url.clone()))
            .merge(("log_level", "off"))
            .merge(("auth.bcrypt_cost", 4))
            .merge(("auth.totp_key", TOTP_KEY));
        for (key, value) in auth.as_object().expect("an object").clone() {
            figment = figment.merge((format!("auth.{key}"), value));
        }
        for (key, value) in other.as_object().expect("an object").clone() {
            figment = figment.merge((key, value));
        }
        let client = Client::tracked((build)(figment).manage(clock.clone()))
            .await
            .expect("the app ignites");
        let app = TestApp {
            build,
            client,
            db,
            url,
            auth_overrides: auth,
            other_overrides: json!({}),
            clock,
        };
        app.wait_for_listener().await;
        app
    }

    /// On PostgreSQL the cache serves only once the revocation listener listens: wait for it,
    /// as a load balancer would wait for readiness.
    pub async fn wait_for_listener(&self) {
        if !self.db.is_postgres() {
            return;
        }
        for _ in 0..500 {
            if self.auth().listener_pid().is_some() {
                return;
            }
            rocket::tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the revocation listener did not start within 5 s");
    }

    pub fn auth(&self) -> &Auth {
        self.client.rocket().state::<Auth>().expect("auth state")
    }

    /// The app's event bus, to subscribe to.
    pub fn events(&self) -> &EventBus {
        self.client.rocket().state::<EventBus>().expect("event bus")
    }

    /// The database the app runs on (for the command line, on the same database).
    pub fn database_url(&self) -> &str {
        &self.url
    }

    /// The app's clock (shared with its other instances).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Moves the app's clock forward, as if `seconds` had passed.
    pub fn advance(&self, seconds: i64) {
        self.clock.advance(seconds);
    }
}
