//! The OpenAPI document as tests/openapi*.rs read it: its operations, each with the place of its
//! `#[utoipa::path]` for failure messages, and a way to call it on the running app.

use super::{read, AppFn, Reply, TestApp};
use rocket::http::{ContentType, Header, Method, Status};
use serde_json::Value;
use std::path::PathBuf;

/// An id of the right shape, for paths such as /api/sessions/{id}.
pub const SOME_ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

/// A new app of `build`'s, and the document it serves.
pub async fn document(build: AppFn) -> (TestApp, Value) {
    let app = TestApp::new(build).await;
    let reply = app.get("/api/openapi.json", None).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    let doc = reply.json();
    (app, doc)
}

/// One operation of the document, and where its `#[utoipa::path]` is.
pub struct Op<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub id: &'a str,
    pub op: &'a Value,
}

impl Op<'_> {
    pub fn label(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }

    /// "the #[utoipa::path] above fn revoke (operationId revoke) in kit/src/api/sessions.rs":
    /// looked for in the kit's src/ and in the src/ of the crate whose tests run.
    pub fn place(&self) -> String {
        let kit = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let needle = format!("fn {}(", self.id);
        let file = [kit.join("src"), PathBuf::from("src")]
            .iter()
            .flat_map(|dir| rust_files(dir))
            .find(|path| std::fs::read_to_string(path).is_ok_and(|text| text.contains(&needle)))
            .map(|path| path.display().to_string())
            .unwrap_or_else(|| "src/".to_string());
        format!(
            "the #[utoipa::path] above fn {0} (operationId {0}) in {file}",
            self.id
        )
    }

    pub fn response(&self, status: u16) -> Option<&Value> {
        self.op["responses"].get(status.to_string())
    }

    pub fn secured(&self) -> bool {
        self.op["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    }

    pub fn takes_body(&self) -> bool {
        self.op.get("requestBody").is_some()
    }

    /// A request to this operation, path parameters filled in.
    pub async fn send(
        &self,
        app: &TestApp,
        token: Option<&str>,
        body: Option<(ContentType, &str)>,
    ) -> Reply {
        let method: Method = self.method.parse().expect("a method");
        let mut req = app.client.req(method, self.path.replace("{id}", SOME_ID));
        if let Some(token) = token {
            req = req.header(Header::new("Authorization", format!("Bearer {token}")));
        }
        if let Some((content_type, body)) = body {
            req = req.header(content_type).body(body);
        }
        read(req.dispatch().await).await
    }
}

pub fn operations(doc: &Value) -> Vec<Op<'_>> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let id = op["operationId"].as_str().expect("an operationId");
            ops.push(Op {
                method,
                path,
                id,
                op,
            });
        }
    }
    // The template's own operations, without any feature's.
    assert!(ops.len() >= 11, "only {} operations", ops.len());
    ops
}

/// A documented header, and whether it is `required`.
pub fn header<'a>(response: &'a Value, name: &str) -> Option<(&'a Value, bool)> {
    let header = response["headers"].get(name)?;
    Some((header, header["required"] == true))
}

/// The .rs files under `dir`, at any depth.
fn rust_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for path in entries.flatten().map(|entry| entry.path()) {
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}
