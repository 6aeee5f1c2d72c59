//! Where a rendered message goes: a file in the mail folder, or an SMTP server. A failure says
//! whether trying again may help; its text never holds the message or the recipient.

use super::config::{MailConfig, Transport};
use lettre::address::Envelope;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// Seconds an SMTP exchange may take before it counts as a failure to be retried. Well under
/// the claim a sender holds on a message (see `sender`).
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The configured way out.
pub enum Outlet {
    File(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// Why a message was not sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Worth another try later: the server unreachable or slow, a 4xx reply, a full disk.
    Transient(String),
    /// A 5xx reply: the server will never take it.
    Permanent(String),
}

impl Outlet {
    pub fn new(config: &MailConfig) -> Result<Outlet, String> {
        match config.transport {
            Transport::File => Ok(Outlet::File(config.dir.clone())),
            Transport::Smtp => {
                let url = config.smtp_url.as_deref().unwrap_or_default();
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|_| "invalid [mail] configuration: smtp_url".to_string())?;
                Ok(Outlet::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build()))
            }
        }
    }

    /// Sends message `id` (its RFC 5322 bytes) from `from` to `to`.
    pub async fn send(
        &self,
        id: i64,
        from: &Address,
        to: &str,
        message: &[u8],
    ) -> Result<(), Failure> {
        match self {
            Outlet::File(dir) => write_file(dir, id, message)
                .await
                .map_err(|e| Failure::Transient(format!("cannot write to the mail folder: {e}"))),
            Outlet::Smtp(smtp) => {
                let to: Address = to
                    .parse()
                    .map_err(|_| Failure::Permanent("the recipient is not an address".into()))?;
                let envelope = Envelope::new(Some(from.clone()), vec![to])
                    .map_err(|_| Failure::Permanent("no valid envelope".into()))?;
                match smtp.send_raw(&envelope, message).await {
                    Ok(_) => Ok(()),
                    Err(e) => Err(classify(&e)),
                }
            }
        }
    }
}

/// A reply's code only: the text of a refusal may quote the recipient.
fn classify(e: &lettre::transport::smtp::Error) -> Failure {
    match e.status() {
        Some(code) if e.is_permanent() => Failure::Permanent(format!("the server answered {code}")),
        Some(code) => Failure::Transient(format!("the server answered {code}")),
        None if e.is_timeout() => Failure::Transient("the server did not answer in time".into()),
        None if e.is_tls() => Failure::Transient("TLS failed".into()),
        // Connection refused, reset, name not found: the cause names no recipient.
        None => Failure::Transient(e.to_string()),
    }
}

/// Writes the message as `<id>.eml`, whole or not at all (a reader never sees half a file).
async fn write_file(dir: &std::path::Path, id: i64, message: &[u8]) -> std::io::Result<()> {
    use rocket::tokio::fs;
    fs::create_dir_all(dir).await?;
    let name = format!("{id:010}-{}.eml", crate::token::new_public_id());
    let partial = dir.join(format!(".{name}.part"));
    fs::write(&partial, message).await?;
    fs::rename(&partial, dir.join(name)).await
}
