//! Where the launched app listens, and plain HTTP/1.0 requests to it, as a script sends them.

use serde_json::{json, Value};
use session_kit::testing::PASSWORD;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Where the launched app listens, for the browser and for plain HTTP requests.
#[derive(Clone, Copy)]
pub struct Api {
    pub port: u16,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A plain HTTP/1.0 request (as a script would send), returning status and body.
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut request = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n",
            self.port
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() {
            request.push_str("Content-Type: application/json\r\n");
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("receive");
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// Signs in through the JSON API as another device; returns the token.
    pub fn api_login(&self, user: &str, user_agent: &str, name: &str) -> String {
        let body = json!({"username": user, "password": PASSWORD, "name": name});
        let (status, text) = self.http(
            "POST",
            "/api/auth/login",
            &[("User-Agent", user_agent)],
            Some(&body),
        );
        assert_eq!(status, 200, "{text}");
        let json: Value = serde_json::from_str(&text).expect("JSON");
        json["token"].as_str().expect("a token").to_string()
    }

    pub fn me_status(&self, token: &str) -> u16 {
        self.http(
            "GET",
            "/api/me",
            &[("Authorization", &format!("Bearer {token}"))],
            None,
        )
        .0
    }
}
