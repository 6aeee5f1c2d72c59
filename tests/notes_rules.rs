//! The example's own rules, as a client meets them: what its two scopes let a personal token do,
//! and the rule for names shown back (src/text.rs) on note titles and bodies, in the answers and
//! in the document's patterns.

use multitoken::notes::store::Note;
use serde_json::json;
use session_kit::testing::hidden::*;
use session_kit::testing::openapi::document;
use session_kit::testing::schemas::rule;
use session_kit::testing::*;
use session_kit::text;

/// A 403 `insufficient_scope` whose challenge names `scope`.
fn assert_insufficient(reply: &Reply, scope: &str, label: &str) {
    reply.assert_problem(403, "insufficient_scope");
    let challenge = reply.header("WWW-Authenticate").unwrap_or_default();
    assert!(
        challenge.contains(&format!("scope=\"{scope}\"")),
        "{label}: {challenge}"
    );
}

#[rocket::async_test]
async fn a_notes_read_token_lists_notes_but_cannot_write_them() {
    let app = TestApp::new(multitoken::build).await;
    let user = app.user_token("alice").await;
    let note = json!({"title": "groceries", "body": "milk"});
    let reply = app.post("/api/notes", Some(&user), note.clone()).await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    let id = reply.json()["id"].as_str().unwrap().to_string();

    let (token, _) = app.personal_token(&user, "reader", &["notes:read"]).await;
    let reply = app.get("/api/notes", Some(&token)).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    assert_eq!(reply.json()[0]["id"], id.as_str());
    let reply = app.get(&format!("/api/notes/{id}"), Some(&token)).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);

    let reply = app.post("/api/notes", Some(&token), note.clone()).await;
    assert_insufficient(&reply, "notes:write", "POST /api/notes");
    let path = format!("/api/notes/{id}");
    let reply = app.call("PUT", &path, Some(&token), Some(note)).await;
    assert_insufficient(&reply, "notes:write", "PUT /api/notes/{id}");
    let reply = app.call("DELETE", &path, Some(&token), None).await;
    assert_insufficient(&reply, "notes:write", "DELETE /api/notes/{id}");
    // Nothing was written.
    let reply = app.get("/api/notes", Some(&user)).await;
    assert_eq!(reply.json().as_array().unwrap().len(), 1, "{}", reply.text);
    // Nor may it read what it holds no scope for.
    let reply = app.get("/api/me", Some(&token)).await;
    assert_insufficient(&reply, "profile:read", "GET /api/me");
}

#[rocket::async_test]
async fn note_titles_with_hidden_characters_or_nothing_visible_are_refused() {
    let app = TestApp::new(multitoken::build).await;
    let token = app.user_token("alice").await;
    for title in INVISIBLE.iter().chain(HIDDEN_INSIDE.iter()) {
        let body = json!({"title": title, "body": "text"});
        let reply = app.post("/api/notes", Some(&token), body).await;
        assert_eq!(reply.status.code, 422, "{title:?}: {}", reply.text);
        reply.assert_problem(422, "invalid_input");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM notes").await, 0);

    // Blank characters at the ends are trimmed like spaces.
    let body = json!({"title": "\u{3164} Groceries\u{2800} ", "body": "milk"});
    let reply = app.post("/api/notes", Some(&token), body).await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    assert_eq!(reply.json()["title"], "Groceries");

    // A change is held to the same rule.
    let path = format!("/api/notes/{}", reply.json()["id"].as_str().unwrap());
    let change = json!({"title": "a\u{202E}b"});
    let reply = app.call("PUT", &path, Some(&token), Some(change)).await;
    reply.assert_problem(422, "invalid_input");
    let kept = app.get(&path, Some(&token)).await.json();
    assert_eq!(kept["title"], "Groceries");
}

#[rocket::async_test]
async fn note_bodies_keep_line_breaks_and_joiners_but_refuse_other_controls() {
    let app = TestApp::new(multitoken::build).await;
    let token = app.user_token("alice").await;
    let body = "first line\r\nsecond\tline\n\u{1F469}\u{200D}\u{1F4BB} \u{645}\u{200C}\u{6CC}";
    let reply = app
        .post(
            "/api/notes",
            Some(&token),
            json!({"title": "t", "body": body}),
        )
        .await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    assert_eq!(reply.json()["body"], body);
    for bad in ["\u{1B}[2J", "bell\u{7}", "\u{9B}31m", "nul\u{0}"] {
        let reply = app
            .post(
                "/api/notes",
                Some(&token),
                json!({"title": "t", "body": bad}),
            )
            .await;
        reply.assert_problem(422, "invalid_input");
    }
}

#[rocket::async_test]
async fn the_note_patterns_accept_exactly_what_the_rule_accepts() {
    let (_app, doc) = document(multitoken::build).await;
    let (_, title) = rule(&doc, "NoteInput", "title");
    let (_, body) = rule(&doc, "NoteInput", "body");
    for text in tried() {
        let checks = [
            (
                "NoteInput.title",
                &title,
                Note::check(text.trim(), "").is_none(),
            ),
            (
                "NoteInput.body (within its length)",
                &body,
                text::check_text("body", &text, usize::MAX).is_ok(),
            ),
        ];
        for (field, pattern, accepted) in checks {
            assert_eq!(
                pattern.is_match(&text),
                accepted,
                "{field}: the pattern and the rule disagree on {text:?}"
            );
        }
    }
}

#[rocket::async_test]
async fn a_malformed_note_id_is_404_before_the_body_is_read() {
    let app = TestApp::new(multitoken::build).await;
    let token = app.user_token("alice").await;
    for (method, body) in [
        ("GET", None),
        ("PUT", Some(json!({"title": "t"}))),
        // Not even a body that breaks the rules is looked at.
        ("PUT", Some(json!({"title": ""}))),
        ("DELETE", None),
    ] {
        app.malformed_ids_answered(method, "/api/notes/{id}", &token, body)
            .await;
    }
}
