//! One-time messages shown after a redirect ("Signed out Firefox on Linux"), in a short-lived
//! cookie. A plain cookie rather than Rocket's `FlashMessage`, which needs the `secrets` feature
//! and so a `ROCKET_SECRET_KEY` in release. Its text is only ever rendered escaped.

use super::cookie::CookieName;
use crate::site;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::http::{CookieJar, SameSite};
use rocket::time::Duration;

/// `<app>_flash`, or `__Host-<app>_flash` when Secure: no other host plants a message.
fn flash() -> CookieName {
    let site = site::get();
    CookieName {
        plain: site.flash_cookie,
        host_only: site.flash_cookie_host_only,
    }
}
/// Longest message kept; anything longer did not come from this app.
const MAX_LEN: usize = 300;

/// Leaves `message` for the next page the browser loads (within a minute).
pub fn set(jar: &CookieJar<'_>, message: impl AsRef<str>, secure: bool) {
    let text = crate::device::truncate(message.as_ref(), MAX_LEN);
    // Encoded, as cookie values cannot hold spaces, commas or semicolons.
    let mut cookie = flash().cookie(URL_SAFE_NO_PAD.encode(text), secure, SameSite::Lax);
    cookie.set_max_age(Duration::seconds(60));
    jar.add(cookie);
}

/// The waiting message, if any; it is shown once. `secure` as when it was set.
pub fn take(jar: &CookieJar<'_>, secure: bool) -> Option<String> {
    let value = jar.get(flash().get(secure))?.value().to_string();
    jar.remove(flash().removal(secure));
    let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
    String::from_utf8(bytes)
        .ok()
        .filter(|text| !text.is_empty() && text.len() <= MAX_LEN)
}
