//! The user store.

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
}

/// Why a user could not be created.
#[derive(Debug)]
pub enum CreateError {
    Taken,
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
}

const COLUMNS: &str = "id, username, password_hash, disabled, created_at";

// Database methods.
impl User {
    pub async fn create(
        conn: &mut AnyConnection,
        username: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<User, CreateError> {
        let sql = format!(
            "INSERT INTO users (username, username_key, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, 0, $4) RETURNING {COLUMNS}"
        );
        sqlx::query_as(&sql)
            .bind(username)
            .bind(User::key(username))
            .bind(password_hash)
            .bind(now)
            .fetch_one(conn)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => CreateError::Taken,
                _ => CreateError::Db(e),
            })
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
        };
        let shown = format!("{user:?}");
        assert!(shown.contains("alice") && shown.contains("<redacted>"));
        assert!(!shown.contains("secrethash"));
    }
}
