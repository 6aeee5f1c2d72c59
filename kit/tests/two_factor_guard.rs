//! An app's own route that needs two-factor: the `Mfa` guard admits a sign-in that passed a
//! second factor and nothing else. The route below is the README's recipe.

mod common;
use common::*;
use rocket::http::Status;
use session_kit::prelude::*;

// readme: mfa-route
/// The account's data, for a sign-in that passed a second factor only: a session signed in
/// with the password alone gets 403 `second_factor_required`, a personal token 403.
#[get("/export")]
fn export(session: Mfa<'_>) -> Json<serde_json::Value> {
    Json(json!({ "username": session.username() }))
}
// readme: end

async fn app() -> TestApp {
    fn with_export(figment: rocket::figment::Figment) -> rocket::Rocket<rocket::Build> {
        build(figment).mount("/api", rocket::routes![export])
    }
    TestApp::new(with_export).await
}

#[rocket::async_test]
async fn only_a_sign_in_with_a_second_factor_passes_the_mfa_guard() {
    let app = app().await;
    let token = app.user_token("alice").await;
    // Two-factor off: the password alone is not enough for this route.
    let reply = app.get("/api/export", Some(&token)).await;
    reply.assert_problem(403, "second_factor_required");

    let (secret, _) = app.enable_two_factor(&token).await;
    // Turned on since this session signed in: still the password alone.
    let reply = app.get("/api/export", Some(&token)).await;
    reply.assert_problem(403, "second_factor_required");

    app.next_step();
    let body = json!({"username": "alice", "password": PASSWORD, "code": app.code_now(&secret)});
    let signed_in = app.post("/api/auth/login", None, body).await.json();
    let strong = signed_in["token"].as_str().unwrap();
    let reply = app.get("/api/export", Some(strong)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.json(), json!({"username": "alice"}));

    let (personal, _) = app.personal_token(strong, "ci", &["profile:read"]).await;
    let reply = app.get("/api/export", Some(&personal)).await;
    reply.assert_problem(403, "insufficient_scope");
    app.get("/api/export", None)
        .await
        .assert_problem(401, "not_authenticated");
}
