//! Hostile connections against the real server on a loopback port: unfinished or dripped
//! headers, a stalled body and a pile of idle sockets are all shut in bounded time, while a
//! connection in real use is left alone.

mod common;

use common::build;
use common::served::ServedApp;
use rocket::figment::Figment;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn app(header_timeout: u64, request_timeout: u64, max: usize) -> ServedApp {
    ServedApp::launch_with(
        build,
        Figment::new()
            .merge(("connections.header_timeout", header_timeout))
            .merge(("connections.request_timeout", request_timeout))
            .merge(("connections.max", max)),
    )
}

fn connect(app: &ServedApp) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", app.port)).expect("connects");
    stream.set_nodelay(true).expect("nodelay");
    stream
}

/// Whether the server has shut `stream`, waiting at most `wait` for it to.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).expect("read timeout");
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // an answer; the test decides what that means
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true, // reset
        }
    }
}

/// The status line of the next answer on `stream`.
fn status_line(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).expect("an answer");
        assert!(n > 0, "closed before an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&answer);
    text.lines().next().unwrap_or_default().to_string()
}

/// Reads one whole answer to a `GET /api/health` (its body is small and has a length).
fn health(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("sent");
    let line = status_line(stream);
    // The rest of the small body is already here or arrives at once; drain it.
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("read timeout");
    let mut buf = [0u8; 4096];
    while stream.read(&mut buf).is_ok_and(|n| n > 0) {}
    line
}

#[test]
fn headers_never_finished_are_shut() {
    let app = app(1, 30, 0);
    let mut stream = connect(&app);
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n")
        .expect("sent");
    assert!(
        closed_within(&mut stream, Duration::from_secs(5)),
        "a connection without its headers' end stays open"
    );
}

#[test]
fn headers_dripped_a_byte_at_a_time_are_shut_too() {
    let app = app(1, 30, 0);
    let mut stream = connect(&app);
    let mut dripper = stream.try_clone().expect("clone");
    let started = Instant::now();
    let drip = std::thread::spawn(move || {
        // Slowloris: a header byte every 200 ms, so the connection is never silent for long.
        for byte in b"GET /api/health HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if dripper.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    assert!(
        closed_within(&mut stream, Duration::from_secs(6)),
        "dripped headers keep the connection"
    );
    assert!(started.elapsed() < Duration::from_secs(7));
    drip.join().expect("the dripper ends");
}

#[test]
fn a_stalled_body_is_shut_at_the_request_timeout() {
    let app = app(1, 2, 0);
    let mut stream = connect(&app);
    stream
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Content-Length: 200\r\n\r\n{\"username\":",
        )
        .expect("sent");
    assert!(
        closed_within(&mut stream, Duration::from_secs(6)),
        "a request whose body never comes is kept"
    );
}

#[test]
fn a_request_in_hand_outlives_the_header_timeout() {
    let app = app(1, 10, 0);
    let mut stream = connect(&app);
    let body = br#"{"username":"nobody","password":"wrong password"}"#;
    let head = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("sent");
    // Rocket reads the body's first 14 bytes before it hands the request on (to look for a
    // `_method` field): send more than that, so that the request is in hand.
    stream.write_all(&body[..20]).expect("sent");
    // Longer than the header timeout: the request is in hand, only its body is slow.
    std::thread::sleep(Duration::from_millis(2500));
    stream.write_all(&body[20..]).expect("sent");
    assert_eq!(status_line(&mut stream), "HTTP/1.1 401 Unauthorized");
}

#[test]
fn a_connection_in_use_stays_and_an_idle_one_goes() {
    let app = app(1, 30, 0);
    let mut stream = connect(&app);
    // Requests every 300 ms for twice the header timeout, all on one kept-alive connection.
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        assert_eq!(health(&mut stream), "HTTP/1.1 200 OK");
        std::thread::sleep(Duration::from_millis(300));
    }
    // Then silence: kept alive without a request, it is shut like unfinished headers.
    assert!(closed_within(&mut stream, Duration::from_secs(5)));
}

#[test]
fn past_the_limit_idle_connections_are_shed_and_new_ones_served() {
    let app = app(30, 30, 3);
    let mut idle: Vec<TcpStream> = (0..10).map(|_| connect(&app)).collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut open = idle.len();
    while open > 3 && Instant::now() < deadline {
        open = idle
            .iter_mut()
            .filter_map(|s| (!closed_within(s, Duration::from_millis(20))).then_some(()))
            .count();
    }
    assert!(
        open <= 3,
        "{open} idle connections still open past a limit of 3"
    );
    let mut fresh = connect(&app);
    assert_eq!(health(&mut fresh), "HTTP/1.1 200 OK");
}
