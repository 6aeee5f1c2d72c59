//! `JsonBody<T>`, the JSON-only body guard of the API: the wrong media type is 415, an oversized body
//! 413, bad syntax or bad UTF-8 400, and a body of the wrong shape 422, each as a problem.

use crate::problem::Problem;
use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::http::Status;
use rocket::Request;
use serde::de::DeserializeOwned;

/// Body limit when Rocket.toml sets no `limits.json`.
const DEFAULT_LIMIT: u64 = 16 * 1024;

pub struct JsonBody<T>(pub T);

fn fail<'r, T, E>(req: &Request<'_>, problem: Problem, err: E) -> data::Outcome<'r, T, E> {
    let status = problem.status;
    problem.stash(req);
    data::Outcome::Error((status, err))
}

#[rocket::async_trait]
impl<'r, T: DeserializeOwned> FromData<'r> for JsonBody<T> {
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let is_json = req.content_type().is_some_and(|ct| {
            ct.is_json() || (ct.top() == "application" && ct.sub().as_str().ends_with("+json"))
        });
        if !is_json {
            let problem = Problem::from_status(Status::UnsupportedMediaType)
                .detail("send the body as application/json");
            return fail(req, problem, ());
        }
        let limit = req.limits().get("json").unwrap_or(DEFAULT_LIMIT.bytes());
        let body = match data.open(limit).into_bytes().await {
            Ok(body) if body.is_complete() => body.into_inner(),
            Ok(_) => {
                let problem = Problem::from_status(Status::PayloadTooLarge)
                    .detail(format!("the body must be at most {limit}"));
                return fail(req, problem, ());
            }
            Err(_) => return fail(req, Problem::from_status(Status::BadRequest), ()),
        };
        match serde_json::from_slice(&body) {
            Ok(value) => data::Outcome::Success(JsonBody(value)),
            Err(e) => {
                use serde_json::error::Category;
                let problem = match e.classify() {
                    // serde's other messages may quote the value, which may be a password.
                    Category::Data if e.to_string().starts_with("missing field") => {
                        Problem::unprocessable(e.to_string())
                    }
                    Category::Data => {
                        Problem::unprocessable("a field is missing or has the wrong type")
                    }
                    _ => Problem::new(Status::BadRequest, "malformed_json", "Malformed JSON body")
                        .detail(e.to_string()),
                };
                fail(req, problem, ())
            }
        }
    }
}

/// A JSON body that may be left out: a request with neither a body nor a `Content-Type` gives
/// `None`, and so does a JSON `null`; anything else is read as [`JsonBody`] reads it (and
/// refused as it refuses it).
pub struct OptionalJsonBody<T>(pub Option<T>);

#[rocket::async_trait]
impl<'r, T: DeserializeOwned> FromData<'r> for OptionalJsonBody<T> {
    type Error = ();

    async fn from_data(req: &'r Request<'_>, mut data: Data<'r>) -> data::Outcome<'r, Self> {
        if req.content_type().is_none() && data.peek(1).await.is_empty() {
            return data::Outcome::Success(OptionalJsonBody(None));
        }
        JsonBody::<Option<T>>::from_data(req, data)
            .await
            .map(|body| OptionalJsonBody(body.0))
    }
}
