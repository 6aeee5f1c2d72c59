//! A wrong method on an existing /api path is 405 problem+json with `Allow` (RFC 9110), not the
//! 404 that Rocket gives by itself; an unknown path, or a route's own 404, stays 404.

mod common;
use common::*;
use rocket::http::{Header, Method, Status};
use serde_json::json;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

async fn send(app: &TestApp, method: Method, path: &str, token: Option<&str>) -> Reply {
    let mut req = app.client.req(method, path);
    if let Some(token) = token {
        req = req.header(Header::new("Authorization", format!("Bearer {token}")));
    }
    read(req.dispatch().await).await
}

fn assert_405(reply: &Reply, allow: &str, what: &str) {
    assert_eq!(
        reply.status,
        Status::MethodNotAllowed,
        "{what}: {}",
        reply.text
    );
    assert_eq!(reply.header("Allow"), Some(allow), "{what}: Allow");
    reply.assert_problem(405, "method_not_allowed");
}

#[rocket::async_test]
async fn a_wrong_method_on_a_known_path_is_405_with_the_methods_it_takes() {
    let app = TestApp::new(build).await;
    let cases = [
        (Method::Patch, "/api/me", "GET, HEAD"),
        (Method::Delete, "/api/users", "POST"),
        (Method::Get, "/api/auth/login", "POST"),
        (Method::Trace, "/api/health", "GET, HEAD"),
        (Method::Options, "/api/sessions", "GET, HEAD"),
        (Method::Get, "/api/sessions/any-id", "DELETE"),
    ];
    for (method, path, allow) in cases {
        let reply = send(&app, method, path, None).await;
        assert_405(&reply, allow, &format!("{method} {path}"));
    }
    // HEAD is answered by the GET route where there is one, and 405 (no body) where there is not.
    assert_eq!(
        send(&app, Method::Head, "/api/health", None).await.status,
        Status::Ok
    );
    let reply = send(&app, Method::Head, "/api/auth/logout", None).await;
    assert_eq!(reply.status, Status::MethodNotAllowed);
    assert_eq!(reply.header("Allow"), Some("POST"));
}

/// Whether a route path (`/api/sessions/<id>`) matches a request path's segments, as Rocket's
/// router compares them: a static segment exactly, a dynamic one any single segment.
fn route_matches(route: &str, path: &str) -> bool {
    let route: Vec<&str> = route.trim_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_matches('/').split('/').collect();
    route.len() == path.len()
        && route
            .iter()
            .zip(&path)
            .all(|(r, p)| r == p || (r.starts_with('<') && r.ends_with('>')))
}

#[rocket::async_test]
async fn allow_lists_exactly_the_mounted_methods_of_every_api_path() {
    let app = TestApp::new(build).await;
    let routes: Vec<(String, Method)> = app
        .client
        .rocket()
        .routes()
        .filter(|r| r.uri.base() == "/api")
        .map(|r| (r.uri.path().to_string(), r.method))
        .collect();
    assert!(routes.len() >= 10, "{routes:?}");
    let paths: BTreeSet<&str> = routes.iter().map(|(path, _)| path.as_str()).collect();
    for path in paths {
        // No API route takes PATCH; a dynamic segment takes any value.
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('<') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        // Every route the request's path matches answers for it: `/api/widgets/count` next to
        // `/api/widgets/<id>` takes the methods of both.
        let mut allowed = BTreeSet::new();
        for (_, method) in routes.iter().filter(|(r, _)| route_matches(r, &concrete)) {
            allowed.insert(method.as_str());
            if *method == Method::Get {
                allowed.insert("HEAD");
            }
        }
        let allow = allowed.into_iter().collect::<Vec<_>>().join(", ");
        let reply = send(&app, Method::Patch, &concrete, None).await;
        assert_405(&reply, &allow, &format!("PATCH {concrete}"));
    }
}

#[test]
fn a_static_path_also_matches_the_dynamic_routes_beside_it() {
    assert!(route_matches("/api/widgets/<id>", "/api/widgets/count"));
    assert!(route_matches("/api/widgets/count", "/api/widgets/count"));
    assert!(!route_matches("/api/widgets/<id>", "/api/widgets"));
    assert!(!route_matches("/api/widgets/<id>", "/api/widgets/x/y"));
    assert!(!route_matches("/api/me", "/api/sessions"));
}

#[rocket::async_test]
async fn the_method_is_checked_before_the_token() {
    let app = TestApp::new(build).await;
    let reply = send(&app, Method::Patch, "/api/sessions", Some("mt_junk")).await;
    assert_405(&reply, "GET, HEAD", "PATCH /api/sessions with a junk token");
    // With the right method the guard answers as before.
    send(&app, Method::Get, "/api/sessions", Some("mt_junk"))
        .await
        .assert_problem(401, "invalid_token");
}

#[rocket::async_test]
async fn unknown_paths_and_a_routes_own_404_stay_404() {
    let app = TestApp::new(build).await;
    for (method, path) in [
        (Method::Get, "/api/nothing"),
        (Method::Patch, "/api/me/more"),
    ] {
        let reply = send(&app, method, path, None).await;
        reply.assert_problem(404, "not_found");
        assert_eq!(reply.header("Allow"), None, "{method} {path}");
    }

    let token = app.user_token("alice").await;
    let reply = send(
        &app,
        Method::Delete,
        "/api/sessions/AAAAAAAAAAAAAAAAAAAAAA",
        Some(&token),
    )
    .await;
    reply.assert_problem(404, "not_found");
    assert_eq!(reply.json()["detail"], "no such session");

    let closed = TestApp::with(build, json!({"signup": false})).await;
    let reply = closed.signup("bob", PASSWORD).await;
    reply.assert_problem(404, "not_found");
    assert_eq!(reply.json()["detail"], "signup is disabled");
    assert_eq!(reply.header("Allow"), None);
}

#[rocket::async_test]
async fn the_pages_keep_their_own_errors() {
    let app = TestApp::new(build).await;
    let reply = send(&app, Method::Patch, "/signup", None).await;
    assert_eq!(reply.status, Status::NotFound);
    assert_ne!(
        reply.content_type.as_deref(),
        Some("application/problem+json")
    );
}

/// Rocket cannot parse a method it does not know (`QUERY`, or a made-up one) into a request, so
/// the local client cannot send one: this test sends it over a real socket.
#[test]
fn an_unknown_method_is_405_on_a_known_path_and_400_elsewhere_with_every_security_header() {
    let app = served::ServedApp::launch(build);
    let port = app.port;
    let raw = |method: &str, path: &str| {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let request = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("receive");
        response.to_ascii_lowercase()
    };
    for method in ["QUERY", "FROBNICATE"] {
        let response = raw(method, "/api/me");
        assert!(
            response.starts_with("http/1.0 405"),
            "{method} /api/me: {response}"
        );
        assert!(response.contains("\r\nallow: get, head\r\n"), "{response}");
        assert!(
            response.contains("\"code\":\"method_not_allowed\""),
            "{response}"
        );
    }
    let response = raw("QUERY", "/api/nothing");
    assert!(response.starts_with("http/1.0 400"), "{response}");
    assert!(response.contains("\"code\":\"bad_request\""), "{response}");
    // No response fairing runs for such a request: the catchers harden their answers themselves,
    // on the API and on the pages alike.
    for (method, path) in [
        ("QUERY", "/api/me"),
        ("QUERY", "/api/nothing"),
        ("BREW", "/"),
    ] {
        let response = raw(method, path);
        let (head, _) = response.split_once("\r\n\r\n").expect("a head");
        for header in [
            "content-security-policy: default-src 'none'",
            "x-frame-options: deny",
            "x-content-type-options: nosniff",
            "referrer-policy: same-origin",
            "cache-control: no-store",
        ] {
            assert!(
                head.contains(header),
                "{method} {path} lacks {header}:\n{head}"
            );
        }
    }
}
