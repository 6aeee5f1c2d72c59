//! Two-factor set-up and sign-in through the API: nothing is on until a code confirms the
//! authenticator; then the password alone opens nothing, a code is good once, within one step
//! of drift, and a recovery code once. Time moves by the app's clock, never by sleeping.

mod common;
use common::*;
use rocket::http::Status;

/// `POST /api/auth/login` for alice with `code` (if any).
async fn login_with_code(app: &TestApp, code: Option<&str>) -> Reply {
    let mut body = json!({"username": "alice", "password": PASSWORD});
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    app.post("/api/auth/login", None, body).await
}

#[rocket::async_test]
async fn set_up_answers_a_secret_and_turns_nothing_on_until_confirmed() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let setup = app
        .post("/api/auth/2fa/totp", Some(&token), json!({}))
        .await;
    assert_eq!(setup.status, Status::Ok, "{}", setup.text);
    assert_eq!(setup.header("Cache-Control"), Some("no-store"));
    let body = setup.json();
    let secret = body["secret"].as_str().unwrap();
    let url = body["otpauth_url"].as_str().unwrap();
    assert!(
        url.starts_with("otpauth://totp/kit-test:alice?secret="),
        "{url}"
    );
    assert!(
        url.contains(&format!("secret={secret}&issuer=kit-test")),
        "{url}"
    );

    // Pending: the password alone still signs in, and /api/me says off.
    assert_eq!(login_with_code(&app, None).await.status, Status::Ok);
    let me = app.get("/api/me", Some(&token)).await.json();
    assert_eq!(
        (me["two_factor"].clone(), me["recovery_codes_left"].clone()),
        (json!(false), json!(0))
    );

    // A wrong code confirms nothing.
    let secret = session_kit::two_factor::TotpSecret::from_base32(secret).unwrap();
    let wrong = app.code_in(&secret, 3);
    let body = json!({"code": wrong});
    let reply = app
        .post("/api/auth/2fa/totp/confirm", Some(&token), body)
        .await;
    reply.assert_problem(422, "invalid_code");
    assert_eq!(login_with_code(&app, None).await.status, Status::Ok);

    let body = json!({"code": app.code_now(&secret)});
    let reply = app
        .post("/api/auth/2fa/totp/confirm", Some(&token), body)
        .await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    let codes = reply.json()["recovery_codes"].as_array().unwrap().clone();
    assert_eq!(codes.len(), 10);
    let me = app.get("/api/me", Some(&token)).await.json();
    assert_eq!(
        (me["two_factor"].clone(), me["recovery_codes_left"].clone()),
        (json!(true), json!(10))
    );

    // On: a second set-up or confirm is refused.
    let again = app
        .post("/api/auth/2fa/totp", Some(&token), json!({}))
        .await;
    again.assert_problem(409, "two_factor_enabled");
    let body = json!({"code": app.code_now(&secret)});
    let again = app
        .post("/api/auth/2fa/totp/confirm", Some(&token), body)
        .await;
    again.assert_problem(409, "two_factor_enabled");
}

#[rocket::async_test]
async fn a_login_without_a_code_is_mfa_required_and_makes_no_session() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let (secret, _) = app.enable_two_factor(&token).await;
    let sessions = app.session_count().await;

    let reply = login_with_code(&app, None).await;
    reply.assert_problem(401, "mfa_required");
    let challenge = reply.header("WWW-Authenticate").unwrap();
    assert_eq!(challenge, "Bearer realm=\"kit-test\"");
    let reply = login_with_code(&app, Some("  ")).await;
    reply.assert_problem(401, "mfa_required");
    // A wrong password is still just that.
    app.try_login("alice", "wrong password")
        .await
        .assert_problem(401, "invalid_credentials");
    assert_eq!(app.session_count().await, sessions);

    app.next_step();
    // Typed as apps show it, with a space in the middle.
    let code = app.code_now(&secret);
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let reply = login_with_code(&app, Some(&spaced)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.json()["session"]["mfa"], json!(true));
    assert_eq!(app.session_count().await, sessions + 1);
}

#[rocket::async_test]
async fn a_code_is_accepted_once_and_never_an_older_one() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let (secret, _) = app.enable_two_factor(&token).await;
    app.next_step();
    let code = app.code_now(&secret);
    assert_eq!(login_with_code(&app, Some(&code)).await.status, Status::Ok);
    // The same code, within its window: refused.
    login_with_code(&app, Some(&code))
        .await
        .assert_problem(401, "invalid_code");
    // The next step's code is fine; then the one before it is not.
    app.next_step();
    let newer = app.code_now(&secret);
    assert_eq!(login_with_code(&app, Some(&newer)).await.status, Status::Ok);
    let older = app.code_in(&secret, -1);
    login_with_code(&app, Some(&older))
        .await
        .assert_problem(401, "invalid_code");
}

#[rocket::async_test]
async fn one_step_of_drift_either_way_is_accepted_and_two_are_not() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let (secret, _) = app.enable_two_factor(&token).await;
    for steps in [2, -2] {
        app.advance(300);
        let code = app.code_in(&secret, steps);
        login_with_code(&app, Some(&code))
            .await
            .assert_problem(401, "invalid_code");
    }
    for steps in [-1, 1] {
        // Far enough on that the code's step is newer than any used before.
        app.advance(300);
        let code = app.code_in(&secret, steps);
        let reply = login_with_code(&app, Some(&code)).await;
        assert_eq!(reply.status, Status::Ok, "{steps}: {}", reply.text);
    }
}

#[rocket::async_test]
async fn a_recovery_code_signs_in_once() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let (_, codes) = app.enable_two_factor(&token).await;
    // Typed loosely: upper case, spaces for dashes.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let reply = login_with_code(&app, Some(&typed)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    let fresh = reply.json()["token"].as_str().unwrap().to_string();
    assert_eq!(reply.json()["session"]["mfa"], json!(true));
    login_with_code(&app, Some(&codes[0]))
        .await
        .assert_problem(401, "invalid_code");
    let me = app.get("/api/me", Some(&fresh)).await.json();
    assert_eq!(me["recovery_codes_left"], json!(9));
    // Every session of the user sees the change at once.
    let me = app.get("/api/me", Some(&token)).await.json();
    assert_eq!(me["recovery_codes_left"], json!(9));

    let activity = app.get("/api/activity", Some(&fresh)).await.json();
    let used = activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "recovery_code_used")
        .expect("a recovery_code_used entry");
    assert_eq!(used["detail"], json!({"recovery_codes_left": 9}));
    let text = activity.to_string();
    assert!(!codes.iter().any(|c| text.contains(c.as_str())));
}

#[rocket::async_test]
async fn replacing_recovery_codes_voids_the_old_ones() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let (_, old) = app.enable_two_factor(&token).await;
    let reply = app
        .post("/api/auth/2fa/recovery-codes", Some(&token), json!({}))
        .await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    let new: Vec<String> = serde_json::from_value(reply.json()["recovery_codes"].clone()).unwrap();
    assert_eq!(new.len(), 10);
    login_with_code(&app, Some(&old[1]))
        .await
        .assert_problem(401, "invalid_code");
    assert_eq!(
        login_with_code(&app, Some(&new[1])).await.status,
        Status::Ok
    );
}

#[rocket::async_test]
async fn turning_two_factor_off_lets_the_password_alone_sign_in() {
    let app = TestApp::new(build).await;
    let token = app.user_token("alice").await;
    let (secret, _) = app.enable_two_factor(&token).await;
    let reply = app
        .call("DELETE", "/api/auth/2fa", Some(&token), None)
        .await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    let me = app.get("/api/me", Some(&token)).await.json();
    assert_eq!(me["two_factor"], json!(false));
    let reply = login_with_code(&app, None).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.json()["session"]["mfa"], json!(false));
    let again = app
        .call("DELETE", "/api/auth/2fa", Some(&token), None)
        .await;
    again.assert_problem(409, "two_factor_disabled");
    // A new set-up makes a new secret: the old one's codes are worthless.
    let setup = app
        .post("/api/auth/2fa/totp", Some(&token), json!({}))
        .await;
    assert_ne!(
        setup.json()["secret"].as_str().unwrap(),
        secret.base32().as_str()
    );
}

#[rocket::async_test]
async fn two_factor_changes_need_sudo_and_are_on_record() {
    let app = TestApp::with(build, json!({"sudo_window": 60})).await;
    let token = app.user_token("alice").await;
    let (_, _) = app.enable_two_factor(&token).await;
    app.advance(61);
    for (method, path) in [
        ("POST", "/api/auth/2fa/totp"),
        ("POST", "/api/auth/2fa/recovery-codes"),
        ("DELETE", "/api/auth/2fa"),
    ] {
        let reply = app.call(method, path, Some(&token), Some(json!({}))).await;
        reply.assert_problem(403, "sudo_required");
    }
    let body = json!({"code": "123456"});
    let reply = app
        .post("/api/auth/2fa/totp/confirm", Some(&token), body)
        .await;
    reply.assert_problem(403, "sudo_required");

    let activity = app.get("/api/activity", Some(&token)).await.json();
    let types: Vec<&str> = activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(types.contains(&"two_factor_enabled"), "{types:?}");
}
