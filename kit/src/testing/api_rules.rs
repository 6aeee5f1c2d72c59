//! The rules every /api operation keeps, as checks an app runs on its own document (its
//! tests/openapi.rs calls [`all`] with its `build`): every mounted route documented, `security`
//! exactly where the session guard is (read from each handler's signature), a request body
//! exactly where the JSON body guard is (both probed on the running app), what those guards
//! answer, and the scopes. Each failure says what to add and where.

use super::openapi::{document, header, operations, Op, SOME_ID};
use super::{read, AppFn, PASSWORD};
use rocket::http::{ContentType, Header, Status};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every rule, on `build`'s app.
pub async fn all(build: AppFn) {
    every_mounted_route_is_documented(build).await;
    well_formed(build).await;
    security_exactly_behind_the_guard(build).await;
    guard_answers_documented(build).await;
    request_body_exactly_where_the_body_guard_is(build).await;
    every_scope_listed(build).await;
    scoped_operations_documented(build).await;
}

/// Rocket's `/api/sessions/<id>` as OpenAPI's `/api/sessions/{id}`.
pub fn openapi_path(rocket_path: &str) -> String {
    rocket_path
        .split('/')
        .map(
            |seg| match seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
                Some(name) => format!("{{{}}}", name.trim_end_matches("..")),
                None => seg.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Every mounted /api route is in the document, and nothing else is.
pub async fn every_mounted_route_is_documented(build: AppFn) {
    let (app, doc) = document(build).await;
    let mounted: BTreeSet<(String, String)> = app
        .client
        .rocket()
        .routes()
        .filter(|r| r.uri.base() == "/api")
        .map(|r| (r.method.as_str().to_lowercase(), openapi_path(r.uri.path())))
        .collect();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .iter()
        .map(|op| (op.method.to_string(), op.path.to_string()))
        .collect();
    let missing: Vec<_> = mounted.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&mounted).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "mounted but not documented: {missing:?}; documented but not mounted: {extra:?}. Every \
         /api route is listed once, in its module's api_routes![...], with a #[utoipa::path]"
    );
}

fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(key, v)| match (key.as_str(), v) {
            ("$ref", Value::String(r)) => out.push(r),
            _ => refs(v, out),
        }),
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// OpenAPI 3.1 with the token as default requirement, every `$ref` resolving, unique
/// operation ids, `security` on every operation and every error as problem+json.
pub async fn well_formed(build: AppFn) {
    let (_app, doc) = document(build).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["security"],
        serde_json::json!([{"bearer": []}]),
        "the document's default requirement is the token (BearerScheme in src/api/openapi.rs)"
    );

    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .expect("a local schema ref");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} points nowhere: list the type in components(schemas(...)) or derive ToSchema"
        );
    }

    let mut ids = BTreeSet::new();
    for op in operations(&doc) {
        let label = op.label();
        assert!(
            ids.insert(op.id),
            "{label}: operationId {} is used twice",
            op.id
        );
        assert!(
            op.op["security"].is_array(),
            "{label}: no `security` at all (openapi::Rules marks public operations `security: []`)"
        );
        for (status, response) in op.op["responses"].as_object().expect("responses") {
            let code: u16 = status.parse().expect("a numeric status");
            let schema = &response["content"]["application/problem+json"]["schema"]["$ref"];
            assert!(
                code < 400 || schema == "#/components/schemas/ProblemDoc",
                "{label}: {status} is not documented as problem+json: give it `body = \
                 ProblemDoc, content_type = \"application/problem+json\"` in {}",
                op.place()
            );
        }
    }
}

/// `security` exactly on the operations that answer 401 without a token.
pub async fn security_exactly_behind_the_guard(build: AppFn) {
    let (app, doc) = document(build).await;
    for op in operations(&doc) {
        let body = op.takes_body().then_some((ContentType::JSON, "{}"));
        let reply = op.send(&app, None, body).await;
        let guarded =
            reply.status == Status::Unauthorized && reply.json()["code"] == "not_authenticated";
        let label = op.label();
        match (guarded, op.secured()) {
            (true, false) => panic!(
                "{label}: answers 401 without a token, yet the document finds no session guard \
                 in its signature (api::openapi::derive_security reads the kit's guards) in {}",
                op.place()
            ),
            (false, true) => panic!(
                "{label}: has `security` (from a session guard in its signature), yet answers {} \
                 without a token ({})",
                reply.status,
                op.place()
            ),
            _ => {}
        }
    }
}

/// Secured operations document the guard's 400, 401 and 503, and their challenges.
pub async fn guard_answers_documented(build: AppFn) {
    let (app, doc) = document(build).await;
    for op in operations(&doc).into_iter().filter(Op::secured) {
        let (label, place) = (op.label(), op.place());
        let rule = "openapi::Rules adds AuthErrors to every operation with `security`";
        for status in [400, 401, 503] {
            assert!(
                op.response(status).is_some(),
                "{label}: no {status} documented ({rule})"
            );
        }
        let (_, required) = header(op.response(401).unwrap(), "WWW-Authenticate")
            .unwrap_or_else(|| panic!("{label}: its 401 documents no WWW-Authenticate ({rule})"));
        assert!(
            required,
            "{label}: the 401's WWW-Authenticate is not `required`"
        );

        // The guard's 400 is real, and so is its challenge.
        let malformed = Header::new("Authorization", "Bearer two words");
        let mut req = app
            .client
            .req(op.method.parse().unwrap(), op.path.replace("{id}", SOME_ID));
        req = req.header(malformed);
        let reply = read(req.dispatch().await).await;
        reply.assert_problem(400, "invalid_request");
        assert!(reply.header("WWW-Authenticate").is_some(), "{label}");
        let (_, required) = header(op.response(400).unwrap(), "WWW-Authenticate")
            .unwrap_or_else(|| panic!("{label}: its 400 documents no WWW-Authenticate ({rule})"));
        // A malformed-JSON 400 carries no challenge, so it is required only without a body.
        assert_eq!(
            required,
            !op.takes_body(),
            "{label}: the 400's WWW-Authenticate should be required only when the operation \
             takes no body (see merge_response in src/api/openapi.rs; {place})"
        );
    }
}

/// A request body exactly where the handler takes a JSON body, with the body's errors.
pub async fn request_body_exactly_where_the_body_guard_is(build: AppFn) {
    let (app, doc) = document(build).await;
    app.user_token("alice").await;
    for op in operations(&doc) {
        // A fresh token each time: logging out with it must not spoil the next probe.
        let token = app.login("alice", PASSWORD).await;
        let reply = op
            .send(&app, Some(&token), Some((ContentType::Plain, "x")))
            .await;
        let (label, place) = (op.label(), op.place());
        let body_guard = reply.status == Status::UnsupportedMediaType;
        assert_eq!(
            body_guard,
            op.takes_body(),
            "{label}: answers {} to a text/plain body, but its document {} a request body: \
             `request_body = ...` belongs in {place} exactly when the handler takes a JsonBody",
            reply.status,
            if op.takes_body() { "has" } else { "has no" },
        );
        if !body_guard {
            continue;
        }
        assert!(
            op.op["requestBody"]["content"]["application/json"].is_object(),
            "{label}: the request body is not application/json"
        );
        for status in [400, 413, 415, 422] {
            assert!(
                op.response(status).is_some(),
                "{label}: no {status} documented (openapi::Rules adds BodyErrors to every \
                 operation with a request body)"
            );
        }
    }
}

/// The bearer scheme lists every served scope, as GET /api/scopes does.
pub async fn every_scope_listed(build: AppFn) {
    let (app, doc) = document(build).await;
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    let description = scheme["description"].as_str().expect("a description");
    let declared: Vec<Value> = crate::scopes::registered()
        .iter()
        .map(|s| serde_json::json!({"name": s.name, "description": s.description}))
        .collect();
    for scope in crate::scopes::registered() {
        assert!(
            description.contains(&format!("`{}`: {}", scope.name, scope.description)),
            "the bearer scheme's description does not list {} (BearerScheme in \
             src/api/openapi_security.rs): {description}",
            scope.name
        );
    }
    assert_eq!(scheme["x-scopes"], Value::Array(declared.clone()));
    // The same list as GET /api/scopes, a public operation.
    assert_eq!(
        app.get("/api/scopes", None).await.json(),
        Value::Array(declared)
    );
    let scopes_op = operations(&doc)
        .into_iter()
        .find(|op| op.path == "/api/scopes")
        .expect("GET /api/scopes is documented");
    assert!(!scopes_op.secured(), "GET /api/scopes needs no token");
}

/// Operations name only served scopes, and document the 403 when they name one. Answers how
/// many operations name a scope.
pub async fn scoped_operations_documented(build: AppFn) -> usize {
    let (_app, doc) = document(build).await;
    let declared: BTreeSet<&str> = crate::scopes::registered().iter().map(|s| s.name).collect();
    let mut named = 0;
    for op in operations(&doc).into_iter().filter(Op::secured) {
        let (label, place) = (op.label(), op.place());
        let scopes: Vec<String> = op.op["security"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["bearer"].as_array().cloned().unwrap_or_default())
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        for scope in &scopes {
            assert!(
                scope == "*" || declared.contains(scope.as_str()),
                "{label}: names {scope}, which no scopes! of the kit or the app declares ({place})"
            );
        }
        if scopes.is_empty() {
            assert!(
                op.response(403).is_none(),
                "{label}: any token may use it, yet a 403 is documented ({place})"
            );
            continue;
        }
        named += 1;
        let forbidden = op
            .response(403)
            .unwrap_or_else(|| panic!("{label}: names {scopes:?} but documents no 403 ({place})"));
        let text = forbidden.to_string();
        assert!(
            text.contains("insufficient_scope"),
            "{label}: its 403 does not mention insufficient_scope: {text}"
        );
        assert!(
            header(forbidden, "WWW-Authenticate").is_some(),
            "{label}: its 403 documents no WWW-Authenticate"
        );
    }
    named
}
