//! The log, read line by line after a hostile session against the real binary: no token ever
//! (in a query string, on a matched route or not, or a malformed request's), and at most one line
//! per request at the `normal` level, none at `critical` (the release default).

use session_kit::testing::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const BIN: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// The requests of a client that tries to write into the log: tokens in query strings, unknown
/// routes and methods, a request Rocket cannot parse. Each is one request on its own connection.
fn hostile_requests(token: &str) -> Vec<String> {
    [
        "GET /api/nope HTTP/1.1".to_string(),
        format!("GET /api/sessions/x/y?access_token={token} HTTP/1.1"),
        format!("PATCH /api/me?access_token={token} HTTP/1.1"),
        format!("GET /api/me?access_token={token} HTTP/1.1"),
        format!("GET /api/sessions?state=ended&t={token} HTTP/1.1"),
        format!("GET /nope?{token} HTTP/1.1"),
        format!("GET /login?next=/{token} HTTP/1.1"),
        format!("FOO /api/me?access_token={token} HTTP/1.1"),
        format!("DELETE /api/sessions/{token} HTTP/1.1"),
    ]
    .into()
}

#[rocket::async_test]
async fn a_hostile_session_leaves_no_token_and_one_line_per_request() {
    let app = Served::start("normal").await;
    let token = app.sign_up_and_log_in();
    let requests = hostile_requests(&token);
    for line in &requests {
        app.send(line);
    }
    let log = app.stop();
    assert!(!log.contains(&token), "a token reached the log:\n{log}");
    assert!(
        !log.contains(&token[3..20]),
        "part of a token reached the log:\n{log}"
    );
    let after_launch = lines_after_launch(&log);
    let request_lines: Vec<&str> = after_launch
        .iter()
        .copied()
        .filter(|l| !l.starts_with("audit: "))
        .collect();
    // Sign-up and sign-in, then the hostile ones: one line each, none more.
    assert!(
        request_lines.len() <= requests.len() + 2,
        "{} lines for {} requests:\n{}",
        request_lines.len(),
        requests.len() + 2,
        request_lines.join("\n")
    );
    assert!(
        request_lines.contains(&"GET /api/sessions/x/y?access_token=… 404"),
        "{log}"
    );
    assert!(!log.contains("Refusing to overwrite"), "{log}");
}

#[rocket::async_test]
async fn error_answers_write_nothing_at_the_default_release_level() {
    let app = Served::start("critical").await;
    let token = app.sign_up_and_log_in();
    for line in &hostile_requests(&token) {
        app.send(line);
    }
    let log = app.stop();
    let written: Vec<&str> = lines_after_launch(&log)
        .into_iter()
        .filter(|l| !l.starts_with("audit: "))
        .collect();
    assert!(written.is_empty(), "{}", written.join("\n"));
}

/// What the app wrote after it launched and before it was asked to stop, each line without the
/// time it took (the figure in parentheses).
fn lines_after_launch(log: &str) -> Vec<&str> {
    log.lines()
        .skip_while(|l| !l.contains("has launched"))
        .skip(1)
        .take_while(|l| !l.contains("Received SIG"))
        .map(|l| l.split(" (").next().unwrap_or(l))
        .collect()
}

/// The binary, serving on a fresh database with its log on two pipes, each read to its end by a
/// thread of its own from the start: a launch banner longer than a pipe's buffer (Rocket lists
/// every route at `normal`) would otherwise stop the binary before it listens.
struct Served {
    _db: TestDb,
    child: Child,
    port: u16,
    output: Vec<JoinHandle<String>>,
}

/// A thread that reads `pipe` to its end and returns what it read.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

impl Served {
    async fn start(log_level: &str) -> Served {
        let (db, url) = TestDb::new().await;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(BIN)
            .arg("serve")
            .env("ROCKET_DATABASES", format!("{{db={{url=\"{url}\"}}}}"))
            .env("ROCKET_AUTH", "{bcrypt_cost=4}")
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_LOG_LEVEL", log_level)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let output = vec![
            drain(child.stdout.take().expect("stdout is piped")),
            drain(child.stderr.take().expect("stderr is piped")),
        ];
        let served = Served {
            _db: db,
            child,
            port,
            output,
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(30), "no server");
            std::thread::sleep(Duration::from_millis(20));
        }
        served
    }

    /// One request (`request_line`, then headers and `body`); the answer's text.
    fn exchange(&self, request_line: &str, body: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "{request_line}\r\nHost: localhost\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    }

    fn send(&self, request_line: &str) {
        let answer = self.exchange(request_line, "");
        assert!(answer.starts_with("HTTP/1.1 "), "{request_line}: {answer}");
    }

    fn sign_up_and_log_in(&self) -> String {
        let body = r#"{"username":"alice","password":"a long password"}"#;
        self.exchange("POST /api/users HTTP/1.1", body);
        let answer = self.exchange("POST /api/auth/login HTTP/1.1", body);
        let json = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        let json: serde_json::Value = serde_json::from_str(json).expect(&answer);
        json["token"].as_str().expect("a token").to_string()
    }

    /// Stops the server (SIGTERM) and returns all it printed.
    fn stop(mut self) -> String {
        let pid = self.child.id() as i32;
        unsafe { libc::kill(pid, libc::SIGTERM) };
        self.child.wait().unwrap();
        std::mem::take(&mut self.output)
            .into_iter()
            .map(|reader| reader.join().expect("the reader thread ends"))
            .collect()
    }
}

/// A test that fails half-way still ends the binary it started.
impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
