//! /api/openapi.json: the OpenAPI 3.1 document of every /api route, generated from the route code
//! by utoipa (a test checks that every mounted route appears in it).

use super::*;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The problem+json body of every error (RFC 9457).
#[derive(Serialize, ToSchema)]
pub struct ProblemDoc {
    #[schema(example = "about:blank")]
    r#type: String,
    #[schema(example = "The token is invalid, expired or revoked")]
    title: String,
    #[schema(example = 401)]
    status: u16,
    /// Stable, machine-readable: e.g. invalid_credentials, invalid_token, throttled.
    #[schema(example = "invalid_token")]
    code: String,
    detail: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "multitoken",
        description = "Many tokens per user, one per device: sign up, log in and out, list and revoke sessions."
    ),
    paths(
        sign_up,
        login,
        logout,
        logout_all,
        change_password,
        me,
        sessions,
        revoke,
        health,
        ready,
        openapi_json
    ),
    components(schemas(ProblemDoc)),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Log in and out"),
        (name = "users", description = "Accounts"),
        (name = "sessions", description = "A user's sessions, one per device"),
        (name = "operations", description = "Health, readiness and this document"),
    )
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "A session token (`mt_...`). `Authorization: Token <token>` is accepted too.",
            ))
            .build();
        if let Some(components) = doc.components.as_mut() {
            components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        }
    }
}

/// The document, with paths as mounted (under /api).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let paths = std::mem::take(&mut doc.paths.paths);
    doc.paths.paths = paths
        .into_iter()
        .map(|(path, item)| (format!("/api{path}"), item))
        .collect();
    doc
}
