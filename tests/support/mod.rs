//! The app's binary, driven as a user would: on its own database, as a command or serving on
//! a free port, with plain HTTP/1.1 requests to it. Shared by tests/cli.rs and tests/serve.rs.
#![allow(dead_code)]

use session_kit::testing::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary, found by the package's name (as Cargo names it), whatever the app is called.
pub const BIN: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// The binary on a fresh database (SQLite, or PostgreSQL with TEST_DATABASE_URL).
pub struct Cli {
    _db: TestDb,
    pub url: String,
}

impl Cli {
    pub async fn new() -> Cli {
        let (db, url) = TestDb::new().await;
        Cli { _db: db, url }
    }

    pub fn command(&self, args: &[&str]) -> Command {
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
    pub fn create_alice(&self) {
        let out = self.run(&["create-user", "alice"], "a long password\n");
        assert!(out.status.success(), "{}", stderr(&out));
    }

    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
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

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.1 exchange; returns the status code and the body.
pub fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
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
    pub fn serve(&self, log_level: &str) -> (std::process::Child, u16) {
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
pub fn login_alice(port: u16) -> String {
    let login = r#"{"username":"alice","password":"a long password"}"#;
    let (status, body) = http(port, "POST", "/api/auth/login", None, login);
    assert_eq!(status, 200, "{body}");
    let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
    reply["token"].as_str().unwrap().to_string()
}

/// Ends the server with SIGTERM and returns its exit status and everything it printed.
pub fn stop(mut server: std::process::Child) -> (std::process::ExitStatus, String) {
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
