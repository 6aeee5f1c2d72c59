//! Scopes: the list the kit and the app declare (the tests' own feature, `widgets`, is the app), what a personal token may reach with the scopes it holds
//! (driven from the OpenAPI document, so that a new route is covered without touching this file),
//! and how session entries show what they may do.

mod common;
use common::openapi::*;
use common::*;
use rocket::http::{ContentType, Status};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// What an operation's `security` names: `None` for a public operation, `Some([])` for any valid
/// token, `Some(["*"])` for full access, or the scopes it needs.
fn required_scopes(op: &Op<'_>) -> Option<Vec<String>> {
    let requirements = op.op["security"].as_array()?;
    if requirements.is_empty() {
        return None;
    }
    let scopes = requirements
        .iter()
        .flat_map(|r| r["bearer"].as_array().cloned().unwrap_or_default())
        .map(|s| s.as_str().expect("a scope name").to_string())
        .collect();
    Some(scopes)
}

/// Asserts a 403 `insufficient_scope` whose challenge names `scope` (or, for a route that needs
/// full access, no single scope).
fn assert_insufficient(reply: &Reply, scope: &str, label: &str) {
    assert_eq!(reply.status.code, 403, "{label}: {}", reply.text);
    reply.assert_problem(403, "insufficient_scope");
    let challenge = reply
        .header("WWW-Authenticate")
        .unwrap_or_else(|| panic!("{label}: a 403 without WWW-Authenticate"));
    assert!(
        challenge.starts_with("Bearer realm=\""),
        "{label}: {challenge}"
    );
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{label}: {challenge}"
    );
    if scope == "*" {
        assert!(!challenge.contains("scope=\""), "{label}: {challenge}");
    } else {
        assert!(
            challenge.contains(&format!("scope=\"{scope}\"")),
            "{label}: {challenge}"
        );
    }
}

#[rocket::async_test]
async fn the_scope_list_is_public_and_is_the_kits_scopes_then_the_apps() {
    let app = TestApp::new(build).await;
    let reply = app.get("/api/scopes", None).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    let expected: Vec<Value> = served_scopes()
        .iter()
        .map(|s| json!({"name": s.name, "description": s.description}))
        .collect();
    assert_eq!(reply.json(), Value::Array(expected));
    let names: Vec<&str> = served_scopes().iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "profile:read",
            "sessions:read",
            "sessions:write",
            "widgets:read"
        ],
        "the kit's scopes, then the app's"
    );
    assert!(served_scopes()
        .iter()
        .all(|s| !s.description.is_empty() && !s.description.contains('\n')));
}

#[rocket::async_test]
async fn a_profile_read_token_reaches_only_its_own_operations() {
    let (app, doc) = document(build).await;
    let user = app.user_token("alice").await;
    let (token, _) = app
        .personal_token(&user, "profile", &["profile:read"])
        .await;
    let mut admitted = BTreeSet::new();
    let mut logout = None;
    for op in operations(&doc) {
        let Some(scopes) = required_scopes(&op) else {
            continue;
        };
        let label = op.label();
        if op.id == "logout" {
            logout = Some(scopes);
            continue;
        }
        // No body, an empty JSON one, broken JSON, not JSON: the guard answers before any is
        // read (no 400, 415 or 422 first).
        let bodies = [
            None,
            Some((ContentType::JSON, "{}")),
            Some((ContentType::JSON, "{not json")),
            Some((ContentType::Plain, "x")),
        ];
        for body in bodies {
            let reply = op.send(&app, Some(&token), body).await;
            if scopes == ["profile:read"] {
                assert_eq!(reply.status, Status::Ok, "{label}: {}", reply.text);
                admitted.insert(label.clone());
            } else {
                assert_eq!(scopes.len(), 1, "{label} names {scopes:?}");
                assert_insufficient(&reply, &scopes[0], &label);
            }
        }
    }
    assert_eq!(admitted, BTreeSet::from(["GET /api/me".to_string()]));
    // The token is still alive after every refusal, and may end itself.
    assert_eq!(logout, Some(vec![]), "logout names no scope");
    let reply = app
        .call("POST", "/api/auth/logout", Some(&token), None)
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    app.get("/api/me", Some(&token))
        .await
        .assert_problem(401, "invalid_token");
    // The sign-in that made it is untouched.
    assert_eq!(app.get("/api/me", Some(&user)).await.status, Status::Ok);
}

#[rocket::async_test]
async fn each_scope_opens_exactly_the_operations_that_name_it() {
    let (app, doc) = document(build).await;
    app.user_token("alice").await;
    let all: Vec<&str> = served_scopes().iter().map(|s| s.name).collect();
    for op in operations(&doc) {
        let Some(scopes) = required_scopes(&op) else {
            continue;
        };
        let [scope] = scopes.as_slice() else {
            continue;
        };
        if scope == "*" {
            continue;
        }
        let label = op.label();
        // A fresh sign-in each time: logout-all ends it and its tokens.
        let user = app.login("alice", PASSWORD).await;
        let (holder, _) = app.personal_token(&user, "holder", &[scope]).await;
        let others: Vec<&str> = all.iter().copied().filter(|s| s != scope).collect();
        let (lacker, _) = app.personal_token(&user, "lacker", &others).await;

        let reply = op.send(&app, Some(&lacker), None).await;
        assert_insufficient(&reply, scope, &label);
        let reply = op.send(&app, Some(&holder), None).await;
        assert!(
            !matches!(reply.status.code, 401 | 403),
            "{label}: a token holding {scope} got {}",
            reply.text
        );
    }
}

#[rocket::async_test]
async fn operations_that_need_full_access_refuse_a_token_with_every_scope() {
    let (app, doc) = document(build).await;
    let user = app.user_token("alice").await;
    let all: Vec<&str> = served_scopes().iter().map(|s| s.name).collect();
    let (token, _) = app.personal_token(&user, "everything", &all).await;
    let mut full_only = 0;
    for op in operations(&doc) {
        if required_scopes(&op) != Some(vec!["*".to_string()]) {
            continue;
        }
        full_only += 1;
        let label = op.label();
        let reply = op.send(&app, Some(&token), None).await;
        assert_insufficient(&reply, "*", &label);
        let reply = op
            .send(&app, Some(&token), Some((ContentType::JSON, "{}")))
            .await;
        assert_insufficient(&reply, "*", &label);
    }
    // Token creation, regeneration, sudo and the password change at least.
    assert!(
        full_only >= 4,
        "only {full_only} operations need full access"
    );
}

#[rocket::async_test]
async fn a_sessions_read_token_lists_sessions_but_cannot_revoke_them() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    app.login("alice", PASSWORD).await;
    let other = app.other_session_id(&user).await;

    let (token, _) = app
        .personal_token(&user, "reader", &["sessions:read"])
        .await;
    let reply = app.get("/api/sessions", Some(&token)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert!(reply
        .json()
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == other.as_str()));

    let path = format!("/api/sessions/{other}");
    let reply = app.call("DELETE", &path, Some(&token), None).await;
    assert_insufficient(&reply, "sessions:write", "DELETE /api/sessions/{id}");
    let reply = app
        .call("POST", "/api/auth/logout-all", Some(&token), None)
        .await;
    assert_insufficient(&reply, "sessions:write", "POST /api/auth/logout-all");
    // Nothing was revoked.
    assert!(app.listed_ids(&user).await.contains(&other));
    // Nor may it read what it holds no scope for.
    let reply = app.get("/api/me", Some(&token)).await;
    assert_insufficient(&reply, "profile:read", "GET /api/me");
}

#[rocket::async_test]
async fn a_sign_in_has_full_access_and_a_token_exactly_its_scopes() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let login = app.try_login("alice", PASSWORD).await;
    assert_eq!(login.status, Status::Ok, "{}", login.text);
    let session = &login.json()["session"];
    assert_eq!(session["scopes"], json!(["*"]), "{session}");
    assert_eq!(session["kind"], "api");
    let user = login.json()["token"].as_str().unwrap().to_string();

    let (token, entry) = app
        .personal_token(&user, "CI deploy", &["sessions:write", "profile:read"])
        .await;
    assert_eq!(entry["kind"], "token", "{entry}");
    assert_eq!(entry["name"], "CI deploy");
    assert_eq!(entry["current"], false, "{entry}");
    assert_eq!(entry["last_ip"], "127.0.0.1", "{entry}");
    let scopes: BTreeSet<&str> = entry["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(scopes, BTreeSet::from(["sessions:write", "profile:read"]));
    assert_eq!(entry["scopes"].as_array().unwrap().len(), 2);

    // Used from another address, past the touch interval: the list shows it there.
    app.advance(61);
    let reply = app
        .call_from("GET", "/api/me", Some(&token), None, "10.1.2.3:4000")
        .await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    app.auth().flush_touches().await.expect("flush");
    let list = app.get("/api/sessions", Some(&user)).await.json();
    let listed: Vec<&Value> = list.as_array().unwrap().iter().collect();
    assert_eq!(listed.len(), 2, "{list}");
    let mine = listed.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(mine["scopes"], json!(["*"]));
    let theirs = listed.iter().find(|s| s["kind"] == "token").unwrap();
    assert_eq!(theirs["id"], entry["id"]);
    assert_eq!(theirs["scopes"], entry["scopes"]);
    assert_eq!(theirs["ip"], "127.0.0.1", "{theirs}");
    assert_eq!(theirs["last_ip"], "10.1.2.3", "{theirs}");
}

#[rocket::async_test]
async fn a_token_listing_sessions_sees_itself_as_current() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    let (token, entry) = app
        .personal_token(&user, "lister", &["sessions:read"])
        .await;
    let reply = app.get("/api/sessions", Some(&token)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    let list = reply.json();
    let current: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "{list}");
    assert_eq!(current[0]["id"], entry["id"]);
    assert_eq!(current[0]["kind"], "token");
    assert_eq!(current[0]["scopes"], json!(["sessions:read"]));
    // Listing is all it may do with sessions.
    let id = current[0]["id"].as_str().unwrap();
    app.revoke(&token, id)
        .await
        .assert_problem(403, "insufficient_scope");
    let reply = app
        .call("POST", "/api/auth/logout-all", Some(&token), None)
        .await;
    assert_insufficient(&reply, "sessions:write", "POST /api/auth/logout-all");
}
