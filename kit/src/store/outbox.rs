//! The mail outbox: messages written in the transaction of what they announce, claimed in
//! batches by the mail senders of every instance, deleted once sent or given up.
//!
//! A claim marks its rows as held until a deadline, atomically: on PostgreSQL the rows are
//! picked with `FOR UPDATE SKIP LOCKED`, so two instances claiming at once take different rows;
//! SQLite's single writer serializes the claims. A sender that dies holding a claim lets it run
//! out, and the message is claimed again.

use sqlx::{AnyConnection, Row};

/// A message taken from the outbox to be sent.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    /// RFC 5322 bytes: may hold a one-time link, never logged.
    pub message: Vec<u8>,
    pub queued_at: i64,
    /// Attempts begun so far, this one included (1 on the first claim).
    pub attempts: i64,
}

/// A message that may be claimed at `$1`, now: its next attempt has come and no sender holds it.
const DUE: &str = "next_attempt_at <= $1 AND claimed_until <= $1";

/// Writes a message, due at once.
pub async fn insert(
    conn: &mut AnyConnection,
    kind: &str,
    recipient: &str,
    message: &[u8],
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO mail_outbox (kind, recipient, message, queued_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(kind)
    .bind(recipient)
    .bind(message)
    .bind(now)
    .execute(conn)
    .await
    .map(drop)
}

/// Claims up to `limit` due messages, oldest first, until `until`; counts the attempt.
pub async fn claim(
    conn: &mut AnyConnection,
    now: i64,
    until: i64,
    limit: i64,
) -> sqlx::Result<Vec<Claimed>> {
    let skip_locked = if conn.backend_name() == "PostgreSQL" {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE mail_outbox SET claimed_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM mail_outbox \
             WHERE {DUE} \
             ORDER BY next_attempt_at, id LIMIT $3{skip_locked}) \
         RETURNING id, kind, recipient, message, queued_at, attempts"
    );
    let rows = sqlx::query(&sql)
        .bind(now)
        .bind(until)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    let mut claimed = rows
        .iter()
        .map(|row| {
            Ok(Claimed {
                id: row.try_get("id")?,
                kind: row.try_get("kind")?,
                recipient: row.try_get("recipient")?,
                message: row.try_get("message")?,
                queued_at: row.try_get("queued_at")?,
                attempts: row.try_get("attempts")?,
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    // RETURNING follows no ORDER BY: send the oldest first.
    claimed.sort_by_key(|c| (c.queued_at, c.id));
    Ok(claimed)
}

/// Deletes a message (sent, or given up).
pub async fn delete(conn: &mut AnyConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM mail_outbox WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map(drop)
}

/// Releases a claimed message, to be tried again at `next_attempt_at`.
pub async fn reschedule(
    conn: &mut AnyConnection,
    id: i64,
    next_attempt_at: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE mail_outbox SET next_attempt_at = $2, claimed_until = 0 WHERE id = $1")
        .bind(id)
        .bind(next_attempt_at)
        .execute(conn)
        .await
        .map(drop)
}

/// The outbox at `now`, in one read: how many messages it holds (due or not), and how many of
/// them are due. A sender claims (a write) only when some are.
pub async fn status(conn: &mut AnyConnection, now: i64) -> sqlx::Result<(i64, i64)> {
    let sql = format!("SELECT COUNT(*), COUNT(CASE WHEN {DUE} THEN 1 END) FROM mail_outbox");
    sqlx::query_as(&sql).bind(now).fetch_one(conn).await
}

/// Messages in the outbox, due or not (the tests read it).
#[cfg(feature = "testing")]
pub async fn len(conn: &mut AnyConnection, now: i64) -> sqlx::Result<i64> {
    Ok(status(conn, now).await?.0)
}
