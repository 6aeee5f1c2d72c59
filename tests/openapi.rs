//! /api/openapi.json: a valid OpenAPI 3.1 document that covers every mounted /api route, so the
//! document cannot drift from the code.

mod common;
use common::*;
use rocket::http::Status;
use serde_json::Value;
use std::collections::BTreeSet;

async fn document() -> (TestApp, Value) {
    let app = TestApp::new().await;
    let reply = app.get("/api/openapi.json", None).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    let doc = reply.json();
    (app, doc)
}

/// Rocket's `/api/sessions/<id>` as OpenAPI's `/api/sessions/{id}`.
fn openapi_path(rocket_path: &str) -> String {
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

#[rocket::async_test]
async fn every_mounted_api_route_is_documented() {
    let (app, doc) = document().await;
    let mounted: BTreeSet<(String, String)> = app
        .client
        .rocket()
        .routes()
        .filter(|r| r.uri.base() == "/api")
        .map(|r| (openapi_path(r.uri.path()), r.method.as_str().to_lowercase()))
        .collect();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (path.clone(), method.clone()))
        })
        .collect();
    assert!(mounted.len() >= 11, "{mounted:?}");
    assert_eq!(mounted, documented);
}

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[rocket::async_test]
async fn the_document_is_well_formed_openapi_3_1() {
    let (_app, doc) = document().await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .expect("local schema ref");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling {r}"
        );
    }

    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().expect("operationId");
            assert!(operation_ids.insert(id.to_string()), "duplicate {id}");
            let responses = op["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{method} {path}");
            for (status, response) in responses {
                let code: u16 = status.parse().expect("numeric status");
                if code >= 400 {
                    let content = &response["content"]["application/problem+json"];
                    assert!(
                        content.is_object(),
                        "{method} {path} {status} is not problem+json"
                    );
                }
            }
            let secured = op.get("security").is_some();
            let needs_token = responses.contains_key("401")
                && !matches!(path.as_str(), "/api/auth/login" | "/api/users");
            assert_eq!(secured, needs_token, "{method} {path} security");
        }
    }
}

#[rocket::async_test]
async fn documented_schemas_match_real_responses() {
    let (app, doc) = document().await;
    let token = app.user_token("alice").await;
    let session = &app.get("/api/sessions", Some(&token)).await.json()[0];
    let schema = &doc["components"]["schemas"]["SessionView"]["properties"];
    let documented: BTreeSet<_> = schema.as_object().unwrap().keys().cloned().collect();
    let actual: BTreeSet<_> = session.as_object().unwrap().keys().cloned().collect();
    assert_eq!(documented, actual);

    let problem = app.get("/api/me", None).await.json();
    let schema = &doc["components"]["schemas"]["ProblemDoc"]["properties"];
    for key in problem.as_object().unwrap().keys() {
        assert!(schema.get(key).is_some(), "{key} not documented");
    }
}
