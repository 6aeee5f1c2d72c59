//! One-time messages shown after a redirect ("Signed out Firefox on Linux"), in a short-lived
//! cookie. A plain cookie rather than Rocket's `FlashMessage`, which needs the `secrets` feature
//! and so a `ROCKET_SECRET_KEY` in release. Its text is only ever rendered escaped.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::time::Duration;

const FLASH_COOKIE: &str = concat!(env!("CARGO_CRATE_NAME"), "_flash");
/// Longest message kept; anything longer did not come from this app.
const MAX_LEN: usize = 300;

/// Leaves `message` for the next page the browser loads (within a minute).
pub fn set(jar: &CookieJar<'_>, message: impl AsRef<str>, secure: bool) {
    let text = crate::device::truncate(message.as_ref(), MAX_LEN);
    // Encoded, as cookie values cannot hold spaces, commas or semicolons.
    let cookie = Cookie::build((FLASH_COOKIE, URL_SAFE_NO_PAD.encode(text)))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(secure)
        .max_age(Duration::seconds(60));
    jar.add(cookie);
}

/// The waiting message, if any; it is shown once.
pub fn take(jar: &CookieJar<'_>) -> Option<String> {
    let value = jar.get(FLASH_COOKIE)?.value().to_string();
    jar.remove(super::cookie::removal(FLASH_COOKIE));
    let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
    String::from_utf8(bytes)
        .ok()
        .filter(|text| !text.is_empty() && text.len() <= MAX_LEN)
}
