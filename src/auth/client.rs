//! Where a request comes from, as the session rows record it.

use rocket::request::{FromRequest, Outcome};
use rocket::Request;

/// The client IP (from the socket unless `ip_header` is set) and the user agent of a request.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientInfo {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(ClientInfo {
            ip: req.client_ip().map(|ip| ip.to_string()),
            user_agent: req
                .headers()
                .get_one("User-Agent")
                .map(|ua| clean_text(&crate::device::truncate_user_agent(ua))),
        })
    }
}

/// Drops control characters (NUL included, which PostgreSQL cannot store) from user text.
pub fn clean_text(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}
