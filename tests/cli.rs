//! The command line, driven as a user would: the real binary, on its own database.

use session_kit::testing::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary, found by the package's name (as Cargo names it), whatever the app is called.
const BIN: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// The binary on a fresh database (SQLite, or PostgreSQL with TEST_DATABASE_URL).
struct Cli {
    _db: TestDb,
    url: String,
}

impl Cli {
    async fn new() -> Cli {
        let (db, url) = TestDb::new().await;
        Cli { _db: db, url }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env(
                "ROCKET_DATABASES",
                format!("{{db={{url=\"{}\"}}}}", self.url),
            )
            .env("ROCKET_AUTH", "{bcrypt_cost=4, touch_interval=1}")
            .env("ROCKET_LOG_LEVEL", "off");
        cmd
    }

    /// `create-user alice` with the password "a long password", which must succeed.
    fn create_alice(&self) {
        let out = self.run(&["create-user", "alice"], "a long password\n");
        assert!(out.status.success(), "{}", stderr(&out));
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[rocket::async_test]
async fn create_user_reads_the_password_from_stdin_and_checks_it() {
    let cli = Cli::new().await;
    let out = cli.run(&["create-user", "alice"], "a long password\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("created user alice"));

    let taken = cli.run(&["create-user", "ALICE"], "a long password\n");
    assert_eq!(taken.status.code(), Some(1));
    assert!(stderr(&taken).contains("taken"), "{}", stderr(&taken));

    let short = cli.run(&["create-user", "bob"], "short\n");
    assert_eq!(short.status.code(), Some(1));
    assert!(stderr(&short).contains("at least 8"), "{}", stderr(&short));

    let bad_name = cli.run(&["create-user", "b<b>"], "a long password\n");
    assert_eq!(bad_name.status.code(), Some(1));

    let empty = cli.run(&["create-user", "carol"], "");
    assert_eq!(empty.status.code(), Some(1));
}

#[rocket::async_test]
async fn list_revoke_and_prune_sessions() {
    let cli = Cli::new().await;
    cli.create_alice();
    // Sessions made through the app on the same database.
    let app = TestApp::on_url(multitoken::build, &cli.url).await;
    let keep = app.login("alice", "a long password").await;
    let gone = app.login("alice", "a long password").await;
    let gone_id = app.other_session_id(&keep).await;

    let list = cli.run(&["list-sessions", "Alice"], "");
    assert!(list.status.success(), "{}", stderr(&list));
    let table = stdout(&list);
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains(&gone_id), "{table}");
    assert_eq!(table.lines().count(), 3, "{table}");

    let revoke = cli.run(&["revoke", &gone_id], "");
    assert!(
        revoke.status.success(),
        "{:?}: {}{}",
        revoke.status,
        stdout(&revoke),
        stderr(&revoke)
    );
    assert_eq!(app.session_count().await, 1);
    // Kept in the history as ended by an administrator.
    let ended = app
        .get("/api/sessions?state=ended", Some(&keep))
        .await
        .json();
    assert_eq!(ended[0]["id"], gone_id.as_str(), "{ended}");
    assert_eq!(ended[0]["end_reason"], "admin", "{ended}");
    let again = cli.run(&["revoke", &gone_id], "");
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("no session"));
    drop(gone);

    let prune = cli.run(&["prune"], "");
    assert!(prune.status.success());
    assert!(stdout(&prune).contains("pruned 0 expired sessions"));

    let unknown = cli.run(&["list-sessions", "nobody"], "");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("no user named 'nobody'"));
}

#[rocket::async_test]
async fn prune_deletes_expired_sessions() {
    let cli = Cli::new().await;
    cli.create_alice();
    let app = TestApp::on_url(multitoken::build, &cli.url).await;
    app.login("alice", "a long password").await;
    app.login("alice", "a long password").await;
    // Expire them in the database itself, a minute ago.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(now - 60)
        .execute(&**app.auth().db())
        .await
        .unwrap();
    let prune = cli.run(&["prune"], "");
    assert!(prune.status.success());
    assert!(
        stdout(&prune).contains("pruned 2 expired sessions"),
        "{}",
        stdout(&prune)
    );
    assert_eq!(app.session_count().await, 0);
    // They are kept as expired; prune deletes history past history_retention.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM session_history WHERE end_reason = 'expired'")
            .await,
        2
    );
    sqlx::query("UPDATE session_history SET ended_at = 1")
        .execute(&**app.auth().db())
        .await
        .unwrap();
    assert!(cli.run(&["prune"], "").status.success());
    assert_eq!(app.count("SELECT COUNT(*) FROM session_history").await, 0);
}

#[test]
fn bad_usage_exits_2_and_help_exits_0() {
    for args in [
        vec!["frobnicate"],
        vec!["create-user"],
        vec!["revoke", "a", "b"],
        vec!["prune", "extra"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains("Usage:"), "{args:?}");
    }
    for args in [
        vec!["--help"],
        vec!["help"],
        vec!["create-user", "--help"],
        vec!["list-sessions", "-h"],
        vec!["revoke", "--help"],
        vec!["prune", "--help"],
        vec!["serve", "--help"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(stdout(&out).contains("Usage: multitoken"), "{args:?}");
    }
}

#[rocket::async_test]
async fn everything_after_a_double_dash_is_an_operand() {
    let cli = Cli::new().await;
    // "--help" is a valid username: after `--`, it is one.
    let created = cli.run(&["create-user", "--", "--help"], "a long password\n");
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(stdout(&created).contains("created user --help"));
    let list = cli.run(&["list-sessions", "--", "--help"], "");
    assert!(list.status.success(), "{}", stderr(&list));
    assert_eq!(stdout(&list).trim(), "--help has no live sessions");
    let unknown = cli.run(&["list-sessions", "--", "-h"], "");
    assert_eq!(unknown.status.code(), Some(1), "{}", stdout(&unknown));
    assert!(stderr(&unknown).contains("no user named '-h'"));
}

#[test]
fn an_unknown_option_is_named_as_such() {
    for args in [
        vec!["list-sessions", "-rf"],
        vec!["list-sessions", "alice", "-rf"],
        vec!["create-user", "-rf"],
        vec!["prune", "-rf"],
        vec!["-rf"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("unknown option '-rf'"), "{args:?}: {err}");
        assert!(!err.contains("exactly one"), "{args:?}: {err}");
        assert!(err.contains("Usage: multitoken"), "{args:?}: {err}");
    }
}

#[test]
fn help_says_a_revoke_is_honoured_within_a_second() {
    let out = Command::new(BIN).args(["help", "revoke"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("within a second"), "{text}");
    assert!(!text.contains("30 s"), "{text}");
}

#[rocket::async_test]
async fn revoke_takes_a_session_id_that_begins_with_a_dash() {
    let cli = Cli::new().await;
    let id = format!("-{}", "A".repeat(21));
    for args in [vec!["revoke", &id], vec!["revoke", "--", &id]] {
        let out = cli.run(&args, "");
        // Parsed as an id (and not found), not refused as an unknown option.
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("no session with id"),
            "{}",
            stderr(&out)
        );
    }
    let out = cli.run(&["revoke", "-x"], "");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Logs in through `app` until it has `n` sessions whose public ids begin with `-` (about one in
/// 64 does); returns their ids.
async fn ids_that_begin_with_a_dash(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..5000 {
        let reply = app.try_login("alice", "a long password").await;
        assert_eq!(reply.status.code, 200, "{}", reply.text);
        let id = reply.json()["session"]["id"].as_str().unwrap().to_string();
        if id.starts_with('-') {
            ids.push(id);
            if ids.len() == n {
                return ids;
            }
        }
    }
    panic!("no id that begins with '-' in 5000 logins");
}

#[rocket::async_test]
async fn revoke_takes_real_ids_that_begin_with_a_dash_with_and_without_a_double_dash() {
    let cli = Cli::new().await;
    cli.create_alice();
    let app = TestApp::on_url(multitoken::build, &cli.url).await;
    let ids = ids_that_begin_with_a_dash(&app, 2).await;
    for (args, id) in [(vec!["revoke"], &ids[0]), (vec!["revoke", "--"], &ids[1])] {
        let args: Vec<&str> = args.into_iter().chain([id.as_str()]).collect();
        let out = cli.run(&args, "");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let sql = format!("SELECT COUNT(*) FROM sessions WHERE id = '{id}'");
        assert_eq!(app.count(&sql).await, 0, "{id} still exists");
    }
}

#[rocket::async_test]
async fn a_revoke_from_the_command_line_is_refused_by_a_running_server_within_a_second() {
    let cli = Cli::new().await;
    cli.create_alice();
    let (server, port) = cli.serve("off");
    let token = login_alice(port);
    // Served from the server's cache from now on.
    for _ in 0..3 {
        assert_eq!(http(port, "GET", "/api/me", Some(&token), "").0, 200);
    }
    let (_, list) = http(port, "GET", "/api/sessions", Some(&token), "");
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let id = list[0]["id"].as_str().unwrap().to_string();
    let out = cli.run(&["revoke", "--", &id], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let revoked = Instant::now();
    loop {
        let (status, body) = http(port, "GET", "/api/me", Some(&token), "");
        if status == 401 {
            break;
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            revoked.elapsed() < Duration::from_secs(1),
            "the server still accepts a token revoked by the command line 1 s ago"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    stop(server);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.1 exchange; returns the status code and the body.
fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

impl Cli {
    /// `serve` on a free port, with its log at `log_level` on a piped stdout; returns once it
    /// accepts connections.
    fn serve(&self, log_level: &str) -> (std::process::Child, u16) {
        let port = free_port();
        let server = self
            .command(&["serve"])
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_LOG_LEVEL", log_level)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        (server, port)
    }
}

/// Logs in as alice (see `create_alice`) and returns the token.
fn login_alice(port: u16) -> String {
    let login = r#"{"username":"alice","password":"a long password"}"#;
    let (status, body) = http(port, "POST", "/api/auth/login", None, login);
    assert_eq!(status, 200, "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
    reply["token"].as_str().unwrap().to_string()
}

/// Ends the server with SIGTERM and returns its exit status and everything it printed.
fn stop(mut server: std::process::Child) -> (std::process::ExitStatus, String) {
    let pid = server.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "server did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut printed = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    (status, printed)
}

#[rocket::async_test]
async fn a_server_fault_is_answered_with_an_id_that_its_log_line_carries() {
    let cli = Cli::new().await;
    cli.create_alice();
    let (server, port) = cli.serve("critical");
    let token = login_alice(port);
    // A bug to provoke: the login handler's throttle table is gone.
    let app = TestApp::on_url(multitoken::build, &cli.url).await;
    sqlx::query("DROP TABLE login_failures")
        .execute(&**app.auth().db())
        .await
        .unwrap();
    let login = r#"{"username":"alice","password":"a long password"}"#;
    let (status, body) = http(port, "POST", "/api/auth/login", None, login);
    assert_eq!(status, 500, "{body}");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["code"], "internal_error");
    let id = problem["error_id"]
        .as_str()
        .expect("an error id")
        .to_string();
    for internal in ["login_failures", "SELECT", "table", "relation", "sqlx"] {
        assert!(!body.contains(internal), "{internal} in {body}");
    }
    let (_, log) = stop(server);
    let line = log
        .lines()
        .find(|line| line.contains(&id))
        .unwrap_or_else(|| panic!("no log line carries {id}:\n{log}"));
    assert!(
        line.contains("login_failures"),
        "the log says what failed: {line}"
    );
    assert!(!log.contains(&token), "no token in the log");
}

#[rocket::async_test]
async fn serve_shuts_down_gracefully_and_keeps_last_use() {
    let cli = Cli::new().await;
    cli.create_alice();
    let (server, port) = cli.serve("off");
    let token = login_alice(port);
    // A use after touch_interval (1 s) leaves a last-used write pending.
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(http(port, "GET", "/api/me", Some(&token), "").0, 200);
    let used_at = session_kit::clock::Clock::system().now();

    let (status, audit) = stop(server);
    assert!(status.success(), "{status:?}");

    let app = TestApp::on_url(multitoken::build, &cli.url).await;
    let (last_used,): (i64,) = sqlx::query_as("SELECT MAX(last_used_at) FROM sessions")
        .fetch_one(&**app.auth().db())
        .await
        .unwrap();
    assert!(
        last_used >= used_at - 1,
        "last use {last_used} was lost (used at {used_at})"
    );
    assert!(
        audit.contains("audit: {\"event\":\"login_succeeded\""),
        "{audit}"
    );
    assert!(!audit.contains(&token));
}
