//! Two-factor around the account: personal tokens can never change it, the command line turns
//! it off for support, a restart keeps codes working (the secret is sealed, not lost), sessions
//! say whether their sign-in passed a second factor, and every change is an event, an activity
//! entry and a notice, none of which carries a secret or a code.

mod common;
use common::*;
use rocket::http::Status;
use session_kit::events::AuthEvent;

/// `POST /api/auth/login` for alice with `code`.
async fn login_with(app: &TestApp, code: &str) -> Reply {
    let body = json!({"username": "alice", "password": PASSWORD, "code": code});
    app.post("/api/auth/login", None, body).await
}

#[rocket::async_test]
async fn a_personal_token_can_never_set_up_or_turn_off_two_factor() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let scopes = app.get("/api/scopes", None).await.json();
    let every: Vec<&str> = scopes
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    let (personal, _) = app.personal_token(&token, "ci", &every).await;
    for (method, path, body) in [
        ("POST", "/api/auth/2fa/totp", json!({})),
        (
            "POST",
            "/api/auth/2fa/totp/confirm",
            json!({"code": "123456"}),
        ),
        ("POST", "/api/auth/2fa/recovery-codes", json!({})),
        ("DELETE", "/api/auth/2fa", json!({})),
        ("POST", "/api/auth/sudo", json!({"code": "123456"})),
    ] {
        let reply = app.call(method, path, Some(&personal), Some(body)).await;
        reply.assert_problem(403, "insufficient_scope");
    }
    app.enable_two_factor(&token).await;
    let reply = app
        .call("DELETE", "/api/auth/2fa", Some(&personal), None)
        .await;
    reply.assert_problem(403, "insufficient_scope");
    let me = app.get("/api/me", Some(&token)).await.json();
    assert_eq!(me["two_factor"], json!(true));
}

#[rocket::async_test]
async fn disable_2fa_on_the_command_line_turns_it_off_as_admin() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    app.enable_two_factor(&token).await;
    let figment = rocket::Config::figment()
        .merge(("databases.db.url", app.database_url()))
        .merge(("log_level", "off"))
        .merge((
            "template_dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../templates"),
        ));
    let admin = session_kit::cli::Admin::DisableTwoFactor("Alice".into());
    let migrations = session_kit::migrations::AppMigrations::default();
    session_kit::cli::run(admin, figment.clone(), &migrations)
        .await
        .expect("disable-2fa succeeds");
    assert_eq!(app.try_login("alice", PASSWORD).await.status, Status::Ok);
    let activity = app.get("/api/activity", Some(&token)).await.json();
    let entry = activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "two_factor_disabled")
        .expect("a two_factor_disabled entry")
        .clone();
    assert_eq!(entry["detail"], json!({"by": "admin"}));
    let admin = session_kit::cli::Admin::DisableTwoFactor("nobody".into());
    let e = session_kit::cli::run(admin, figment, &migrations).await;
    assert!(e.unwrap_err().contains("no user named 'nobody'"));
}

#[rocket::async_test]
async fn a_restart_keeps_codes_working_and_only_the_key_opens_the_secret() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let (secret, _) = app.enable_two_factor(&token).await;
    // The stored secret is sealed: the database alone does not hold it.
    let mut conn = app.auth().db().acquire().await.unwrap();
    let (stored,): (Vec<u8>,) = sqlx::query_as("SELECT secret FROM two_factor")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    assert!(!stored
        .windows(secret.as_bytes().len())
        .any(|w| w == secret.as_bytes()));

    let app = app.restart().await;
    app.next_step();
    let reply = login_with(&app, &app.code_now(&secret)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);

    // The row opens with the configured key only (and only for its own user).
    use session_kit::two_factor::SealingKey;
    let user_id = app.get("/api/me", Some(&token)).await.json()["id"]
        .as_i64()
        .unwrap();
    let ours = SealingKey::from_base64(TOTP_KEY).unwrap();
    assert_eq!(
        ours.open(&stored, user_id).as_deref(),
        Some(secret.as_bytes())
    );
    assert_eq!(ours.open(&stored, user_id + 1), None);
    let other = SealingKey::from_base64("YW5vdGhlciBrZXkgZm9yIHRlc3RzOiAzMiBieXRlcyE=");
    assert_eq!(other.unwrap().open(&stored, user_id), None);
}

#[rocket::async_test]
async fn sessions_say_whether_their_sign_in_passed_a_second_factor() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let (secret, codes) = app.enable_two_factor(&token).await;
    app.next_step();
    let with_code = login_with(&app, &app.code_now(&secret)).await.json();
    let with_recovery = login_with(&app, &codes[2]).await.json();
    for answer in [&with_code, &with_recovery] {
        assert_eq!(answer["session"]["mfa"], json!(true));
    }
    let listed = app.get("/api/sessions", Some(&token)).await.json();
    let mfa: Vec<(bool, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["current"] == true, s["mfa"] == true))
        .collect();
    // The first sign-in had no second factor (two-factor was off); the two later ones did.
    assert_eq!(mfa.iter().filter(|(_, m)| *m).count(), 2, "{listed}");
    assert!(mfa.contains(&(true, false)));

    let fresh = with_code["token"].as_str().unwrap();
    let reply = app.post("/api/auth/logout", Some(fresh), json!({})).await;
    assert_eq!(reply.status, Status::NoContent);
    let ended = app
        .get("/api/sessions?state=ended", Some(&token))
        .await
        .json();
    assert_eq!(ended[0]["mfa"], json!(true), "{ended}");
}

#[rocket::async_test]
async fn changes_are_events_and_notices_that_carry_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mail = json!({"mail.dir": dir.path()});
    let app = TestApp::with_config(build, json!({}), mail).await;
    let mut events = app.events().subscribe();
    let token = app.user_token("alice").await;
    // A verified address, for the notices.
    let mut tx = app.auth().db().begin().await.unwrap();
    sqlx::query("UPDATE users SET email = 'alice@example.org', email_key = 'alice@example.org', email_verified = 1")
        .execute(&mut *tx)
        .await
        .unwrap();
    let user_id: (i64,) = sqlx::query_as("SELECT id FROM users")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    app.auth()
        .commit_account_change(tx, user_id.0)
        .await
        .unwrap();

    let (secret, codes) = app.enable_two_factor(&token).await;
    assert_eq!(login_with(&app, &codes[0]).await.status, Status::Ok);
    let reply = app
        .call("DELETE", "/api/auth/2fa", Some(&token), None)
        .await;
    assert_eq!(reply.status, Status::NoContent);

    let seen: Vec<AuthEvent> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    let names: Vec<&str> = seen.iter().map(AuthEvent::name).collect();
    for name in [
        "two_factor_enabled",
        "recovery_code_used",
        "two_factor_disabled",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    app.deliver_mail().await;
    let mails: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 3);

    // No secret or code in any event, activity entry or mail.
    let mut text = format!("{seen:?}");
    text += &app.get("/api/activity", Some(&token)).await.text;
    text += &mails.concat();
    assert!(text.contains("Subject: Two-factor authentication on your kit-test account"));
    for secret_text in codes
        .iter()
        .map(String::as_str)
        .chain([secret.base32().as_str()])
    {
        assert!(!text.contains(secret_text), "{secret_text} leaked");
    }
}
