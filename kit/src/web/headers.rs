//! Hardening headers on every response: pages, the API, static files and errors alike.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::response::{self, Responder};
use rocket::shield::Shield;
use rocket::{Build, Orbit, Request, Response, Rocket};

/// Nothing runs but what the server sent: no script at all, styles and images from this origin
/// only, forms that post only here, and no framing (against clickjacking).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The fixed headers of every answer. `Referrer-Policy: same-origin`: same-origin requests keep
/// their referrer and, crucially, a real `Origin` header on POSTs (with `no-referrer` browsers
/// send `Origin: null`, which the CSRF check refuses).
const HEADERS: [(&str, &str); 6] = [
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "interest-cohort=()"),
];

/// Sets the headers, in place of Rocket's `Shield`: it sends `X-Frame-Options: SAMEORIGIN`,
/// and logs two warnings for every error answer that already carries its headers (a catcher's,
/// below), so a client could fill the log for free. At liftoff the log lists what is sent.
pub struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Ignite | Kind::Liftoff | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> rocket::fairing::Result {
        // A Shield without policies replaces the default one and sends nothing.
        Ok(rocket.attach(Shield::new()))
    }

    async fn on_liftoff(&self, _: &Rocket<Orbit>) {
        rocket::info!("Security headers:");
        for (name, value) in HEADERS {
            rocket::info_!("{name}: {value}");
        }
        rocket::info_!("Cache-Control: no-store (static files: {STATIC_CACHE})");
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        harden(req, res);
    }
}

const STATIC_CACHE: &str = "public, max-age=3600";

/// The headers every answer carries.
fn harden(req: &Request<'_>, res: &mut Response<'_>) {
    for (name, value) in HEADERS {
        res.set_raw_header(name, value);
    }
    // Pages show sessions and carry CSRF tokens, API responses carry tokens: none may be
    // kept by a browser or a proxy. Only the stylesheet and icons may be cached.
    let is_static = req.uri().path().starts_with("/static/") && res.status().code < 300;
    let cache = if is_static { STATIC_CACHE } else { "no-store" };
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
