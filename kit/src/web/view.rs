//! What the templates are given: view structs built from the models, and the wording of times and
//! errors. Everything here is rendered through auto-escaping templates.

use crate::device;
use crate::store::sessions::{Kind, SessionView};
use rocket::http::Status;
use rocket_dyn_templates::{context, Template};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A moment shown as relative time ("3 minutes ago", "in 30 days"), with the exact RFC 3339 time
/// on hover.
#[derive(Debug, Serialize)]
pub struct Moment {
    pub words: String,
    pub exact: String,
}

impl Moment {
    /// A moment past: "3 minutes ago".
    pub fn new(at: OffsetDateTime, now: i64) -> Moment {
        Moment {
            words: relative(at.unix_timestamp(), now),
            exact: at.format(&Rfc3339).unwrap_or_default(),
        }
    }

    /// A moment to come: "in 30 days".
    fn ahead(at: OffsetDateTime, now: i64) -> Moment {
        let secs = at.unix_timestamp().saturating_sub(now);
        Moment {
            words: match secs {
                ..=0 => "now".to_string(),
                secs => format!("in {}", duration(secs)),
            },
            exact: at.format(&Rfc3339).unwrap_or_default(),
        }
    }
}

/// One row of the device page.
#[derive(Debug, Serialize)]
pub struct DeviceRow {
    pub id: String,
    /// "Firefox on Linux", "curl", ...
    pub device: String,
    pub name: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// The address of the latest use, when it is not the sign-in address.
    pub last_ip: Option<String>,
    pub kind: Kind,
    /// Which icon to draw: "desktop", "phone", "terminal", "bot" or "other".
    pub icon: &'static str,
    pub created: Moment,
    pub last_used: Moment,
    pub current: bool,
    /// Whether its sign-in passed a second factor.
    pub mfa: bool,
}

impl DeviceRow {
    pub fn new(session: &SessionView, now: i64) -> DeviceRow {
        DeviceRow {
            id: session.id.clone(),
            device: session.device.clone(),
            name: session.name.clone().filter(|n| !n.trim().is_empty()),
            user_agent: session.user_agent.clone(),
            ip: session.ip.clone(),
            last_ip: session
                .last_ip
                .clone()
                .filter(|ip| Some(ip) != session.ip.as_ref()),
            kind: session.kind,
            mfa: session.mfa,
            icon: icon(session),
            created: Moment::new(session.created_at, now),
            last_used: Moment::new(session.last_used_at, now),
            current: session.current,
        }
    }

    /// How a flash message names this session: "Firefox on Linux" or "Firefox on Linux (work)".
    pub fn title(&self) -> String {
        match &self.name {
            Some(name) => format!("{} ({name})", self.device),
            None => self.device.clone(),
        }
    }
}

/// Which icon draws a session's device.
fn icon(session: &SessionView) -> &'static str {
    match device::kind(session.user_agent.as_deref()) {
        // Scripts and command-line tools signed in through the API.
        "other" if session.kind == Kind::Api => "terminal",
        kind => kind,
    }
}

/// One row of the device page's "Recently signed out".
#[derive(Debug, Serialize)]
pub struct EndedRow {
    pub device: String,
    pub name: Option<String>,
    pub kind: Kind,
    pub icon: &'static str,
    pub ip: Option<String>,
    pub ended: Moment,
    /// The reason's name, as the API says it.
    pub reason: &'static str,
    /// The reason in words: "revoked from another device".
    pub why: &'static str,
}

impl EndedRow {
    /// `None` for a session that has not ended.
    pub fn new(session: &SessionView, now: i64) -> Option<EndedRow> {
        let (ended_at, reason) = session.ended_at.zip(session.end_reason)?;
        Some(EndedRow {
            device: session.device.clone(),
            name: session.name.clone().filter(|n| !n.trim().is_empty()),
            kind: session.kind,
            icon: icon(session),
            ip: session.last_ip.clone(),
            ended: Moment::new(ended_at, now),
            reason: reason.as_str(),
            why: reason.words(),
        })
    }
}

/// One personal token on the tokens page.
#[derive(Debug, Serialize)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created: Moment,
    pub expires: Option<Moment>,
    /// `None` while the token has not been used since it was made.
    pub last_used: Option<Moment>,
    pub last_ip: Option<String>,
}

impl TokenRow {
    pub fn new(session: &SessionView, now: i64) -> TokenRow {
        let used = session.last_used_at > session.created_at;
        TokenRow {
            id: session.id.clone(),
            name: session.name.clone().unwrap_or_default(),
            scopes: session.scopes.clone(),
            created: Moment::new(session.created_at, now),
            expires: session.expires_at.map(|at| Moment::ahead(at, now)),
            last_used: used.then(|| Moment::new(session.last_used_at, now)),
            last_ip: used.then(|| session.last_ip.clone()).flatten(),
        }
    }
}

/// A span of time in words, rounded down to its largest unit: "42 seconds", "3 minutes".
pub fn duration(secs: i64) -> String {
    let secs = secs.max(1);
    let (n, unit) = match secs {
        ..=59 => (secs, "second"),
        60..=3_599 => (secs / 60, "minute"),
        3_600..=86_399 => (secs / 3_600, "hour"),
        86_400..=2_591_999 => (secs / 86_400, "day"),
        2_592_000..=31_535_999 => (secs / 2_592_000, "month"),
        _ => (secs / 31_536_000, "year"),
    };
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {unit}{plural}")
}

/// `then` relative to `now`, both Unix seconds: "just now", "3 minutes ago", "2 days ago".
pub fn relative(then: i64, now: i64) -> String {
    match now.saturating_sub(then) {
        // Also clock skew between instances, which can put a time a little in the future.
        ..=9 => "just now".to_string(),
        secs => format!("{} ago", duration(secs)),
    }
}

/// The HTML error page for a status, with an optional sentence of explanation.
pub fn error_page(status: Status, message: Option<&str>) -> Template {
    let (title, default_message) = match status.code {
        400 => ("Bad request", "The request could not be understood."),
        403 => (
            "This form has expired",
            "The form was not accepted: it came from another site, or it is out of date. \
             Go back, reload the page and try again.",
        ),
        404 => (
            "Page not found",
            "There is nothing here. The link may be wrong, or what it pointed to is gone.",
        ),
        405 => ("Not allowed", "This page cannot be used that way."),
        413 => (
            "Too much data",
            "The form sent more data than this site accepts.",
        ),
        415 | 422 => ("Form not accepted", "The form was incomplete or malformed."),
        429 => (
            "Too many attempts",
            "Too many attempts. Wait a while and try again.",
        ),
        500 => (
            "Something went wrong",
            "The server failed to answer. The fault has been logged; try again later.",
        ),
        503 => (
            "Temporarily unavailable",
            "The site cannot reach its database right now. Try again in a moment.",
        ),
        _ => (
            "Something went wrong",
            "The request failed. Try again later.",
        ),
    };
    Template::render(
        "error",
        context! {
            status: status.code,
            title,
            message: message.unwrap_or(default_message),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::relative;

    #[test]
    fn relative_times_read_naturally() {
        let now = 1_700_000_000;
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now + 30, now), "just now");
        assert_eq!(relative(now - 42, now), "42 seconds ago");
        assert_eq!(relative(now - 60, now), "1 minute ago");
        assert_eq!(relative(now - 3 * 60 - 5, now), "3 minutes ago");
        assert_eq!(relative(now - 2 * 3600, now), "2 hours ago");
        assert_eq!(relative(now - 86_400, now), "1 day ago");
        assert_eq!(relative(now - 45 * 86_400, now), "1 month ago");
        assert_eq!(relative(now - 800 * 86_400, now), "2 years ago");
    }
}
