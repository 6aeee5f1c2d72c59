//! The bound on sign-ups per client (`signup_max_per_ip` an hour), as sign-up meets it: a
//! sign-up is counted before its password is hashed, in the database, so that every instance
//! sees the same counts and parallel sign-ups never get past the limit.
//!
//! What counts: a sign-up with valid input, whether it makes the account or finds the username
//! taken (that answer tells the client something, so guessing usernames is bounded too). Invalid
//! input is refused before it is counted; a sign-up the server could not finish (hashing busy,
//! database unavailable) is withdrawn. Refused sign-ups (429) do not count again.

use super::{Auth, SignUpError};
use crate::store::signups;
use crate::token::new_public_id;

impl Auth {
    /// Counts a sign-up of the client `key`, or refuses it (throttled) when the client has had
    /// `max` within the hour. Returns the attempt's id, for [`Auth::uncount_sign_up`].
    pub(super) async fn count_sign_up(&self, key: &str, max: u32) -> Result<String, SignUpError> {
        let attempt = new_public_id();
        let mut conn = self.db().acquire().await?;
        match signups::reserve(&mut conn, key, max, &attempt, self.clock.now()).await? {
            None => Ok(attempt),
            Some(retry_after) => Err(SignUpError::Throttled(retry_after)),
        }
    }

    /// Withdraws a counted sign-up that the server could not finish (best effort: a row left
    /// behind counts for an hour).
    pub(super) async fn uncount_sign_up(&self, attempt: &str) {
        if let Ok(mut conn) = self.db().acquire().await {
            let _ = signups::withdraw(&mut conn, attempt).await;
        }
    }
}
