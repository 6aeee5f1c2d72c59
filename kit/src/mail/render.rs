//! Messages from the app's templates: one per kind, `mail/<kind>.j2` in the template folder of
//! the pages, with three blocks: `subject` (one line), `text` (the plain text) and `html` (the
//! HTML alternative, escaped as every HTML template is; the other two are not escaped).
//!
//! ```jinja
//! {% block subject %}Welcome to {{ site }}{% endblock %}
//! {% block text %}Hello {{ username }}, ...{% endblock %}
//! {% block html %}<p>Hello {{ username }}, ...</p>{% endblock %}
//! ```
//!
//! (One file, not a `.txt` and an `.html` one: the pages' template engine names a template by
//! its path less its extensions, and would take two such files for one.) The templates are read
//! and compiled once, at start: a missing or broken one stops the start, not a request.

use super::kind::MailKind;
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use rocket_dyn_templates::minijinja::{AutoEscape, Environment};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// The compiled mail templates.
pub struct Templates {
    env: Environment<'static>,
}

/// Why a message could not be made.
#[derive(Debug)]
pub enum RenderError {
    /// The recipient is not an email address.
    Recipient,
    /// A template is missing, broken, or failed with this context.
    Template(String),
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenderError::Recipient => f.write_str("the recipient is not an email address"),
            RenderError::Template(e) => write!(f, "mail template: {e}"),
        }
    }
}

impl Templates {
    /// Reads every `*.j2` of `<template_dir>/mail`, each compiled twice: as `<kind>.html`
    /// (escaping) for the `html` block, as `<kind>.txt` for the others. The kit's own kinds must
    /// all be there.
    pub fn load(template_dir: &Path) -> Result<Templates, String> {
        let dir = template_dir.join("mail");
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read the mail templates in {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let file = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let Some(name) = file.strip_suffix(".j2") else {
                continue;
            };
            let source = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            for ext in ["txt", "html"] {
                env.add_template_owned(format!("{name}.{ext}"), source.clone())
                    .map_err(|e| format!("mail template {}: {e}", path.display()))?;
            }
        }
        let templates = Templates { env };
        for kind in MailKind::BUILT_IN {
            templates
                .template(kind, "txt")
                .map_err(|_| format!("missing mail template {}/{kind}.j2", dir.display()))?;
        }
        Ok(templates)
    }

    fn template(
        &self,
        kind: MailKind,
        ext: &str,
    ) -> Result<rocket_dyn_templates::minijinja::Template<'_, '_>, RenderError> {
        self.env
            .get_template(&format!("{kind}.{ext}"))
            .map_err(|e| RenderError::Template(e.to_string()))
    }

    /// The message of `kind` to `to`, from `from`, dated `now` (Unix seconds): its RFC 5322 bytes.
    pub fn render(
        &self,
        kind: MailKind,
        from: &Mailbox,
        to: &str,
        context: &serde_json::Value,
        now: i64,
    ) -> Result<Vec<u8>, RenderError> {
        let to: Mailbox = to.trim().parse().map_err(|_| RenderError::Recipient)?;
        let block = |ext: &str, name: &str| {
            let failed = |e: rocket_dyn_templates::minijinja::Error| {
                RenderError::Template(format!("{kind}, block {name}: {e}"))
            };
            let mut captured = self
                .template(kind, ext)?
                .render_captured(context)
                .map_err(failed)?;
            captured
                .with_state_mut(|state| state.render_block(name))
                .map_err(failed)
        };
        let subject = one_line(&block("txt", "subject")?);
        if subject.is_empty() {
            return Err(RenderError::Template(format!("{kind}: an empty subject")));
        }
        let text = block("txt", "text")?.trim().to_string() + "\n";
        let html = block("html", "html")?.trim().to_string() + "\n";
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(now.max(0) as u64);
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .date(date)
            .message_id(Some(format!(
                "<{}@{}>",
                crate::token::new_public_id(),
                from.email.domain()
            )))
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| RenderError::Template(e.to_string()))?;
        Ok(message.formatted())
    }
}

/// A subject on one line: line breaks and other control characters become spaces.
fn one_line(subject: &str) -> String {
    let spaced = subject.replace(|c: char| c.is_control(), " ");
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_subject_is_one_line() {
        assert_eq!(one_line("\n  Hi\r\nthere \t"), "Hi there");
    }
}
