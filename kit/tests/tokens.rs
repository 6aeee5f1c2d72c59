//! Personal access tokens: what a request to create one must hold, their expiry, their cap, how
//! long they live (their own expiry, not the idle timeout or the session cap), what ends them,
//! and the new secret of `POST /api/tokens/{id}/regenerate`. A personal token never mints or
//! widens access, whatever its scopes.

mod common;
use common::*;
use rocket::futures::future::join_all;
use rocket::http::Status;
use serde_json::{json, Value};

const DAY: i64 = 86_400;

fn all_scopes() -> Vec<&'static str> {
    served_scopes().iter().map(|s| s.name).collect()
}

/// An RFC 3339 timestamp of an entry, as Unix seconds.
fn unix(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339")
        .unix_timestamp()
}

async fn assert_valid(app: &TestApp, token: &str) {
    let reply = app.get("/api/me", Some(token)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
}

async fn assert_refused(app: &TestApp, token: &str) {
    app.get("/api/me", Some(token))
        .await
        .assert_problem(401, "invalid_token");
}

async fn token_rows(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM sessions WHERE kind = 'token'")
        .await
}

fn id_of(entry: &Value) -> String {
    entry["id"].as_str().expect("an id").to_string()
}

// ---------------------------------------------------------------------------------------------
// Creating: no widening, the request's rules, the expiry
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn a_personal_token_cannot_mint_regenerate_sudo_or_change_the_password() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    let (token, entry) = app.personal_token(&user, "all", &all_scopes()).await;
    let (_, other) = app.personal_token(&user, "other", &["sessions:read"]).await;
    let before = token_rows(&app).await;

    let create = json!({"name": "wider", "scopes": ["profile:read"], "password": PASSWORD});
    app.post("/api/tokens", Some(&token), create)
        .await
        .assert_problem(403, "insufficient_scope");
    let create = json!({"name": "wider", "scopes": ["profile:read"]});
    app.post("/api/tokens", Some(&token), create)
        .await
        .assert_problem(403, "insufficient_scope");
    for id in [id_of(&entry), id_of(&other)] {
        app.regenerate(&token, &id)
            .await
            .assert_problem(403, "insufficient_scope");
    }
    app.post(
        "/api/auth/sudo",
        Some(&token),
        json!({"password": PASSWORD}),
    )
    .await
    .assert_problem(403, "insufficient_scope");
    let change = json!({"current_password": PASSWORD, "new_password": "a new password"});
    app.post("/api/auth/password", Some(&token), change)
        .await
        .assert_problem(403, "insufficient_scope");

    // Nothing happened: no new token, the same secrets, the same password.
    assert_eq!(token_rows(&app).await, before);
    assert_valid(&app, &token).await;
    assert_eq!(app.try_login("alice", PASSWORD).await.status, Status::Ok);
    assert_eq!(
        app.try_login("alice", "a new password").await.status,
        Status::Unauthorized
    );
}

#[rocket::async_test]
async fn a_request_that_breaks_the_rules_is_refused_with_422() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    let long = "x".repeat(101);
    let bad = [
        json!({"name": "ci", "scopes": ["admin"]}),
        json!({"name": "ci", "scopes": ["sessions:read", "admin"]}),
        json!({"name": "ci", "scopes": ["*"]}),
        json!({"name": "ci", "scopes": ["Sessions:Read"]}),
        json!({"name": "ci", "scopes": []}),
        json!({"name": "", "scopes": ["sessions:read"]}),
        json!({"name": "   ", "scopes": ["sessions:read"]}),
        json!({"name": long, "scopes": ["sessions:read"]}),
        json!({"name": "c\u{7}i", "scopes": ["sessions:read"]}),
        json!({"name": "two\nlines", "scopes": ["sessions:read"]}),
        json!({"name": "nul\u{0}", "scopes": ["sessions:read"]}),
        json!({"name": "ci", "scopes": ["sessions:read"], "expires_in_days": 0}),
        json!({"name": "ci", "scopes": ["sessions:read"], "expires_in_days": 366}),
        // A right password does not excuse a bad request.
        json!({"name": "ci", "scopes": ["admin"], "password": PASSWORD}),
    ];
    for body in bad {
        let reply = app.post("/api/tokens", Some(&user), body.clone()).await;
        assert_eq!(reply.status.code, 422, "{body}: {}", reply.text);
        reply.assert_problem(422, "invalid_input");
    }
    assert_eq!(token_rows(&app).await, 0);

    // The edges themselves are allowed: 1 and 100 characters (not bytes), 1 and 365 days.
    let good = [
        json!({"name": "x", "scopes": ["sessions:read"], "expires_in_days": 1}),
        json!({"name": "é".repeat(100), "scopes": ["sessions:read"], "expires_in_days": 365}),
        json!({"name": format!("  {}  ", "y".repeat(100)), "scopes": all_scopes()}),
    ];
    for body in good {
        let reply = app.post("/api/tokens", Some(&user), body.clone()).await;
        assert_eq!(reply.status, Status::Created, "{body}: {}", reply.text);
    }
    assert_eq!(token_rows(&app).await, 3);
}

#[rocket::async_test]
async fn the_longest_expiry_follows_token_max_days() {
    let app = TestApp::with(build, json!({"token_max_days": 10})).await;
    let user = app.user_token("alice").await;
    let body = json!({"name": "ci", "scopes": ["sessions:read"], "expires_in_days": 11});
    let reply = app.post("/api/tokens", Some(&user), body).await;
    reply.assert_problem(422, "invalid_input");
    let body = json!({"name": "ci", "scopes": ["sessions:read"], "expires_in_days": 10});
    let reply = app.post("/api/tokens", Some(&user), body).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    let now = app.clock().now();
    assert_eq!(unix(&reply.json()["session"]["expires_at"]), now + 10 * DAY);
    // The default of 30 days is cut to the maximum.
    let body = json!({"name": "default", "scopes": ["sessions:read"]});
    let reply = app.post("/api/tokens", Some(&user), body).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    assert_eq!(unix(&reply.json()["session"]["expires_at"]), now + 10 * DAY);
}

#[rocket::async_test]
async fn a_token_expires_in_30_days_unless_it_asks_otherwise() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    let now = app.clock().now();
    let reply = app
        .try_personal_token(&user, "ci", &["sessions:read"])
        .await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    let body = reply.json();
    let text = body["token"].as_str().unwrap();
    assert!(text.starts_with(DEFAULT_PREFIX), "{text}");
    let session = &body["session"];
    assert_eq!(unix(&session["expires_at"]), now + 30 * DAY, "{session}");
    assert_eq!(unix(&session["created_at"]), now, "{session}");

    app.advance(100);
    let body = json!({"name": "week", "scopes": ["sessions:read"], "expires_in_days": 7});
    let reply = app.post("/api/tokens", Some(&user), body).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    let session = &reply.json()["session"];
    assert_eq!(
        unix(&session["expires_at"]),
        now + 100 + 7 * DAY,
        "{session}"
    );
    // As listed, too.
    let list = app.get("/api/sessions", Some(&user)).await.json();
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == session["id"])
        .expect("listed");
    assert_eq!(listed["expires_at"], session["expires_at"]);
}

// ---------------------------------------------------------------------------------------------
// The cap
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn one_token_past_max_tokens_is_refused_and_nothing_is_evicted() {
    let app = TestApp::with(build, json!({"max_tokens": 2})).await;
    let user = app.user_token("alice").await;
    let (first, _) = app.personal_token(&user, "one", &["profile:read"]).await;
    let (second, second_entry) = app.personal_token(&user, "two", &["profile:read"]).await;
    let reply = app
        .try_personal_token(&user, "three", &["profile:read"])
        .await;
    reply.assert_problem(409, "too_many_tokens");
    assert_valid(&app, &first).await;
    assert_valid(&app, &second).await;
    assert_eq!(token_rows(&app).await, 2);

    // The cap is per user.
    let bob = app.user_token("bob").await;
    app.personal_token(&bob, "bob's", &["profile:read"]).await;

    // Revoking one frees its slot.
    let reply = app.revoke(&user, &id_of(&second_entry)).await;
    assert_eq!(reply.status, Status::NoContent);
    assert_refused(&app, &second).await;
    let (third, _) = app.personal_token(&user, "three", &["profile:read"]).await;
    assert_valid(&app, &third).await;
    assert_valid(&app, &first).await;
    app.try_personal_token(&user, "four", &["profile:read"])
        .await
        .assert_problem(409, "too_many_tokens");
}

#[rocket::async_test]
async fn an_expired_token_frees_its_slot() {
    let app = TestApp::with(build, json!({"max_tokens": 1, "idle_timeout": 0})).await;
    let user = app.user_token("alice").await;
    let body = json!({"name": "short", "scopes": ["profile:read"], "expires_in_days": 1});
    let reply = app.post("/api/tokens", Some(&user), body).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    app.try_personal_token(&user, "more", &["profile:read"])
        .await
        .assert_problem(409, "too_many_tokens");
    app.advance(DAY + 1);
    let user = app.login("alice", PASSWORD).await;
    app.personal_token(&user, "more", &["profile:read"]).await;
}

#[rocket::async_test]
async fn tokens_neither_count_toward_nor_are_evicted_by_max_sessions() {
    let app = TestApp::with(build, json!({"max_sessions": 2})).await;
    let user = app.user_token("alice").await;
    let (token, entry) = app.personal_token(&user, "ci", &["profile:read"]).await;
    let (second, _) = app.personal_token(&user, "ci2", &["profile:read"]).await;
    let mut last = String::new();
    for _ in 0..3 {
        app.advance(1);
        last = app.login("alice", PASSWORD).await;
    }
    assert_valid(&app, &token).await;
    assert_valid(&app, &second).await;
    // The sign-ins are capped at two; the tokens come on top.
    assert_refused(&app, &user).await;
    let ids = app.listed_ids(&last).await;
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(ids.contains(&id_of(&entry)));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE kind <> 'token'")
            .await,
        2
    );
}

// ---------------------------------------------------------------------------------------------
// Lifetimes and what ends a token
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn a_token_outlives_the_idle_timeout_and_ends_at_its_own_expiry() {
    let app = TestApp::with(build, json!({"idle_timeout": 100, "touch_interval": 10})).await;
    let user = app.user_token("alice").await;
    let body = json!({"name": "monthly", "scopes": ["profile:read"], "expires_in_days": 2});
    let reply = app.post("/api/tokens", Some(&user), body).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    let body = reply.json();
    let token = body["token"].as_str().unwrap().to_string();
    let id = id_of(&body["session"]);

    // Never used, far past the idle timeout: the sign-in ended, the token did not.
    app.advance(DAY);
    assert_refused(&app, &user).await;
    let user = app.login("alice", PASSWORD).await;
    assert!(app.listed_ids(&user).await.contains(&id));
    assert_valid(&app, &token).await;
    // Its expiry does not move with use, and the list says so.
    let list = app.get("/api/sessions", Some(&user)).await.json();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id.as_str());
    assert_eq!(
        unix(&entry.unwrap()["expires_at"]),
        unix(&body["session"]["expires_at"])
    );

    app.advance(DAY - 2);
    let user = app.login("alice", PASSWORD).await;
    assert_valid(&app, &token).await;
    app.advance(2);
    assert_refused(&app, &token).await;
    assert!(!app.listed_ids(&user).await.contains(&id));
}

#[rocket::async_test]
async fn a_token_ends_at_its_own_expiry_not_at_the_session_lifetime() {
    let app = TestApp::with(build, json!({"session_lifetime": 3600, "idle_timeout": 0})).await;
    let user = app.user_token("alice").await;
    let body = json!({"name": "long", "scopes": ["profile:read"], "expires_in_days": 3});
    let reply = app.post("/api/tokens", Some(&user), body).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    let token = reply.json()["token"].as_str().unwrap().to_string();
    app.advance(2 * DAY);
    assert_refused(&app, &user).await;
    assert_valid(&app, &token).await;
    app.advance(DAY);
    assert_refused(&app, &token).await;
}

#[rocket::async_test]
async fn a_password_change_ends_every_token_and_other_session_but_the_current_one() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    let other = app.login("alice", PASSWORD).await;
    let (first, _) = app.personal_token(&user, "one", &["profile:read"]).await;
    let (second, _) = app.personal_token(&other, "two", &all_scopes()).await;
    let bob = app.user_token("bob").await;
    let (bobs, _) = app.personal_token(&bob, "bob's", &["profile:read"]).await;
    for token in [&first, &second] {
        assert_valid(&app, token).await;
    }

    let change = json!({"current_password": PASSWORD, "new_password": "a new password"});
    let reply = app.post("/api/auth/password", Some(&user), change).await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    for token in [&first, &second, &other] {
        assert_refused(&app, token).await;
    }
    assert_valid(&app, &user).await;
    assert_eq!(app.listed_ids(&user).await.len(), 1);
    assert_eq!(token_rows(&app).await, 1);
    assert_valid(&app, &bobs).await;
}

#[rocket::async_test]
async fn logout_all_ends_the_tokens_too_and_a_token_may_do_it() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    let (first, _) = app.personal_token(&user, "one", &["profile:read"]).await;
    let (writer, _) = app
        .personal_token(&user, "writer", &["sessions:write", "profile:read"])
        .await;
    let reply = app
        .call("POST", "/api/auth/logout-all", Some(&user), None)
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    for token in [&user, &first, &writer] {
        assert_refused(&app, token).await;
    }
    assert_eq!(token_rows(&app).await, 0);

    // A token with sessions:write signs out everywhere, itself included.
    let user = app.login("alice", PASSWORD).await;
    let (writer, _) = app
        .personal_token(&user, "writer", &["sessions:write", "profile:read"])
        .await;
    let reply = app
        .call("POST", "/api/auth/logout-all", Some(&writer), None)
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    assert_refused(&app, &writer).await;
    assert_refused(&app, &user).await;
}

#[rocket::async_test]
async fn a_token_is_revoked_by_id_like_any_session_and_may_log_itself_out() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    let (token, entry) = app.personal_token(&user, "one", &["sessions:read"]).await;
    let reply = app
        .call("POST", "/api/auth/logout", Some(&token), None)
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    assert_eq!(
        app.get("/api/sessions", Some(&token)).await.status,
        Status::Unauthorized
    );
    assert!(!app.listed_ids(&user).await.contains(&id_of(&entry)));
    assert_valid(&app, &user).await;

    let (token, entry) = app.personal_token(&user, "two", &["profile:read"]).await;
    let bob = app.user_token("bob").await;
    app.revoke(&bob, &id_of(&entry))
        .await
        .assert_problem(404, "not_found");
    assert_valid(&app, &token).await;
    assert_eq!(
        app.revoke(&user, &id_of(&entry)).await.status,
        Status::NoContent
    );
    assert_refused(&app, &token).await;
}

// ---------------------------------------------------------------------------------------------
// Regenerate
// ---------------------------------------------------------------------------------------------

#[rocket::async_test]
async fn regenerating_keeps_id_name_and_scopes_and_refuses_the_old_secret_at_once() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    let body = json!({"name": "deploy", "scopes": ["profile:read", "sessions:read"], "expires_in_days": 10});
    let reply = app.post("/api/tokens", Some(&user), body).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    let created = reply.json();
    let old = created["token"].as_str().unwrap().to_string();
    let id = id_of(&created["session"]);
    let start = app.clock().now();
    assert_eq!(unix(&created["session"]["expires_at"]), start + 10 * DAY);
    // Cached, so that the regeneration must reach the cache.
    assert_valid(&app, &old).await;
    assert_valid(&app, &old).await;

    app.advance(3 * DAY);
    let user = app.login("alice", PASSWORD).await;
    let reply = app.regenerate(&user, &id).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    let renewed = reply.json();
    let new = renewed["token"].as_str().unwrap().to_string();
    let session = &renewed["session"];
    assert_ne!(new, old);
    assert!(new.starts_with(DEFAULT_PREFIX));
    assert_eq!(session["id"], id.as_str());
    assert_eq!(session["name"], "deploy");
    assert_eq!(session["kind"], "token");
    assert_eq!(session["scopes"], created["session"]["scopes"]);
    assert_eq!(session["created_at"], created["session"]["created_at"]);
    // The same length, from now.
    assert_eq!(unix(&session["expires_at"]), start + 3 * DAY + 10 * DAY);

    assert_refused(&app, &old).await;
    assert_valid(&app, &new).await;
    assert_eq!(token_rows(&app).await, 1);
    let ids = app.listed_ids(&user).await;
    assert_eq!(ids.iter().filter(|i| **i == id).count(), 1);

    // A second regeneration again restarts it (from a fresh sign-in: a day is past sudo).
    app.advance(DAY);
    let user = app.login("alice", PASSWORD).await;
    let reply = app.regenerate(&user, &id).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    let third = reply.json();
    assert_eq!(
        unix(&third["session"]["expires_at"]),
        start + 4 * DAY + 10 * DAY
    );
    assert_refused(&app, &new).await;
    assert_valid(&app, third["token"].as_str().unwrap()).await;
}

#[rocket::async_test]
async fn regenerating_what_is_not_ones_own_live_token_is_404() {
    let app = TestApp::new(build).await;
    let alice = app.user_token("alice").await;
    let second = app.login("alice", PASSWORD).await;
    let bob = app.user_token("bob").await;
    let (bobs, bobs_entry) = app.personal_token(&bob, "bob's", &["profile:read"]).await;

    // Another user's token.
    app.regenerate(&alice, &id_of(&bobs_entry))
        .await
        .assert_problem(404, "not_found");
    assert_valid(&app, &bobs).await;
    // A sign-in session, the current one and another.
    let own = app.get("/api/sessions", Some(&alice)).await.json();
    for entry in own.as_array().unwrap() {
        app.regenerate(&alice, &id_of(entry))
            .await
            .assert_problem(404, "not_found");
    }
    assert_valid(&app, &second).await;
    assert_valid(&app, &alice).await;
    // No such id, or not an id at all.
    for id in ["AAAAAAAAAAAAAAAAAAAAAA", "nope"] {
        app.regenerate(&alice, id)
            .await
            .assert_problem(404, "not_found");
    }
    // A token that has expired.
    let body = json!({"name": "short", "scopes": ["profile:read"], "expires_in_days": 1});
    let reply = app.post("/api/tokens", Some(&alice), body).await;
    let short = id_of(&reply.json()["session"]);
    app.advance(DAY + 1);
    let alice = app.login("alice", PASSWORD).await;
    app.regenerate(&alice, &short)
        .await
        .assert_problem(404, "not_found");
}

#[rocket::async_test]
async fn regenerating_needs_sudo_and_the_sudo_elevates_the_same_session() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    let (old, entry) = app.personal_token(&user, "ci", &["profile:read"]).await;
    let id = id_of(&entry);
    let before = app.session_count().await;
    let current = |list: Value| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == true)
            .map(id_of)
            .expect("a current session")
    };
    let me = current(app.get("/api/sessions", Some(&user)).await.json());

    app.advance(61);
    app.regenerate(&user, &id)
        .await
        .assert_problem(403, "sudo_required");
    assert_valid(&app, &old).await;

    let reply = app
        .post("/api/auth/sudo", Some(&user), json!({"password": PASSWORD}))
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    assert!(reply.text.is_empty(), "no new token: {}", reply.text);
    let reply = app.regenerate(&user, &id).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_refused(&app, &old).await;

    assert_eq!(app.session_count().await, before);
    assert_eq!(
        current(app.get("/api/sessions", Some(&user)).await.json()),
        me
    );
}

#[rocket::async_test]
async fn a_token_created_while_the_password_changes_never_outlives_the_change() {
    // A slower hash widens the window between the creation's password check and its write.
    let app = TestApp::with(build, json!({"bcrypt_cost": 6})).await;
    for i in 0..40u64 {
        let name = format!("user{i}");
        let creator = app.user_token(&name).await;
        let changer = app.login(&name, PASSWORD).await;
        let change = json!({"current_password": PASSWORD, "new_password": "another password"});
        let create = json!({"name": "ci", "scopes": ["profile:read"], "password": PASSWORD});
        let (changed, created) = rocket::tokio::join!(
            app.post("/api/auth/password", Some(&changer), change),
            async {
                let delay = std::time::Duration::from_micros(i * 250);
                rocket::tokio::time::sleep(delay).await;
                app.post("/api/tokens", Some(&creator), create).await
            }
        );
        assert_eq!(changed.status, Status::NoContent, "{}", changed.text);
        assert!(matches!(created.status.code, 201 | 401), "{}", created.text);
        // Whichever came first, the change ended every token of the user.
        assert_eq!(token_rows(&app).await, 0, "round {i}: {}", created.text);
        if created.status == Status::Created {
            assert_refused(&app, created.json()["token"].as_str().unwrap()).await;
        }
        assert_refused(&app, &creator).await;
    }
}

#[rocket::async_test]
async fn concurrent_creations_never_pass_max_tokens() {
    let app = TestApp::with(build, json!({"max_tokens": 2})).await;
    let user = app.user_token("alice").await;
    let body = json!({"name": "ci", "scopes": ["profile:read"]});
    let replies =
        join_all((0..6).map(|_| app.post("/api/tokens", Some(&user), body.clone()))).await;
    let created = replies
        .iter()
        .filter(|r| r.status == Status::Created)
        .count();
    for reply in replies.iter().filter(|r| r.status != Status::Created) {
        reply.assert_problem(409, "too_many_tokens");
    }
    assert_eq!(created, 2);
    assert_eq!(token_rows(&app).await, 2);
}

#[rocket::async_test]
async fn concurrent_regenerations_leave_exactly_one_working_secret() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    let (old, entry) = app.personal_token(&user, "ci", &["profile:read"]).await;
    let id = id_of(&entry);
    let replies = join_all((0..4).map(|_| app.regenerate(&user, &id))).await;
    let mut working = 0;
    for reply in &replies {
        assert!(matches!(reply.status.code, 200 | 404), "{}", reply.text);
        if reply.status == Status::Ok {
            let text = reply.json()["token"].as_str().unwrap().to_string();
            if app.get("/api/me", Some(&text)).await.status == Status::Ok {
                working += 1;
            }
        }
    }
    assert_eq!(working, 1);
    assert_refused(&app, &old).await;
    assert_eq!(token_rows(&app).await, 1);
}

#[rocket::async_test]
async fn odd_values_are_422_and_names_are_trimmed_and_scopes_deduplicated() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    for days in [
        json!(-1),
        json!(1.5),
        json!("30"),
        json!(4_294_967_296u64),
        json!(null),
    ] {
        let body = json!({"name": "ci", "scopes": ["sessions:read"], "expires_in_days": days});
        let reply = app.post("/api/tokens", Some(&user), body).await;
        if days.is_null() {
            // Left out, as far as JSON goes: the default.
            assert_eq!(reply.status, Status::Created, "{}", reply.text);
        } else {
            assert_eq!(reply.status.code, 422, "{days}: {}", reply.text);
        }
    }
    for body in [
        json!({"name": 7, "scopes": ["sessions:read"]}),
        json!({"name": "ci", "scopes": "sessions:read"}),
        json!({"name": "ci"}),
        json!({"scopes": ["sessions:read"]}),
    ] {
        let reply = app.post("/api/tokens", Some(&user), body.clone()).await;
        assert!(
            matches!(reply.status.code, 400 | 422),
            "{body}: {}",
            reply.text
        );
    }
    assert_eq!(token_rows(&app).await, 1);

    let body = json!({"name": "  deploy bot\t", "scopes": ["sessions:read", "sessions:read", "profile:read"]});
    let reply = app.post("/api/tokens", Some(&user), body).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    let entry = &reply.json()["session"];
    assert_eq!(entry["name"], "deploy bot");
    assert_eq!(entry["scopes"].as_array().unwrap().len(), 2, "{entry}");
}
