//! The `[mail]` table of Rocket.toml (`ROCKET_MAIL='{transport="smtp", smtp_url="..."}'`).

use lettre::message::Mailbox;
use rocket::figment::Figment;
use serde::Deserialize;
use std::path::PathBuf;

/// How mail leaves the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Each message is written as one `.eml` file into `dir`: nothing to set up, nothing sent.
    File,
    /// Each message is delivered to the server of `smtp_url`.
    Smtp,
}

/// Settings of the mail machinery. Every key has a default, so an empty `[mail]` table is valid.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `file` (the default) or `smtp`.
    pub transport: Transport,
    /// Where the file transport writes, relative to the working folder.
    pub dir: PathBuf,
    /// The SMTP server: `smtp://host:port`, `smtps://user:password@host`, `?tls=required` for
    /// STARTTLS. It may hold a password: never logged.
    pub smtp_url: Option<String>,
    /// The `From` of every message.
    pub from: String,
    /// The site's address as a mail's reader reaches it; links are built on it.
    pub base_url: String,
    /// Seconds after which a message that could not be sent is given up (at least 1).
    pub retry_for: u64,
    /// Whether notices are sent (a password changed, a new device, ...); links are sent either
    /// way.
    pub notices: bool,
}

impl Default for MailConfig {
    fn default() -> MailConfig {
        MailConfig {
            transport: Transport::File,
            dir: PathBuf::from("data/mail"),
            smtp_url: None,
            from: "no-reply@localhost".into(),
            base_url: "http://127.0.0.1:8000".into(),
            retry_for: 3600,
            notices: true,
        }
    }
}

impl MailConfig {
    /// Reads and checks `[mail]` (absent: the defaults). The error says which key is wrong and
    /// never repeats `smtp_url`.
    pub fn from_figment(figment: &Figment) -> Result<MailConfig, String> {
        let config: MailConfig = match figment.extract_inner("mail") {
            Ok(config) => config,
            Err(e) if e.missing() => MailConfig::default(),
            Err(e) => return Err(format!("invalid [mail] configuration: {e}")),
        };
        config.checked()
    }

    fn checked(mut self) -> Result<MailConfig, String> {
        let invalid = |what: &str| Err(format!("invalid [mail] configuration: {what}"));
        if self.from.parse::<Mailbox>().is_err() {
            return invalid("from must be an email address, e.g. \"no-reply@example.org\"");
        }
        let base = self.base_url.trim().trim_end_matches('/');
        let host = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"));
        if host.is_none_or(|host| host.is_empty() || host.contains(char::is_whitespace)) {
            return invalid("base_url must be an http:// or https:// address");
        }
        self.base_url = base.to_string();
        if self.retry_for == 0 {
            return invalid("retry_for must be at least 1 (seconds)");
        }
        if self.transport == Transport::File && self.dir.as_os_str().is_empty() {
            return invalid("dir must name a folder");
        }
        if self.transport == Transport::Smtp {
            let Some(url) = self.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) else {
                return invalid("transport = \"smtp\" needs smtp_url (smtp://host:port)");
            };
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return invalid("smtp_url must start with smtp:// or smtps://");
            }
            if lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url).is_err() {
                return invalid("smtp_url is not a valid SMTP URL (smtp://host:port)");
            }
        }
        Ok(self)
    }

    /// Where mail goes, for the log: the folder, or the SMTP server's host and port (never the
    /// credentials of `smtp_url`).
    pub fn destination(&self) -> String {
        match self.transport {
            Transport::File => format!("the folder {}", self.dir.display()),
            Transport::Smtp => {
                let url = self.smtp_url.as_deref().unwrap_or_default();
                let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
                let authority = rest.split(['/', '?']).next().unwrap_or_default();
                let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                format!("the SMTP server {host}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::figment::providers::Serialized;

    fn read(table: serde_json::Value) -> Result<MailConfig, String> {
        MailConfig::from_figment(&Figment::from(Serialized::defaults(
            serde_json::json!({ "mail": table }),
        )))
    }

    #[test]
    fn defaults_and_bad_values() {
        let config = read(serde_json::json!({})).unwrap();
        assert_eq!(config.transport, Transport::File);
        assert_eq!(config.destination(), "the folder data/mail");
        for (table, says) in [
            (serde_json::json!({"transport": "pigeon"}), "transport"),
            (serde_json::json!({"from": "not an address"}), "from"),
            (serde_json::json!({"base_url": "ftp://x"}), "base_url"),
            (serde_json::json!({"retry_for": 0}), "retry_for"),
            (serde_json::json!({"transport": "smtp"}), "smtp_url"),
            (
                serde_json::json!({"transport": "smtp", "smtp_url": "http://x"}),
                "smtp_url",
            ),
            (serde_json::json!({"colour": "red"}), "colour"),
        ] {
            let e = read(table).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn the_destination_never_shows_credentials() {
        let config = read(serde_json::json!({
            "transport": "smtp",
            "smtp_url": "smtps://user:s3cret@mail.example.org:465?tls=required",
            "base_url": "https://example.org/",
        }))
        .unwrap();
        assert_eq!(config.destination(), "the SMTP server mail.example.org:465");
        assert_eq!(config.base_url, "https://example.org");
    }
}
