//! An app's scopes, as the tests' own feature (`widgets`, in common/mod.rs) declares them: a
//! personal token holding one reaches its route, one without it is refused, and a route guarded
//! by a scope the app did not pass to `Kit::scopes` stops the app from launching.

mod common;
use common::*;
use rocket::http::Status;
use serde_json::json;

#[rocket::async_test]
async fn an_apps_scope_opens_its_route_to_a_token_that_holds_it() {
    let app = TestApp::new(build).await;
    let user = app.user_token("alice").await;
    let (holder, _) = app.personal_token(&user, "holder", &["widgets:read"]).await;
    let (lacker, _) = app
        .personal_token(&user, "lacker", &["profile:read", "sessions:read"])
        .await;
    let reply = app.get("/api/widgets", Some(&holder)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.json(), json!([]));
    let reply = app.get("/api/widgets", Some(&lacker)).await;
    reply.assert_problem(403, "insufficient_scope");
    let challenge = reply.header("WWW-Authenticate").expect("a challenge");
    assert!(challenge.contains("scope=\"widgets:read\""), "{challenge}");
    assert_eq!(
        app.get("/api/widgets", Some(&user)).await.status,
        Status::Ok
    );
    // The app's scope is one of the token's, listed like the kit's.
    let reply = app.get("/api/sessions", Some(&user)).await;
    let entry = reply
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "holder")
        .cloned()
        .expect("the token is listed");
    assert_eq!(entry["scopes"], json!(["widgets:read"]));
}

/// A scope the app declares but forgot to pass to `Kit::scopes`, and a route it guards.
mod forgotten {
    use session_kit::prelude::*;

    session_kit::scopes! {
        /// Never served: the app does not pass it to the kit.
        GadgetsRead = "gadgets:read", "Read your gadgets";
    }

    #[get("/gadgets")]
    pub fn list_gadgets(session: Scoped<'_, GadgetsRead>) -> String {
        session.username().to_string()
    }
}

#[rocket::async_test]
async fn a_route_guarded_by_a_scope_the_app_does_not_serve_does_not_launch() {
    let (_db, url) = TestDb::new().await;
    let figment = rocket::Config::figment()
        .merge(("databases.db.url", url))
        .merge(("log_level", "off"));
    let rocket = build(figment).mount("/api", rocket::routes![forgotten::list_gadgets]);
    let Err(error) = rocket.ignite().await else {
        panic!("ignited with a route behind a scope it does not serve");
    };
    let rocket::error::ErrorKind::SentinelAborts(aborted) = error.kind() else {
        panic!("not a sentinel's abort: {:?}", error.kind());
    };
    let names: Vec<&str> = aborted.iter().map(|s| s.type_name).collect();
    assert!(
        names.len() == 1 && names[0].contains("Scoped") && names[0].contains("GadgetsRead"),
        "{names:?}"
    );
}
