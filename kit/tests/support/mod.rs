//! What the mail tests share: a real SMTP server (`smtp_sink.py`, on aiosmtpd) that stores what
//! it accepts, and a reader of `.eml` files.
#![allow(dead_code)]

pub mod inbox;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Messages in the app's outbox, due or not.
pub async fn outbox_len(app: &session_kit::testing::TestApp) -> i64 {
    let mut conn = app.auth().db().acquire().await.expect("a connection");
    session_kit::store::outbox::len(&mut conn, app.clock().now())
        .await
        .expect("the outbox is readable")
}

/// A free port on the loopback (nothing listens on it until a sink starts there), never one
/// already handed to another test of this process: the OS may offer a port again once it is
/// released, and two sinks of parallel tests would then share it.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// The SMTP server process; killed when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    pub folder: PathBuf,
}

impl SmtpSink {
    /// Starts the sink on `port`, storing into `folder`, with extra arguments (`--reply 451`);
    /// returns once it accepts connections.
    pub fn start(port: u16, folder: &Path, args: &[&str]) -> SmtpSink {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(folder)
            .args(args)
            .stdout(Stdio::null())
            .spawn()
            .expect("python3 runs (and aiosmtpd is installed: python3 -m pip install aiosmtpd)");
        let mut sink = SmtpSink {
            child,
            port,
            folder: folder.to_path_buf(),
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = sink.child.try_wait() {
                panic!("the SMTP sink exited ({status}); is aiosmtpd installed?");
            }
            assert!(start.elapsed() < Duration::from_secs(20), "no SMTP sink");
            std::thread::sleep(Duration::from_millis(20));
        }
        sink
    }

    /// The messages stored so far, in order of arrival.
    pub fn received(&self) -> Vec<Eml> {
        eml_files(&self.folder)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `.eml` files of a folder, by name.
pub fn eml_files(folder: &Path) -> Vec<Eml> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| Eml::parse(&std::fs::read(p).expect("readable")))
        .collect()
}

/// A message as its reader sees it: its top headers, and each part's type and decoded text.
#[derive(Debug)]
pub struct Eml {
    pub raw: String,
    headers: Vec<(String, String)>,
    pub parts: Vec<(String, String)>,
}

impl Eml {
    pub fn parse(bytes: &[u8]) -> Eml {
        let raw = String::from_utf8(bytes.to_vec()).expect("a message is ASCII");
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .expect("headers, a blank line, a body");
        let headers = unfold(head);
        let content_type = header_in(&headers, "Content-Type").expect("a Content-Type");
        assert!(
            content_type.starts_with("multipart/alternative"),
            "{content_type}"
        );
        let boundary = content_type
            .split("boundary=")
            .nth(1)
            .expect("a boundary")
            .trim_matches('"')
            .to_string();
        let parts = body
            .split(&format!("--{boundary}"))
            .filter_map(|part| part.split_once("\r\n\r\n"))
            .map(|(head, text)| {
                let headers = unfold(head.trim_start());
                let kind = header_in(&headers, "Content-Type").unwrap_or_default();
                let encoding = header_in(&headers, "Content-Transfer-Encoding").unwrap_or_default();
                (kind, decode(&encoding, text))
            })
            .collect();
        Eml {
            raw,
            headers,
            parts,
        }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        header_in(&self.headers, name)
    }

    /// The decoded text of the part whose type starts with `kind` (`text/plain`, `text/html`).
    pub fn part(&self, kind: &str) -> &str {
        self.parts
            .iter()
            .find(|(t, _)| t.starts_with(kind))
            .map(|(_, text)| text.as_str())
            .unwrap_or_else(|| panic!("no {kind} part in {}", self.raw))
    }
}

fn unfold(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push_str(line.trim_start());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.to_string(), value.trim().to_string()));
        }
    }
    headers
}

fn header_in(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// A part's text: 7bit as it is, quoted-printable decoded (base64 is not expected here).
fn decode(encoding: &str, text: &str) -> String {
    if !encoding.eq_ignore_ascii_case("quoted-printable") {
        return text.replace("\r\n", "\n");
    }
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}
