//! Query-string values read strictly: a value given twice is refused, never quietly dropped
//! (Rocket takes the first of a repeated value, or with `Option` drops them all).

use super::ApiResult;
use crate::problem::Problem;
use rocket::form::{error::ErrorKind, Errors, Strict};

/// A route's query value, declared as `Result<Strict<&str>, Errors<'_>>`: `None` when absent,
/// 422 when it is given more than once.
pub fn once<'v>(
    name: &str,
    value: Result<Strict<&'v str>, Errors<'_>>,
) -> ApiResult<Option<&'v str>> {
    match value {
        Ok(text) => Ok(Some(text.into_inner())),
        Err(e) if e.iter().all(|e| matches!(e.kind, ErrorKind::Missing)) => Ok(None),
        Err(_) => Err(Problem::unprocessable(format!("{name} must be given once"))),
    }
}
