//! A response, read whole, and the checks every test makes of one.

use rocket::http::Status;
use rocket::local::asynchronous::LocalResponse;
use serde_json::Value;

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
