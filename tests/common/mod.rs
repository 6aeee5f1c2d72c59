//! Test harness: every test gets its own app on its own fresh database, so tests run in parallel.
//!
//! SQLite by default (a file in a temporary folder). With `TEST_DATABASE_URL` set to a PostgreSQL
//! server URL (e.g. `postgres://postgres@127.0.0.1:5432/test`), each test creates a database with a
//! random name on that server instead, and drops it afterwards, even when the test fails.
#![allow(dead_code, unused_imports)]

use multitoken::auth::Auth;
use multitoken::clock::Clock;
use multitoken::events::EventBus;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use std::net::SocketAddr;

/// Strings with hidden characters, for the text rules' tests.
pub mod hidden;
/// Public ids that are not well formed: too short, padded, one character too long.
pub const MALFORMED_IDS: [&str; 3] = [
    "nope",
    "AAAAAAAAAAAAAAAAAAAAA%3D",
    "AAAAAAAAAAAAAAAAAAAAAAA",
];

/// The OpenAPI document's operations, for tests/openapi*.rs.
pub mod openapi;
/// Values checked against the document's schemas.
pub mod schemas;
/// The app on a real socket.
pub mod served;
/// A browser on the tracked client, for the page tests.
pub mod web;

pub use multitoken::token::DEFAULT_PREFIX;
pub use multitoken::web::{CSRF_COOKIE, SESSION_COOKIE};
pub use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery";

/// A database that exists for one test.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another instance's database, dropped by its owner.
    Shared {
        postgres: bool,
    },
}

impl TestDb {
    pub async fn new() -> (TestDb, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("mt_test_{}", hex(&multitoken::token::random_bytes::<8>()));
                let mut conn = pg_admin(&admin_url).await;
                sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create the test database");
                let url = replace_db_name(&admin_url, &name);
                (TestDb::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/test.sqlite3", dir.path().display());
                (TestDb::Sqlite(dir), url)
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(
            self,
            TestDb::Postgres { .. } | TestDb::Shared { postgres: true }
        )
    }
}

async fn pg_admin(url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .expect("TEST_DATABASE_URL must point at a reachable PostgreSQL server")
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..cut])
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime; a thread with its own runtime can block.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    let mut conn = pg_admin(&admin_url).await;
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::Executor::execute(&mut conn, sql.as_str()).await;
                });
            })
            .join();
        }
    }
}

/// A manual clock at the real time.
fn real_now() -> Clock {
    Clock::manual(Clock::system().now())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One app on its own database, driven through Rocket's local client, on a manual clock that
/// starts at the real time and moves only when a test advances it.
pub struct TestApp {
    pub client: Client,
    pub db: TestDb,
    url: String,
    auth_overrides: Value,
    /// Settings outside `[auth]`, by dotted key (see [`TestApp::with_config`]).
    other_overrides: Value,
    clock: Clock,
}

/// A response, read whole.
pub struct Reply {
    pub status: Status,
    pub content_type: Option<String>,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts an RFC 9457 problem response with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.code, status, "body: {}", self.text);
        assert_eq!(
            self.content_type.as_deref(),
            Some("application/problem+json")
        );
        let body = self.json();
        assert_eq!(body["status"], status, "body: {}", self.text);
        assert_eq!(body["code"], code, "body: {}", self.text);
        assert!(body["title"].is_string());
    }
}

pub async fn read(response: LocalResponse<'_>) -> Reply {
    let status = response.status();
    let content_type = response.content_type().map(|ct| ct.to_string());
    let headers = response
        .headers()
        .iter()
        .map(|h| (h.name().to_string(), h.value().to_string()))
        .collect();
    let text = response.into_string().await.unwrap_or_default();
    Reply {
        status,
        content_type,
        headers,
        text,
    }
}

impl TestApp {
    /// An app with the test defaults (bcrypt cost 4).
    pub async fn new() -> TestApp {
        TestApp::with(json!({})).await
    }

    /// An app whose `[auth]` table is overridden by `auth` (e.g. `json!({"max_sessions": 2})`).
    pub async fn with(auth: Value) -> TestApp {
        let (db, url) = TestDb::new().await;
        TestApp::on(db, url, auth, real_now()).await
    }

    /// An app whose `[auth]` table is overridden by `auth`, and other settings by `other`, a map
    /// of dotted keys (e.g. `json!({"metrics.enabled": true})`).
    pub async fn with_config(auth: Value, other: Value) -> TestApp {
        let (db, url) = TestDb::new().await;
        let mut app = TestApp::configured(db, url, auth, other.clone(), real_now()).await;
        app.other_overrides = other;
        app
    }

    /// An app on an existing database (owned by someone else, e.g. a CLI test).
    pub async fn on_url(url: &str) -> TestApp {
        let db = TestDb::Shared {
            postgres: url.starts_with("postgres"),
        };
        TestApp::on(db, url.to_string(), json!({}), real_now()).await
    }

    /// A second instance of the app on this one's database (as behind a load balancer).
    pub async fn another_instance(&self) -> TestApp {
        let db = TestDb::Shared {
            postgres: self.db.is_postgres(),
        };
        let mut app = TestApp::configured(
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

    async fn on(db: TestDb, url: String, auth: Value, clock: Clock) -> TestApp {
        TestApp::configured(db, url, auth, json!({}), clock).await
    }

    async fn configured(
        db: TestDb,
        url: String,
        auth: Value,
        other: Value,
        clock: Clock,
    ) -> TestApp {
        let mut figment = rocket::Config::figment()
            .merge(("databases.db.url", url.clone()))
            .merge(("log_level", "off"))
            .merge(("auth.bcrypt_cost", 4));
        for (key, value) in auth.as_object().expect("an object").clone() {
            figment = figment.merge((format!("auth.{key}"), value));
        }
        for (key, value) in other.as_object().expect("an object").clone() {
            figment = figment.merge((key, value));
        }
        let client = Client::tracked(multitoken::build(figment).manage(clock.clone()))
            .await
            .expect("the app ignites");
        let app = TestApp {
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

    /// The app's clock (shared with its other instances).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Moves the app's clock forward, as if `seconds` had passed.
    pub fn advance(&self, seconds: i64) {
        self.clock.advance(seconds);
    }

    /// Checks that `method` on `path` (`{id}` standing for the id) answers a malformed id with
    /// 404 `not_found` for `token`'s session, and 401 without a session: the session is checked
    /// first, the id next, the body (if any) never. Returns the answers, for more checks.
    pub async fn malformed_ids_answered(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Vec<Reply> {
        let mut answers = Vec::new();
        for junk in MALFORMED_IDS {
            let path = path.replace("{id}", junk);
            let reply = self.call(method, &path, Some(token), body.clone()).await;
            reply.assert_problem(404, "not_found");
            answers.push(reply);
            let reply = self.call(method, &path, None, body.clone()).await;
            reply.assert_problem(401, "not_authenticated");
            answers.push(reply);
        }
        answers
    }

    /// A request with optional token and JSON body, from 127.0.0.1 unless `from` says otherwise.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.call_from(method, path, token, body, "127.0.0.1:5000")
            .await
    }

    pub async fn call_from(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        from: &str,
    ) -> Reply {
        let mut req = match method {
            "GET" => self.client.get(path),
            "POST" => self.client.post(path),
            "DELETE" => self.client.delete(path),
            "PUT" => self.client.put(path),
            other => panic!("method {other}"),
        };
        req = req.remote(from.parse::<SocketAddr>().expect("address"));
        if let Some(token) = token {
            req = req.header(Header::new("Authorization", format!("Bearer {token}")));
        }
        if let Some(body) = body {
            req = req.header(ContentType::JSON).body(body.to_string());
        }
        read(req.dispatch().await).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call("POST", path, token, Some(body)).await
    }

    pub async fn signup(&self, username: &str, password: &str) -> Reply {
        self.post(
            "/api/users",
            None,
            json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn try_login(&self, username: &str, password: &str) -> Reply {
        self.post(
            "/api/auth/login",
            None,
            json!({"username": username, "password": password}),
        )
        .await
    }

    /// Signs up `username` with [`PASSWORD`] (ignoring "taken") and returns a new token.
    pub async fn user_token(&self, username: &str) -> String {
        let reply = self.signup(username, PASSWORD).await;
        assert!(matches!(reply.status.code, 201 | 409), "{}", reply.text);
        self.login(username, PASSWORD).await
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let reply = self.try_login(username, password).await;
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
        reply.json()["token"].as_str().expect("token").to_string()
    }

    /// The public id of one of the token's user's sessions other than the token's own.
    pub async fn other_session_id(&self, token: &str) -> String {
        let list = self.get("/api/sessions", Some(token)).await.json();
        let other = list
            .as_array()
            .expect("a list")
            .iter()
            .find(|s| s["current"] == false)
            .expect("another session");
        other["id"].as_str().expect("an id").to_string()
    }

    /// `POST /api/auth/login` with `body`, from a client at `from` (e.g. `"10.1.2.3:4000"`) that
    /// sends `user_agent`. Returns the reply, whatever it is.
    pub async fn login_with(&self, body: Value, user_agent: &str, from: &str) -> Reply {
        let req = self
            .client
            .post("/api/auth/login")
            .header(ContentType::JSON)
            .header(Header::new("User-Agent", user_agent.to_string()))
            .remote(from.parse::<SocketAddr>().expect("address"))
            .body(body.to_string());
        read(req.dispatch().await).await
    }

    /// The ids that `GET /api/sessions` lists for `token`'s user, in the order listed.
    pub async fn listed_ids(&self, token: &str) -> Vec<String> {
        let reply = self.get("/api/sessions", Some(token)).await;
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
        reply
            .json()
            .as_array()
            .expect("a list")
            .iter()
            .map(|s| s["id"].as_str().expect("an id").to_string())
            .collect()
    }

    /// `DELETE /api/sessions/{id}` with `token`.
    pub async fn revoke(&self, token: &str, id: &str) -> Reply {
        let path = format!("/api/sessions/{id}");
        self.call("DELETE", &path, Some(token), None).await
    }

    /// `POST /api/tokens` with `token` (a sign-in, in sudo mode since it is fresh): a personal
    /// token with these scopes. Returns the reply, whatever it is.
    pub async fn try_personal_token(&self, token: &str, name: &str, scopes: &[&str]) -> Reply {
        let body = json!({"name": name, "scopes": scopes});
        self.post("/api/tokens", Some(token), body).await
    }

    /// `POST /api/tokens/{id}/regenerate` with `token`. Returns the reply, whatever it is.
    pub async fn regenerate(&self, token: &str, id: &str) -> Reply {
        let path = format!("/api/tokens/{id}/regenerate");
        self.call("POST", &path, Some(token), None).await
    }

    /// As [`TestApp::try_personal_token`], asserting 201: the new token's text and its entry.
    pub async fn personal_token(
        &self,
        token: &str,
        name: &str,
        scopes: &[&str],
    ) -> (String, Value) {
        let reply = self.try_personal_token(token, name, scopes).await;
        assert_eq!(reply.status, Status::Created, "{}", reply.text);
        let body = reply.json();
        let text = body["token"].as_str().expect("token").to_string();
        (text, body["session"].clone())
    }

    /// Runs a counting query on the app's own database (once the activity entries written
    /// after their answers are in).
    pub async fn count(&self, sql: &str) -> i64 {
        self.auth().entries_written().await;
        let (n,): (i64,) = sqlx::query_as(sql)
            .fetch_one(&**self.auth().db())
            .await
            .expect("count query");
        n
    }

    pub async fn session_count(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM sessions").await
    }
}
