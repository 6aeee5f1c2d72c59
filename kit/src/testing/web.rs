//! A browser on the tracked client, for the page tests: forms posted as a browser posts them,
//! the CSRF token read from a page, cookies and redirects.

use super::{read, Reply, TestApp, PASSWORD};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalRequest;

pub const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// Percent-encodes a form value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// What a browser adds to a request: its user agent and address.
pub fn as_browser(req: LocalRequest<'_>) -> LocalRequest<'_> {
    req.header(Header::new("User-Agent", FIREFOX))
        .remote("127.0.0.1:5000".parse().unwrap())
}

pub async fn get_page(app: &TestApp, path: &str) -> Reply {
    read(as_browser(app.client.get(path)).dispatch().await).await
}

/// Posts a form from a page of the site (as a browser does: same-origin fetch metadata).
pub async fn submit(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Reply {
    let req = as_browser(app.client.post(path))
        .header(ContentType::Form)
        .header(Header::new("Sec-Fetch-Site", "same-origin"))
        .body(form_body(fields));
    read(req.dispatch().await).await
}

/// The CSRF token in the page's first form.
pub fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_string()
}

/// Every `Set-Cookie` header of the reply.
pub fn set_cookies(reply: &Reply) -> Vec<&str> {
    reply
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Set-Cookie"))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The `Set-Cookie` header for the cookie `name`, if the reply sets it.
pub fn set_cookie<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    let prefix = format!("{name}=");
    set_cookies(reply)
        .into_iter()
        .find(|v| v.starts_with(&prefix))
}

/// Whether a `Set-Cookie` value removes its cookie.
pub fn removes(set_cookie: &str) -> bool {
    set_cookie.contains("Max-Age=0") || set_cookie.contains("1970")
}

pub fn assert_redirect(reply: &Reply, to: &str) {
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.text);
    assert_eq!(reply.header("Location"), Some(to));
}

/// The value of the browser's session cookie.
pub fn session_cookie(app: &TestApp) -> Option<String> {
    app.client
        .cookies()
        .get(crate::site::get().session_cookie)
        .map(|c| c.value().to_string())
}

/// Signs up `username` through the API and signs in through the form; returns the landing reply.
pub async fn browser_sign_in(app: &TestApp, username: &str) -> Reply {
    let created = app.signup(username, PASSWORD).await;
    assert!(matches!(created.status.code, 201 | 409), "{}", created.text);
    let form = get_page(app, "/login").await;
    assert_eq!(form.status, Status::Ok, "{}", form.text);
    let csrf = csrf_of(&form.text);
    submit(
        app,
        "/login",
        &[
            ("csrf", &csrf),
            ("username", username),
            ("password", PASSWORD),
        ],
    )
    .await
}

/// How often `needle` occurs in `haystack`.
pub fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}
