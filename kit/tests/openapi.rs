//! /api/openapi.json keeps every rule of `session_kit::testing::api_rules` (an app's tests run
//! the same on its own document), on the kit with a feature of the tests' own; and each guard
//! type gives its operation the security it requires. More: tests/openapi_answers.rs (other
//! answers and their headers, links) and tests/openapi_schemas.rs (schemas against real
//! responses and the store's rules).

mod common;
use common::*;
use serde_json::Value;
use session_kit::testing::api_rules;

#[rocket::async_test]
async fn every_mounted_api_route_is_documented() {
    api_rules::every_mounted_route_is_documented(build).await;
}

#[rocket::async_test]
async fn the_document_is_well_formed_openapi_3_1() {
    api_rules::well_formed(build).await;
}

#[rocket::async_test]
async fn security_is_declared_exactly_on_the_operations_behind_the_guard() {
    api_rules::security_exactly_behind_the_guard(build).await;
}

#[rocket::async_test]
async fn secured_operations_document_what_the_guard_answers() {
    api_rules::guard_answers_documented(build).await;
}

#[rocket::async_test]
async fn a_request_body_is_documented_exactly_where_the_json_body_guard_is() {
    api_rules::request_body_exactly_where_the_body_guard_is(build).await;
}

#[rocket::async_test]
async fn the_bearer_scheme_lists_every_scope_the_widgets_one_too() {
    api_rules::every_scope_listed(build).await;
    assert!(session_kit::scopes::is_registered("widgets:read"));
}

#[rocket::async_test]
async fn operations_that_name_a_scope_document_the_403_and_name_only_declared_scopes() {
    let named = api_rules::scoped_operations_documented(build).await;
    // At least the machinery's own: the current user, listing and revoking sessions, signing
    // out everywhere, the activity log (features add theirs).
    assert!(named >= 5, "only {named} operations name a scope");
}

/// A route of each kind of guard, to read their security from the document.
mod guarded {
    use super::widgets::WidgetsRead;
    use session_kit::auth::Unscoped;
    use session_kit::prelude::*;

    session_kit::api_routes![scoped, full, sudo, any_token, public];

    #[utoipa::path(responses((status = 200, description = "")))]
    #[get("/scoped")]
    fn scoped(_session: Scoped<'_, WidgetsRead>) {}

    #[utoipa::path(responses((status = 200, description = "")))]
    #[get("/full")]
    fn full(_session: &CurrentSession) {}

    #[utoipa::path(responses((status = 200, description = "")))]
    #[post("/sudo")]
    fn sudo(_session: Sudo<'_>) {}

    #[utoipa::path(responses((status = 200, description = "")))]
    #[get("/any-token/<_id>?<_page>")]
    fn any_token(_session: Unscoped<'_>, _id: &str, _page: Option<u32>) {}

    #[utoipa::path(responses((status = 200, description = "")))]
    #[get("/public")]
    fn public() {}
}

#[test]
fn each_operation_requires_what_its_handlers_guards_require() {
    // Building the app records the scopes it serves, the widgets' among them.
    let _ = build(rocket::Config::figment());
    let doc = serde_json::to_value(guarded::openapi()).unwrap();
    let security = |method: &str, path: &str| doc["paths"][path][method]["security"].clone();
    let bearer = |scopes: Value| serde_json::json!([{ "bearer": scopes }]);
    assert_eq!(
        security("get", "/scoped"),
        bearer(serde_json::json!(["widgets:read"]))
    );
    assert_eq!(security("get", "/full"), bearer(serde_json::json!(["*"])));
    assert_eq!(security("post", "/sudo"), bearer(serde_json::json!(["*"])));
    assert_eq!(
        security("get", "/any-token/{_id}"),
        bearer(serde_json::json!([]))
    );
    assert_eq!(
        security("get", "/public"),
        Value::Null,
        "public: no requirement"
    );
}
