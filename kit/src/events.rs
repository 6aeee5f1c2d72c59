//! Events, the Rust form of the Django original's `pre_auth`/`post_auth` signals.
//!
//! The auth machinery publishes on a broadcast channel and never waits for anyone: a slow
//! subscriber misses events (and is told how many) instead of stalling a login. Events carry no
//! password, token or hash.
//!
//! The bus is managed state of its own ([`stage`]); a [`subscriber`] attached without it fails
//! at ignition, not silently after liftoff.

pub use crate::store::history::EndReason;
use crate::store::sessions::Kind;
use rocket::fairing::{self, AdHoc, Fairing, Info};
use rocket::{Build, Orbit, Rocket};
use serde::Serialize;
use tokio::sync::broadcast;

/// Events buffered per subscriber before the oldest are dropped for it.
pub const CAPACITY: usize = 1024;

/// Why a password was asked for again, as the `sudo_granted` event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reauth {
    /// `POST /api/auth/sudo` or the /sudo form.
    Sudo,
    /// A request that carried the password itself (`POST /api/tokens` with `password`).
    Password,
    /// The password change, which asks for the current password.
    PasswordChange,
    /// `POST /api/auth/sudo` or the /sudo form with a two-factor code instead of the password.
    SecondFactor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AuthEvent {
    /// Before credentials are checked (the original's `pre_auth`).
    LoginAttempt {
        username: String,
        ip: Option<String>,
    },
    /// A new session was opened (the original's `post_auth`).
    LoginSucceeded {
        user_id: i64,
        username: String,
        session_id: String,
        kind: Kind,
        ip: Option<String>,
        device: String,
    },
    /// A sign-in from a device label and network the user has not signed in from within
    /// `activity_retention` (never their first sign-in): the hook for a "new sign-in to your
    /// account" mail. Sent after `login_succeeded`.
    NewDeviceSignIn {
        user_id: i64,
        username: String,
        session_id: String,
        ip: Option<String>,
        device: String,
    },
    LoginFailed {
        username: String,
        ip: Option<String>,
        /// "invalid_credentials" or "throttled".
        reason: &'static str,
    },
    /// A session ended by its own logout; `all` for logout-all (every session of the user).
    LoggedOut {
        user_id: i64,
        session_id: String,
        all: bool,
        sessions_ended: usize,
    },
    SessionRevoked {
        user_id: Option<i64>,
        session_id: Option<String>,
        /// Why (never `logout` or `logout_all`: those are `logged_out`).
        reason: EndReason,
        sessions_ended: usize,
    },
    /// The password changed; every other session of the user ended.
    PasswordChanged {
        user_id: i64,
        session_id: String,
        sessions_ended: usize,
    },
    /// A personal access token was created (its secret is in no event).
    TokenCreated {
        user_id: i64,
        session_id: String,
        name: String,
        scopes: Vec<String>,
        expires_at: Option<i64>,
    },
    /// A personal token got a new secret; the old one no longer works.
    TokenRegenerated { user_id: i64, session_id: String },
    /// A session entered sudo mode after a password check.
    SudoGranted {
        user_id: i64,
        session_id: String,
        via: Reauth,
    },
    /// The account's address was verified by its link.
    EmailVerified { user_id: i64 },
    /// The account's address changed to a newly verified one, or was removed (`removed`).
    EmailChanged { user_id: i64, removed: bool },
    /// A reset link was asked for an existing account (sent only when the account has an
    /// address and no hourly limit was reached: `mailed`). Never carries the link.
    PasswordResetRequested {
        user_id: i64,
        ip: Option<String>,
        mailed: bool,
    },
    /// The password was set through a reset link; every session of the user ended.
    PasswordReset { user_id: i64, sessions_ended: usize },
    /// Two-factor authentication was turned on (from the session `session_id`).
    TwoFactorEnabled { user_id: i64, session_id: String },
    /// Two-factor authentication was turned off, from a session or (`session_id` none) the
    /// command line.
    TwoFactorDisabled {
        user_id: i64,
        session_id: Option<String>,
    },
    /// A recovery code was used (never which one); `codes_left` remain.
    RecoveryCodeUsed { user_id: i64, codes_left: i64 },
}

impl AuthEvent {
    /// The event's name, as subscribers and the audit log see it.
    pub fn name(&self) -> &'static str {
        match self {
            AuthEvent::LoginAttempt { .. } => "login_attempt",
            AuthEvent::LoginSucceeded { .. } => "login_succeeded",
            AuthEvent::NewDeviceSignIn { .. } => "new_device_sign_in",
            AuthEvent::LoginFailed { .. } => "login_failed",
            AuthEvent::LoggedOut { .. } => "logged_out",
            AuthEvent::SessionRevoked { .. } => "session_revoked",
            AuthEvent::PasswordChanged { .. } => "password_changed",
            AuthEvent::TokenCreated { .. } => "token_created",
            AuthEvent::TokenRegenerated { .. } => "token_regenerated",
            AuthEvent::SudoGranted { .. } => "sudo_granted",
            AuthEvent::EmailVerified { .. } => "email_verified",
            AuthEvent::EmailChanged { .. } => "email_changed",
            AuthEvent::PasswordResetRequested { .. } => "password_reset_requested",
            AuthEvent::PasswordReset { .. } => "password_reset",
            AuthEvent::TwoFactorEnabled { .. } => "two_factor_enabled",
            AuthEvent::TwoFactorDisabled { .. } => "two_factor_disabled",
            AuthEvent::RecoveryCodeUsed { .. } => "recovery_code_used",
        }
    }
}

/// The publishing side: managed by [`stage`], cloned into the auth machinery. Cheap to clone.
#[derive(Clone)]
pub struct EventBus(broadcast::Sender<AuthEvent>);

impl Default for EventBus {
    fn default() -> Self {
        EventBus(broadcast::channel(CAPACITY).0)
    }
}

impl EventBus {
    /// Publishes without waiting; with no subscriber the event is simply dropped.
    pub fn emit(&self, event: AuthEvent) {
        let _ = self.0.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<AuthEvent> {
        self.0.subscribe()
    }
}

/// Manages the event bus; attach it before the auth stage and any subscriber.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Events", |rocket| async {
        match rocket.state::<EventBus>() {
            Some(_) => rocket,
            None => rocket.manage(EventBus::default()),
        }
    })
}

/// A fairing that calls `handler` for every event, on its own task, from liftoff on:
/// `my_app::build(figment).attach(events::subscriber("mailer", |e| println!("{e:?}")))`.
pub fn subscriber<F>(name: &'static str, handler: F) -> Subscriber
where
    F: Fn(&AuthEvent) + Send + Sync + 'static,
{
    Subscriber {
        name,
        handler: std::sync::Arc::new(handler),
    }
}

/// See [`subscriber`].
pub struct Subscriber {
    name: &'static str,
    handler: std::sync::Arc<dyn Fn(&AuthEvent) + Send + Sync>,
}

#[rocket::async_trait]
impl Fairing for Subscriber {
    fn info(&self) -> Info {
        Info {
            name: self.name,
            kind: fairing::Kind::Ignite | fairing::Kind::Liftoff,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        match rocket.state::<EventBus>() {
            Some(_) => Ok(rocket),
            None => {
                rocket::error!("event subscriber {} needs events::stage()", self.name);
                Err(rocket)
            }
        }
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let Some(bus) = rocket.state::<EventBus>() else {
            return; // Ignition checked it.
        };
        let mut events = bus.subscribe();
        let (name, handler) = (self.name, self.handler.clone());
        let shutdown = rocket.shutdown();
        rocket::tokio::spawn(async move {
            let mut shutdown = std::pin::pin!(shutdown);
            loop {
                let event = rocket::tokio::select! {
                    _ = &mut shutdown => break,
                    event = events.recv() => event,
                };
                match event {
                    Ok(event) => handler(&event),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        rocket::warn!("event subscriber {name} fell behind and missed {n} events")
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
    }
}

/// The built-in subscriber: one JSON line per event on standard output, prefixed `audit:`
/// (user id, session public id, IP, device label; never a secret).
pub fn audit_log() -> Subscriber {
    subscriber("Audit log", |event| {
        if let Ok(line) = serde_json::to_string(event) {
            println!("audit: {line}");
        }
    })
}
