//! Turning two-factor authentication on and off, and the recovery codes: what the API, the pages
//! and the command line call. Each change commits with its activity entry and its notice mail in
//! one transaction, and refreshes what the user's sessions carry (`GET /api/me`'s fields).
//!
//! Nothing is on until the user proves the authenticator works: set-up keeps a pending secret,
//! and only a right code confirms it. The secret and the codes are in the answer that makes them
//! and nowhere else: no log, event, activity entry or metric.

use super::{Auth, ClientInfo, Sudo, TwoFactor};
use crate::events::AuthEvent;
use crate::mail::MailKind;
use crate::store::activity::{ActivityKind, NewActivity};
use crate::store::two_factor::{self, TwoFactorRow};
use crate::store::users::User;
use crate::two_factor::{typed_code, RecoveryCode, SealingKey, TotpSecret};
use serde_json::json;
use sqlx::{Any, Transaction};

/// A set-up begun: the secret (base32) and the `otpauth://` URL of the QR code. Shown once, to
/// its user; `Debug` shows neither.
pub struct TotpSetup {
    pub secret: String,
    pub otpauth_url: String,
}

impl std::fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSetup(<redacted>)")
    }
}

/// Why a two-factor change was refused.
#[derive(Debug)]
pub enum TwoFactorError {
    /// Two-factor is on already (409).
    AlreadyOn,
    /// Two-factor is off, or no set-up was begun (409).
    NotOn,
    /// The code does not match the pending secret (422).
    WrongCode,
    /// This server has no key to seal secrets with (the command line's case).
    NoKey,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for TwoFactorError {
    fn from(e: sqlx::Error) -> Self {
        TwoFactorError::Db(e)
    }
}

impl Auth {
    /// The key that seals TOTP secrets (none on the command line).
    pub fn sealing_key(&self) -> Option<&SealingKey> {
        self.sealing_key.as_ref()
    }

    /// Commits a two-factor change with its activity entry and its notice to the user ("On your
    /// account: {change}."), makes every instance's sessions carry the change, and has the
    /// notice sent.
    pub(super) async fn commit_two_factor_change(
        &self,
        mut tx: Transaction<'_, Any>,
        user: &User,
        entry: NewActivity,
        change: &str,
    ) -> sqlx::Result<()> {
        self.record(&mut tx, entry).await?;
        let context = json!({ "change": change });
        self.notify(&mut tx, user, MailKind::TwoFactorChanged, context)
            .await?;
        self.commit_account_change(tx, user.id).await?;
        self.mail_committed();
        Ok(())
    }

    /// Turns two-factor off, from a session (`by`: its id and client) or from the command line
    /// (`None`: recorded as done by `admin`). `false` when it was off.
    pub async fn turn_off(
        &self,
        user_id: i64,
        by: Option<(&str, &ClientInfo)>,
    ) -> sqlx::Result<bool> {
        let mut tx = self.db().begin().await?;
        // A write first, so that SQLite takes its write lock before the transaction reads (a
        // disabled user may still be helped by the command line: the result does not matter).
        User::lock(&mut tx, user_id).await?;
        let Some(user) = User::find(&mut tx, user_id).await? else {
            return Ok(false);
        };
        if !TwoFactorRow::delete(&mut tx, user_id).await? {
            tx.commit().await?; // A pending set-up, if any, is gone too.
            return Ok(false);
        }
        let kind = ActivityKind::TwoFactorDisabled;
        let entry = match by {
            Some((session_id, client)) => client.activity(user_id, kind, session_id, json!({})),
            None => NewActivity {
                user_id,
                kind,
                ip: None,
                device: None,
                session_id: None,
                network: None,
                detail: json!({"by": "admin"}),
            },
        };
        let change = "two-factor authentication was turned off";
        self.commit_two_factor_change(tx, &user, entry, change)
            .await?;
        self.events.emit(AuthEvent::TwoFactorDisabled {
            user_id,
            session_id: by.map(|(id, _)| id.to_string()),
        });
        Ok(true)
    }
}

impl TwoFactor<'_> {
    /// Begins (or begins again) setting up an authenticator: a new secret, pending until
    /// [`TwoFactor::confirm_totp`]. Refused while two-factor is on.
    pub async fn begin_totp(&self, session: &Sudo<'_>) -> Result<TotpSetup, TwoFactorError> {
        let key = self.0.sealing_key().ok_or(TwoFactorError::NoKey)?;
        let secret = TotpSecret::generate();
        let sealed = key.seal(secret.as_bytes(), session.user_id());
        let mut conn = self.0.db().acquire().await?;
        let now = self.0.clock.now();
        if !TwoFactorRow::begin_setup(&mut conn, session.user_id(), &sealed, now).await? {
            return Err(TwoFactorError::AlreadyOn);
        }
        Ok(TotpSetup {
            secret: secret.base32(),
            otpauth_url: secret.otpauth_url(crate::site::get().name, session.username()),
        })
    }

    /// The set-up begun and not yet confirmed, if any, to show again (the account page).
    pub async fn pending_totp(
        &self,
        session: &Sudo<'_>,
    ) -> Result<Option<TotpSetup>, TwoFactorError> {
        let mut conn = self.0.db().acquire().await?;
        let row = TwoFactorRow::find(&mut conn, session.user_id()).await?;
        let Some(row) = row.filter(|row| !row.is_enabled()) else {
            return Ok(None);
        };
        Ok(self.0.open_secret(&row).map(|secret| TotpSetup {
            secret: secret.base32(),
            otpauth_url: secret.otpauth_url(crate::site::get().name, session.username()),
        }))
    }

    /// Turns two-factor on once `code` proves the pending authenticator works; answers the
    /// recovery codes, this once.
    pub async fn confirm_totp(
        &self,
        session: &Sudo<'_>,
        code: &str,
        client: &ClientInfo,
    ) -> Result<Vec<RecoveryCode>, TwoFactorError> {
        let user_id = session.user_id();
        let mut conn = self.0.db().acquire().await?;
        let row = TwoFactorRow::find(&mut conn, user_id).await?;
        let row = match row {
            Some(row) if row.is_enabled() => return Err(TwoFactorError::AlreadyOn),
            Some(row) => row,
            None => return Err(TwoFactorError::NotOn),
        };
        let secret = self.0.open_secret(&row).ok_or(TwoFactorError::WrongCode)?;
        let step = secret
            .matching_step(&typed_code(code), self.0.clock.now())
            .ok_or(TwoFactorError::WrongCode)?;
        let codes = RecoveryCode::generate_set();
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        // A write first, so that SQLite takes its write lock before the transaction reads.
        let confirmed = TwoFactorRow::confirm(&mut tx, user_id, step).await?;
        let user = User::find(&mut tx, user_id).await?;
        let (Some(user), true) = (user, confirmed) else {
            return Err(TwoFactorError::AlreadyOn); // Confirmed meanwhile, from elsewhere.
        };
        let hashes: Vec<Vec<u8>> = codes.iter().map(RecoveryCode::hash).collect();
        two_factor::replace_recovery_codes(&mut tx, user_id, &hashes).await?;
        let entry = client.activity(
            user_id,
            ActivityKind::TwoFactorEnabled,
            session.id(),
            json!({}),
        );
        let change = "two-factor authentication was turned on";
        self.0
            .commit_two_factor_change(tx, &user, entry, change)
            .await?;
        self.0.events.emit(AuthEvent::TwoFactorEnabled {
            user_id,
            session_id: session.id().to_string(),
        });
        Ok(codes)
    }

    /// Replaces the recovery codes (the old ones stop working); answers the new ones, this once.
    pub async fn replace_recovery_codes(
        &self,
        session: &Sudo<'_>,
    ) -> Result<Vec<RecoveryCode>, TwoFactorError> {
        let user_id = session.user_id();
        let codes = RecoveryCode::generate_set();
        let mut tx = self.0.db().begin().await?;
        // A write first (as below), then the read it depends on.
        User::lock(&mut tx, user_id).await?;
        let on = TwoFactorRow::find(&mut tx, user_id).await?;
        if !on.is_some_and(|row| row.is_enabled()) {
            return Err(TwoFactorError::NotOn);
        }
        let hashes: Vec<Vec<u8>> = codes.iter().map(RecoveryCode::hash).collect();
        two_factor::replace_recovery_codes(&mut tx, user_id, &hashes).await?;
        self.0.commit_account_change(tx, user_id).await?;
        Ok(codes)
    }

    /// Turns two-factor off for the session's user (`DELETE /api/auth/2fa`).
    pub async fn disable_two_factor(
        &self,
        session: &Sudo<'_>,
        client: &ClientInfo,
    ) -> Result<(), TwoFactorError> {
        let done = self
            .0
            .turn_off(session.user_id(), Some((session.id(), client)))
            .await?;
        done.then_some(()).ok_or(TwoFactorError::NotOn)
    }
}
