//! Email addresses on accounts: given at sign-up (optional or required), stored trimmed with the
//! domain lower-cased, unique case-insensitively, shown by GET /api/me and GET /api/me/email, and
//! accepted in place of the username at sign-in once verified.

mod common;
use common::web::*;
use common::*;
use serde_json::{json, Value};
use session_kit::store::users::User;

async fn sign_up(app: &TestApp, username: &str, email: Value) -> Reply {
    let body = json!({"username": username, "password": PASSWORD, "email": email});
    app.post("/api/users", None, body).await
}

/// Signs `username` up with `email`, which must succeed.
async fn signed_up(app: &TestApp, username: &str, email: Value) {
    let reply = sign_up(app, username, email).await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
}

/// Marks the user's address verified, as a used verification link does.
async fn verify(app: &TestApp, username: &str) {
    // Read before the transaction: on SQLite, a transaction that reads first cannot write once
    // another connection (the mail sender) has written meanwhile.
    let mut conn = app.auth().db().acquire().await.unwrap();
    let user = User::find_by_username(&mut conn, username).await.unwrap();
    drop(conn);
    let user = user.expect("the user");
    let email = user.email.expect("an address");
    let mut tx = app.auth().db().begin().await.unwrap();
    let verified = User::mark_email_verified(&mut tx, user.id, &email).await;
    assert!(verified.unwrap());
    app.auth().commit_account_change(tx, user.id).await.unwrap();
}

#[rocket::async_test]
async fn an_address_is_optional_by_default_and_stored_trimmed_with_its_domain_lower_cased() {
    let app = TestApp::new(build).await;
    let reply = sign_up(&app, "bob", json!("  Bob@Example.ORG ")).await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"id": reply.json()["id"], "username": "bob"})
    );
    for (name, email) in [("nobody", Value::Null), ("blank", json!("  "))] {
        let reply = sign_up(&app, name, email).await;
        assert_eq!(reply.status.code, 201, "{}", reply.text);
    }
    assert_eq!(app.signup("plain", PASSWORD).await.status.code, 201);

    let token = app.login("bob", PASSWORD).await;
    let me = app.get("/api/me", Some(&token)).await;
    let id = me.json()["id"].clone();
    assert_eq!(
        me.json(),
        json!({"id": id, "username": "bob", "email": "Bob@example.org", "email_verified": false,
               "two_factor": false, "recovery_codes_left": 0})
    );
    let email = app.get("/api/me/email", Some(&token)).await;
    assert_eq!(
        email.json(),
        json!({"email": "Bob@example.org", "verified": false, "pending_email": null})
    );
    // The session is cached by now; the change reaches it at once.
    verify(&app, "bob").await;
    let me = app.get("/api/me", Some(&token)).await;
    assert_eq!(me.json()["email_verified"], true);
    let email = app.get("/api/me/email", Some(&token)).await;
    assert_eq!(email.json()["verified"], true);

    let token = app.login("nobody", PASSWORD).await;
    let me = app.get("/api/me", Some(&token)).await;
    assert_eq!(me.json()["email"], Value::Null);
    assert_eq!(me.json()["email_verified"], false);
    let email = app.get("/api/me/email", Some(&token)).await;
    assert_eq!(
        email.json(),
        json!({"email": null, "verified": false, "pending_email": null})
    );
    app.get("/api/me/email", None)
        .await
        .assert_problem(401, "not_authenticated");
}

#[rocket::async_test]
async fn required_mode_refuses_a_sign_up_without_an_address() {
    let app = TestApp::with(build, json!({"signup_email": "required"})).await;
    for email in [Value::Null, json!(""), json!("   ")] {
        let reply = sign_up(&app, "alice", email).await;
        reply.assert_problem(422, "invalid_email");
        assert_eq!(reply.json()["detail"], "email is required");
    }
    app.signup("alice", PASSWORD)
        .await
        .assert_problem(422, "invalid_email");
    // The username and password are checked first, as without an address.
    let reply = sign_up(&app, "a", Value::Null).await;
    reply.assert_problem(422, "invalid_input");
    let reply = sign_up(&app, "alice", json!("alice@example.org")).await;
    assert_eq!(reply.status.code, 201, "{}", reply.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}

#[test]
fn a_bad_signup_email_setting_stops_the_start_with_a_clear_message() {
    let figment = rocket::Config::figment()
        .merge(("auth.signup_email", "sometimes"))
        .merge(("log_level", "off"));
    let error = session_kit::config::AuthConfig::from_figment(&figment).unwrap_err();
    assert!(error.contains("signup_email"), "{error}");
    assert!(
        error.contains("optional") && error.contains("required"),
        "{error}"
    );
}

#[rocket::async_test]
async fn invalid_and_overlong_addresses_are_422_invalid_email_and_make_no_account() {
    let app = TestApp::new(build).await;
    let long = format!("bob@{}.org", "a".repeat(254 - 8 + 1));
    assert_eq!(long.len(), 255);
    for bad in [
        "bob",
        "@example.org",
        "bob@",
        "a@b@example.org",
        "bo b@example.org",
        &long,
    ] {
        let reply = sign_up(&app, "bob", json!(bad)).await;
        reply.assert_problem(422, "invalid_email");
        assert!(reply.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("email "));
    }
    let reply = sign_up(&app, "bob", json!(42)).await;
    assert_eq!(reply.status.code, 422, "{}", reply.text);
    let at_limit = format!("bob@{}.org", "a".repeat(254 - 8));
    assert_eq!(sign_up(&app, "bob", json!(at_limit)).await.status.code, 201);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}

#[rocket::async_test]
async fn an_address_is_unique_across_case_and_a_taken_one_counts_as_a_sign_up() {
    let app = TestApp::with(build, json!({"signup_max_per_ip": 3})).await;
    signed_up(&app, "bob", json!("bob@example.org")).await;
    for taken in ["BOB@example.org", " bob@EXAMPLE.org"] {
        sign_up(&app, "robert", json!(taken))
            .await
            .assert_problem(409, "email_taken");
    }
    // Both refusals counted: the next sign-up from this client is one too many.
    sign_up(&app, "carol", json!("carol@example.org"))
        .await
        .assert_problem(429, "throttled");
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}

#[rocket::async_test]
async fn a_taken_username_wins_over_a_taken_address() {
    let app = TestApp::new(build).await;
    signed_up(&app, "bob", json!("bob@example.org")).await;
    sign_up(&app, "BOB", json!("Bob@example.org"))
        .await
        .assert_problem(409, "username_taken");
    let other = sign_up(&app, "carol", json!("carol@example.org")).await;
    assert_eq!(other.status.code, 201, "{}", other.text);
}

#[rocket::async_test]
async fn a_verified_address_signs_in_and_an_unverified_one_is_refused_like_an_unknown_user() {
    let app = TestApp::new(build).await;
    signed_up(&app, "bob", json!("Bob@Example.org")).await;
    let unverified = app.try_login("bob@example.org", PASSWORD).await;
    let unknown = app.try_login("nobody@example.org", PASSWORD).await;
    unverified.assert_problem(401, "invalid_credentials");
    assert_eq!(unverified.json(), unknown.json());
    assert_eq!(
        unverified.header("WWW-Authenticate"),
        unknown.header("WWW-Authenticate")
    );
    // Failures count against the login as given, the same for both.
    let failures = "SELECT COUNT(*) FROM login_failures WHERE key = 'user:bob@example.org'";
    assert_eq!(app.count(failures).await, 1);
    // No sign_in_failed entry: nothing tells that the address belongs to an account.
    assert_eq!(app.count("SELECT COUNT(*) FROM activity").await, 0);

    verify(&app, "bob").await;
    for login in ["bob@example.org", " BOB@EXAMPLE.ORG ", "Bob@example.org"] {
        let reply = app.try_login(login, PASSWORD).await;
        assert_eq!(reply.status.code, 200, "{login}: {}", reply.text);
        let token = reply.json()["token"].as_str().unwrap().to_string();
        assert_eq!(
            app.get("/api/me", Some(&token)).await.json()["username"],
            "bob"
        );
    }
    app.try_login("bob@example.org", "not the password")
        .await
        .assert_problem(401, "invalid_credentials");
    // The username still signs in.
    assert!(!app.login("bob", PASSWORD).await.is_empty());
}

#[rocket::async_test]
async fn the_username_and_the_verified_address_share_one_throttle_budget() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    signed_up(&app, "bob", json!("bob@example.org")).await;
    verify(&app, "bob").await;
    // Failures under either name count against the account: naming it both ways gives no
    // fresh guesses.
    for login in ["bob@example.org", "bob", "BOB@example.org"] {
        let reply = app.try_login(login, "not the password").await;
        reply.assert_problem(401, "invalid_credentials");
    }
    let account = "SELECT COUNT(*) FROM login_failures WHERE key = 'user:bob'";
    assert_eq!(app.count(account).await, 3);
    for login in ["bob", "bob@example.org"] {
        let reply = app.try_login(login, PASSWORD).await;
        reply.assert_problem(429, "throttled");
    }
}

#[rocket::async_test]
async fn a_sign_in_by_address_clears_the_accounts_failures() {
    let app = TestApp::with(build, json!({"login_max_failures": 3})).await;
    signed_up(&app, "bob", json!("bob@example.org")).await;
    verify(&app, "bob").await;
    for _ in 0..2 {
        let reply = app.try_login("bob", "not the password").await;
        reply.assert_problem(401, "invalid_credentials");
    }
    assert!(!app.login("bob@example.org", PASSWORD).await.is_empty());
    let account = "SELECT COUNT(*) FROM login_failures WHERE key = 'user:bob'";
    assert_eq!(app.count(account).await, 0);
}

#[rocket::async_test]
async fn the_sign_up_form_has_an_address_field_required_only_when_configured() {
    let app = TestApp::new(build).await;
    let page = get_page(&app, "/signup").await.text;
    assert!(page.contains(r#"name="email" type="email""#), "{page}");
    assert!(!page.contains(r#"type="email" value="" required"#));
    let csrf = csrf_of(&page);
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", "bob"),
        ("email", " Bob@Example.ORG"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    assert_redirect(&submit(&app, "/signup", &fields).await, "/sessions");
    let stored = "SELECT COUNT(*) FROM users WHERE email = 'Bob@example.org'";
    assert_eq!(app.count(stored).await, 1);

    let app = TestApp::with(build, json!({"signup_email": "required"})).await;
    let page = get_page(&app, "/signup").await.text;
    assert!(page.contains(r#"type="email" value="" required"#), "{page}");
    let csrf = csrf_of(&page);
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", "bob"),
        ("email", ""),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    let reply = submit(&app, "/signup", &fields).await;
    assert_eq!(reply.status.code, 422);
    assert!(reply.text.contains("Email is required."), "{}", reply.text);
}

#[rocket::async_test]
async fn a_verification_reaches_the_sessions_another_instance_has_cached() {
    let a = TestApp::new(build).await;
    let b = a.another_instance().await;
    signed_up(&a, "bob", json!("bob@example.org")).await;
    let token = a.login("bob", PASSWORD).await;
    for _ in 0..2 {
        let me = b.get("/api/me", Some(&token)).await;
        assert_eq!(me.json()["email_verified"], false, "{}", me.text);
    }
    verify(&a, "bob").await;
    let start = std::time::Instant::now();
    while b.get("/api/me", Some(&token)).await.json()["email_verified"] != true {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(1),
            "the other instance still shows the address unverified after 1 s"
        );
        rocket::tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
