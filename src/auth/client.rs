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

/// Drops control characters (NUL included, which PostgreSQL cannot store) and bidi controls
/// from user text.
pub fn clean_text(text: &str) -> String {
    text.chars()
        .filter(|&c| !c.is_control() && !is_bidi_control(c))
        .collect()
}

/// The Unicode bidi controls: embeddings, overrides, isolates and marks. In a session name or a
/// user agent, U+202E would make a row of the device page read reversed ("Trojan Source").
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_dropped_and_the_rest_kept() {
        let ua = "Mozilla\u{202E}xuniL\u{202C} \u{2066}x\u{2069}\0\u{200F}\t café 東京";
        assert_eq!(clean_text(ua), "MozillaxuniL x café 東京");
        for c in [
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}',
        ] {
            assert!(is_bidi_control(c), "{:?}", c);
        }
        for c in ['a', 'é', '\u{200D}', '\u{2070}', '\u{2029}'] {
            assert!(!is_bidi_control(c), "{:?}", c);
        }
    }
}
