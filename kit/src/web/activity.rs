//! The activity page: the account's security activity in words, newest first, a page at a time.

use super::cookie::CookieSession;
use super::csrf;
use super::page::Page;
use super::view::Moment;
use crate::auth::Sessions;
use crate::clock::at;
use crate::store::activity::{parse_cursor, ActivityPage, ActivityRow};
use crate::store::history::EndReason;
use rocket::http::Status;
use rocket_dyn_templates::{context, Template};
use serde::Serialize;
use serde_json::Value;

/// Entries per page.
const PAGE_SIZE: i64 = 25;

/// One entry of the page.
#[derive(Debug, Serialize)]
struct Entry {
    /// The entry's type, for styling (`sign_in`, `sign_in_failed`, ...).
    kind: String,
    /// What happened, in words: "Signed in from Firefox on Linux, 203.0.113.5".
    words: String,
    /// A sign-in from a device (label and network) not seen lately.
    new_device: bool,
    when: Moment,
}

impl Entry {
    fn new(row: &ActivityRow, now: i64) -> Entry {
        let detail = row.detail();
        Entry {
            kind: row.kind.clone(),
            words: words(row, &detail),
            new_device: row.kind == "sign_in" && detail["new_device"] == true,
            when: Moment::new(at(row.at), now),
        }
    }
}

/// " “work laptop”" for a detail with a name, else nothing.
fn quoted_name(detail: &Value) -> String {
    match detail["name"].as_str().filter(|n| !n.trim().is_empty()) {
        Some(name) => format!(" “{name}”"),
        None => String::new(),
    }
}

/// An entry in words. The templates escape them.
fn words(row: &ActivityRow, detail: &Value) -> String {
    let device = detail["device"]
        .as_str()
        .or(row.device.as_deref())
        .unwrap_or("an unknown device");
    let from = match &row.ip {
        Some(ip) => format!("{device}, {ip}"),
        None => device.to_string(),
    };
    let name = quoted_name(detail);
    let token = detail["kind"] == "token";
    match row.kind.as_str() {
        "sign_in" if detail["kind"] == "api" => format!("API sign-in{name} from {from}"),
        "sign_in" => format!("Signed in{name} from {from}"),
        "sign_in_failed" if detail["reason"] == "wrong_code" => {
            format!("Wrong two-factor code from {from}")
        }
        "sign_in_failed" => format!("Failed sign-in from {from}"),
        "signed_out" => format!("Signed out {device}{name}"),
        "session_revoked" => {
            let why = detail["reason"]
                .as_str()
                .and_then(|r| EndReason::try_from(r.to_string()).ok())
                .map(|reason| format!(" ({})", reason.words()))
                .unwrap_or_default();
            match token {
                true => format!("Personal token{name} revoked{why}"),
                false => format!("Session revoked: {device}{name}{why}"),
            }
        }
        "password_changed" => "Password changed".to_string(),
        "token_created" => format!("Personal token{name} created"),
        "token_regenerated" if !name.is_empty() => format!("Personal token{name} regenerated"),
        "token_regenerated" => "Token regenerated".to_string(),
        "sudo_granted" if detail["via"] == "second_factor" => {
            "Two-factor code confirmed (sudo mode)".to_string()
        }
        "sudo_granted" => "Password confirmed (sudo mode)".to_string(),
        "email_verified" => "Email address verified".to_string(),
        "email_change_requested" => "Change of email address asked".to_string(),
        "email_changed" if detail["removed"] == true => "Email address removed".to_string(),
        "email_changed" => "Email address changed".to_string(),
        "password_reset" => "Password reset by email".to_string(),
        "two_factor_enabled" => "Two-factor authentication turned on".to_string(),
        "two_factor_disabled" if detail["by"] == "admin" => {
            "Two-factor authentication turned off by an administrator".to_string()
        }
        "two_factor_disabled" => "Two-factor authentication turned off".to_string(),
        "recovery_code_used" => format!("Recovery code used from {from}"),
        other => other.replace('_', " "),
    }
}

#[get("/activity?<before>")]
async fn activity_page(
    sessions: Sessions<'_>,
    session: CookieSession<'_>,
    before: Option<&str>,
) -> Page {
    let before = match before.map(parse_cursor) {
        Some(None) => return Page::error(Status::BadRequest, Some("That page link is malformed.")),
        Some(Some(id)) => Some(id),
        None => None,
    };
    let rows = sessions.activity(session.user_id(), before, PAGE_SIZE);
    let page = match rows.await {
        Ok(rows) => ActivityPage::new(rows, PAGE_SIZE),
        Err(e) => return Page::from_db(e),
    };
    let now = sessions.clock().now();
    let entries: Vec<Entry> = page
        .entries
        .iter()
        .map(|row| Entry::new(row, now))
        .collect();
    Page::ok(Template::render(
        "activity",
        context! {
            user: session.username(),
            csrf: csrf::session_token(&session),
            entries,
            older: page.next,
            newer: before.is_some(),
        },
    ))
}

pub fn routes() -> Vec<rocket::Route> {
    routes![activity_page]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(kind: &str, device: &str, ip: Option<&str>, detail: Value) -> ActivityRow {
        ActivityRow {
            id: 1,
            kind: kind.to_string(),
            at: 0,
            ip: ip.map(String::from),
            device: Some(device.to_string()),
            session_id: None,
            detail: detail.to_string(),
        }
    }

    fn said(kind: &str, device: &str, ip: Option<&str>, detail: Value) -> String {
        let row = row(kind, device, ip, detail);
        words(&row, &row.detail())
    }

    #[test]
    fn each_entry_reads_as_a_sentence() {
        let firefox = "Firefox on Linux";
        let ip = Some("203.0.113.5");
        let browser = json!({"kind": "browser", "new_device": true});
        assert_eq!(
            said("sign_in", firefox, ip, browser),
            "Signed in from Firefox on Linux, 203.0.113.5"
        );
        let api = json!({"kind": "api", "new_device": false, "name": "laptop"});
        assert_eq!(
            said("sign_in", "curl", ip, api),
            "API sign-in “laptop” from curl, 203.0.113.5"
        );
        assert_eq!(
            said("sign_in_failed", firefox, ip, json!({})),
            "Failed sign-in from Firefox on Linux, 203.0.113.5"
        );
        assert_eq!(
            said("signed_out", "Safari on iPhone", None, json!({})),
            "Signed out Safari on iPhone"
        );
        let revoked = json!({"reason": "revoked", "kind": "browser", "device": "Chrome on Linux"});
        assert_eq!(
            said("session_revoked", firefox, ip, revoked),
            "Session revoked: Chrome on Linux (revoked from another device)"
        );
        let token = json!({"reason": "password_changed", "kind": "token", "name": "ci"});
        assert_eq!(
            said("session_revoked", firefox, ip, token),
            "Personal token “ci” revoked (ended by a password change)"
        );
        assert_eq!(
            said("password_changed", firefox, ip, json!({})),
            "Password changed"
        );
        assert_eq!(
            said("token_created", firefox, ip, json!({"name": "ci"})),
            "Personal token “ci” created"
        );
        assert_eq!(
            said("token_regenerated", firefox, ip, json!({})),
            "Token regenerated"
        );
        assert_eq!(
            said("sudo_granted", firefox, ip, json!({"via": "sudo"})),
            "Password confirmed (sudo mode)"
        );
    }
}
