//! Hardening headers on every response: pages, the API, static files and errors alike.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::response::{self, Responder};
use rocket::{Request, Response};

/// Nothing runs but what the server sent: no script at all, styles and images from this origin
/// only, forms that post only here, and no framing (against clickjacking).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Sets the headers; replaces Rocket's `Shield` defaults where they differ (it sends
/// `X-Frame-Options: SAMEORIGIN`).
pub struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        harden(req, res);
    }
}

/// The headers every answer carries.
fn harden(req: &Request<'_>, res: &mut Response<'_>) {
    res.set_raw_header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    res.set_raw_header("X-Frame-Options", "DENY");
    res.set_raw_header("X-Content-Type-Options", "nosniff");
    // Same-origin requests keep their referrer and, crucially, a real `Origin` header on
    // POSTs (with `no-referrer` browsers send `Origin: null`, which the CSRF check refuses).
    res.set_raw_header("Referrer-Policy", "same-origin");
    res.set_raw_header("Cross-Origin-Opener-Policy", "same-origin");
    // Pages show sessions and carry CSRF tokens, API responses carry tokens: none may be
    // kept by a browser or a proxy. Only the stylesheet and icons may be cached.
    let is_static = req.uri().path().starts_with("/static/") && res.status().code < 300;
    let cache = if is_static {
        "public, max-age=3600"
    } else {
        "no-store"
    };
    res.set_header(Header::new("Cache-Control", cache));
}

/// A catcher's answer with the same headers: a request Rocket cannot parse as one (an unknown
/// method, say) goes straight to a catcher, and no response fairing runs for it.
pub struct Hardened<R>(pub R);

impl<'r, 'o: 'r, R: Responder<'r, 'o>> Responder<'r, 'o> for Hardened<R> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'o> {
        let mut res = self.0.respond_to(req)?;
        harden(req, &mut res);
        Ok(res)
    }
}
