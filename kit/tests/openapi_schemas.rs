//! The schemas of /api/openapi.json tell the truth: real responses conform to them (types, enums,
//! required fields, no undocumented field), timestamps are `format: date-time`, and the request
//! rules (patterns and lengths) accept exactly what the store's checks accept, so that a
//! generator's valid requests succeed and its invalid ones are refused.

mod common;
use common::openapi::document;
use common::schemas::*;
use common::*;
use session_kit::address::EmailAddress;
use session_kit::password::check_new_password;
use session_kit::store::users::User;

#[rocket::async_test]
async fn real_responses_conform_to_the_documented_schemas() {
    let (app, doc) = document(build).await;
    let signup = app.signup("alice", PASSWORD).await;
    let login = app.try_login("alice", PASSWORD).await;
    let token = login.json()["token"].as_str().unwrap().to_string();
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
        (
            "/api/health",
            "get",
            200,
            app.get("/api/health", None).await,
        ),
        ("/api/ready", "get", 200, app.get("/api/ready", None).await),
        ("/api/me", "get", 401, app.get("/api/me", None).await),
        (
            "/api/me/email",
            "get",
            200,
            app.get("/api/me/email", Some(&token)).await,
        ),
        (
            "/api/sessions/{id}",
            "delete",
            404,
            app.revoke(&token, "AAAAAAAAAAAAAAAAAAAAAA").await,
        ),
    ];
    assert_answers_conform(&doc, replies);
}

#[rocket::async_test]
async fn timestamps_are_documented_as_date_time() {
    let (_app, doc) = document(build).await;
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
    // At least the session's created_at, last_used_at and expires_at.
    assert!(timestamps >= 3, "{timestamps}");
}

#[rocket::async_test]
async fn the_username_pattern_accepts_exactly_what_sign_up_accepts() {
    let (_app, doc) = document(build).await;
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
async fn the_password_rules_match_the_store_on_ascii() {
    let (_app, doc) = document(build).await;
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
}

#[rocket::async_test]
async fn the_email_rules_accept_exactly_what_sign_up_accepts() {
    let (_app, doc) = document(build).await;
    let (property, pattern) = rule(&doc, "SignUpRequest", "email");
    let mut tried: Vec<String> = [
        "bob@example.org",
        " Bob@Example.ORG\t",
        "admin@localhost",
        "a@b",
        "@b",
        "a@",
        "a@@b",
        "a@b@c",
        "a@b..c",
        "a@.b",
        "a@b.",
        "a@-b",
        "a@b-",
        "a@b-c.d",
        "a@xn--bcher-kva.example",
    ]
    .map(String::from)
    .to_vec();
    for n in [63, 64, 65] {
        tried.push(format!("{}@example.org", "a".repeat(n)));
    }
    for n in [245, 246, 247] {
        tried.push(format!("bob@{}.org", "a".repeat(n)));
    }
    for c in sample_chars() {
        tried.extend([format!("b{c}b@example.org"), format!("bob@ex{c}ample.org")]);
    }
    for email in tried {
        assert_eq!(
            keeps(&property, &pattern, &email),
            EmailAddress::parse(&email).is_ok(),
            "the email schema and EmailAddress::parse disagree on {email:?}: keep \
             src/api/schemas.rs in step with src/address.rs"
        );
    }
}
