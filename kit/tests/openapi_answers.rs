//! Every answer of an /api operation that a client must be ready for is in the document, with
//! the headers it carries: 503 wherever an outage can reach, `WWW-Authenticate` on every 401,
//! `Retry-After` on every 429 and on a busy password hasher; and the links of its answers lead to
//! operations and parameters that exist. Each failure says what to add and where.

mod common;
use common::build;
use common::openapi::*;
use serde_json::Value;

/// Operations that touch neither the database nor the password hasher, so cannot answer 503
/// (a reset request does its work after the answer).
const NO_OUTAGE: &[&str] = &["health", "openapi_json", "scopes", "request_password_reset"];
#[rocket::async_test]
async fn every_operation_that_can_meet_an_outage_documents_503() {
    let (_app, doc) = document(build).await;
    for op in operations(&doc) {
        if NO_OUTAGE.contains(&op.id) {
            assert!(
                op.response(503).is_none(),
                "{}: cannot answer 503",
                op.label()
            );
            continue;
        }
        assert!(
            op.response(503).is_some(),
            "{}: documents no 503, though the database (or the password hasher) may be \
             unavailable: add `Busy` (it hashes a password) or `(status = 503, ...)` to {}; or, \
             if it touches neither, add {} to NO_OUTAGE in tests/openapi_answers.rs",
            op.label(),
            op.place(),
            op.id
        );
    }
}

fn request_properties<'a>(doc: &'a Value, op: &Op<'_>) -> Vec<&'a str> {
    let schema = &op.op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
    let Some(name) = schema.as_str().and_then(|r| r.rsplit('/').next()) else {
        return Vec::new();
    };
    let properties = doc["components"]["schemas"][name]["properties"].as_object();
    properties
        .into_iter()
        .flat_map(|p| p.keys().map(String::as_str))
        .collect()
}

#[rocket::async_test]
async fn throttles_and_challenges_document_their_headers() {
    let (_app, doc) = document(build).await;
    for op in operations(&doc) {
        let (label, place) = (op.label(), op.place());
        if let Some(response) = op.response(401) {
            let challenge = header(response, "WWW-Authenticate").map(|(_, required)| required);
            assert_eq!(
                challenge,
                Some(true),
                "{label}: every 401 carries WWW-Authenticate: document its 401 with \
                 `InvalidCredentials` (or through `security`) in {place}"
            );
        }
        if let Some(response) = op.response(429) {
            let retry = header(response, "Retry-After").map(|(_, required)| required);
            assert_eq!(
                retry,
                Some(true),
                "{label}: use `Throttled` for its 429 in {place}"
            );
        }
        // Whatever checks a password can find the hashing queue full: 503 with Retry-After.
        if request_properties(&doc, &op)
            .iter()
            .any(|p| p.ends_with("password"))
        {
            let busy = op.response(503).and_then(|r| header(r, "Retry-After"));
            assert!(
                busy.is_some(),
                "{label}: hashes a password: add `Busy` to {place}"
            );
        }
    }
}

#[rocket::async_test]
async fn links_lead_to_operations_and_parameters_that_exist() {
    let (_app, doc) = document(build).await;
    let ops = operations(&doc);
    let mut links = 0;
    for op in &ops {
        for (status, response) in op.op["responses"].as_object().unwrap() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                links += 1;
                let at = format!("{} {status}, link {name}", op.label());
                let target = link["operationId"].as_str().expect("an operationId");
                let target = ops
                    .iter()
                    .find(|o| o.id == target)
                    .unwrap_or_else(|| panic!("{at}: no operation {target} ({})", op.place()));
                let params: Vec<&str> = target.op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["name"].as_str())
                    .collect();
                for param in link["parameters"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|p| p.0)
                {
                    assert!(
                        params.contains(&param.as_str()),
                        "{at}: {} has no {param}",
                        target.id
                    );
                }
                if link.get("requestBody").is_some() {
                    assert!(target.takes_body(), "{at}: {} takes no body", target.id);
                }
            }
        }
    }
    // At least sign_up's link to login (features add their own, e.g. create_note's).
    assert!(links >= 1, "the links are documented: {links}");
}
