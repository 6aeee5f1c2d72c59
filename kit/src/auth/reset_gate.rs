//! The second factor a password reset needs: the one place where a reset asks for it, so that
//! a mailbox alone never takes over an account protected by two-factor authentication.

use super::{Auth, ClientInfo, LinkError, Recovery, RecoveryError};
use crate::store::links::LinkKind;
use crate::store::two_factor::TwoFactorRow;
use crate::store::users::User;

impl Auth {
    /// The reset's second factor for the link's user, through the one check of every way in
    /// ([`Auth::check_second_factor`]): nothing to ask without two-factor; else `code` (an
    /// authenticator code or a recovery code) must pass, and a wrong one counts as a failed
    /// sign-in. Run before the reset's transaction (the check commits what it consumes); an
    /// `Err` refuses the reset and changes nothing else.
    pub async fn reset_second_factor(
        &self,
        user_id: i64,
        code: Option<&str>,
        client: &ClientInfo,
    ) -> Result<(), RecoveryError> {
        let mut conn = self.db().acquire().await?;
        let Some(user) = User::find(&mut conn, user_id).await? else {
            return Err(RecoveryError::LinkInvalid);
        };
        self.check_second_factor(&mut conn, &user, code, client)
            .await
            .map_err(|e| RecoveryError::SecondFactor(e.into()))?;
        Ok(())
    }
}

impl Recovery<'_> {
    /// Whether a reset link works now and, if so, whether its account has two-factor on: the
    /// reset form asks for a code only then. The link's holder has its mailbox; the answer
    /// tells no one else anything.
    pub async fn reset_asks_for_code(&self, token: &str) -> Result<bool, LinkError> {
        let link = self.check_link(LinkKind::Reset, token).await?;
        let mut conn = self.0.db().acquire().await?;
        let row = TwoFactorRow::find(&mut conn, link.user_id).await?;
        Ok(row.is_some_and(|row| row.is_enabled()))
    }
}
