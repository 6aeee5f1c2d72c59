//! Requests, and the steps most tests take: sign up, log in, list and revoke sessions, make
//! personal tokens.

use super::{read, Reply, TestApp, MALFORMED_IDS, PASSWORD};
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};
use std::net::SocketAddr;

impl TestApp {
    /// Checks that `method` on `path` (`{id}` standing for the id) answers a malformed id with
    /// 404 `not_found` for `token`'s session, and 401 without a session: the session is checked
    /// first, the id next, the body (if any) never. Returns the answers, for more checks.
    pub async fn malformed_ids_answered(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Vec<Reply> {
        let mut answers = Vec::new();
        for junk in MALFORMED_IDS {
            let path = path.replace("{id}", junk);
            let reply = self.call(method, &path, Some(token), body.clone()).await;
            reply.assert_problem(404, "not_found");
            answers.push(reply);
            let reply = self.call(method, &path, None, body.clone()).await;
            reply.assert_problem(401, "not_authenticated");
            answers.push(reply);
        }
        answers
    }

    /// A request with optional token and JSON body, from 127.0.0.1 unless `from` says otherwise.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.call_from(method, path, token, body, "127.0.0.1:5000")
            .await
    }

    pub async fn call_from(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        from: &str,
    ) -> Reply {
        let mut req = match method {
            "GET" => self.client.get(path),
            "POST" => self.client.post(path),
            "DELETE" => self.client.delete(path),
            "PUT" => self.client.put(path),
            other => panic!("method {other}"),
        };
        req = req.remote(from.parse::<SocketAddr>().expect("address"));
        if let Some(token) = token {
            req = req.header(Header::new("Authorization", format!("Bearer {token}")));
        }
        if let Some(body) = body {
            req = req.header(ContentType::JSON).body(body.to_string());
        }
        read(req.dispatch().await).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call("POST", path, token, Some(body)).await
    }

    pub async fn signup(&self, username: &str, password: &str) -> Reply {
        self.post(
            "/api/users",
            None,
            json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn try_login(&self, username: &str, password: &str) -> Reply {
        self.post(
            "/api/auth/login",
            None,
            json!({"username": username, "password": password}),
        )
        .await
    }

    /// Signs up `username` with [`PASSWORD`] (ignoring "taken") and returns a new token.
    pub async fn user_token(&self, username: &str) -> String {
        let reply = self.signup(username, PASSWORD).await;
        assert!(matches!(reply.status.code, 201 | 409), "{}", reply.text);
        self.login(username, PASSWORD).await
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let reply = self.try_login(username, password).await;
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
        reply.json()["token"].as_str().expect("token").to_string()
    }

    /// The public id of one of the token's user's sessions other than the token's own.
    pub async fn other_session_id(&self, token: &str) -> String {
        let list = self.get("/api/sessions", Some(token)).await.json();
        let other = list
            .as_array()
            .expect("a list")
            .iter()
            .find(|s| s["current"] == false)
            .expect("another session");
        other["id"].as_str().expect("an id").to_string()
    }

    /// `POST /api/auth/login` with `body`, from a client at `from` (e.g. `"10.1.2.3:4000"`) that
    /// sends `user_agent`. Returns the reply, whatever it is.
    pub async fn login_with(&self, body: Value, user_agent: &str, from: &str) -> Reply {
        let req = self
            .client
            .post("/api/auth/login")
            .header(ContentType::JSON)
            .header(Header::new("User-Agent", user_agent.to_string()))
            .remote(from.parse::<SocketAddr>().expect("address"))
            .body(body.to_string());
        read(req.dispatch().await).await
    }

    /// The ids that `GET /api/sessions` lists for `token`'s user, in the order listed.
    pub async fn listed_ids(&self, token: &str) -> Vec<String> {
        let reply = self.get("/api/sessions", Some(token)).await;
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
        reply
            .json()
            .as_array()
            .expect("a list")
            .iter()
            .map(|s| s["id"].as_str().expect("an id").to_string())
            .collect()
    }

    /// `DELETE /api/sessions/{id}` with `token`.
    pub async fn revoke(&self, token: &str, id: &str) -> Reply {
        let path = format!("/api/sessions/{id}");
        self.call("DELETE", &path, Some(token), None).await
    }

    /// `POST /api/tokens` with `token` (a sign-in, in sudo mode since it is fresh): a personal
    /// token with these scopes. Returns the reply, whatever it is.
    pub async fn try_personal_token(&self, token: &str, name: &str, scopes: &[&str]) -> Reply {
        let body = json!({"name": name, "scopes": scopes});
        self.post("/api/tokens", Some(token), body).await
    }

    /// `POST /api/tokens/{id}/regenerate` with `token`. Returns the reply, whatever it is.
    pub async fn regenerate(&self, token: &str, id: &str) -> Reply {
        let path = format!("/api/tokens/{id}/regenerate");
        self.call("POST", &path, Some(token), None).await
    }

    /// As [`TestApp::try_personal_token`], asserting 201: the new token's text and its entry.
    pub async fn personal_token(
        &self,
        token: &str,
        name: &str,
        scopes: &[&str],
    ) -> (String, Value) {
        let reply = self.try_personal_token(token, name, scopes).await;
        assert_eq!(reply.status, Status::Created, "{}", reply.text);
        let body = reply.json();
        let text = body["token"].as_str().expect("token").to_string();
        (text, body["session"].clone())
    }

    /// Runs a counting query on the app's own database (once the activity entries written
    /// after their answers are in).
    pub async fn count(&self, sql: &str) -> i64 {
        self.auth().entries_written().await;
        let (n,): (i64,) = sqlx::query_as(sql)
            .fetch_one(&**self.auth().db())
            .await
            .expect("count query");
        n
    }

    pub async fn session_count(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM sessions").await
    }
}
