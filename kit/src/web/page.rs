//! What the page handlers share: the `Page` responder, where a browser goes next, and the forms
//! shown signed out.

use super::csrf;
use super::flash;
use super::view;
use crate::config::{AuthConfig, SignupEmail};
use crate::problem::DbFault;
use rocket::http::uri::Origin;
use rocket::http::{CookieJar, RawStr, Status};
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder};
use rocket_dyn_templates::Template;
use serde::Serialize;

/// Where a signed-in browser lands.
pub const HOME: &str = "/sessions";

/// A rendered page with its status (forms shown again after an error are not 200).
pub struct Page {
    status: Status,
    template: Template,
    pub retry_after: Option<u64>,
}

impl Page {
    pub fn new(status: Status, template: Template) -> Page {
        Page {
            status,
            template,
            retry_after: None,
        }
    }

    pub fn ok(template: Template) -> Page {
        Page::new(Status::Ok, template)
    }

    /// The page for an error. A 503 is worth a retry: it says when, as the API does.
    pub fn error(status: Status, message: Option<&str>) -> Page {
        let mut page = Page::new(status, view::error_page(status, message));
        if status == Status::ServiceUnavailable {
            page.retry_after = Some(crate::problem::OUTAGE_RETRY_AFTER);
        }
        page
    }

    /// The page for a full password queue: try again in a second.
    pub fn busy() -> Page {
        let mut page = Page::error(Status::ServiceUnavailable, None);
        page.retry_after = Some(1);
        page
    }

    /// The page for a database error: "try again" for an outage, "something went wrong" with
    /// the logged error id for a fault. The details go to the log only.
    pub fn from_db(e: sqlx::Error) -> Page {
        match DbFault::of(&e) {
            DbFault::Outage => {
                rocket::warn!("database unavailable: {e}");
                Page::error(Status::ServiceUnavailable, None)
            }
            DbFault::Missing => Page::error(Status::NotFound, None),
            _ => {
                let problem =
                    crate::problem::Problem::internal(format_args!("database error: {e}"));
                let message = format!(
                    "The server failed to answer; the fault is logged as {}. Try again later.",
                    problem
                        .error_id
                        .map(|id| id.to_string())
                        .unwrap_or_default()
                );
                Page::error(Status::InternalServerError, Some(&message))
            }
        }
    }
}

impl<'r> Responder<'r, 'static> for Page {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.template.respond_to(req)?;
        response.set_status(self.status);
        if let Some(secs) = self.retry_after {
            response.set_raw_header("Retry-After", secs.to_string());
        }
        Ok(response)
    }
}

/// A form page, or a redirect when the browser is already signed in.
#[derive(Responder)]
pub enum PageOrRedirect {
    Page(Page),
    Redirect(Redirect),
}

/// Whether `path` may be redirected to after sign-in or sudo: a path on this site, never another
/// host (`//evil.example`, `/\evil.example`, or one that a browser would turn into such by
/// dropping tabs or newlines, or a server by decoding `/%2F%2Fevil.example` once more).
pub fn is_local_path(path: &str) -> bool {
    let decoded = RawStr::new(path).percent_decode_lossy();
    path.starts_with('/')
        && !path.starts_with("//")
        && !decoded.starts_with("//")
        && !decoded.starts_with("/\\")
        && path.len() <= 1024
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
        && Origin::parse(path).is_ok()
}

/// "Try again in 14 minutes.": how long a throttled password check must wait, rounded up (a
/// wait of 14.5 minutes said as 14 would be refused again).
pub fn wait_message(secs: u64) -> String {
    let rounded = if secs < 60 {
        secs
    } else {
        secs.div_ceil(60) * 60
    };
    format!("Try again in {}.", view::duration(rounded as i64))
}

/// Where to go after signing in: `next` when it is a local path, else the device page.
pub fn landing(next: Option<&str>) -> String {
    next.filter(|path| is_local_path(path))
        .unwrap_or(HOME)
        .to_string()
}

/// "username must be 3 to 64 characters long" → "Username must be 3 to 64 characters long."
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
    format!("{}{}.", first.unwrap_or_default(), chars.as_str())
}

/// What the sign-in and sign-up templates show.
#[derive(Serialize, Default)]
pub struct FormView<'a> {
    pub csrf: String,
    pub username: &'a str,
    /// The sign-up form's address, as typed.
    pub email: &'a str,
    /// Whether the sign-up form requires an address (`signup_email = "required"`).
    pub email_required: bool,
    pub name: &'a str,
    pub next: Option<&'a str>,
    pub error: Option<String>,
    pub flash: Option<String>,
    pub signup: bool,
}

impl<'a> FormView<'a> {
    pub fn new(config: &AuthConfig, jar: &CookieJar<'_>) -> FormView<'a> {
        FormView {
            csrf: csrf::signed_out_token(jar, config.secure_cookie()),
            flash: flash::take(jar, config.secure_cookie()),
            signup: config.signup,
            email_required: config.signup_email == SignupEmail::Required,
            ..FormView::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_paths_on_this_site_are_return_paths() {
        for good in ["/", "/sessions", "/sessions?x=1", "/a/b"] {
            assert!(is_local_path(good), "{good}");
        }
        for bad in [
            "",
            "sessions",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/ /x",
            "/%2F%2Fevil.example",
            "/%5Cevil.example",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
    }
}
