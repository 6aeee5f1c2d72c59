//! The app's /api/openapi.json keeps the rules the kit's own document keeps: every route of the
//! app's features documented, `security` from each handler's guards, request bodies where the
//! handler takes one, and every scope the app declares listed. A new route that breaks a rule
//! fails here, with what to add and where.

use session_kit::testing::api_rules;

#[rocket::async_test]
async fn the_apps_document_keeps_every_rule() {
    api_rules::all(multitoken::build).await;
}
