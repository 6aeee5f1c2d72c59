//! The example resource, /api/notes: each user's own notes behind the session guard.

// readme: notes-test-head
use session_kit::prelude::*;
// readme: end

use multitoken::notes::store::{Note, MAX_BODY_BYTES, MAX_NOTES, MAX_TITLE_CHARS};
use session_kit::testing::openapi::document;
use session_kit::testing::schemas::*;

/// Creates a note and returns its id.
async fn create(app: &TestApp, token: &str, title: &str) -> String {
    let reply = app
        .post(
            "/api/notes",
            Some(token),
            json!({"title": title, "body": "text"}),
        )
        .await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    reply.json()["id"].as_str().expect("an id").to_string()
}

// readme: notes-test
#[rocket::async_test]
async fn a_note_is_read_back_by_its_owner() {
    let app = TestApp::new(multitoken::build).await;
    let token = app.user_token("alice").await;
    let note = json!({"title": "Groceries", "body": "milk"});
    let created = app.post("/api/notes", Some(&token), note).await;
    assert_eq!(created.status.code, 201, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let reply = app.get(&format!("/api/notes/{id}"), Some(&token)).await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    assert_eq!(reply.json()["title"], "Groceries");
}
// readme: end

#[rocket::async_test]
async fn notes_are_created_listed_changed_and_deleted() {
    let app = TestApp::new(multitoken::build).await;
    let token = app.user_token("alice").await;

    let reply = app
        .post(
            "/api/notes",
            Some(&token),
            json!({"title": "  Groceries  ", "body": "milk"}),
        )
        .await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    let note = reply.json();
    let id = note["id"].as_str().unwrap().to_string();
    assert_eq!(reply.header("Location"), Some(&*format!("/api/notes/{id}")));
    assert_eq!(note["title"], "Groceries", "the title is trimmed");
    assert_eq!(note["body"], "milk");
    assert_eq!(note["created_at"], note["updated_at"]);
    assert!(note["created_at"].as_str().unwrap().ends_with('Z'));

    app.advance(60);
    let path = format!("/api/notes/{id}");
    let reply = app
        .call(
            "PUT",
            &path,
            Some(&token),
            Some(json!({"title": "Shopping", "body": ""})),
        )
        .await;
    assert_eq!(reply.status.code, 200, "{}", reply.text);
    let changed = reply.json();
    assert_eq!(
        (changed["title"].as_str(), changed["body"].as_str()),
        (Some("Shopping"), Some(""))
    );
    assert_eq!(changed["created_at"], note["created_at"]);
    assert_ne!(changed["updated_at"], note["updated_at"]);

    let list = app.get("/api/notes", Some(&token)).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0], changed);

    let reply = app.call("DELETE", &path, Some(&token), None).await;
    assert_eq!(reply.status.code, 204, "{}", reply.text);
    app.get(&path, Some(&token))
        .await
        .assert_problem(404, "not_found");
    app.call("DELETE", &path, Some(&token), None)
        .await
        .assert_problem(404, "not_found");
    assert_eq!(app.get("/api/notes", Some(&token)).await.json(), json!([]));
}

#[rocket::async_test]
async fn the_list_shows_the_most_recently_changed_note_first() {
    let app = TestApp::new(multitoken::build).await;
    let token = app.user_token("alice").await;
    let first = create(&app, &token, "first").await;
    app.advance(1);
    create(&app, &token, "second").await;
    app.advance(1);
    let titles = |list: serde_json::Value| -> Vec<String> {
        let notes = list.as_array().unwrap().iter();
        notes
            .map(|n| n["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        titles(app.get("/api/notes", Some(&token)).await.json()),
        ["second", "first"]
    );
    let path = format!("/api/notes/{first}");
    let body = json!({"title": "first, changed"});
    app.call("PUT", &path, Some(&token), Some(body)).await;
    assert_eq!(
        titles(app.get("/api/notes", Some(&token)).await.json()),
        ["first, changed", "second"]
    );
}

#[rocket::async_test]
async fn another_users_note_is_the_same_404_as_an_unknown_id() {
    let app = TestApp::new(multitoken::build).await;
    let alice = app.user_token("alice").await;
    let bob = app.user_token("bob").await;
    let id = create(&app, &alice, "alice's secret").await;
    let unknown = "AAAAAAAAAAAAAAAAAAAAAA";

    for (method, body) in [
        ("GET", None),
        ("PUT", Some(json!({"title": "taken over"}))),
        ("DELETE", None),
    ] {
        let theirs = app
            .call(
                method,
                &format!("/api/notes/{id}"),
                Some(&bob),
                body.clone(),
            )
            .await;
        let nobodys = app
            .call(method, &format!("/api/notes/{unknown}"), Some(&bob), body)
            .await;
        theirs.assert_problem(404, "not_found");
        assert_eq!(
            (theirs.status, &theirs.text),
            (nobodys.status, &nobodys.text),
            "{method}"
        );
    }
    assert_eq!(app.get("/api/notes", Some(&bob)).await.json(), json!([]));
    let reply = app.get(&format!("/api/notes/{id}"), Some(&alice)).await;
    assert_eq!(reply.json()["title"], "alice's secret", "untouched");
}

#[rocket::async_test]
async fn every_notes_route_is_behind_the_guard() {
    let app = TestApp::new(multitoken::build).await;
    let id = "AAAAAAAAAAAAAAAAAAAAAA";
    for (method, path) in [
        ("GET", "/api/notes".to_string()),
        ("POST", "/api/notes".to_string()),
        ("GET", format!("/api/notes/{id}")),
        ("PUT", format!("/api/notes/{id}")),
        ("DELETE", format!("/api/notes/{id}")),
    ] {
        let body = (method == "POST" || method == "PUT").then(|| json!({"title": "t"}));
        let reply = app.call(method, &path, None, body).await;
        reply.assert_problem(401, "not_authenticated");
        assert!(
            reply.header("WWW-Authenticate").is_some(),
            "{method} {path}"
        );
    }
}

#[rocket::async_test]
async fn titles_and_bodies_past_their_bounds_are_refused() {
    let app = TestApp::new(multitoken::build).await;
    let token = app.user_token("alice").await;
    let long_title = "é".repeat(MAX_TITLE_CHARS + 1);
    let long_body = "x".repeat(MAX_BODY_BYTES + 1);
    for bad in [
        json!({"title": ""}),
        json!({"title": "   "}),
        json!({"title": long_title}),
        json!({"title": "bell\u{7}"}),
        json!({"title": "t", "body": long_body}),
        json!({"title": "t", "body": "nul\u{0}"}),
        json!({"body": "no title"}),
        json!({"title": 42}),
    ] {
        let reply = app.post("/api/notes", Some(&token), bad.clone()).await;
        reply.assert_problem(422, "invalid_input");
        assert!(!reply.text.contains("xxxxxxxx"), "the body is not echoed");
    }
    // Past the JSON body limit (16 KiB) the request itself is too large.
    let huge = json!({"title": "t", "body": "x".repeat(17 * 1024)});
    app.post("/api/notes", Some(&token), huge)
        .await
        .assert_problem(413, "payload_too_large");
    // At the bounds, accepted.
    let title = "é".repeat(MAX_TITLE_CHARS);
    let body = "x".repeat(MAX_BODY_BYTES);
    let reply = app
        .post(
            "/api/notes",
            Some(&token),
            json!({"title": title, "body": body}),
        )
        .await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    assert_eq!(
        app.get("/api/notes", Some(&token))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[rocket::async_test]
async fn a_user_keeps_at_most_max_notes() {
    let app = TestApp::new(multitoken::build).await;
    let token = app.user_token("alice").await;
    for i in 0..MAX_NOTES {
        create(&app, &token, &format!("note {i}")).await;
    }
    let reply = app
        .post("/api/notes", Some(&token), json!({"title": "one too many"}))
        .await;
    reply.assert_problem(409, "too_many_notes");
    // Another user is not affected by alice's count.
    let bob = app.user_token("bob").await;
    create(&app, &bob, "bob's first").await;
}

#[rocket::async_test]
async fn notes_answers_conform_to_the_documented_schemas() {
    let (app, doc) = document(multitoken::build).await;
    let token = app.user_token("alice").await;
    let note = app
        .post(
            "/api/notes",
            Some(&token),
            json!({"title": "T", "body": "B"}),
        )
        .await;
    let id = note.json()["id"].as_str().unwrap().to_string();
    let replies = [
        ("/api/notes", "post", 201, note),
        (
            "/api/notes",
            "get",
            200,
            app.get("/api/notes", Some(&token)).await,
        ),
        (
            "/api/notes/{id}",
            "get",
            200,
            app.get(&format!("/api/notes/{id}"), Some(&token)).await,
        ),
        (
            "/api/notes/{id}",
            "get",
            404,
            app.get("/api/notes/x", Some(&token)).await,
        ),
    ];
    assert_answers_conform(&doc, replies);
}

#[rocket::async_test]
async fn the_note_title_pattern_accepts_exactly_what_notes_accept() {
    let (_app, doc) = document(multitoken::build).await;
    let (property, pattern) = rule(&doc, "NoteInput", "title");
    assert_eq!(property["minLength"], 1);
    let mut tried: Vec<String> = [0, 1, 2, 199, 200, 201].map(|n| "é".repeat(n)).to_vec();
    tried.extend([
        format!("  {}\n", "x".repeat(200)),
        " ".repeat(3),
        "a b".into(),
    ]);
    for c in sample_chars() {
        tried.extend([
            format!("{c}"),
            format!("a{c}"),
            format!("{c}a"),
            format!("a{c}b"),
        ]);
    }
    for title in tried {
        assert_eq!(
            pattern.is_match(&title),
            Note::check(title.trim(), "").is_none(),
            "the title pattern and Note::check disagree on {title:?}: keep the schema in \
             src/api/notes.rs in step with src/store/notes.rs"
        );
    }
}

#[rocket::async_test]
async fn the_note_body_rule_matches_the_store_on_ascii() {
    let (_app, doc) = document(multitoken::build).await;
    let (property, pattern) = rule(&doc, "NoteInput", "body");
    for n in [0, 1, 8191, 8192, 8193] {
        for body in ["x".repeat(n), format!("\0{}", "x".repeat(n))] {
            assert_eq!(
                keeps(&property, &pattern, &body),
                Note::check("title", &body).is_none(),
                "NoteInput.body and Note::check disagree on {} bytes",
                body.len()
            );
        }
    }
}

#[rocket::async_test]
async fn parallel_creates_never_get_past_the_cap() {
    let app = TestApp::new(multitoken::build).await;
    let token = app.user_token("alice").await;
    let extra = 30;
    let creates = (0..MAX_NOTES + extra).map(|i| {
        let body = json!({"title": format!("note {i}")});
        app.post("/api/notes", Some(&token), body)
    });
    let replies = rocket::futures::future::join_all(creates).await;
    let mut created = 0;
    for reply in &replies {
        match reply.status.code {
            201 => created += 1,
            _ => reply.assert_problem(409, "too_many_notes"),
        }
    }
    assert_eq!(created, MAX_NOTES, "created past the cap");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notes").await,
        i64::from(MAX_NOTES)
    );
}
