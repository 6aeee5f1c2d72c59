//! The user store.

use crate::address::{self, EmailAddress};
use sqlx::{AnyConnection, FromRow};

/// Shortest and longest usernames accepted at signup.
pub const USERNAME_LEN: std::ops::RangeInclusive<usize> = 3..=64;

#[derive(Clone, FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub disabled: i64,
    pub created_at: i64,
    /// The address in its stored form (see [`crate::address`]), or none.
    pub email: Option<String>,
    /// 0/1: whether a link mailed to `email` was used.
    pub email_verified: i64,
    /// A new address waiting for its verification link.
    pub pending_email: Option<String>,
}

/// Why a user could not be created.
#[derive(Debug)]
pub enum CreateError {
    /// The username is taken.
    Taken,
    /// The email address is another account's (compared case-insensitively).
    EmailTaken,
    Db(sqlx::Error),
}

/// Never prints the password hash.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .field("pending_email", &self.pending_email)
            .finish()
    }
}

// Local methods.
impl User {
    /// The form usernames are compared in: trimmed and lower-cased.
    pub fn key(username: &str) -> String {
        username.trim().to_ascii_lowercase()
    }

    /// Why a (trimmed) username is refused at signup, or `None` when it is acceptable.
    pub fn check_username(username: &str) -> Option<&'static str> {
        let valid_chars = username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !USERNAME_LEN.contains(&username.len()) {
            Some("username must be 3 to 64 characters long")
        } else if !valid_chars {
            Some("username may contain only ASCII letters, digits, '_', '.' and '-'")
        } else {
            None
        }
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled != 0
    }

    pub fn is_email_verified(&self) -> bool {
        self.email.is_some() && self.email_verified != 0
    }
}

/// What a sign-in names the account by: its username, or (with an `@`) its email address,
/// which finds the account only once verified. Either way in comparison form, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Username(String),
    Email(String),
}

impl Login {
    /// The login typed at sign-in, or `None` when it could name no account (it is then
    /// neither looked up nor counted against).
    pub fn parse(text: &str) -> Option<Login> {
        if address::looks_like_email(text) {
            let email = EmailAddress::parse(text).ok()?;
            return Some(Login::Email(email.key()));
        }
        let key = User::key(text);
        User::check_username(&key)
            .is_none()
            .then_some(Login::Username(key))
    }

    /// The login as typed, in comparison form: what its failures are counted against when it
    /// names no account.
    pub fn key(&self) -> &str {
        match self {
            Login::Username(key) | Login::Email(key) => key,
        }
    }
}

const COLUMNS: &str =
    "id, username, password_hash, disabled, created_at, email, email_verified, pending_email";

// Database methods.
impl User {
    /// Creates a user, with an (unverified) email address or none.
    pub async fn create(
        conn: &mut AnyConnection,
        username: &str,
        email: Option<&EmailAddress>,
        password_hash: &str,
        now: i64,
    ) -> Result<User, CreateError> {
        let sql = format!(
            "INSERT INTO users (username, username_key, password_hash, disabled, created_at, \
             email, email_key, email_verified) \
             VALUES ($1, $2, $3, 0, $4, $5, $6, 0) RETURNING {COLUMNS}"
        );
        let created = sqlx::query_as(&sql)
            .bind(username)
            .bind(User::key(username))
            .bind(password_hash)
            .bind(now)
            .bind(email.map(EmailAddress::as_str))
            .bind(email.map(EmailAddress::key))
            .fetch_one(&mut *conn)
            .await;
        match created {
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                // Which of the two: the username wins, as it is checked first everywhere.
                Err(match User::find_by_username(conn, username).await {
                    Ok(None) if email.is_some() => CreateError::EmailTaken,
                    Ok(_) => CreateError::Taken,
                    Err(e) => CreateError::Db(e),
                })
            }
            Err(e) => Err(CreateError::Db(e)),
            Ok(user) => Ok(user),
        }
    }

    /// The account a sign-in names: by username, or by an email address that is verified (an
    /// unverified one finds nothing, exactly like an unknown user).
    pub async fn find_by_login(
        conn: &mut AnyConnection,
        login: &Login,
    ) -> sqlx::Result<Option<User>> {
        let sql = match login {
            Login::Username(_) => format!("SELECT {COLUMNS} FROM users WHERE username_key = $1"),
            Login::Email(_) => {
                format!("SELECT {COLUMNS} FROM users WHERE email_key = $1 AND email_verified = 1")
            }
        };
        sqlx::query_as(&sql)
            .bind(login.key())
            .fetch_optional(conn)
            .await
    }

    /// The user whose address (verified or not) is `email`, compared case-insensitively.
    pub async fn find_by_email(
        conn: &mut AnyConnection,
        email: &EmailAddress,
    ) -> sqlx::Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE email_key = $1");
        sqlx::query_as(&sql)
            .bind(email.key())
            .fetch_optional(conn)
            .await
    }

    /// Marks the user's address verified, if it is still `email` (a link mailed to an address
    /// the user has since changed verifies nothing); `false` when it is not. Sessions carry the
    /// flag: commit with `Auth::commit_account_change`, which refreshes them.
    pub async fn mark_email_verified(
        conn: &mut AnyConnection,
        id: i64,
        email: &str,
    ) -> sqlx::Result<bool> {
        let done =
            sqlx::query("UPDATE users SET email_verified = 1 WHERE id = $1 AND email_key = $2")
                .bind(id)
                .bind(address::key(email))
                .execute(conn)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn find_by_username(
        conn: &mut AnyConnection,
        username: &str,
    ) -> sqlx::Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE username_key = $1");
        sqlx::query_as(&sql)
            .bind(User::key(username))
            .fetch_optional(conn)
            .await
    }

    pub async fn find(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        sqlx::query_as(&sql).bind(id).fetch_optional(conn).await
    }

    /// Locks the user's row for the transaction, and says whether it still has this password
    /// hash and is enabled: a sign-in or a password change whose hash was checked against an
    /// older password (or that raced a disabling) must not go through.
    pub async fn lock_unchanged(
        conn: &mut AnyConnection,
        id: i64,
        password_hash: &str,
    ) -> sqlx::Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = password_hash \
             WHERE id = $1 AND password_hash = $2 AND disabled = 0",
        )
        .bind(id)
        .bind(password_hash)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Locks the row of an enabled user until the transaction ends (a write, so that SQLite
    /// takes its write lock before the transaction reads); `false` when disabled or gone.
    pub async fn lock(conn: &mut AnyConnection, id: i64) -> sqlx::Result<bool> {
        let done =
            sqlx::query("UPDATE users SET disabled = disabled WHERE id = $1 AND disabled = 0")
                .bind(id)
                .execute(conn)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn set_password(
        conn: &mut AnyConnection,
        id: i64,
        password_hash: &str,
    ) -> sqlx::Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(conn)
            .await
            .map(drop)
    }

    pub async fn set_disabled(
        conn: &mut AnyConnection,
        id: i64,
        disabled: bool,
    ) -> sqlx::Result<bool> {
        let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(disabled as i64)
            .bind(id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::User;

    #[test]
    fn debug_output_hides_the_password_hash() {
        let user = User {
            id: 1,
            username: "alice".into(),
            password_hash: "$2b$04$secrethashsecrethashsecrethashsecrethashsecreth".into(),
            disabled: 0,
            created_at: 0,
            email: None,
            email_verified: 0,
            pending_email: None,
        };
        let shown = format!("{user:?}");
        assert!(shown.contains("alice") && shown.contains("<redacted>"));
        assert!(!shown.contains("secrethash"));
    }
}
