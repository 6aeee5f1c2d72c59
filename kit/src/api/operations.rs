//! What operators and tools ask of the API: liveness, readiness, the OpenAPI document.

use super::openapi::ProblemDoc;
use super::{ApiResult, Features};
use crate::auth::Settings;
use crate::db::Db;
use crate::problem::Problem;
use rocket::serde::json::Json;
use rocket::State;
use rocket_db_pools::Connection;
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

api_routes![health, ready, openapi_json];

/// The body of /api/health and /api/ready.
#[derive(Serialize, ToSchema)]
struct StatusView {
    #[schema(example = "ok")]
    status: &'static str,
}

/// Liveness: answers without touching the database.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive", body = StatusView)))]
#[get("/health")]
fn health() -> Json<StatusView> {
    Json(StatusView { status: "ok" })
}

/// Readiness: 200 only when the database answers.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = StatusView),
        (status = 503, description = "The database does not answer", body = ProblemDoc, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[get("/ready")]
async fn ready(mut db: Connection<Db>) -> ApiResult<Json<StatusView>> {
    // A rocket_db_pools connection: when none can be had, the guard answers 503 itself.
    let ping = crate::store::ping(&mut db);
    match rocket::tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(())) => Ok(Json(StatusView { status: "ready" })),
        _ => Err(Problem::database_unavailable()),
    }
}

/// This document: OpenAPI 3.1, generated from the route code.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json"))
)]
#[get("/openapi.json")]
fn openapi_json(settings: Settings<'_>, features: &State<Features>) -> Json<serde_json::Value> {
    Json(super::configured_document(features, settings.config()))
}
