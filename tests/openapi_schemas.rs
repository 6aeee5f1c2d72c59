//! The schemas of /api/openapi.json tell the truth: real responses conform to them (types, enums,
//! required fields, no undocumented field), timestamps are `format: date-time`, and the request
//! rules (patterns and lengths) accept exactly what the store's checks accept, so that a
//! generator's valid requests succeed and its invalid ones are refused.

mod common;
use common::openapi::document;
use common::*;
use multitoken::password::check_new_password;
use multitoken::store::notes::Note;
use multitoken::store::users::User;
use regex::Regex;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    }
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks `value` against `schema`, as far as this document uses JSON Schema; `at` names the
/// place for the message. Stricter in one way: a field the schema does not name is an error.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let actual = type_of(value);
    let number_ok = actual == "integer" && types.contains(&"number");
    assert!(
        types.contains(&actual) || number_ok,
        "{at}: {actual} {value}, documented {types:?}"
    );
    if let Some(values) = schema["enum"].as_array() {
        assert!(
            values.contains(value),
            "{at}: {value} is not in the documented enum {values:?}"
        );
    }
    if let (Some("date-time"), Some(text)) = (schema["format"].as_str(), value.as_str()) {
        let parsed = time::OffsetDateTime::parse(text, &Rfc3339);
        assert!(parsed.is_ok(), "{at}: {text} is not an RFC 3339 date-time");
    }
    match value {
        Value::Object(fields) => {
            let properties = schema["properties"]
                .as_object()
                .expect("documented properties");
            for name in schema["required"].as_array().into_iter().flatten() {
                assert!(
                    fields.contains_key(name.as_str().unwrap()),
                    "{at}: no {name}"
                );
            }
            for (name, field) in fields {
                let property = properties.get(name).unwrap_or_else(|| {
                    panic!(
                        "{at}.{name}: in the response, not in the document: add it to the schema"
                    )
                });
                conforms(doc, property, field, &format!("{at}.{name}"));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                conforms(doc, &schema["items"], item, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

/// The documented schema of an operation's answer.
fn answer_schema<'a>(doc: &'a Value, path: &str, method: &str, status: u16) -> &'a Value {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    let content = response["content"].as_object().expect("documented content");
    &content.values().next().expect("a media type")["schema"]
}

#[rocket::async_test]
async fn real_responses_conform_to_the_documented_schemas() {
    let (app, doc) = document().await;
    let signup = app.signup("alice", PASSWORD).await;
    let login = app.try_login("alice", PASSWORD).await;
    let token = login.json()["token"].as_str().unwrap().to_string();
    let note = app
        .post(
            "/api/notes",
            Some(&token),
            json!({"title": "T", "body": "B"}),
        )
        .await;
    let id = note.json()["id"].as_str().unwrap().to_string();
    let replies = [
        ("/api/users", "post", 201, signup),
        ("/api/auth/login", "post", 200, login),
        (
            "/api/me",
            "get",
            200,
            app.get("/api/me", Some(&token)).await,
        ),
        (
            "/api/sessions",
            "get",
            200,
            app.get("/api/sessions", Some(&token)).await,
        ),
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
            "/api/health",
            "get",
            200,
            app.get("/api/health", None).await,
        ),
        ("/api/ready", "get", 200, app.get("/api/ready", None).await),
        ("/api/me", "get", 401, app.get("/api/me", None).await),
        (
            "/api/notes/{id}",
            "get",
            404,
            app.get("/api/notes/x", Some(&token)).await,
        ),
    ];
    for (path, method, status, reply) in replies {
        let at = format!("{} {path} {status}", method.to_uppercase());
        assert_eq!(reply.status.code, status, "{at}: {}", reply.text);
        conforms(
            &doc,
            answer_schema(&doc, path, method, status),
            &reply.json(),
            &at,
        );
    }
}

#[rocket::async_test]
async fn timestamps_are_documented_as_date_time() {
    let (_app, doc) = document().await;
    let mut timestamps = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if field.ends_with("_at") {
                timestamps += 1;
                assert_eq!(
                    property["format"], "date-time",
                    "{name}.{field}: a timestamp without `format: date-time`: make the field a \
                     time::OffsetDateTime (utoipa's `time` feature documents it) serialized with \
                     time::serde::rfc3339"
                );
            }
        }
    }
    assert!(timestamps >= 5, "{timestamps}");
}

/// A request schema's property, with its pattern compiled.
fn rule(doc: &Value, schema: &str, field: &str) -> (Value, Regex) {
    let property = doc["components"]["schemas"][schema]["properties"][field].clone();
    let pattern = property["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{schema}.{field} has no pattern (see src/api/schemas.rs)"));
    let regex = Regex::new(pattern).unwrap_or_else(|e| panic!("{schema}.{field}: {e}"));
    (property, regex)
}

/// Characters to try in every position: ASCII, Latin-1, the Unicode spaces and a few beyond.
fn sample_chars() -> impl Iterator<Item = char> {
    (0..0x3100u32)
        .chain([0xFEFF, 0xFFFD, 0x1F600, 0x10FFFF])
        .filter_map(char::from_u32)
}

#[rocket::async_test]
async fn the_username_pattern_accepts_exactly_what_sign_up_accepts() {
    let (_app, doc) = document().await;
    let (_, pattern) = rule(&doc, "SignUpRequest", "username");
    let mut tried: Vec<String> = (0..=66).map(|n| "a".repeat(n)).collect();
    tried.extend(["  bob\t", "\u{3000}bob\u{85}", "b b", "bo\u{2003}"].map(String::from));
    for c in sample_chars() {
        tried.extend([
            format!("{c}abc"),
            format!("ab{c}c"),
            format!("abc{c}"),
            format!("{c}ab"),
        ]);
    }
    for name in tried {
        assert_eq!(
            pattern.is_match(&name),
            User::check_username(name.trim()).is_none(),
            "the username pattern and User::check_username disagree on {name:?}: keep \
             src/api/schemas.rs in step with src/store/users.rs"
        );
    }
}

#[rocket::async_test]
async fn the_note_title_pattern_accepts_exactly_what_notes_accept() {
    let (_app, doc) = document().await;
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
            "the title pattern and Note::check disagree on {title:?}: keep src/api/schemas.rs \
             in step with src/store/notes.rs"
        );
    }
}

/// Whether an ASCII string keeps a documented string rule (for ASCII, characters are bytes).
fn keeps(property: &Value, pattern: &Regex, text: &str) -> bool {
    let len = text.len() as u64;
    pattern.is_match(text)
        && property["minLength"]
            .as_u64()
            .map_or(true, |min| len >= min)
        && property["maxLength"]
            .as_u64()
            .map_or(true, |max| len <= max)
}

#[rocket::async_test]
async fn the_password_and_body_rules_match_the_store_on_ascii() {
    let (_app, doc) = document().await;
    for (schema, field) in [
        ("SignUpRequest", "password"),
        ("PasswordChangeRequest", "new_password"),
    ] {
        let (property, pattern) = rule(&doc, schema, field);
        for n in 0..=80 {
            for password in ["x".repeat(n), format!("{}\0", "x".repeat(n))] {
                assert_eq!(
                    keeps(&property, &pattern, &password),
                    check_new_password(&password).is_none(),
                    "{schema}.{field} and check_new_password disagree on {} bytes{}",
                    password.len(),
                    if password.contains('\0') {
                        " with a NUL"
                    } else {
                        ""
                    },
                );
            }
        }
    }
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
