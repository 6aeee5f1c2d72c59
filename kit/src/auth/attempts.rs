//! The failed-login throttle, as sign-in, sudo and the password change meet it: each password
//! check is reserved (in flight) before the hash, and settled after it, in the database, so that
//! every instance sees the same counts.
//!
//! A failure counts once it is known. Checks in flight ahead of an attempt are taken as failures
//! to come: when they could reach the limit, the attempt waits its turn instead of being refused.
//! So parallel guesses never get more password checks than `login_max_failures` (per username)
//! or `login_max_failures_per_ip`, and parallel right passwords are never refused for them.

use super::{Auth, SignInError};
use crate::store::throttle::{self, Standing};
use crate::token::{new_public_id, random_bytes};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The longest an attempt waits for the checks ahead of it before it is answered "busy".
const MAX_WAIT: Duration = Duration::from_secs(10);

impl Auth {
    /// Reserves a password check against the username's and the IP's limits, waiting while the
    /// checks in flight ahead of it could reach them; refuses it when known failures alone do.
    /// Returns the attempt's id: [`Auth::withdraw`] it after a right password (or no check),
    /// settle it as a failure (`throttle::settle_failure`) after a wrong one.
    pub(super) async fn reserve_attempt(
        &self,
        user_key: Option<&str>,
        ip_key: Option<&str>,
    ) -> Result<String, SignInError> {
        let limits: Vec<(&str, u32)> = [
            (user_key, self.config.login_max_failures),
            (ip_key, self.config.login_max_failures_per_ip),
        ]
        .into_iter()
        .filter_map(|(key, max)| Some((key?, max)))
        .collect();
        let attempt = new_public_id();
        let window = self.config.login_failure_window;
        let started = Instant::now();
        loop {
            // Registered before the check, so that a check settled meanwhile still wakes us.
            let turn = self.attempt_settled.notified();
            let standing = {
                let mut conn = self.db().acquire().await?;
                throttle::begin_check(&mut conn, &limits, &attempt, window, self.clock.now())
                    .await?
            }; // No connection is held while waiting.
            match standing {
                Standing::Go => return Ok(attempt),
                Standing::Throttled(secs) => {
                    self.count_check(CheckOutcome::Throttled);
                    return Err(SignInError::Throttled(secs));
                }
                Standing::Wait if started.elapsed() >= MAX_WAIT => return Err(SignInError::Busy),
                Standing::Wait => {
                    // Woken when a check of this instance settles; checks of other instances
                    // are seen at the next poll. A little jitter spreads the retries.
                    let jitter = u64::from(random_bytes::<1>()[0] % 32);
                    let poll = tokio::time::sleep(Duration::from_millis(20 + jitter));
                    tokio::select! {
                        _ = turn => {}
                        _ = poll => {}
                    }
                }
            }
        }
    }

    /// Withdraws an attempt: its password was right, or never checked (best effort: a row left
    /// behind counts as a failure once its time in flight runs out).
    pub(super) async fn withdraw(&self, attempt: &str) {
        if let Ok(mut conn) = self.db().acquire().await {
            let _ = throttle::release(&mut conn, attempt).await;
        }
        self.attempt_settled.notify_waiters();
    }
}

/// How a password check was answered, as `logins_total` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The password was right and the request went through (a session opened, sudo granted).
    Succeeded,
    /// Refused with 401: a wrong password, an unknown or disabled account, or the password
    /// changed (or the session ended) while it was being checked.
    Failed,
    /// Refused with 429 before any check.
    Throttled,
}

/// Password checks answered so far, by outcome: counted where each answer is decided (sign-in,
/// sudo, the password change, a token created with a password), once per check. A check cut
/// short by a full hashing queue or by the database (503) has no outcome and is not counted.
#[derive(Debug, Default)]
pub struct CheckCounts {
    succeeded: AtomicU64,
    failed: AtomicU64,
    throttled: AtomicU64,
}

/// A reading of [`CheckCounts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PasswordChecks {
    pub succeeded: u64,
    pub failed: u64,
    pub throttled: u64,
}

impl Auth {
    /// Counts one password check by how it was answered.
    pub(super) fn count_check(&self, outcome: CheckOutcome) {
        let counter = match outcome {
            CheckOutcome::Succeeded => &self.checks.succeeded,
            CheckOutcome::Failed => &self.checks.failed,
            CheckOutcome::Throttled => &self.checks.throttled,
        };
        counter.fetch_add(1, Relaxed);
    }

    /// Password checks answered since start, by outcome.
    pub fn password_checks(&self) -> PasswordChecks {
        PasswordChecks {
            succeeded: self.checks.succeeded.load(Relaxed),
            failed: self.checks.failed.load(Relaxed),
            throttled: self.checks.throttled.load(Relaxed),
        }
    }
}
