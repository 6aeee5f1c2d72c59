//! The account's security activity: sign-ins (new devices marked), failed ones, sign-outs,
//! revocations, password changes, tokens and sudo, newest first, a page at a time.

use super::openapi::ProblemDoc;
use super::query::once;
use super::ApiResult;
use crate::auth::{Scoped, Sessions};
use crate::clock::at;
use crate::problem::Problem;
use crate::scopes::SessionsRead;
use crate::store::activity::{parse_cursor, ActivityKind, ActivityPage, ActivityRow};
use crate::store::activity::{MAX_PAGE, PAGE_SIZE_API};
use rocket::form::{Errors, Strict};
use rocket::serde::json::Json;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

api_routes![activity];

/// A page of the user's security activity, newest first.
#[derive(Serialize, ToSchema)]
pub struct ActivityList {
    events: Vec<ActivityEvent>,
    /// The cursor of the next (older) page, to pass as `before`; null on the last page.
    #[schema(example = "1207")]
    next: Option<String>,
}

/// One entry of the activity log. It never holds a password, token or hash.
#[derive(Serialize, ToSchema)]
pub struct ActivityEvent {
    #[schema(example = "1234")]
    id: String,
    /// What happened.
    #[serde(rename = "type")]
    #[schema(value_type = ActivityKind)]
    kind: String,
    /// When (RFC 3339, UTC).
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    /// The client IP of the request that did it.
    ip: Option<String>,
    /// That client's device label.
    #[schema(example = "Firefox on Linux")]
    device: Option<String>,
    /// The public id of the session the entry is about.
    session_id: Option<String>,
    /// What else the entry says, by type: a sign-in's `kind`, `new_device` and `name`; a
    /// revocation's `reason`; a token's `name`.
    #[schema(value_type = Object, example = json!({"kind": "api", "new_device": false}))]
    detail: serde_json::Value,
}

impl From<&ActivityRow> for ActivityEvent {
    fn from(row: &ActivityRow) -> ActivityEvent {
        ActivityEvent {
            id: row.id.to_string(),
            kind: row.kind.clone(),
            at: at(row.at),
            ip: row.ip.clone(),
            device: row.device.clone(),
            session_id: row.session_id.clone(),
            detail: row.detail(),
        }
    }
}

/// `limit`, from 1 to 100; 422 for anything else.
fn page_size(limit: Option<&str>) -> ApiResult<i64> {
    let Some(text) = limit else {
        return Ok(PAGE_SIZE_API);
    };
    let digits = !text.is_empty() && text.len() <= 3 && text.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| text.parse().ok())
        .flatten()
        .filter(|n| (1..=MAX_PAGE).contains(n))
        .ok_or_else(|| Problem::unprocessable(format!("limit must be 1 to {MAX_PAGE}")))
}

/// The user's security activity, newest first, a page at a time.
#[utoipa::path(
    tag = "activity",
    params(
        ("limit" = Option<i64>, Query, description = "Entries per page: 1 to 100, 50 by default", minimum = 1, maximum = 100),
        ("before" = Option<String>, Query, description = "The `next` cursor of the page before this one", pattern = "^[0-9]{1,18}$"),
    ),
    responses(
        (status = 200, description = "A page of entries, newest first", body = ActivityList),
        (status = 422, description = "A limit out of range, or a malformed cursor (invalid_input)", body = ProblemDoc, content_type = "application/problem+json"),
    )
)]
#[get("/activity?<limit>&<before>")]
async fn activity(
    session: Scoped<'_, SessionsRead>,
    sessions: Sessions<'_>,
    limit: Result<Strict<&str>, Errors<'_>>,
    before: Result<Strict<&str>, Errors<'_>>,
) -> ApiResult<Json<ActivityList>> {
    let limit = page_size(once("limit", limit)?)?;
    let before = match once("before", before)? {
        Some(cursor) => {
            Some(parse_cursor(cursor).ok_or_else(|| Problem::unprocessable("malformed cursor"))?)
        }
        None => None,
    };
    // Always the session's own user: a cursor says where, never whose.
    let rows = sessions.activity(session.user_id(), before, limit).await?;
    let page = ActivityPage::new(rows, limit);
    Ok(Json(ActivityList {
        events: page.entries.iter().map(ActivityEvent::from).collect(),
        next: page.next,
    }))
}
