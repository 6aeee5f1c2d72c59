//! The email flows' tests: an app whose mail goes to `.eml` files in a folder of its own, and
//! the mails and link tokens found there.

use super::Eml;
use serde_json::{json, Value};
use session_kit::testing::TestApp;
use std::path::PathBuf;
use std::sync::Mutex;

/// An app that writes its mail into a temporary folder (kept alive by the app's holder).
pub struct MailApp {
    pub app: TestApp,
    pub folder: tempfile::TempDir,
    /// The files found so far, in the order they were found (a file's name starts with its
    /// outbox id, which SQLite may give again once the outbox is empty).
    seen: Mutex<Vec<PathBuf>>,
}

impl MailApp {
    /// With these `[auth]` settings and other settings (`mail.notices`, ...).
    pub async fn with(auth: Value, other: Value) -> MailApp {
        let folder = tempfile::tempdir().expect("a temp dir");
        let mut settings = json!({ "mail.dir": folder.path().join("mail") });
        for (key, value) in other.as_object().expect("an object") {
            settings[key] = value.clone();
        }
        let app = TestApp::with_config(crate::common::build, auth, settings).await;
        MailApp {
            app,
            folder,
            seen: Mutex::new(Vec::new()),
        }
    }

    pub async fn new() -> MailApp {
        MailApp::with(json!({}), json!({})).await
    }

    /// Every mail sent so far to `to`, oldest first, once what is queued is sent (work done
    /// after an answer, such as a reset request's, included).
    pub async fn mails_to(&self, to: &str) -> Vec<Eml> {
        self.app.auth().entries_written().await;
        self.app.deliver_mail().await;
        let mut seen = self.seen.lock().unwrap();
        let mut new: Vec<PathBuf> = std::fs::read_dir(self.folder.path().join("mail"))
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        new.retain(|p| p.extension().is_some_and(|e| e == "eml") && !seen.contains(p));
        // In the order written (names start with the outbox id, which SQLite may reuse).
        new.sort_by_key(|p| (p.metadata().and_then(|m| m.modified()).ok(), p.clone()));
        seen.extend(new);
        seen.iter()
            .map(|p| Eml::parse(&std::fs::read(p).expect("readable")))
            .filter(|m| m.header("To").is_some_and(|t| t.contains(to)))
            .collect()
    }

    /// The subjects of the mails sent so far to `to`.
    pub async fn subjects_to(&self, to: &str) -> Vec<String> {
        let mails = self.mails_to(to).await;
        mails.iter().filter_map(|m| m.header("Subject")).collect()
    }

    /// The token of the newest reset link mailed to `to`.
    pub async fn reset_token(&self, to: &str) -> String {
        self.last_token(to, "/reset-password?").await
    }

    /// The token of the newest verification link mailed to `to`.
    pub async fn verify_token(&self, to: &str) -> String {
        self.last_token(to, "/verify-email?").await
    }

    async fn last_token(&self, to: &str, path: &str) -> String {
        let mails = self.mails_to(to).await;
        let links = mails.iter().filter(|m| m.part("text/plain").contains(path));
        let tokens: Vec<String> = links.filter_map(token_in).collect();
        tokens
            .last()
            .cloned()
            .unwrap_or_else(|| panic!("no {path} link mailed to {to}"))
    }

    /// Signs up `username` with the address `email` and verifies it with the link mailed.
    pub async fn verified_user(&self, username: &str, email: &str) -> String {
        let body = json!({"username": username, "password": session_kit::testing::PASSWORD, "email": email});
        let reply = self.app.post("/api/users", None, body).await;
        assert_eq!(reply.status.code, 201, "{}", reply.text);
        let token = self.verify_token(email).await;
        let reply = self
            .app
            .post("/api/auth/verify-email", None, json!({ "token": token }))
            .await;
        assert_eq!(reply.status.code, 204, "{}", reply.text);
        self.app
            .login(username, session_kit::testing::PASSWORD)
            .await
    }
}

/// The token of the link in a mail's text, if it has one.
pub fn token_in(mail: &Eml) -> Option<String> {
    let text = mail.part("text/plain");
    let start = text.find("token=")? + "token=".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Some(token)
}
