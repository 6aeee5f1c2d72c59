//! The document's security: the bearer scheme with every scope, each operation's requirement,
//! read from its handler's guards, and the 403 of a route that names a scope.

use super::{header, problem, responses};
use crate::auth::{CurrentSession, Mfa, Sudo, SudoOrPassword, Unscoped};
use crate::scopes::{registered, FULL_ACCESS};
use rocket::http::Method;
use rocket::route::StaticInfo;
use rocket::sentinel::Sentry;
use std::any::{type_name, TypeId};
use std::collections::BTreeMap;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, OpenApi, RefOr, Response, Type};
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
        let scopes: String = registered()
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
        let listed: Vec<serde_json::Value> = registered()
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

/// Sets each operation's `security` from its handler's signature, so that a route names its
/// scope once, in its guard. Called by the `openapi()` of [`api_routes!`](crate::api_routes),
/// with the route info of each handler of the module, on that module's part of the document:
///
/// - a scope's marker type in the signature (`Scoped<'_, SessionsRead>`): that scope;
/// - else `&CurrentSession`, `Sudo`, `Mfa` or `SudoOrPassword`: `*`, full access;
/// - else `Unscoped`: any valid token, `[]`;
/// - else nothing: a public operation ([`Rules`](super) marks it so).
///
/// A `security(...)` written in the `#[utoipa::path]` is replaced: the guard is the one place.
///
/// The types of a signature are those Rocket lists as the route's sentinels, every type of each
/// guard and of the answer, generic arguments included; a scope is recognized by its type id,
/// among the scopes this process serves ([`crate::scopes::registered`]). That list is Rocket's
/// doc-hidden route info (`StaticInfo`, which `routes!` itself reads), public but not promised
/// beyond Rocket 0.5, whose release Cargo.lock pins: kit/tests/openapi.rs checks the result on
/// every route, so a change shows there.
pub fn derive_security(doc: &mut OpenApi, routes: Vec<StaticInfo>) {
    for route in routes {
        let path = document_path(route.uri);
        let operation = doc
            .paths
            .paths
            .get_mut(&path)
            .and_then(|item| operation(item, route.method));
        let Some(operation) = operation else {
            panic!(
                "{} {} ({}) has no operation at {path}: its #[utoipa::path] and its route \
                 attribute disagree",
                route.method, route.uri, route.name
            );
        };
        operation.security = requirement(&route.sentinels)
            .map(|scopes| vec![SecurityRequirement::new("bearer", scopes)]);
    }
}

/// What the types of a signature require, as the scopes of the bearer scheme.
fn requirement(types: &[Sentry]) -> Option<Vec<&'static str>> {
    let has = |id: TypeId| types.iter().any(|t| t.type_id == id);
    let scopes: Vec<&str> = registered()
        .iter()
        .filter(|scope| has((scope.type_id)()))
        .map(|scope| scope.name)
        .collect();
    let sudo_or_password = generic_name(type_name::<SudoOrPassword<'static, ()>>());
    if !scopes.is_empty() {
        Some(scopes)
    } else if has(TypeId::of::<CurrentSession>())
        || has(TypeId::of::<Sudo<'static>>())
        || has(TypeId::of::<Mfa<'static>>())
        || types
            .iter()
            .any(|t| generic_name(t.type_name) == sudo_or_password)
    {
        Some(vec![FULL_ACCESS])
    } else if has(TypeId::of::<Unscoped<'static>>()) {
        Some(vec![])
    } else {
        None
    }
}

/// A generic type's name without its arguments: `SudoOrPassword<B>`, whatever `B`, has no type
/// id of its own.
fn generic_name(name: &str) -> &str {
    name.split_once('<').map_or(name, |(path, _)| path)
}

/// A route's path as the document writes it: `/sessions/<id>` is `/sessions/{id}` (and
/// `<path..>` is `{path}`), without the query.
fn document_path(uri: &str) -> String {
    let path = uri.split_once('?').map_or(uri, |(path, _)| path);
    path.split('/')
        .map(|segment| match segment.strip_prefix('<') {
            Some(name) => format!("{{{}}}", name.trim_end_matches('>').trim_end_matches("..")),
            None => segment.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn operation(item: &mut PathItem, method: Method) -> Option<&mut Operation> {
    match method {
        Method::Get => item.get.as_mut(),
        Method::Put => item.put.as_mut(),
        Method::Post => item.post.as_mut(),
        Method::Delete => item.delete.as_mut(),
        Method::Patch => item.patch.as_mut(),
        Method::Head => item.head.as_mut(),
        Method::Options => item.options.as_mut(),
        _ => None,
    }
}
