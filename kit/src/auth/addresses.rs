//! The account's email address as the API and the pages show it. Addresses are given at
//! sign-up ([`super::SignIns::sign_up_from`]) and checked by [`crate::address`].

use super::{Accounts, Auth};
use crate::store::sessions::Session;
use crate::store::users::User;
use sqlx::{Any, Transaction};

impl Auth {
    /// Commits a transaction that changed what sessions carry about the user (the email address,
    /// whether it is verified: see [`User::mark_email_verified`]), and makes every instance's
    /// validation cache read the user's sessions again, as a revocation does.
    pub async fn commit_account_change(
        &self,
        mut tx: Transaction<'_, Any>,
        user_id: i64,
    ) -> sqlx::Result<()> {
        let hashes = Session::hashes_of_user(&mut tx, user_id).await?;
        self.commit_revocation(tx, &hashes).await
    }
}

impl Accounts<'_> {
    /// The user's account as stored now (the session carries only its id and username), or
    /// `None` when it is gone.
    pub async fn account(&self, user_id: i64) -> sqlx::Result<Option<User>> {
        let mut conn = self.0.db().acquire().await?;
        User::find(&mut conn, user_id).await
    }
}
