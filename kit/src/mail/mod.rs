//! Mail: messages rendered from the app's templates, written to an outbox table in the
//! transaction of what they announce, and sent by a background task, so that no request waits
//! on a mail server and no message is lost to a crash or an outage.
//!
//! The `[mail]` table ([`MailConfig`]) says where mail goes: `.eml` files in a folder (the
//! default: nothing to set up) or an SMTP server. [`Mailer`], managed by [`stage`], is all a
//! feature needs: [`Mailer::queue`] renders the template `mail/<kind>.j2` (its blocks `subject`,
//! `text` and `html`, see `render`) and writes the message on the caller's connection; after the
//! commit, [`Mailer::wake`] has it sent at once rather than at the next poll.
//!
//! ```no_run
//! use session_kit::mail::{MailKind, Mailer};
//! use session_kit::prelude::*;
//!
//! async fn announce(db: &Db, mailer: &Mailer, now: i64) -> Result<(), Problem> {
//!     let mut tx = db.begin().await?;
//!     // ... the change the mail announces, on `tx` ...
//!     let context = json!({ "username": "ada", "link": mailer.link("/verify-email?token=...") });
//!     mailer
//!         .queue(&mut tx, MailKind::VerifyEmail, "ada@example.org", context, now)
//!         .await
//!         .map_err(|e| Problem::internal(&e))?;
//!     tx.commit().await?;
//!     mailer.wake();
//!     Ok(())
//! }
//! ```
//!
//! The sender claims due messages in batches (several instances never send one twice), deletes
//! each once sent, retries a failure with backoff (5 s, doubling, at most 5 min) and gives a
//! message up on a permanent (5xx) refusal or once `retry_for` seconds have passed since it was
//! queued. The log names a message by its id and kind only: never its recipient, its text or
//! its links.

mod config;
mod kind;
mod render;
mod sender;
mod stage;
mod transport;

pub use config::{MailConfig, Transport};
pub use kind::MailKind;
pub use render::RenderError;
pub use sender::{Pass, Tally};
pub use stage::stage;

use crate::clock::Clock;
use crate::db::DbPool;
use lettre::message::Mailbox;
use render::Templates;
use sqlx::AnyConnection;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use transport::Outlet;

/// The mail machinery, as managed state: `mailer: &State<Mailer>` in a handler. Cheap to clone.
#[derive(Clone)]
pub struct Mailer(Arc<Inner>);

struct Inner {
    config: MailConfig,
    from: Mailbox,
    templates: Templates,
    outlet: Outlet,
    db: DbPool,
    clock: Clock,
    /// Wakes the sender when a message was committed in this process.
    wake: rocket::tokio::sync::Notify,
    /// One pass at a time in this process (the background task's, or a test's).
    turn: rocket::tokio::sync::Mutex<()>,
    /// Messages queued, sent and given up, by kind (read by the metrics).
    tally: Mutex<BTreeMap<String, Tally>>,
    /// Messages in the outbox at the end of the last pass.
    outbox_len: AtomicI64,
}

/// Why a message could not be queued.
#[derive(Debug)]
pub enum MailError {
    /// The recipient is not an address, or a template failed.
    Render(RenderError),
    Db(sqlx::Error),
}

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailError::Render(e) => write!(f, "cannot make the mail: {e}"),
            MailError::Db(e) => write!(f, "cannot queue the mail: {e}"),
        }
    }
}

impl std::error::Error for MailError {}

impl From<sqlx::Error> for MailError {
    fn from(e: sqlx::Error) -> MailError {
        MailError::Db(e)
    }
}

impl Mailer {
    /// The machinery on a checked config, with the templates of `template_dir`/mail.
    pub fn new(
        config: MailConfig,
        template_dir: &Path,
        db: DbPool,
        clock: Clock,
    ) -> Result<Mailer, String> {
        let from = config
            .from
            .parse()
            .map_err(|_| "invalid [mail] configuration: from".to_string())?;
        Ok(Mailer(Arc::new(Inner {
            templates: Templates::load(template_dir)?,
            outlet: Outlet::new(&config)?,
            from,
            config,
            db,
            clock,
            wake: Default::default(),
            turn: Default::default(),
            tally: Default::default(),
            outbox_len: AtomicI64::new(0),
        })))
    }

    pub fn config(&self) -> &MailConfig {
        &self.0.config
    }

    /// `path` (with its query) as a full URL on `base_url`, for a link in a mail.
    pub fn link(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.0.config.base_url,
            path.trim_start_matches('/')
        )
    }

    /// Renders a mail of `kind` to `to` and writes it to the outbox on `conn`: inside the
    /// caller's transaction, it is sent only if that commits. `context` is an object of the
    /// template's values (a link as a full URL, see [`Mailer::link`]); `site` (the app's name)
    /// and `base_url` are added. Answers false, writing nothing, for a notice while
    /// `notices = false`.
    pub async fn queue(
        &self,
        conn: &mut AnyConnection,
        kind: MailKind,
        to: &str,
        context: serde_json::Value,
        now: i64,
    ) -> Result<bool, MailError> {
        if kind.is_notice() && !self.0.config.notices {
            return Ok(false);
        }
        let serde_json::Value::Object(mut context) = context else {
            let e = "the context must be an object".to_string();
            return Err(MailError::Render(RenderError::Template(e)));
        };
        context.insert("site".into(), crate::site::get().name.into());
        context.insert("base_url".into(), self.0.config.base_url.clone().into());
        let context = serde_json::Value::Object(context);
        let message = self
            .0
            .templates
            .render(kind, &self.0.from, to, &context, now)
            .map_err(MailError::Render)?;
        crate::store::outbox::insert(conn, kind.as_str(), to.trim(), &message, now).await?;
        Ok(true)
    }

    /// Has the sender look at the outbox now (call it after the commit of a queued mail).
    pub fn wake(&self) {
        self.0.wake.notify_one();
    }

    /// Messages queued, sent and given up so far by this process, by kind.
    pub fn tallies(&self) -> Vec<(String, Tally)> {
        let tally = self.0.tally.lock().unwrap_or_else(|e| e.into_inner());
        tally.iter().map(|(k, t)| (k.clone(), *t)).collect()
    }

    /// Messages in the outbox (every instance's), as of the last pass.
    pub fn outbox_len(&self) -> i64 {
        self.0.outbox_len.load(std::sync::atomic::Ordering::Relaxed)
    }
}
