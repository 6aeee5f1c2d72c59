//! The document's security: the bearer scheme with every scope, and the 403 of a route that
//! names one.

use super::{header, problem, responses};
use std::collections::BTreeMap;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Response, Type};
use utoipa::{IntoResponses, Modify};

/// 403 of a route that names a scope (or `*`): the token lacks it. Added by [`Rules`].
pub(super) struct ScopeErrors;

impl IntoResponses for ScopeErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("error=\"insufficient_scope\""))
            .examples([
                r#"Bearer realm="<app>", error="insufficient_scope", scope="sessions:read""#,
            ]);
        let what = "The challenge naming the scope the route needs (RFC 6750 section 3.1)";
        let challenge = ("WWW-Authenticate", header(schema, what, false));
        let what = "A personal token without the scope this route needs (insufficient_scope)";
        responses([(403, problem(what, vec![challenge]))])
    }
}

pub(super) struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let scopes: String = crate::scopes::ALL
            .iter()
            .map(|s| format!("\n- `{}`: {}", s.name, s.description))
            .collect();
        let description = format!(
            "A session token (`mt_...`); `Authorization: Token <token>` is accepted too. A \
             sign-in session has full access, `*`. A personal token has only the scopes it was \
             created with; an operation's security names the scope it needs (`*`: a sign-in \
             session only). The scopes (also at GET /api/scopes):{scopes}"
        );
        let mut scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(description))
            .build();
        let listed: Vec<serde_json::Value> = crate::scopes::ALL
            .iter()
            .map(|s| serde_json::json!({"name": s.name, "description": s.description}))
            .collect();
        let mut extensions = Extensions::default();
        extensions.insert("x-scopes".to_string(), listed.into());
        scheme.extensions = Some(extensions);
        if let Some(components) = doc.components.as_mut() {
            components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        }
        // The default; public operations say `security: []` (see Rules).
        doc.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// Whether a requirement names a scope (or `*`), so that a personal token may be refused.
pub(super) fn names_a_scope(requirements: &[SecurityRequirement]) -> bool {
    requirements.iter().any(|requirement| {
        serde_json::to_value(requirement)
            .ok()
            .and_then(|value| value.as_object().cloned())
            .is_some_and(|schemes| {
                schemes
                    .values()
                    .any(|scopes| scopes.as_array().is_some_and(|s| !s.is_empty()))
            })
    })
}
