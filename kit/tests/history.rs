//! Session history: every way a session ends is kept with its reason, listed by
//! `GET /api/sessions?state=ended` and the device page's "Recently signed out", and deleted past
//! `history_retention`. An ended session never authenticates. Each end is also an entry of the
//! security activity log, written in the same transaction.

mod common;
use common::web::*;
use common::*;

use rocket::http::Status;
use serde_json::{json, Value};

/// `GET /api/sessions?state=ended` with `token`, asserting 200.
async fn ended(app: &TestApp, token: &str) -> Vec<Value> {
    let reply = app.get("/api/sessions?state=ended", Some(token)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    reply.json().as_array().expect("a list").clone()
}

/// The reason kept for the ended session `id`, as `token`'s user sees it.
async fn reason_of(app: &TestApp, token: &str, id: &str) -> String {
    let list = ended(app, token).await;
    let entry = list
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the ended list: {list:?}"));
    assert_eq!(entry["current"], false);
    assert!(
        entry["ended_at"].as_str().unwrap().ends_with('Z'),
        "{entry}"
    );
    entry["end_reason"].as_str().unwrap().to_string()
}

/// The id of `token`'s own session.
async fn id_of(app: &TestApp, token: &str) -> String {
    let list = app.get("/api/sessions", Some(token)).await.json();
    let own = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true);
    own.expect("the current session")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn activity_count(app: &TestApp, kind: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM activity WHERE type = '{kind}'"
    ))
    .await
}

#[rocket::async_test]
async fn logout_and_logout_all_are_kept_as_such() {
    let app = TestApp::new(build).await;
    let keeper = app.user_token("alice").await;
    let gone = app.login("alice", PASSWORD).await;
    let gone_id = id_of(&app, &gone).await;
    let reply = app.post("/api/auth/logout", Some(&gone), json!({})).await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    assert_eq!(
        app.get("/api/me", Some(&gone)).await.status,
        Status::Unauthorized
    );
    assert_eq!(reason_of(&app, &keeper, &gone_id).await, "logout");

    // Logout-all ends the keeper too: read its history from a new sign-in.
    let keeper_id = id_of(&app, &keeper).await;
    let reply = app
        .post("/api/auth/logout-all", Some(&keeper), json!({}))
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    let fresh = app.login("alice", PASSWORD).await;
    assert_eq!(reason_of(&app, &fresh, &keeper_id).await, "logout_all");
    assert_eq!(activity_count(&app, "signed_out").await, 2);
    // The plain list shows live sessions only.
    assert_eq!(
        app.listed_ids(&fresh).await,
        vec![id_of(&app, &fresh).await]
    );
}

#[rocket::async_test]
async fn revoking_by_id_and_signing_out_the_others_are_kept_with_their_reasons() {
    let app = TestApp::new(build).await;
    assert_redirect(&browser_sign_in(&app, "alice").await, "/sessions");
    let api = app.login("alice", PASSWORD).await;
    let victim = app.login("alice", PASSWORD).await;
    let victim_id = id_of(&app, &victim).await;
    assert_eq!(app.revoke(&api, &victim_id).await.status, Status::NoContent);
    assert_eq!(
        app.get("/api/me", Some(&victim)).await.status,
        Status::Unauthorized
    );
    assert_eq!(reason_of(&app, &api, &victim_id).await, "revoked");
    // The activity log says which session ended, and why.
    let log = app.get("/api/activity?limit=1", Some(&api)).await.json();
    let entry = &log["events"][0];
    assert_eq!(entry["type"], "session_revoked", "{log}");
    assert_eq!(entry["session_id"], victim_id.as_str(), "{log}");
    assert_eq!(entry["detail"]["reason"], "revoked", "{log}");
    assert_eq!(entry["device"], "Unknown device", "{log}");
    // The device page's "Sign out all other devices".
    let api_id = id_of(&app, &api).await;
    let page = get_page(&app, "/sessions").await;
    let reply = submit(
        &app,
        "/sessions/revoke-others",
        &[("csrf", &csrf_of(&page.text))],
    )
    .await;
    assert_redirect(&reply, "/sessions");
    assert_eq!(
        app.get("/api/me", Some(&api)).await.status,
        Status::Unauthorized
    );
    let fresh = app.login("alice", PASSWORD).await;
    assert_eq!(reason_of(&app, &fresh, &api_id).await, "revoked_others");
    let revoked = app
        .count("SELECT COUNT(*) FROM activity WHERE type = 'session_revoked' AND detail LIKE '%\"revoked%'")
        .await;
    assert_eq!(revoked, 2);
}

#[rocket::async_test]
async fn a_password_change_an_eviction_and_the_command_line_are_kept_with_their_reasons() {
    let app = TestApp::with(build, json!({"max_sessions": 2})).await;
    let first = app.user_token("alice").await;
    let first_id = id_of(&app, &first).await;
    app.advance(10);
    let second = app.login("alice", PASSWORD).await;
    app.advance(10);
    let third = app.login("alice", PASSWORD).await; // Over the cap: the least recently used goes.
    assert_eq!(
        app.get("/api/me", Some(&first)).await.status,
        Status::Unauthorized
    );
    assert_eq!(reason_of(&app, &third, &first_id).await, "evicted");

    let second_id = id_of(&app, &second).await;
    app.advance(10);
    assert!(app.auth().revoke_by_id(&second_id).await.unwrap());
    assert_eq!(reason_of(&app, &third, &second_id).await, "admin");

    let other = app.login("alice", PASSWORD).await;
    let other_id = id_of(&app, &other).await;
    app.advance(10);
    let change = json!({"current_password": PASSWORD, "new_password": "a new password"});
    let reply = app.post("/api/auth/password", Some(&third), change).await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    assert_eq!(reason_of(&app, &third, &other_id).await, "password_changed");
    assert_eq!(activity_count(&app, "password_changed").await, 1);
    // Most recently ended first.
    let order: Vec<Value> = ended(&app, &third)
        .await
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(
        order,
        vec![json!(other_id), json!(second_id), json!(first_id)]
    );
}

#[rocket::async_test]
async fn expired_and_idle_sessions_get_their_reason_by_the_sweep_at_their_real_end() {
    let app = TestApp::with(
        build,
        json!({"session_lifetime": 1000, "idle_timeout": 300, "touch_interval": 10}),
    )
    .await;
    let keeper = app.user_token("alice").await;
    let idle = app.login("alice", PASSWORD).await;
    let idle_id = id_of(&app, &idle).await;
    // The keeper stays in use; the other one is left alone past its idle timeout.
    for _ in 0..4 {
        app.advance(100);
        assert_eq!(app.get("/api/me", Some(&keeper)).await.status, Status::Ok);
    }
    assert_eq!(app.auth().sweep().await.unwrap(), 1);
    assert_eq!(reason_of(&app, &keeper, &idle_id).await, "idle");
    let entry = ended(&app, &keeper).await[0].clone();
    let created = time::OffsetDateTime::parse(
        entry["created_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let ended_at = time::OffsetDateTime::parse(
        entry["ended_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    // Ended when its idle timeout ran out, not when the sweep found it.
    assert_eq!((ended_at - created).whole_seconds(), 300);

    let keeper_id = id_of(&app, &keeper).await;
    app.advance(700); // Past the keeper's absolute lifetime.
    assert_eq!(
        app.get("/api/me", Some(&keeper)).await.status,
        Status::Unauthorized
    );
    let fresh = app.login("alice", PASSWORD).await;
    assert_eq!(reason_of(&app, &fresh, &keeper_id).await, "expired");
}

#[rocket::async_test]
async fn an_ended_session_shows_the_expires_at_it_had_while_live() {
    let app = TestApp::with(
        build,
        json!({"session_lifetime": 1000, "idle_timeout": 300, "touch_interval": 1}),
    )
    .await;
    let keeper = app.user_token("alice").await;
    let phone = app.login("alice", PASSWORD).await;
    let phone_id = id_of(&app, &phone).await;
    let idle = app.login("alice", PASSWORD).await;
    let idle_id = id_of(&app, &idle).await;
    app.advance(100);
    assert_eq!(app.get("/api/me", Some(&phone)).await.status, Status::Ok);
    let live = app.get("/api/sessions", Some(&keeper)).await.json();
    let live = live
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == phone_id);
    let live = live.expect("the phone is live")["expires_at"].clone();
    // Its idle end (last use + 300 s) comes before its absolute end (sign-in + 1000 s).
    let unix = |v: &Value| {
        time::OffsetDateTime::parse(
            v.as_str().expect("a timestamp"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("RFC 3339")
        .unix_timestamp()
    };
    assert_eq!(unix(&live), app.clock().now() + 300);

    app.advance(50);
    let reply = app.post("/api/auth/logout", Some(&phone), json!({})).await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    let list = ended(&app, &keeper).await;
    let entry = list.iter().find(|s| s["id"] == phone_id).expect("kept");
    assert_eq!(entry["end_reason"], "logout");
    assert_eq!(
        entry["expires_at"], live,
        "the same moment in both lists: {entry}"
    );

    // Ended by its idle timeout, a session's expires_at is when it ended.
    for _ in 0..3 {
        app.advance(100);
        assert_eq!(app.get("/api/me", Some(&keeper)).await.status, Status::Ok);
    }
    app.auth().sweep().await.unwrap();
    let list = ended(&app, &keeper).await;
    let entry = list.iter().find(|s| s["id"] == idle_id).expect("kept");
    assert_eq!(entry["end_reason"], "idle");
    assert_eq!(entry["expires_at"], entry["ended_at"], "{entry}");
}

#[rocket::async_test]
async fn history_is_deleted_past_its_retention_and_kept_not_at_all_at_zero() {
    let app = TestApp::with(build, json!({"history_retention": 100})).await;
    let keeper = app.user_token("alice").await;
    let gone = app.login("alice", PASSWORD).await;
    app.post("/api/auth/logout", Some(&gone), json!({})).await;
    assert_eq!(ended(&app, &keeper).await.len(), 1);
    app.advance(99);
    app.auth().sweep().await.unwrap();
    assert_eq!(ended(&app, &keeper).await.len(), 1);
    app.advance(2);
    app.auth().sweep().await.unwrap();
    assert!(ended(&app, &keeper).await.is_empty());
    assert_eq!(app.count("SELECT COUNT(*) FROM session_history").await, 0);

    let app = TestApp::with(build, json!({"history_retention": 0})).await;
    let keeper = app.user_token("alice").await;
    let gone = app.login("alice", PASSWORD).await;
    app.post("/api/auth/logout", Some(&gone), json!({})).await;
    assert!(ended(&app, &keeper).await.is_empty());
    // The activity log keeps its entry: it has its own retention.
    assert_eq!(activity_count(&app, "signed_out").await, 1);
}

#[rocket::async_test]
async fn each_user_sees_only_their_own_history() {
    let app = TestApp::new(build).await;
    let alice = app.user_token("alice").await;
    let bob = app.user_token("bob").await;
    let bobs_other = app.login("bob", PASSWORD).await;
    app.post("/api/auth/logout", Some(&bobs_other), json!({}))
        .await;
    assert!(ended(&app, &alice).await.is_empty());
    assert_eq!(ended(&app, &bob).await.len(), 1);
}

#[rocket::async_test]
async fn an_unknown_state_is_422_and_the_ended_list_needs_sessions_read() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    for state in ["junk", "ENDED", "", "ended&state=ended", "null&state=null"] {
        let reply = app
            .get(&format!("/api/sessions?state={state}"), Some(&user))
            .await;
        reply.assert_problem(422, "invalid_input");
    }
    let reply = app.get("/api/sessions?state=live", Some(&user)).await;
    assert_eq!(reply.status, Status::Ok);
    let (profile, _) = app
        .personal_token(&user, "profile", &["profile:read"])
        .await;
    app.get("/api/sessions?state=ended", Some(&profile))
        .await
        .assert_problem(403, "insufficient_scope");
    let (reader, _) = app
        .personal_token(&user, "reader", &["sessions:read"])
        .await;
    assert!(ended(&app, &reader).await.is_empty());
}

#[rocket::async_test]
async fn the_device_page_shows_recently_signed_out_sessions_in_words_without_revoke() {
    let app = TestApp::new(build).await;
    assert_redirect(&browser_sign_in(&app, "alice").await, "/sessions");
    let body = json!({"username": "alice", "password": PASSWORD, "name": "<b>old phone</b>"});
    let reply = app
        .login_with(body, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "10.1.2.3:4000")
        .await;
    let phone = reply.json()["token"].as_str().unwrap().to_string();
    let phone_id = id_of(&app, &phone).await;
    let page = get_page(&app, "/sessions").await;
    assert!(
        !page.text.contains("Recently signed out"),
        "nothing has ended yet"
    );
    let csrf = csrf_of(&page.text);
    let reply = submit(
        &app,
        &format!("/sessions/{phone_id}/revoke"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_redirect(&reply, "/sessions");

    let page = get_page(&app, "/sessions").await;
    let history = &page.text[page.text.find("Recently signed out").expect("the section")..];
    assert!(history.contains("Safari on iPhone"), "{history}");
    assert!(history.contains("Revoked from another device"), "{history}");
    assert!(history.contains("data-reason=\"revoked\""), "{history}");
    assert!(history.contains("just now"), "{history}");
    assert!(history.contains("&lt;b&gt;old phone&lt;"), "{history}");
    assert!(!history.contains("<b>old phone"), "{history}");
    assert!(
        !history.contains(&format!("/sessions/{phone_id}/revoke")),
        "{history}"
    );
}

#[rocket::async_test]
async fn the_device_page_shows_the_last_address_when_it_is_not_the_sign_in_address() {
    let app = TestApp::with(build, json!({"touch_interval": 10})).await;
    assert_redirect(&browser_sign_in(&app, "alice").await, "/sessions");
    let body = json!({"username": "alice", "password": PASSWORD, "name": "laptop"});
    let reply = app.login_with(body, "curl/8.5.0", "10.1.2.3:4000").await;
    let token = reply.json()["token"].as_str().unwrap().to_string();
    let page = get_page(&app, "/sessions").await;
    assert!(!page.text.contains("Last used from"), "same address so far");
    app.advance(20);
    let used = app
        .call_from("GET", "/api/me", Some(&token), None, "198.51.100.9:5000")
        .await;
    assert_eq!(used.status, Status::Ok);
    let page = get_page(&app, "/sessions").await;
    assert!(page.text.contains("Last used from"), "{}", page.text);
    assert!(page.text.contains("198.51.100.9"), "{}", page.text);
}

#[rocket::async_test]
async fn token_and_sudo_actions_are_logged_with_the_action_and_carry_no_secret() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let user = app.user_token("alice").await;
    let (token, entry) = app.personal_token(&user, "ci", &["profile:read"]).await;
    let id = entry["id"].as_str().unwrap().to_string();
    let reply = app.regenerate(&user, &id).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    let new_token = reply.json()["token"].as_str().unwrap().to_string();
    app.advance(61);
    let wrong = app
        .post(
            "/api/auth/sudo",
            Some(&user),
            json!({"password": "not the password"}),
        )
        .await;
    wrong.assert_problem(401, "invalid_credentials");
    let right = app
        .post("/api/auth/sudo", Some(&user), json!({"password": PASSWORD}))
        .await;
    assert_eq!(right.status, Status::NoContent, "{}", right.text);

    assert_eq!(activity_count(&app, "token_created").await, 1);
    assert_eq!(activity_count(&app, "token_regenerated").await, 1);
    assert_eq!(activity_count(&app, "sudo_granted").await, 1);
    assert_eq!(activity_count(&app, "sign_in_failed").await, 1);
    let created = app
        .count(&format!(
            "SELECT COUNT(*) FROM activity WHERE type = 'token_created' AND session_id = '{id}' \
             AND detail LIKE '%profile:read%'"
        ))
        .await;
    assert_eq!(created, 1);
    // No entry holds a token, a password or a hash.
    for secret in [
        token.as_str(),
        new_token.as_str(),
        user.as_str(),
        PASSWORD,
        "not the password",
    ] {
        let found = app
            .count(&format!(
                "SELECT COUNT(*) FROM activity WHERE detail LIKE '%{secret}%' \
                 OR COALESCE(device, '') LIKE '%{secret}%' OR COALESCE(session_id, '') LIKE '%{secret}%'"
            ))
            .await;
        assert_eq!(found, 0, "an entry holds {secret}");
    }
}
