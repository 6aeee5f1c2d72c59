//! Text hygiene: one rule for every name a user gives the app to show back (session names,
//! personal token names; an app's own, such as the example's titles, are tried in its tests). Hidden
//! characters (control, bidi, zero-width, line separators) are refused in a name a user picks and dropped from a session's name; a value
//! with nothing visible is refused with 422; the OpenAPI patterns say exactly the same.

mod common;
use common::hidden::*;
use common::openapi::document;
use common::schemas::rule;
use common::*;
use serde_json::json;
use session_kit::store::sessions::MAX_NAME;
use session_kit::store::tokens::MAX_TOKEN_NAME;
use session_kit::text;

#[rocket::async_test]
async fn token_names_with_hidden_characters_or_nothing_visible_are_refused() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    for name in INVISIBLE.iter().chain(HIDDEN_INSIDE.iter()) {
        let reply = app
            .try_personal_token(&token, name, &["profile:read"])
            .await;
        assert_eq!(reply.status.code, 422, "{name:?}: {}", reply.text);
        reply.assert_problem(422, "invalid_input");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE kind = 'token'")
            .await,
        0
    );
    let reply = app
        .try_personal_token(&token, "\u{2800}deploy\u{3164}", &["profile:read"])
        .await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    assert_eq!(reply.json()["session"]["name"], "deploy");
}

#[rocket::async_test]
async fn session_names_lose_hidden_characters_and_may_not_only_look_empty() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let login = |name: serde_json::Value| {
        let body = json!({"username": "alice", "password": PASSWORD, "name": name});
        app.post("/api/auth/login", None, body)
    };
    let reply = login(json!(" \u{200B}work\u{2028}laptop\u{FEFF}\u{202E} ")).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    assert_eq!(reply.json()["session"]["name"], "worklaptop");
    let token = reply.json()["token"].as_str().unwrap().to_string();
    let listed = app.get("/api/sessions", Some(&token)).await.json();
    assert_eq!(listed[0]["name"], "worklaptop");

    // A name that only looks empty is refused, before any password check: no session.
    for name in INVISIBLE.iter().chain(["\u{200B}\u{2028}\u{202E}"].iter()) {
        login(json!(name))
            .await
            .assert_problem(422, "invalid_input");
    }
    assert_eq!(app.session_count().await, 1);
    // No name at all is fine, and so is a name left empty.
    let reply = login(serde_json::Value::Null).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    assert!(reply.json()["session"]["name"].is_null());
    let reply = login(json!("")).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    assert_eq!(reply.json()["session"]["name"], "");
}

#[rocket::async_test]
async fn the_documented_patterns_accept_exactly_what_the_rule_accepts() {
    let (_app, doc) = document(build).await;
    let (_, token_name) = rule(&doc, "CreateTokenRequest", "name");
    let (_, session_name) = rule(&doc, "LoginRequest", "name");
    for text in tried() {
        let checks = [
            (
                "CreateTokenRequest.name",
                &token_name,
                text::check_name("name", &text, MAX_TOKEN_NAME).is_ok(),
            ),
            (
                "LoginRequest.name",
                &session_name,
                text.is_empty() || text::label(&text, MAX_NAME).is_some(),
            ),
        ];
        for (field, pattern, accepted) in checks {
            assert_eq!(
                pattern.is_match(&text),
                accepted,
                "{field}: the pattern and the rule disagree on {text:?}: keep src/api/schemas.rs \
                 in step with src/text.rs"
            );
        }
    }
}

#[rocket::async_test]
async fn the_session_name_stays_optional_in_the_document() {
    let (_app, doc) = document(build).await;
    let login = &doc["components"]["schemas"]["LoginRequest"];
    let required: Vec<&str> = login["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(!required.contains(&"name"), "{required:?}");
    assert_eq!(
        login["properties"]["name"]["type"],
        json!(["string", "null"])
    );
}
