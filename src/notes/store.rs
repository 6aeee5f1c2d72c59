//! The example resource's table: each user's notes. Every query names the user, so one user can
//! never read or change another's note; to the API another user's note is simply not there.

use serde::Serialize;
use session_kit::clock::at;
use session_kit::text;
use sqlx::{AnyConnection, FromRow};
use time::OffsetDateTime;

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body, in bytes (the JSON body limit, 16 KiB, bounds the request as a whole).
pub const MAX_BODY_BYTES: usize = 8 * 1024;
/// Notes one user may keep.
pub const MAX_NOTES: u32 = 200;

#[derive(Debug, Clone, FromRow)]
pub struct Note {
    pub id: String,
    pub user_id: i64,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A note as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoteView {
    /// Random and URL-safe: the note's address, /api/notes/{id}.
    #[schema(example = "nB3gqvM0T9m6cZ0b8iWk1A")]
    pub id: String,
    #[schema(example = "Groceries")]
    pub title: String,
    #[schema(example = "Milk, eggs, bread")]
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

// Local methods.
impl Note {
    pub fn view(&self) -> NoteView {
        NoteView {
            id: self.id.clone(),
            title: self.title.clone(),
            body: self.body.clone(),
            created_at: at(self.created_at),
            updated_at: at(self.updated_at),
        }
    }

    /// Why a title and body are refused, or `None` when they are acceptable: the title is a
    /// name (trimmed, 1 to 200 characters, no hidden character), the body multi-line text
    /// (see [`session_kit::text`]). The title is expected trimmed.
    pub fn check(title: &str, body: &str) -> Option<String> {
        let title = text::check_name("title", title, MAX_TITLE_CHARS).err();
        title.or_else(|| text::check_text("body", body, MAX_BODY_BYTES).err())
    }
}

const COLUMNS: &str = "id, user_id, title, body, created_at, updated_at";

// Database methods.
impl Note {
    /// The user's notes, most recently changed first.
    pub async fn list(conn: &mut AnyConnection, user_id: i64) -> sqlx::Result<Vec<Note>> {
        let sql =
            format!("SELECT {COLUMNS} FROM notes WHERE user_id = $1 ORDER BY updated_at DESC, id");
        sqlx::query_as(&sql).bind(user_id).fetch_all(conn).await
    }

    pub async fn find(
        conn: &mut AnyConnection,
        user_id: i64,
        id: &str,
    ) -> sqlx::Result<Option<Note>> {
        let sql = format!("SELECT {COLUMNS} FROM notes WHERE id = $1 AND user_id = $2");
        sqlx::query_as(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(conn)
            .await
    }

    /// Adds a note, unless the user already has [`MAX_NOTES`] (then `None`).
    ///
    /// The count and the insert must not interleave with another create of the same user: on
    /// SQLite the statement holds the single writer's lock throughout; on PostgreSQL, under READ
    /// COMMITTED, two creates would each count 199 and both insert, so a transaction-scoped
    /// advisory lock on the user's notes serializes them.
    pub async fn insert(
        conn: &mut AnyConnection,
        user_id: i64,
        id: &str,
        title: &str,
        body: &str,
        now: i64,
    ) -> sqlx::Result<Option<Note>> {
        let mut tx = sqlx::Connection::begin(conn).await?;
        session_kit::db::lock_key(&mut tx, &format!("notes:{user_id}")).await?;
        let sql = format!(
            "INSERT INTO notes ({COLUMNS}) \
             SELECT $1, $2, $3, $4, $5, $5 \
             WHERE (SELECT COUNT(*) FROM notes WHERE user_id = $2) < $6 \
             RETURNING {COLUMNS}"
        );
        let note = sqlx::query_as(&sql)
            .bind(id)
            .bind(user_id)
            .bind(title)
            .bind(body)
            .bind(now)
            .bind(i64::from(MAX_NOTES))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(note)
    }

    /// Replaces a note's title and body; `None` when the user has no note of that id.
    pub async fn update(
        conn: &mut AnyConnection,
        user_id: i64,
        id: &str,
        title: &str,
        body: &str,
        now: i64,
    ) -> sqlx::Result<Option<Note>> {
        let sql = format!(
            "UPDATE notes SET title = $3, body = $4, updated_at = $5 \
             WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"
        );
        sqlx::query_as(&sql)
            .bind(id)
            .bind(user_id)
            .bind(title)
            .bind(body)
            .bind(now)
            .fetch_optional(conn)
            .await
    }

    /// Deletes a note; `false` when the user has no note of that id.
    pub async fn delete(conn: &mut AnyConnection, user_id: i64, id: &str) -> sqlx::Result<bool> {
        let done = sqlx::query("DELETE FROM notes WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_bodies_are_bounded() {
        assert!(Note::check("Groceries", "milk").is_none());
        assert!(Note::check(&"é".repeat(MAX_TITLE_CHARS), "").is_none());
        assert!(Note::check(&"é".repeat(MAX_TITLE_CHARS + 1), "").is_some());
        assert!(Note::check("", "body").is_some());
        assert!(Note::check("a\u{7}b", "").is_some());
        assert!(Note::check("t", &"x".repeat(MAX_BODY_BYTES)).is_none());
        assert!(Note::check("t", &"x".repeat(MAX_BODY_BYTES + 1)).is_some());
        assert!(Note::check("t", "a\0b").is_some());
        assert!(Note::check("a\u{202E}b", "").is_some());
        assert!(Note::check("\u{200B}", "").is_some());
        assert!(Note::check("t", "line one\nline two\u{200D}").is_none());
        assert!(Note::check("t", "\u{1B}[2J").is_some());
    }
}
