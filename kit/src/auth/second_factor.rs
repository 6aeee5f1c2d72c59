//! The second factor, asked the same way on every way in: the JSON login, the login form's
//! second step, sudo, and the password reset. Each calls [`Auth::check_second_factor`] once the
//! first factor (a password, a mailed link) is checked, so a new way in (passkeys, device codes)
//! cannot forget it: it calls the same function.
//!
//! A code is an authenticator code (6 digits: accepted at most once per user, within one step of
//! drift) or a recovery code (consumed). A wrong one counts as a failed login for the throttle,
//! per account and per client IP, so six digits cannot be guessed, and is a `sign_in_failed`
//! entry whose detail says a code was wrong. No code, and no part of one, is ever logged.

use super::attempts::CheckOutcome;
use super::sign_in::failed_sign_in;
use super::{Auth, ClientInfo, SignInError};
use crate::events::AuthEvent;
use crate::store::activity::{ActivityKind, NewActivity};
use crate::store::throttle;
use crate::store::two_factor::{self, TwoFactorRow};
use crate::store::users::User;
use crate::two_factor::{is_totp_code, typed_code, RecoveryCode, TotpSecret};
use serde_json::json;
use sqlx::AnyConnection;

/// Why a second factor was not accepted.
#[derive(Debug)]
pub enum SecondFactorError {
    /// Two-factor is on and no code came: ask for one (401 `mfa_required`).
    MfaRequired,
    /// A wrong, used, replayed or expired code; counted as a failed login.
    WrongCode,
    /// Too many failed logins for the account or the client IP: retry after this many seconds.
    Throttled(u64),
    /// The checks ahead of this one did not finish in time; try again shortly.
    Busy,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for SecondFactorError {
    fn from(e: sqlx::Error) -> Self {
        SecondFactorError::Db(e)
    }
}

impl From<SignInError> for SecondFactorError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::Throttled(secs) => SecondFactorError::Throttled(secs),
            SignInError::Db(e) => SecondFactorError::Db(e),
            _ => SecondFactorError::Busy,
        }
    }
}

impl Auth {
    /// The one check of a second factor. `Ok(false)`: the user has no two-factor (nothing to
    /// ask); `Ok(true)`: `code` passed (mark the session `mfa`); else why not.
    ///
    /// Call it after the first factor is checked, outside any transaction (it commits what it
    /// consumes: the used step, the recovery code, the failed attempt), and give it the code
    /// the client sent, if any (`None` or blank: [`SecondFactorError::MfaRequired`]).
    pub async fn check_second_factor(
        &self,
        conn: &mut AnyConnection,
        user: &User,
        code: Option<&str>,
        client: &ClientInfo,
    ) -> Result<bool, SecondFactorError> {
        let on = TwoFactorRow::find(conn, user.id).await?;
        let Some(row) = on.filter(TwoFactorRow::is_enabled) else {
            return Ok(false);
        };
        let Some(code) = code.map(typed_code).filter(|c| !c.is_empty()) else {
            return Err(SecondFactorError::MfaRequired);
        };
        let code = code.as_str();
        let user_key = throttle::account_key(&user.username);
        let ip_key = client.ip.as_deref().map(throttle::ip_key);
        let attempt = self
            .reserve_attempt(Some(&user_key), ip_key.as_deref())
            .await?;
        match self.accept_code(conn, user, &row, code, client).await {
            Ok(true) => {
                throttle::release(conn, &attempt).await?;
                self.attempt_settled.notify_waiters();
                Ok(true)
            }
            Ok(false) => {
                self.count_check(CheckOutcome::Failed);
                throttle::settle_failure(conn, &attempt).await?;
                self.attempt_settled.notify_waiters();
                let detail = json!({ "reason": "wrong_code" });
                self.record_later(failed_sign_in(user.id, client, detail));
                self.events.emit(AuthEvent::LoginFailed {
                    username: user.username.clone(),
                    ip: client.ip.clone(),
                    reason: "wrong_code",
                });
                Err(SecondFactorError::WrongCode)
            }
            Err(e) => {
                self.withdraw(&attempt).await;
                Err(e)
            }
        }
    }

    /// Whether `code` is a good code of the user now, consuming it if so.
    async fn accept_code(
        &self,
        conn: &mut AnyConnection,
        user: &User,
        row: &TwoFactorRow,
        code: &str,
        client: &ClientInfo,
    ) -> Result<bool, SecondFactorError> {
        if is_totp_code(code) {
            let Some(secret) = self.open_secret(row) else {
                return Ok(false);
            };
            let Some(step) = secret.matching_step(code, self.clock.now()) else {
                return Ok(false);
            };
            return Ok(TwoFactorRow::use_step(conn, user.id, step).await?);
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        if !two_factor::use_recovery_code(&mut tx, user.id, &RecoveryCode::hash_of(code)).await? {
            return Ok(false);
        }
        let left = two_factor::recovery_codes_left(&mut tx, user.id).await?;
        let detail = json!({ "recovery_codes_left": left });
        let entry = NewActivity {
            kind: ActivityKind::RecoveryCodeUsed,
            ..failed_sign_in(user.id, client, detail)
        };
        let change = "a recovery code was used";
        self.commit_two_factor_change(tx, user, entry, change)
            .await?;
        self.events.emit(AuthEvent::RecoveryCodeUsed {
            user_id: user.id,
            codes_left: left,
        });
        Ok(true)
    }

    /// The user's TOTP secret, unsealed; `None` (and a warning without the secret) when the key
    /// does not open it, as after a change of `totp_key` or `secret_key`.
    pub(super) fn open_secret(&self, row: &TwoFactorRow) -> Option<TotpSecret> {
        let opened = self.sealing_key()?.open(&row.secret, row.user_id);
        if opened.is_none() {
            rocket::warn!(
                "the two-factor secret of user {} does not open with this key: was totp_key or \
                 secret_key changed?",
                row.user_id
            );
        }
        opened.map(TotpSecret::from_bytes)
    }
}
