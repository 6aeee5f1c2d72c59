//! The pages' cookies and the same-origin check, as the app is served: over HTTPS
//! (`secure_cookie`, on in release) every cookie carries the `__Host-` prefix; over plain HTTP
//! (debug) the plain names serve. A form's `Origin` must be the request's own origin: `https://`
//! this host where a TLS-terminating proxy says so (`X-Forwarded-Proto`), else `http://`.

mod common;
use common::web::*;
use common::*;

use rocket::http::{ContentType, Cookie, Header, Status};
use serde_json::json;

/// The flash cookie's plain name, `<app>_flash`.
fn flash_cookie() -> String {
    SESSION_COOKIE.replace("_session", "_flash")
}

/// Every cookie the pages set, by name, from a sign-in, a flash message and a sign-out.
async fn cookies_set(app: &TestApp) -> Vec<String> {
    let mut set = Vec::new();
    let mut keep = |reply: &Reply| set.extend(set_cookies(reply).into_iter().map(String::from));
    let login = get_page(app, "/login").await;
    keep(&login);
    app.signup("alice", PASSWORD).await;
    let fields = [
        ("csrf", csrf_of(&login.text)),
        ("username", "alice".to_string()),
        ("password", PASSWORD.to_string()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let landed = submit(app, "/login", &fields).await;
    assert_redirect(&landed, "/sessions");
    keep(&landed);
    let page = get_page(app, "/sessions").await;
    assert_eq!(page.status, Status::Ok, "{}", page.text);
    let out = submit(app, "/logout", &[("csrf", &csrf_of(&page.text))]).await;
    assert_redirect(&out, "/login");
    keep(&out);
    // The flash message is read (under the name it was set with) and removed.
    let login = get_page(app, "/login").await;
    assert!(
        login.text.contains("You have been signed out."),
        "{}",
        login.text
    );
    keep(&login);
    set
}

#[rocket::async_test]
async fn secure_cookies_carry_the_host_prefix_with_what_it_requires() {
    let app = TestApp::with(build, json!({"secure_cookie": true})).await;
    let set = cookies_set(&app).await;
    for name in [SESSION_COOKIE, CSRF_COOKIE, &flash_cookie()] {
        let prefixed = format!("__Host-{name}=");
        let of_name: Vec<&String> = set.iter().filter(|c| c.starts_with(&prefixed)).collect();
        assert!(!of_name.is_empty(), "no {prefixed} in {set:#?}");
        // A browser keeps a __Host- cookie only when Secure, with Path=/ and no Domain; a
        // removal included.
        for cookie in of_name {
            assert!(cookie.contains("; Secure"), "{cookie}");
            assert!(cookie.contains("Path=/"), "{cookie}");
            assert!(!cookie.contains("Domain"), "{cookie}");
            assert!(cookie.contains("HttpOnly"), "{cookie}");
        }
    }
    assert!(
        set.iter().all(|c| c.starts_with("__Host-")),
        "every cookie is prefixed: {set:#?}"
    );
    // The session's removal at sign-out, and the flash message's once shown.
    for name in [SESSION_COOKIE.to_string(), flash_cookie()] {
        let prefixed = format!("__Host-{name}=");
        assert!(
            set.iter().any(|c| c.starts_with(&prefixed) && removes(c)),
            "{name} is removed: {set:#?}"
        );
    }
}

#[rocket::async_test]
async fn over_plain_http_the_cookies_keep_their_plain_names() {
    let app = TestApp::new(build).await;
    let set = cookies_set(&app).await;
    for name in [SESSION_COOKIE, CSRF_COOKIE, &flash_cookie()] {
        let plain = format!("{name}=");
        assert!(set.iter().any(|c| c.starts_with(&plain)), "no {plain}");
    }
    assert!(
        set.iter()
            .all(|c| !c.starts_with("__Host-") && !c.contains("Secure")),
        "{set:#?}"
    );
}

#[rocket::async_test]
async fn when_secure_a_cookie_without_the_prefix_counts_for_nothing() {
    let app = TestApp::with(build, json!({"secure_cookie": true})).await;
    let token = app.user_token("alice").await;
    // A session token in a cookie under the plain name (as a sibling subdomain could plant it).
    let planted = app
        .client
        .get("/sessions")
        .cookie(Cookie::new(SESSION_COOKIE, token.clone()));
    assert_redirect(&read(planted.dispatch().await).await, "/login");
    let prefixed = app
        .client
        .get("/sessions")
        .cookie(Cookie::new(format!("__Host-{SESSION_COOKIE}"), token));
    assert_eq!(read(prefixed.dispatch().await).await.status, Status::Ok);

    // A double-submit token planted under the plain name does not sign anyone in either.
    let app = TestApp::with(build, json!({"secure_cookie": true})).await;
    app.signup("alice", PASSWORD).await;
    let planted = "p".repeat(43);
    let fields = [
        ("csrf", planted.as_str()),
        ("username", "alice"),
        ("password", PASSWORD),
    ];
    let req = as_browser(app.client.post("/login"))
        .cookie(Cookie::new(CSRF_COOKIE, planted.clone()))
        .header(ContentType::Form)
        .body(form_body(&fields));
    assert_eq!(read(req.dispatch().await).await.status, Status::Forbidden);
    assert_eq!(app.session_count().await, 0);
}

/// The status of a sign-in form (with the form's `csrf`) posted with these `Host`, `Origin` and
/// other headers. A sign-in that passes ends the one before, so each can be tried in turn.
async fn sign_in_from(
    app: &TestApp,
    csrf: &str,
    headers: &[(&'static str, &'static str)],
) -> Status {
    let fields = [
        ("csrf", csrf),
        ("username", "alice"),
        ("password", PASSWORD),
    ];
    let mut req = as_browser(app.client.post("/login"))
        .header(ContentType::Form)
        .body(form_body(&fields));
    for (name, value) in headers {
        req = req.header(Header::new(*name, *value));
    }
    read(req.dispatch().await).await.status
}

#[rocket::async_test]
async fn over_http_the_origin_must_match_in_scheme_host_and_port() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let csrf = csrf_of(&get_page(&app, "/login").await.text);
    let host = ("Host", "app.example:8000");
    for (origin, accepted) in [
        ("http://app.example:8000", true),
        ("http://APP.example:8000", true),
        ("https://app.example:8000", false),
        ("http://app.example:8001", false),
        ("http://app.example", false),
        ("http://app.example:8000.evil.example", false),
        ("http://user@app.example:8000", false),
        ("app.example:8000", false),
    ] {
        let status = sign_in_from(&app, &csrf, &[host, ("Origin", origin)]).await;
        let expected = if accepted {
            Status::SeeOther
        } else {
            Status::Forbidden
        };
        assert_eq!(status, expected, "{origin}");
    }
}

#[rocket::async_test]
async fn over_https_the_origin_must_be_https_on_the_same_host_and_port() {
    let app = TestApp::with(build, json!({"secure_cookie": true})).await;
    app.signup("alice", PASSWORD).await;
    let csrf = csrf_of(&get_page(&app, "/login").await.text);
    let host = ("Host", "app.example");
    let https = ("X-Forwarded-Proto", "https");
    for (origin, accepted) in [
        ("https://app.example", true),
        ("https://app.example:443", true),
        ("http://app.example", false),
        ("http://app.example:443", false),
        ("https://app.example:8443", false),
        ("https://evil.example", false),
    ] {
        let status = sign_in_from(&app, &csrf, &[host, https, ("Origin", origin)]).await;
        let expected = if accepted {
            Status::SeeOther
        } else {
            Status::Forbidden
        };
        assert_eq!(status, expected, "{origin}");
    }
    // Without the proxy's word the request came over plain HTTP, whatever the setting says.
    let plain = [host, ("Origin", "https://app.example")];
    assert_eq!(sign_in_from(&app, &csrf, &plain).await, Status::Forbidden);
    let plain = [host, ("Origin", "http://app.example")];
    assert_eq!(sign_in_from(&app, &csrf, &plain).await, Status::SeeOther);
    // Behind a TLS-terminating proxy that rewrites Host: the browser's host is in
    // X-Forwarded-Host, and the scheme is https all the same.
    let proxied = [
        ("Host", "127.0.0.1:8000"),
        ("X-Forwarded-Host", "app.example"),
        ("X-Forwarded-Proto", "https"),
        ("Origin", "https://app.example"),
    ];
    assert_eq!(sign_in_from(&app, &csrf, &proxied).await, Status::SeeOther);
    let downgraded = [
        ("Host", "127.0.0.1:8000"),
        ("X-Forwarded-Host", "app.example"),
        ("X-Forwarded-Proto", "https"),
        ("Origin", "http://app.example"),
    ];
    assert_eq!(
        sign_in_from(&app, &csrf, &downgraded).await,
        Status::Forbidden
    );
}
