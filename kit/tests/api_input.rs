//! Bad input: whatever a client sends, the answer is a 4xx
//! `application/problem+json` with a stable `code`, never a 500, never an HTML page, and never a
//! glimpse of the internals (SQL, panics, crate names).

mod common;
use common::*;

use rocket::http::{ContentType, Header};
use rocket::local::asynchronous::LocalRequest;
use serde_json::{json, Value};

/// Words that must never reach a client.
const INTERNALS: [&str; 8] = [
    "sqlx",
    "SELECT",
    "INSERT",
    "DELETE FROM",
    "panicked",
    "sqlite",
    "src/",
    "RUST_BACKTRACE",
];

/// A problem response with this status and code that shows nothing of the internals.
fn assert_clean_problem(reply: &Reply, status: u16, code: &str) {
    reply.assert_problem(status, code);
    assert_no_internals(reply);
}

/// Any 4xx problem response that shows nothing of the internals.
fn assert_client_error(reply: &Reply) {
    assert!(
        (400..500).contains(&reply.status.code),
        "expected a 4xx, got {}: {}",
        reply.status,
        reply.text
    );
    assert_eq!(
        reply.content_type.as_deref(),
        Some("application/problem+json"),
        "body: {}",
        reply.text
    );
    let body = reply.json();
    assert_eq!(body["status"], reply.status.code, "body: {}", reply.text);
    assert!(body["code"].is_string(), "body: {}", reply.text);
    assert!(body["title"].is_string(), "body: {}", reply.text);
    assert_no_internals(reply);
}

fn assert_no_internals(reply: &Reply) {
    let lower = reply.text.to_lowercase();
    for word in INTERNALS {
        assert!(
            !lower.contains(&word.to_lowercase()),
            "the body shows {word:?}: {}",
            reply.text
        );
    }
    assert!(!lower.contains("<html"), "an HTML body: {}", reply.text);
}

/// Sends `body` as it is, with the given content type, from 127.0.0.1.
async fn raw_post(app: &TestApp, path: &str, content_type: ContentType, body: &[u8]) -> Reply {
    let req = app
        .client
        .post(path.to_string())
        .remote("127.0.0.1:5000".parse().unwrap())
        .header(content_type)
        .body(body);
    read(req.dispatch().await).await
}

/// GET `path` with exactly these extra headers.
async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req: LocalRequest<'_> = app
        .client
        .get(path.to_string())
        .remote("127.0.0.1:5000".parse().unwrap());
    for (name, value) in headers {
        req = req.header(Header::new(name.to_string(), value.to_string()));
    }
    read(req.dispatch().await).await
}

fn creds(username: &str, password: &str) -> Value {
    json!({"username": username, "password": password})
}

// ---------------------------------------------------------------------------------------------
// Bodies: syntax, shape, media type, size, encoding
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn malformed_json_is_400_malformed_json_on_every_json_route() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let bodies: [&[u8]; 6] = [
        b"{",
        b"{\"username\": \"alice\", \"password\": }",
        b"not json at all",
        b"{'username': 'alice', 'password': 'correct horse battery'}",
        b"",
        b"{\"username\": \"alice\",}",
    ];
    for body in bodies {
        for path in ["/api/auth/login", "/api/users"] {
            let reply = raw_post(&app, path, ContentType::JSON, body).await;
            assert_clean_problem(&reply, 400, "malformed_json");
        }
        let req = app
            .client
            .post("/api/auth/password")
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .header(ContentType::JSON)
            .body(body);
        let reply = read(req.dispatch().await).await;
        assert_clean_problem(&reply, 400, "malformed_json");
    }
    // Garbage after a complete object.
    let body = b"{\"username\": \"alice\", \"password\": \"x\"} trailing";
    for path in ["/api/auth/login", "/api/users"] {
        let reply = raw_post(&app, path, ContentType::JSON, body).await;
        assert_clean_problem(&reply, 400, "malformed_json");
    }
}

#[rocket::async_test]
async fn deeply_nested_json_is_refused_without_crashing() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let depth = 5000;
    let (open, close) = ("[".repeat(depth), "]".repeat(depth));
    for body in [
        format!("{open}{close}"),
        format!("{{\"username\":{open}{close},\"password\":\"x\"}}"),
        format!("{{\"username\":\"alice\",\"password\":\"wrong password\",\"x\":{open}{close}}}"),
        format!("{{\"username\":\"alice\",\"password\":\"x\",\"x\":{open}"),
    ] {
        let reply = raw_post(&app, "/api/auth/login", ContentType::JSON, body.as_bytes()).await;
        assert_client_error(&reply);
    }
    // The app is still alive and well.
    assert_eq!(app.get("/api/health", None).await.status.code, 200);
    app.login("alice", PASSWORD).await;
}

#[rocket::async_test]
async fn missing_fields_are_422_invalid_input() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    for body in [
        json!({}),
        json!({"username": "alice"}),
        json!({"password": PASSWORD}),
        json!({"name": "laptop"}),
    ] {
        for path in ["/api/auth/login", "/api/users"] {
            let reply = app.post(path, None, body.clone()).await;
            assert_clean_problem(&reply, 422, "invalid_input");
        }
    }
    let token = app.login("alice", PASSWORD).await;
    let reply = app
        .post(
            "/api/auth/password",
            Some(&token),
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_clean_problem(&reply, 422, "invalid_input");
}

#[rocket::async_test]
async fn wrong_json_types_are_422_invalid_input() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    for body in [
        json!({"username": 42, "password": PASSWORD}),
        json!({"username": "alice", "password": 12345678}),
        json!({"username": "alice", "password": null}),
        json!({"username": ["alice"], "password": PASSWORD}),
        json!({"username": {"$ne": ""}, "password": PASSWORD}),
        json!({"username": "alice", "password": true}),
        json!("alice"),
        json!(null),
        json!(17),
    ] {
        for path in ["/api/auth/login", "/api/users"] {
            let reply = app.post(path, None, body.clone()).await;
            assert_clean_problem(&reply, 422, "invalid_input");
        }
    }
    // An optional field of the wrong type is wrong too.
    let reply = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "alice", "password": PASSWORD, "name": 5}),
        )
        .await;
    assert_clean_problem(&reply, 422, "invalid_input");
}

#[rocket::async_test]
async fn type_errors_never_echo_the_submitted_password() {
    let app = TestApp::new(build).await;
    // A password sent as a number or an object must not come back in the error detail.
    let reply = app
        .post(
            "/api/users",
            None,
            json!({"username": "alice", "password": 987654321987_i64}),
        )
        .await;
    assert_clean_problem(&reply, 422, "invalid_input");
    assert!(!reply.text.contains("987654321987"), "{}", reply.text);
    let reply = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "alice", "password": ["s3cret-value-here"]}),
        )
        .await;
    assert_clean_problem(&reply, 422, "invalid_input");
    assert!(!reply.text.contains("s3cret-value-here"), "{}", reply.text);
}

#[rocket::async_test]
async fn a_text_plain_body_is_415_unsupported_media_type() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let body = creds("alice", PASSWORD).to_string();
    for path in ["/api/auth/login", "/api/users"] {
        let reply = raw_post(&app, path, ContentType::Plain, body.as_bytes()).await;
        assert_clean_problem(&reply, 415, "unsupported_media_type");
        let reply = raw_post(&app, path, ContentType::Form, b"username=alice&password=x").await;
        assert_clean_problem(&reply, 415, "unsupported_media_type");
    }
    // No session was opened by the plain-text login.
    assert_eq!(app.session_count().await, 0);
}

#[rocket::async_test]
async fn a_body_without_content_type_is_415() {
    let app = TestApp::new(build).await;
    let body = creds("alice", PASSWORD).to_string();
    for path in ["/api/auth/login", "/api/users"] {
        let req = app.client.post(path).body(body.as_bytes());
        let reply = read(req.dispatch().await).await;
        assert_clean_problem(&reply, 415, "unsupported_media_type");
    }
}

#[rocket::async_test]
async fn a_body_over_the_16_kib_json_limit_is_413() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let body = json!({"username": "alice", "password": PASSWORD, "name": "x".repeat(17 * 1024)})
        .to_string();
    for path in ["/api/auth/login", "/api/users"] {
        let reply = raw_post(&app, path, ContentType::JSON, body.as_bytes()).await;
        assert_clean_problem(&reply, 413, "payload_too_large");
    }
    // Far over the limit: still a clean 413, not a crash.
    let huge = vec![b' '; 4 * 1024 * 1024];
    let reply = raw_post(&app, "/api/auth/login", ContentType::JSON, &huge).await;
    assert_clean_problem(&reply, 413, "payload_too_large");
    assert_eq!(app.session_count().await, 0);
}

#[rocket::async_test]
async fn a_body_just_under_the_limit_is_read_and_the_name_is_cut() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let body = json!({"username": "alice", "password": PASSWORD, "name": "n".repeat(15 * 1024)});
    assert!(body.to_string().len() < 16 * 1024);
    let reply = app.post("/api/auth/login", None, body).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    let name = reply.json()["session"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !name.is_empty() && name.len() <= 100,
        "name of {} bytes",
        name.len()
    );
}

#[rocket::async_test]
async fn invalid_utf8_in_a_body_is_400_malformed_json() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let bodies: [&[u8]; 4] = [
        b"{\"username\": \"al\xffice\", \"password\": \"correct horse battery\"}",
        b"{\"username\": \"alice\", \"password\": \"correct \xc3\x28 horse\"}",
        b"\xfe\xff\x00{\x00}",
        b"{\"username\": \"alice\", \"password\": \"\xed\xa0\x80\xed\xb0\x80 xx\"}",
    ];
    for body in bodies {
        for path in ["/api/auth/login", "/api/users"] {
            let reply = raw_post(&app, path, ContentType::JSON, body).await;
            assert_clean_problem(&reply, 400, "malformed_json");
        }
    }
}

#[rocket::async_test]
async fn a_lone_surrogate_escape_is_400_malformed_json() {
    let app = TestApp::new(build).await;
    let body = br#"{"username": "alice\ud800", "password": "correct horse battery"}"#;
    for path in ["/api/auth/login", "/api/users"] {
        let reply = raw_post(&app, path, ContentType::JSON, body).await;
        assert_clean_problem(&reply, 400, "malformed_json");
    }
}

// ---------------------------------------------------------------------------------------------
// NUL bytes, lengths and characters in usernames, passwords and names
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn nul_in_username_or_password_at_signup_is_422() {
    let app = TestApp::new(build).await;
    let reply = app.signup("ali\u{0}ce", PASSWORD).await;
    assert_clean_problem(&reply, 422, "invalid_input");
    let reply = app.signup("\u{0}\u{0}\u{0}", PASSWORD).await;
    assert_clean_problem(&reply, 422, "invalid_input");
    let reply = app.signup("alice", "correct\u{0}horse battery").await;
    assert_clean_problem(&reply, 422, "invalid_input");
    let reply = app
        .signup("alice", "\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}")
        .await;
    assert_clean_problem(&reply, 422, "invalid_input");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}

#[rocket::async_test]
async fn nul_in_login_fields_never_causes_a_500() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    // A NUL in the username or password is a failed login, like any wrong credential.
    for (username, password) in [
        ("ali\u{0}ce", PASSWORD),
        ("alice\u{0}", PASSWORD),
        ("alice", "correct horse battery\u{0}"),
        ("alice", "correct\u{0}horse battery"),
    ] {
        let reply = app.try_login(username, password).await;
        assert_clean_problem(&reply, 401, "invalid_credentials");
    }
    // A NUL in the session name is dropped; the login works.
    let reply = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "alice", "password": PASSWORD, "name": "my\u{0}phone\u{0}"}),
        )
        .await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    let name = reply.json()["session"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!name.contains('\0'), "{name:?}");
    assert_eq!(name, "myphone");
    let token = reply.json()["token"].as_str().unwrap().to_string();
    let listed = app.get("/api/sessions", Some(&token)).await;
    assert_eq!(listed.status.code, 200, "{}", listed.text);
    assert!(!listed.text.contains("\\u0000"), "{}", listed.text);
}

#[rocket::async_test]
async fn control_characters_in_the_user_agent_are_dropped() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let evil = "curl/8.0\u{0}\u{7}\u{1b}[31m evil";
    let reply = app
        .login_with(creds("alice", PASSWORD), evil, "127.0.0.1:5000")
        .await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    let ua = reply.json()["session"]["user_agent"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!ua.chars().any(char::is_control), "{ua:?}");
}

#[rocket::async_test]
async fn bidi_controls_in_the_user_agent_and_the_name_are_dropped_so_no_row_reads_reversed() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let body = json!({"username": "alice", "password": PASSWORD, "name": "lap\u{202E}pot\u{2066}"});
    let agent = "Mozilla/5.0 \u{202E}(X11; Linux)\u{202C}";
    let reply = app.login_with(body, agent, "127.0.0.1:5000").await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    let token = reply.json()["token"].as_str().unwrap().to_string();
    let listed = app.get("/api/sessions", Some(&token)).await.json();
    let entry = &listed[0];
    assert_eq!(entry["name"], "lappot");
    assert_eq!(entry["user_agent"], "Mozilla/5.0 (X11; Linux)");
    // A personal token's name with one is refused outright: it is chosen, not reported.
    let reply = app
        .try_personal_token(&token, "ci\u{202E}yolped", &["profile:read"])
        .await;
    reply.assert_problem(422, "invalid_input");
}

#[rocket::async_test]
async fn an_overlong_user_agent_is_truncated_not_refused() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let agent = format!("Mozilla/5.0 {}", "é".repeat(50_000));
    let reply = app
        .login_with(creds("alice", PASSWORD), &agent, "127.0.0.1:5000")
        .await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    let ua = reply.json()["session"]["user_agent"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(ua.starts_with("Mozilla/5.0"), "{ua}");
    assert!(ua.len() <= 512, "user agent of {} bytes kept", ua.len());
}

#[rocket::async_test]
async fn overlong_usernames_are_422_at_signup_and_401_at_login() {
    let app = TestApp::new(build).await;
    let max = "a".repeat(64);
    assert_eq!(app.signup(&max, PASSWORD).await.status.code, 201);
    app.login(&max, PASSWORD).await;
    for long in ["a".repeat(65), "b".repeat(1000), "c".repeat(15_000)] {
        let reply = app.signup(&long, PASSWORD).await;
        assert_clean_problem(&reply, 422, "invalid_input");
        let reply = app.try_login(&long, PASSWORD).await;
        assert_clean_problem(&reply, 401, "invalid_credentials");
        assert!(
            !reply.text.contains(&long[..65]),
            "the username is echoed back"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}

#[rocket::async_test]
async fn too_short_usernames_are_422_at_signup() {
    let app = TestApp::new(build).await;
    for short in ["", "a", "ab", "   ", " ab "] {
        let reply = app.signup(short, PASSWORD).await;
        assert_clean_problem(&reply, 422, "invalid_input");
    }
    assert_eq!(app.signup("abc", PASSWORD).await.status.code, 201);
}

#[rocket::async_test]
async fn usernames_with_bad_characters_are_422_at_signup() {
    let app = TestApp::new(build).await;
    for bad in [
        "bad name",
        "tom@example.com",
        "a/b/c",
        "<script>",
        "ünïcödé",
        "robert'); DROP TABLE users;--",
        "tab\tname",
        "new\nline",
        "emoji😀",
        "per%cent",
        "semi;colon",
    ] {
        let reply = app.signup(bad, PASSWORD).await;
        assert_clean_problem(&reply, 422, "invalid_input");
        // Logging in with one is a plain failed login.
        let reply = app.try_login(bad, PASSWORD).await;
        assert_clean_problem(&reply, 401, "invalid_credentials");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    // The allowed punctuation is accepted.
    let reply = app.signup("J.Doe_the-2nd", PASSWORD).await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    assert_eq!(reply.json()["username"], "J.Doe_the-2nd");
}

#[rocket::async_test]
async fn surrounding_whitespace_of_a_username_is_trimmed() {
    let app = TestApp::new(build).await;
    let reply = app.signup("  alice  ", PASSWORD).await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    assert_eq!(reply.json()["username"], "alice");
    app.login(" alice", PASSWORD).await;
    app.login("ALICE ", PASSWORD).await;
}

#[rocket::async_test]
async fn passwords_of_7_bytes_or_73_bytes_are_refused_at_signup() {
    let app = TestApp::new(build).await;
    for (username, password) in [
        ("short", "x".repeat(7)),
        ("long", "y".repeat(73)),
        ("verylong", "z".repeat(1000)),
        // 37 two-byte characters: 37 characters but 74 bytes.
        ("multibyte", "é".repeat(37)),
        ("empty", String::new()),
    ] {
        let reply = app.signup(username, &password).await;
        assert_clean_problem(&reply, 422, "invalid_input");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}

#[rocket::async_test]
async fn passwords_of_8_and_71_bytes_are_accepted_and_not_truncated() {
    let app = TestApp::new(build).await;
    let eight = "p".repeat(8);
    assert_eq!(app.signup("eight", &eight).await.status.code, 201);
    app.login("eight", &eight).await;

    let long = format!("{}{}", "q".repeat(70), "!");
    assert_eq!(long.len(), 71);
    assert_eq!(app.signup("seventyone", &long).await.status.code, 201);
    app.login("seventyone", &long).await;
    // Every byte counts: the same password with a different last byte is refused...
    let other_end = format!("{}{}", "q".repeat(70), "?");
    let reply = app.try_login("seventyone", &other_end).await;
    assert_clean_problem(&reply, 401, "invalid_credentials");
    // ...and so are the real one with bytes appended (bcrypt would drop them if truncating).
    for extra in ["x", "xx", "xxxxxxxxxx"] {
        let reply = app.try_login("seventyone", &format!("{long}{extra}")).await;
        assert_clean_problem(&reply, 401, "invalid_credentials");
    }
}

#[rocket::async_test]
async fn a_password_of_exactly_72_bytes_is_accepted() {
    let app = TestApp::new(build).await;
    let exact = format!("{}{}", "q".repeat(71), "!");
    assert_eq!(exact.len(), 72);
    let reply = app.signup("seventytwo", &exact).await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    app.login("seventytwo", &exact).await;
    // All 72 bytes count.
    let other_end = format!("{}{}", "q".repeat(71), "?");
    let reply = app.try_login("seventytwo", &other_end).await;
    assert_clean_problem(&reply, 401, "invalid_credentials");
    // 36 two-byte characters are exactly 72 bytes too.
    let accents = "é".repeat(36);
    assert_eq!(app.signup("accents", &accents).await.status.code, 201);
    app.login("accents", &accents).await;
}

#[rocket::async_test]
async fn a_new_password_of_exactly_72_bytes_is_accepted() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let exact = "k".repeat(72);
    let reply = app
        .post(
            "/api/auth/password",
            Some(&token),
            json!({"current_password": PASSWORD, "new_password": exact}),
        )
        .await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);
    app.login("alice", &exact).await;
}

#[rocket::async_test]
async fn a_73_byte_password_is_not_silently_truncated_at_signup() {
    let app = TestApp::new(build).await;
    let long = "w".repeat(73);
    let reply = app.signup("walter", &long).await;
    assert_clean_problem(&reply, 422, "invalid_input");
    // Nothing was created under the first 72 bytes either.
    let reply = app.try_login("walter", &long[..72]).await;
    assert_clean_problem(&reply, 401, "invalid_credentials");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}

#[rocket::async_test]
async fn the_password_is_not_trimmed() {
    let app = TestApp::new(build).await;
    let padded = "  spaced password  ";
    assert_eq!(app.signup("spacey", padded).await.status.code, 201);
    app.login("spacey", padded).await;
    let reply = app.try_login("spacey", padded.trim()).await;
    assert_clean_problem(&reply, 401, "invalid_credentials");
}

#[rocket::async_test]
async fn a_username_differing_only_in_case_is_409_username_taken() {
    let app = TestApp::new(build).await;
    assert_eq!(app.signup("Alice", PASSWORD).await.status.code, 201);
    for dup in ["alice", "ALICE", "aLiCe", " Alice "] {
        let reply = app.signup(dup, "another password").await;
        assert_clean_problem(&reply, 409, "username_taken");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    // The original password still works, from any casing.
    app.login("alice", PASSWORD).await;
}

#[rocket::async_test]
async fn signup_disabled_is_404() {
    let app = TestApp::with(build, json!({"signup": false})).await;
    let reply = app.signup("alice", PASSWORD).await;
    assert_clean_problem(&reply, 404, "not_found");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
    // Logging in still answers as usual.
    let reply = app.try_login("alice", PASSWORD).await;
    assert_clean_problem(&reply, 401, "invalid_credentials");
}

// ---------------------------------------------------------------------------------------------
// Authorization headers and tokens
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn a_bearer_scheme_without_a_token_is_400_invalid_request() {
    let app = TestApp::new(build).await;
    for value in ["Bearer", "Bearer ", "bearer    ", "Token", "Bearer\t"] {
        let reply = get_with(&app, "/api/me", &[("Authorization", value)]).await;
        assert_clean_problem(&reply, 400, "invalid_request");
    }
}

#[rocket::async_test]
async fn a_bearer_with_two_words_is_400_invalid_request() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    for value in [
        "Bearer a b".to_string(),
        format!("Bearer {token} extra"),
        format!("Bearer {token} {token}"),
    ] {
        let reply = get_with(&app, "/api/me", &[("Authorization", &value)]).await;
        assert_clean_problem(&reply, 400, "invalid_request");
    }
}

#[rocket::async_test]
async fn two_authorization_headers_are_400_even_if_both_are_valid() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let other = app.login("alice", PASSWORD).await;
    let (a, b) = (format!("Bearer {token}"), format!("Bearer {other}"));
    let reply = get_with(
        &app,
        "/api/me",
        &[("Authorization", &a), ("Authorization", &b)],
    )
    .await;
    assert_clean_problem(&reply, 400, "invalid_request");
    let reply = get_with(
        &app,
        "/api/me",
        &[("Authorization", &a), ("Authorization", &a)],
    )
    .await;
    assert_clean_problem(&reply, 400, "invalid_request");
    let reply = get_with(
        &app,
        "/api/me",
        &[("Authorization", &a), ("Authorization", "Basic eHl6")],
    )
    .await;
    assert_clean_problem(&reply, 400, "invalid_request");
}

#[rocket::async_test]
async fn another_scheme_is_401_with_a_bare_bearer_challenge() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    for value in [
        "Basic xyz".to_string(),
        "Basic YWxpY2U6Y29ycmVjdCBob3JzZSBiYXR0ZXJ5".to_string(),
        format!("Digest {token}"),
        format!("Bearer: {token}"),
    ] {
        let reply = get_with(&app, "/api/me", &[("Authorization", &value)]).await;
        assert_clean_problem(&reply, 401, "not_authenticated");
        let challenge = reply.header("WWW-Authenticate").expect("a challenge");
        assert!(challenge.starts_with("Bearer realm="), "{challenge}");
        assert!(!challenge.contains("error="), "{challenge}");
    }
}

#[rocket::async_test]
async fn no_credentials_at_all_is_401_with_a_bare_bearer_challenge() {
    let app = TestApp::new(build).await;
    for path in ["/api/me", "/api/sessions"] {
        let reply = app.get(path, None).await;
        assert_clean_problem(&reply, 401, "not_authenticated");
        let challenge = reply.header("WWW-Authenticate").expect("a challenge");
        assert!(challenge.starts_with("Bearer realm="), "{challenge}");
        assert!(!challenge.contains("error="), "{challenge}");
    }
    let reply = app.call("POST", "/api/auth/logout", None, None).await;
    assert_clean_problem(&reply, 401, "not_authenticated");
}

#[rocket::async_test]
async fn a_token_with_a_wrong_checksum_is_401_invalid_token() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    assert!(token.starts_with(DEFAULT_PREFIX));
    // Change one character of the random part: the checksum no longer matches.
    let mut bytes = token.clone().into_bytes();
    bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
    let damaged = String::from_utf8(bytes).unwrap();
    // And one of the checksum itself.
    let mut bytes = token.clone().into_bytes();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let bad_sum = String::from_utf8(bytes).unwrap();
    for junk in [
        damaged,
        bad_sum,
        format!(
            "{DEFAULT_PREFIX}{}",
            "A".repeat(token.len() - DEFAULT_PREFIX.len())
        ),
        token[..token.len() - 1].to_string(),
        format!("{token}A"),
        token.replacen(DEFAULT_PREFIX, "xx_", 1),
        token.to_uppercase(),
        DEFAULT_PREFIX.to_string(),
        "hello".to_string(),
        format!("{DEFAULT_PREFIX}\u{e9}\u{e9}\u{e9}"),
    ] {
        let reply = app.get("/api/me", Some(&junk)).await;
        assert_clean_problem(&reply, 401, "invalid_token");
        let challenge = reply.header("WWW-Authenticate").expect("a challenge");
        assert!(challenge.starts_with("Bearer realm="), "{challenge}");
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    }
    // The real one still works.
    assert_eq!(app.get("/api/me", Some(&token)).await.status.code, 200);
}

#[rocket::async_test]
async fn an_overlong_authorization_header_is_401_invalid_token() {
    let app = TestApp::new(build).await;
    let value = format!("Bearer mt_{}", "A".repeat(100_000));
    let reply = get_with(&app, "/api/me", &[("Authorization", &value)]).await;
    assert_clean_problem(&reply, 401, "invalid_token");
    assert!(reply.text.len() < 1000, "the token is echoed back");
}

#[rocket::async_test]
async fn a_token_in_the_query_string_is_ignored() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    for path in [
        format!("/api/me?token={token}"),
        format!("/api/me?access_token={token}"),
        format!("/api/sessions?token={token}"),
    ] {
        let reply = app.get(&path, None).await;
        assert_clean_problem(&reply, 401, "not_authenticated");
    }
}

#[rocket::async_test]
async fn a_token_in_a_cookie_is_ignored_by_the_api() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let cookie = format!("session={token}; {SESSION_COOKIE}={token}; token={token}; auth={token}");
    let reply = get_with(&app, "/api/me", &[("Cookie", &cookie)]).await;
    assert_clean_problem(&reply, 401, "not_authenticated");
    // Junk cookies are harmless next to a real token.
    let bearer = format!("Bearer {token}");
    let reply = get_with(
        &app,
        "/api/me",
        &[
            ("Cookie", "session=%ff%00; x=\u{1}"),
            ("Authorization", &bearer),
        ],
    )
    .await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
}

#[rocket::async_test]
async fn the_scheme_is_case_insensitive_but_the_token_is_not() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    for scheme in ["Bearer", "bearer", "BEARER", "Token", "token"] {
        let value = format!("{scheme} {token}");
        let reply = get_with(&app, "/api/me", &[("Authorization", &value)]).await;
        assert_eq!(reply.status.code, 200, "{scheme}: {}", reply.text);
    }
    let flipped: String = token
        .chars()
        .map(|c| match c {
            c if c.is_ascii_lowercase() => c.to_ascii_uppercase(),
            c if c.is_ascii_uppercase() => c.to_ascii_lowercase(),
            c => c,
        })
        .collect();
    let reply = app.get("/api/me", Some(&flipped)).await;
    assert_clean_problem(&reply, 401, "invalid_token");
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn an_unknown_api_path_is_a_404_problem() {
    let app = TestApp::new(build).await;
    for path in [
        "/api/nope",
        "/api/",
        "/api/auth",
        "/api/users/1/secret",
        "/api/%00",
        "/api/..%2f..%2fetc%2fpasswd",
    ] {
        let reply = app.get(path, None).await;
        assert_clean_problem(&reply, 404, "not_found");
    }
    let reply = app.post("/api/nope", None, json!({})).await;
    assert_clean_problem(&reply, 404, "not_found");
}

#[rocket::async_test]
async fn a_wrong_method_on_an_api_route_is_a_4xx_problem() {
    let app = TestApp::new(build).await;
    for (method, path) in [
        ("GET", "/api/auth/login"),
        ("PUT", "/api/me"),
        ("DELETE", "/api/users"),
        ("GET", "/api/auth/logout"),
    ] {
        let reply = app.call(method, path, None, None).await;
        assert_client_error(&reply);
    }
}

#[rocket::async_test]
async fn junk_session_ids_are_404_not_500() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let long = format!("/api/sessions/{}", "x".repeat(5000));
    for path in [
        "/api/sessions/nope",
        "/api/sessions/%ff%fe",
        "/api/sessions/'%20OR%20'1'='1",
        long.as_str(),
    ] {
        let reply = app.call("DELETE", path, Some(&token), None).await;
        assert_clean_problem(&reply, 404, "not_found");
    }
    // Still logged in.
    assert_eq!(app.get("/api/me", Some(&token)).await.status.code, 200);
}

#[rocket::async_test]
async fn a_nul_in_a_session_id_is_404_not_503() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    for path in ["/api/sessions/%00", "/api/sessions/abc%00def"] {
        let reply = app.call("DELETE", path, Some(&token), None).await;
        assert_clean_problem(&reply, 404, "not_found");
    }
}

#[rocket::async_test]
async fn signup_disabled_is_404_even_with_a_bad_body() {
    let app = TestApp::with(build, json!({"signup": false})).await;
    let reply = raw_post(&app, "/api/users", ContentType::JSON, b"{").await;
    assert_clean_problem(&reply, 404, "not_found");
    let reply = raw_post(&app, "/api/users", ContentType::Plain, b"hello").await;
    assert_clean_problem(&reply, 404, "not_found");
}

#[rocket::async_test]
async fn malformed_ids_are_404_on_every_id_route_before_the_body_is_read() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    for (method, path) in [
        ("DELETE", "/api/sessions/{id}"),
        ("POST", "/api/tokens/{id}/regenerate"),
    ] {
        for reply in app.malformed_ids_answered(method, path, &token, None).await {
            assert_no_internals(&reply);
        }
    }
}
