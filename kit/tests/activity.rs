//! The security activity log: what a sign-in records (and a failed one), when a sign-in is from a
//! new device, `GET /api/activity` and its paging, and the /activity page.

mod common;
use common::web::*;
use common::*;
use rocket::http::Status;
use serde_json::{json, Value};
use session_kit::events::AuthEvent;
use std::collections::BTreeSet;

const CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

/// Signs `username` in with `user_agent` from `from`; returns the token.
async fn sign_in(app: &TestApp, username: &str, user_agent: &str, from: &str) -> String {
    let body = json!({"username": username, "password": PASSWORD});
    let reply = app.login_with(body, user_agent, from).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    reply.json()["token"].as_str().expect("token").to_string()
}

/// `GET /api/activity` with this query, asserting 200.
async fn activity(app: &TestApp, token: &str, query: &str) -> Value {
    let reply = app.get(&format!("/api/activity{query}"), Some(token)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    reply.json()
}

fn events(page: &Value) -> &Vec<Value> {
    page["events"].as_array().expect("a list of events")
}

/// Signs in and says whether the newest entry, that sign-in's, is marked a new device.
async fn is_new(app: &TestApp, user_agent: &str, from: &str) -> bool {
    let token = sign_in(app, "alice", user_agent, from).await;
    let page = activity(app, &token, "?limit=1").await;
    let newest = &events(&page)[0];
    assert_eq!(newest["type"], "sign_in", "{newest}");
    newest["detail"]["new_device"]
        .as_bool()
        .expect("new_device")
}

#[rocket::async_test]
async fn a_sign_in_is_recorded_with_its_session_address_device_and_kind() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let body = json!({"username": "alice", "password": PASSWORD, "name": "laptop"});
    let reply = app.login_with(body, FIREFOX, "203.0.113.5:4000").await;
    let token = reply.json()["token"].as_str().unwrap().to_string();
    let session_id = reply.json()["session"]["id"].clone();

    let page = activity(&app, &token, "").await;
    assert_eq!(page["next"], Value::Null);
    let [entry] = events(&page).as_slice() else {
        panic!("one entry: {page}");
    };
    assert!(entry["id"].is_string(), "{entry}");
    assert_eq!(entry["type"], "sign_in");
    assert_eq!(entry["ip"], "203.0.113.5");
    assert_eq!(entry["device"], "Firefox on Linux");
    assert_eq!(entry["session_id"], session_id);
    assert_eq!(
        entry["detail"],
        json!({"kind": "api", "new_device": false, "name": "laptop"})
    );
    let at = entry["at"].as_str().expect("a time");
    let at = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    assert_eq!(at.offset(), time::UtcOffset::UTC);
    assert_eq!(at.unix_timestamp(), app.clock().now());
}

#[rocket::async_test]
async fn a_new_device_is_another_device_label_or_network() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    assert!(
        !is_new(&app, FIREFOX, "203.0.113.5:4000").await,
        "the first sign-in ever"
    );
    assert!(
        !is_new(&app, FIREFOX, "203.0.113.77:4000").await,
        "same label, same /24"
    );
    assert!(
        is_new(&app, CHROME, "203.0.113.5:4000").await,
        "another label"
    );
    assert!(
        !is_new(&app, CHROME, "203.0.113.6:4000").await,
        "that one, seen now"
    );
    assert!(
        is_new(&app, FIREFOX, "198.51.100.5:4000").await,
        "another /24"
    );
    assert!(
        is_new(&app, FIREFOX, "[2001:db8:1:2::5]:4000").await,
        "IPv6, first time"
    );
    assert!(
        !is_new(&app, FIREFOX, "[2001:db8:1:2:ffff::9]:4000").await,
        "same /64"
    );
    assert!(
        is_new(&app, FIREFOX, "[2001:db8:1:3::5]:4000").await,
        "another /64"
    );
}

#[rocket::async_test]
async fn a_device_not_seen_within_the_retention_is_new_again() {
    let app = TestApp::with(build, json!({"activity_retention": 3600})).await;
    app.signup("alice", PASSWORD).await;
    assert!(!is_new(&app, FIREFOX, "203.0.113.5:4000").await);
    app.advance(3000);
    assert!(
        !is_new(&app, FIREFOX, "203.0.113.5:4000").await,
        "seen 3000 s ago"
    );
    app.advance(3601);
    assert!(
        is_new(&app, FIREFOX, "203.0.113.5:4000").await,
        "last seen 3601 s ago"
    );
}

#[rocket::async_test]
async fn a_new_device_sign_in_is_announced_after_login_succeeded() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let mut events = app.events().subscribe();
    let drain = |events: &mut tokio::sync::broadcast::Receiver<AuthEvent>| {
        std::iter::from_fn(|| events.try_recv().ok()).collect::<Vec<_>>()
    };
    sign_in(&app, "alice", FIREFOX, "203.0.113.5:4000").await;
    sign_in(&app, "alice", FIREFOX, "203.0.113.9:4000").await;
    let names: Vec<_> = drain(&mut events).iter().map(AuthEvent::name).collect();
    assert_eq!(names, ["login_attempt", "login_succeeded"].repeat(2));

    let reply = app
        .login_with(
            json!({"username": "alice", "password": PASSWORD}),
            CHROME,
            "198.51.100.7:4000",
        )
        .await;
    let session_id = reply.json()["session"]["id"].as_str().unwrap().to_string();
    let seen = drain(&mut events);
    let names: Vec<_> = seen.iter().map(AuthEvent::name).collect();
    assert_eq!(
        names,
        ["login_attempt", "login_succeeded", "new_device_sign_in"]
    );
    let user_id = app
        .get("/api/me", Some(reply.json()["token"].as_str().unwrap()))
        .await
        .json()["id"]
        .as_i64();
    assert_eq!(
        seen[2],
        AuthEvent::NewDeviceSignIn {
            user_id: user_id.unwrap(),
            username: "alice".to_string(),
            session_id,
            ip: Some("198.51.100.7".to_string()),
            device: "Chrome on Linux".to_string(),
        }
    );
}

#[rocket::async_test]
async fn a_failed_sign_in_is_recorded_for_an_existing_account_only_and_without_the_password() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let typed = "my-guessed-Secret-42";
    for username in ["alice", "ALICE ", "nobody", "x"] {
        let body = json!({"username": username, "password": typed});
        let reply = app.login_with(body, CHROME, "198.51.100.7:4000").await;
        reply.assert_problem(401, "invalid_credentials");
    }
    let token = sign_in(&app, "alice", FIREFOX, "203.0.113.5:4000").await;
    let page = activity(&app, &token, "").await;
    let failures: Vec<&Value> = events(&page)
        .iter()
        .filter(|e| e["type"] == "sign_in_failed")
        .collect();
    // "alice" and "ALICE " are the account; "nobody" and "x" are no account at all.
    assert_eq!(failures.len(), 2, "{page}");
    for failure in failures {
        assert_eq!(failure["ip"], "198.51.100.7");
        assert_eq!(failure["device"], "Chrome on Linux");
        assert_eq!(failure["session_id"], Value::Null);
        assert_eq!(failure["detail"], json!({}));
    }
    assert!(!page.to_string().contains(typed), "{page}");
    assert!(!page.to_string().contains("ALICE"), "{page}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity WHERE type = 'sign_in_failed'")
            .await,
        2
    );
    let stored: Vec<(String,)> = sqlx::query_as("SELECT detail FROM activity")
        .fetch_all(&**app.auth().db())
        .await
        .unwrap();
    assert!(stored.iter().all(|(d,)| !d.contains(typed)));
}

#[rocket::async_test]
async fn a_disabled_user_s_sign_in_is_a_recorded_failure() {
    let app = TestApp::new(build).await;
    let created = app.signup("alice", PASSWORD).await;
    let id = created.json()["id"].as_i64().unwrap();
    assert!(app.auth().set_disabled(id, true).await.unwrap());
    app.try_login("alice", PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
    let failures = "SELECT COUNT(*) FROM activity WHERE type = 'sign_in_failed'";
    assert_eq!(app.count(failures).await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity WHERE type = 'sign_in'")
            .await,
        0
    );
}

#[rocket::async_test]
async fn a_throttled_attempt_records_nothing() {
    let app = TestApp::with(build, json!({"login_max_failures": 2})).await;
    app.signup("alice", PASSWORD).await;
    for _ in 0..2 {
        app.try_login("alice", "wrong password")
            .await
            .assert_problem(401, "invalid_credentials");
    }
    for password in ["wrong password", PASSWORD] {
        app.try_login("alice", password)
            .await
            .assert_problem(429, "throttled");
    }
    let failures = "SELECT COUNT(*) FROM activity WHERE type = 'sign_in_failed'";
    assert_eq!(app.count(failures).await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM activity WHERE type = 'sign_in'")
            .await,
        0
    );
}

/// Every id that paging with `limit` yields, following `next` to the end.
async fn walk(app: &TestApp, token: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut query = format!("?limit={limit}");
    for _ in 0..100 {
        let page = activity(app, token, &query).await;
        let got = events(&page);
        assert!(got.len() <= limit, "{page}");
        ids.extend(got.iter().map(|e| e["id"].as_str().unwrap().to_string()));
        match page["next"].as_str() {
            Some(next) => {
                assert_eq!(got.len(), limit, "a page before the last is full: {page}");
                query = format!("?limit={limit}&before={next}");
            }
            None => return ids,
        }
    }
    panic!("paging does not end");
}

#[rocket::async_test]
async fn paging_yields_every_entry_once_newest_first() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    for i in 0..8 {
        sign_in(&app, "alice", FIREFOX, &format!("203.0.113.{i}:4000")).await;
        app.try_login("alice", "wrong password").await;
    }
    let token = sign_in(&app, "alice", FIREFOX, "203.0.113.5:4000").await;
    let all = activity(&app, &token, "?limit=100").await;
    assert_eq!(all["next"], Value::Null);
    let every: Vec<String> = events(&all)
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(every.len(), 17);
    let numbers: Vec<i64> = every.iter().map(|id| id.parse().unwrap()).collect();
    assert!(
        numbers.windows(2).all(|w| w[0] > w[1]),
        "newest first: {numbers:?}"
    );
    for limit in 1..=3 {
        let walked = walk(&app, &token, limit).await;
        assert_eq!(walked, every, "limit {limit}");
        let unique: BTreeSet<&String> = walked.iter().collect();
        assert_eq!(unique.len(), walked.len());
    }
    // The default page holds 50.
    assert_eq!(events(&activity(&app, &token, "").await).len(), 17);
}

#[rocket::async_test]
async fn a_limit_out_of_range_or_a_malformed_cursor_is_422() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    for query in [
        "?limit=0",
        "?limit=101",
        "?limit=abc",
        "?limit=-1",
        "?limit=",
        "?limit=%2B5",
        "?limit=1.5",
        "?limit=null&limit=null",
        "?limit=5&limit=5",
        "?before=5&before=5",
        "?before=abc",
        "?before=-5",
        "?before=",
        "?before=1e3",
        "?before=1234567890123456789",
        "?before=99999999999999999999999",
    ] {
        let reply = app
            .get(&format!("/api/activity{query}"), Some(&token))
            .await;
        assert_eq!(reply.status.code, 422, "{query}: {}", reply.text);
        reply.assert_problem(422, "invalid_input");
    }
    for query in [
        "?limit=1",
        "?limit=100",
        "?before=0",
        "?before=999999999999999999",
        "?limit=5&other=x",
    ] {
        activity(&app, &token, query).await;
    }
}

#[rocket::async_test]
async fn a_user_never_sees_another_user_s_entries_even_with_their_cursor() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    app.signup("bob", PASSWORD).await;
    let bob = sign_in(&app, "bob", CHROME, "198.51.100.7:4000").await;
    let mut alice = String::new();
    for _ in 0..3 {
        alice = sign_in(&app, "alice", FIREFOX, "203.0.113.5:4000").await;
        app.try_login("alice", "wrong password").await;
    }
    let alice_page = activity(&app, &alice, "?limit=1").await;
    let cursor = alice_page["next"]
        .as_str()
        .expect("a next page")
        .to_string();
    let alice_sessions: BTreeSet<String> = app.listed_ids(&alice).await.into_iter().collect();

    for query in ["".to_string(), format!("?before={cursor}")] {
        let page = activity(&app, &bob, &query).await;
        let seen = events(&page);
        assert_eq!(seen.len(), 1, "{query}: {page}");
        assert_eq!(seen[0]["device"], "Chrome on Linux");
        for entry in seen {
            let session = entry["session_id"].as_str().unwrap_or_default();
            assert!(!alice_sessions.contains(session), "{entry}");
            assert_ne!(entry["type"], "sign_in_failed");
        }
    }
}

#[rocket::async_test]
async fn listing_activity_needs_the_sessions_read_scope() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    let (profile, _) = app
        .personal_token(&user, "profile", &["profile:read"])
        .await;
    let reply = app.get("/api/activity", Some(&profile)).await;
    reply.assert_problem(403, "insufficient_scope");
    assert!(reply
        .header("WWW-Authenticate")
        .is_some_and(|c| c.contains("scope=\"sessions:read\"")));
    let (reader, _) = app
        .personal_token(&user, "reader", &["sessions:read"])
        .await;
    let page = activity(&app, &reader, "").await;
    let kinds: Vec<&str> = events(&page)
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["token_created", "token_created", "sign_in"]);
    app.get("/api/activity", None)
        .await
        .assert_problem(401, "not_authenticated");
}

#[rocket::async_test]
async fn the_documented_cursor_pattern_is_what_is_accepted() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let doc = app.get("/api/openapi.json", None).await.json();
    let params = doc["paths"]["/api/activity"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let before = params
        .iter()
        .find(|p| p["name"] == "before")
        .expect("before");
    let pattern = regex::Regex::new(before["schema"]["pattern"].as_str().unwrap()).unwrap();
    let nines = "9".repeat(18);
    for cursor in [
        "0",
        "7",
        "0042",
        nines.as_str(),
        "99999999999999999999",
        "-1",
        "1a",
        "a",
    ] {
        let reply = app
            .get(&format!("/api/activity?before={cursor}"), Some(&token))
            .await;
        let accepted = reply.status == Status::Ok;
        assert_eq!(
            accepted,
            pattern.is_match(cursor),
            "{cursor}: {}",
            reply.text
        );
    }
}

#[rocket::async_test]
async fn the_sweep_deletes_entries_past_the_retention() {
    let app = TestApp::with(build, json!({"activity_retention": 3600})).await;
    let token = app.user_token("alice").await;
    app.try_login("alice", "wrong password").await;
    app.advance(3601);
    sign_in(&app, "alice", FIREFOX, "203.0.113.5:4000").await;
    assert_eq!(events(&activity(&app, &token, "").await).len(), 3);
    app.auth().sweep().await.expect("the sweep");
    let page = activity(&app, &token, "").await;
    let [kept] = events(&page).as_slice() else {
        panic!("only the recent sign-in: {page}");
    };
    assert_eq!(kept["type"], "sign_in");
    assert_eq!(kept["ip"], "203.0.113.5");
}

#[rocket::async_test]
async fn the_page_tells_the_activity_in_words_and_marks_a_new_device() {
    let app = TestApp::new(build).await;
    let landed = browser_sign_in(&app, "alice").await;
    assert_redirect(&landed, "/sessions");
    app.try_login("alice", "wrong password").await;
    sign_in(&app, "alice", CHROME, "198.51.100.7:4000").await;

    let page = get_page(&app, "/activity").await;
    assert_eq!(page.status, Status::Ok, "{}", page.text);
    let html = &page.text;
    assert!(
        html.contains("Signed in from Firefox on Linux, 127.0.0.1"),
        "{html}"
    );
    assert!(
        html.contains("Failed sign-in from Unknown device, 127.0.0.1"),
        "{html}"
    );
    assert!(
        html.contains("API sign-in from Chrome on Linux, 198.51.100.7"),
        "{html}"
    );
    assert_eq!(count(html, "— new device"), 1, "{html}");
    assert_eq!(
        count(html, "class=\"session token activity-sign_in new-device\""),
        1
    );
    // Newest first, each with its exact time on hover.
    let newest = html.find("API sign-in from Chrome").unwrap();
    assert!(newest < html.find("Signed in from Firefox").unwrap());
    assert_eq!(count(html, "<time datetime=\""), 3);
    // Linked from the device page.
    let devices = get_page(&app, "/sessions").await;
    assert!(devices.text.contains("href=\"/activity\""));
}

#[rocket::async_test]
async fn the_page_escapes_what_a_client_sent() {
    let app = TestApp::new(build).await;
    app.signup("alice", PASSWORD).await;
    let hostile = "<script>alert(1)</script>";
    let body = json!({"username": "alice", "password": PASSWORD, "name": hostile});
    app.login_with(body, hostile, "203.0.113.5:4000").await;
    browser_sign_in(&app, "alice").await;
    let page = get_page(&app, "/activity").await;
    assert_eq!(page.status, Status::Ok);
    assert!(!page.text.contains("<script>"), "{}", page.text);
    assert!(
        page.text.contains("&lt;script&gt;alert(1)&lt;"),
        "{}",
        page.text
    );
}

#[rocket::async_test]
async fn the_page_is_paged_with_older_and_newest_links() {
    let app = TestApp::with(build, json!({"login_max_failures": 100})).await;
    browser_sign_in(&app, "alice").await;
    for _ in 0..29 {
        app.try_login("alice", "wrong password").await;
    }
    let first = get_page(&app, "/activity").await;
    assert_eq!(count(&first.text, "<li class=\"session token"), 25);
    assert!(!first.text.contains(">Newest</a>"));
    let start = first
        .text
        .find("href=\"/activity?before=")
        .expect("an Older link")
        + 6;
    let end = start + first.text[start..].find('"').unwrap();
    let older = first.text[start..end].to_string();
    assert!(first.text[end..].starts_with("\" rel=\"next\">Older</a>"));

    let second = get_page(&app, &older).await;
    assert_eq!(second.status, Status::Ok);
    assert_eq!(count(&second.text, "<li class=\"session token"), 5);
    assert!(second.text.contains("<a href=\"/activity\">Newest</a>"));
    assert!(!second.text.contains(">Older</a>"));
    // The oldest entry is the browser's own sign-in.
    assert!(second.text.contains("Signed in from Firefox on Linux"));

    let junk = get_page(&app, "/activity?before=junk").await;
    assert_eq!(junk.status, Status::BadRequest);
}

#[rocket::async_test]
async fn a_signed_out_visitor_is_sent_to_sign_in() {
    let app = TestApp::new(build).await;
    let reply = get_page(&app, "/activity").await;
    assert_eq!(reply.status, Status::SeeOther);
    let location = reply.header("Location").unwrap_or_default();
    assert!(location.starts_with("/login"), "{location}");
    assert!(location.contains("activity"), "{location}");
}
