//! Email addresses as accounts keep them: checked, in one stored form, and compared
//! case-insensitively.
//!
//! The check is syntactic and deliberately plain (only a mail that arrives proves an address):
//! exactly one `@`; a local part of 1 to 64 bytes with no spaces, control characters or any of
//! `<>()[]\,;:"`; a domain of dot-separated labels of ASCII letters, digits and `-`, none empty
//! and none starting or ending with `-` (an internationalized domain is given in its `xn--`
//! form). A dot in the domain is not required, so
//! `admin@localhost` is accepted (a mail server on a private network may deliver it). The whole
//! address is at most 254 bytes (RFC 5321's limit on a path).
//!
//! Stored form: trimmed, with the domain lower-cased; the local part keeps its case (a mail
//! server may tell `Bob` from `bob`, though few do). Two addresses are the same account's when
//! their [`EmailAddress::key`]s, the whole address lower-cased, are equal.

use std::fmt;

/// The longest address accepted, in bytes.
pub const MAX_EMAIL_LEN: usize = 254;
/// The longest local part (before the `@`) accepted, in bytes.
pub const MAX_LOCAL_LEN: usize = 64;

/// A checked email address in its stored form.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Checks an address as typed and returns its stored form, or why it is refused.
    pub fn parse(text: &str) -> Result<EmailAddress, &'static str> {
        let text = text.trim();
        if text.len() > MAX_EMAIL_LEN {
            return Err("email must be at most 254 bytes long");
        }
        let Some((local, domain)) = text.split_once('@') else {
            return Err("email must be an address like name@example.org");
        };
        if local.is_empty() || local.len() > MAX_LOCAL_LEN || !local.chars().all(local_char) {
            return Err("email must have a valid name before the '@'");
        }
        if !domain.split('.').all(domain_label) {
            return Err("email must have a valid domain after the '@'");
        }
        Ok(EmailAddress(format!(
            "{local}@{}",
            domain.to_ascii_lowercase()
        )))
    }

    /// The address in its stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form addresses are compared in: the whole address lower-cased.
    pub fn key(&self) -> String {
        key(&self.0)
    }
}

/// The comparison form of an address (see [`EmailAddress::key`]), for text that may not have
/// been checked: a login typed at sign-in.
pub fn key(text: &str) -> String {
    text.trim().to_lowercase()
}

/// Whether a login typed at sign-in is meant as an email address rather than a username (no
/// username has an `@`).
pub fn looks_like_email(login: &str) -> bool {
    login.contains('@')
}

/// The characters a local part may not have besides whitespace and control characters.
pub const LOCAL_FORBIDDEN: &str = "@<>()[]\\,;:\"";

fn local_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !LOCAL_FORBIDDEN.contains(c)
}

fn domain_label(label: &str) -> bool {
    !label.is_empty()
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_trimmed_and_its_domain_lower_cased() {
        let address = EmailAddress::parse("  Bob@Example.ORG ").unwrap();
        assert_eq!(address.as_str(), "Bob@example.org");
        assert_eq!(address.key(), "bob@example.org");
        assert_eq!(
            EmailAddress::parse("admin@localhost").unwrap().as_str(),
            "admin@localhost"
        );
        assert_eq!(
            EmailAddress::parse("a.b+tag@mail.example.co.uk")
                .unwrap()
                .key(),
            "a.b+tag@mail.example.co.uk"
        );
    }

    #[test]
    fn malformed_and_overlong_addresses_are_refused() {
        for bad in [
            "",
            "bob",
            "@example.org",
            "bob@",
            "bob@@example.org",
            "b@b@example.org",
            "bo b@example.org",
            "bob@exa mple.org",
            "bob@example..org",
            "bob@.example.org",
            "bob@example.org.",
            "bob@-example.org",
            "<bob>@example.org",
            "bob@exam_ple.org",
            "bob\n@example.org",
            "bob@exämple.org",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        let domain = format!("{}.org", "a".repeat(MAX_EMAIL_LEN - 8));
        assert_eq!(
            EmailAddress::parse(&format!("bob@{domain}"))
                .unwrap()
                .as_str()
                .len(),
            254
        );
        assert!(
            EmailAddress::parse(&format!("bobb@{domain}")).is_err(),
            "255 bytes"
        );
        assert!(EmailAddress::parse(&format!("{}@example.org", "a".repeat(65))).is_err());
    }
}
