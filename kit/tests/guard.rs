//! The guard as a developer uses it: a new route is behind the guard by naming
//! `&CurrentSession` in its signature; the credential is validated once per request however many
//! guards ask; `Option<&CurrentSession>` serves signed in or out.

mod common;
use common::*;
use rocket::http::{Header, Status};
use rocket::local::asynchronous::Client;
use session_kit::auth::CurrentSession;

/// Two guards in one handler: both must be the very same memoised session.
#[rocket::get("/twice")]
fn twice(first: &CurrentSession, second: &CurrentSession) -> String {
    assert!(std::ptr::eq(first, second), "validated twice");
    format!("{} {}", first.username(), second.id())
}

#[rocket::get("/maybe")]
fn maybe(session: Option<&CurrentSession>) -> String {
    match session {
        Some(s) => format!("signed in as {}", s.username()),
        None => "anonymous".into(),
    }
}

/// The app with two extra routes, as a starter user would add them (a second instance on the
/// harness app's database, which signs users up).
async fn app_with_routes() -> (TestApp, Client) {
    let app = TestApp::new(build).await;
    let url = app.auth().db().url().to_string();
    let figment = rocket::Config::figment()
        .merge(("databases.db.url", url))
        .merge(("log_level", "off"))
        .merge(("auth.bcrypt_cost", 4));
    let rocket = build(figment).mount("/api/extra", rocket::routes![twice, maybe]);
    let client = Client::tracked(rocket).await.expect("the app ignites");
    (app, client)
}

#[rocket::async_test]
async fn a_new_route_is_behind_the_guard_and_validates_once() {
    let (app, client) = app_with_routes().await;
    let token = app.user_token("alice").await;
    let reply = read(
        client
            .get("/api/extra/twice")
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert!(reply.text.starts_with("alice "));

    let refused = read(client.get("/api/extra/twice").dispatch().await).await;
    refused.assert_problem(401, "not_authenticated");
    let junk = read(
        client
            .get("/api/extra/twice")
            .header(Header::new("Authorization", "Bearer mt_junk"))
            .dispatch()
            .await,
    )
    .await;
    junk.assert_problem(401, "invalid_token");
}

#[rocket::async_test]
async fn the_optional_guard_serves_signed_in_and_out() {
    let (app, client) = app_with_routes().await;
    let token = app.user_token("alice").await;
    let signed_in = client
        .get("/api/extra/maybe")
        .header(Header::new("Authorization", format!("Token {token}")))
        .dispatch()
        .await;
    assert_eq!(signed_in.into_string().await.unwrap(), "signed in as alice");
    let anonymous = client.get("/api/extra/maybe").dispatch().await;
    assert_eq!(anonymous.status(), Status::Ok);
    assert_eq!(anonymous.into_string().await.unwrap(), "anonymous");
    let revoked = {
        let out = client
            .post("/api/auth/logout")
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
            .await;
        assert_eq!(out.status(), Status::NoContent);
        client
            .get("/api/extra/maybe")
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
            .await
    };
    assert_eq!(revoked.into_string().await.unwrap(), "anonymous");
}
