//! The account's email address as the API and the pages show it. Addresses are given at
//! sign-up ([`Auth::sign_up_from`]) and checked by [`crate::address`].

use super::Auth;
use crate::store::users::User;

impl Auth {
    /// The user's account as stored now (the session carries only its id and username), or
    /// `None` when it is gone.
    pub async fn account(&self, user_id: i64) -> sqlx::Result<Option<User>> {
        let mut conn = self.db().acquire().await?;
        User::find(&mut conn, user_id).await
    }
}
