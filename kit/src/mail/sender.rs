//! The sender: a background task that sends what the outbox holds, woken when this process
//! queues a message and otherwise polling (for other instances' messages and for retries).
//! Every time decision reads the app's [`Clock`](crate::clock::Clock), so tests move time
//! instead of sleeping, and run a pass themselves with [`Mailer::send_due`].

use super::transport::Failure;
use super::Mailer;
use crate::store::outbox::{self, Claimed};
use rocket::tokio::time::{sleep, Duration};
use rocket::Shutdown;

/// Time between two looks at the outbox when nothing wakes the sender.
pub const POLL: Duration = Duration::from_secs(2);
/// Seconds a sender holds the messages it claimed: far longer than a send may take
/// ([`super::transport::SMTP_TIMEOUT`]); a crashed sender's messages are sent after it.
pub const CLAIM_FOR: i64 = 300;
/// Messages claimed at a time.
const BATCH: i64 = 20;
/// Seconds before the first retry; each further one waits twice as long, at most [`MAX_BACKOFF`].
const FIRST_BACKOFF: i64 = 5;
const MAX_BACKOFF: i64 = 300;

/// What one kind of mail has come to, as counted by this process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Messages that reached the sender (counted at their first claim, so a transaction rolled
    /// back never counts).
    pub queued: u64,
    pub sent: u64,
    /// Given up: refused for good, or not sent within `retry_for`.
    pub failed: u64,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    /// Failed for now, to be tried again.
    pub retried: usize,
    pub given_up: usize,
}

/// Seconds to wait after the `attempts`-th failed attempt.
fn backoff(attempts: i64) -> i64 {
    let doublings = attempts.clamp(1, 16) - 1;
    (FIRST_BACKOFF << doublings).min(MAX_BACKOFF)
}

impl Mailer {
    /// Sends every message due now, batch by batch, and answers what became of them. One pass
    /// runs at a time in a process; other instances' passes take other messages. The background
    /// task calls it; so do tests, to deliver without waiting.
    pub async fn send_due(&self) -> sqlx::Result<Pass> {
        let _turn = self.0.turn.lock().await;
        let mut pass = Pass::default();
        loop {
            let now = self.0.clock.now();
            let claimed = {
                let mut conn = self.0.db.acquire().await?;
                // One read when there is nothing to send (most passes): no claim, no write.
                let (len, due) = outbox::status(&mut conn, now).await?;
                self.0
                    .outbox_len
                    .store(len, std::sync::atomic::Ordering::Relaxed);
                if due == 0 {
                    break;
                }
                outbox::claim(&mut conn, now, now + CLAIM_FOR, BATCH).await?
            };
            // Due but none claimed: another instance holds them now.
            if claimed.is_empty() {
                break;
            }
            for message in claimed {
                self.deliver(message, &mut pass).await?;
            }
        }
        Ok(pass)
    }

    /// Sends one claimed message, then deletes it, or gives it back for later, or gives it up.
    async fn deliver(&self, message: Claimed, pass: &mut Pass) -> sqlx::Result<()> {
        let deadline = message.queued_at + self.0.config.retry_for as i64;
        if message.attempts == 1 {
            self.count(&message.kind, |t| t.queued += 1);
        }
        if self.0.clock.now() > deadline {
            pass.given_up += 1;
            return self.give_up(&message, "not sent within retry_for").await;
        }
        let from = self.0.from.email.clone();
        let sent = self
            .0
            .outlet
            .send(message.id, &from, &message.recipient, &message.message)
            .await;
        let mut conn = self.0.db.acquire().await?;
        match sent {
            Ok(()) => {
                outbox::delete(&mut conn, message.id).await?;
                self.count(&message.kind, |t| t.sent += 1);
                pass.sent += 1;
                rocket::info!("mail {} ({}) sent", message.id, message.kind);
                Ok(())
            }
            Err(Failure::Permanent(why)) => {
                pass.given_up += 1;
                self.give_up(&message, &why).await
            }
            Err(Failure::Transient(why)) => {
                let now = self.0.clock.now();
                if now > deadline {
                    pass.given_up += 1;
                    return self.give_up(&message, &why).await;
                }
                // Past the deadline, the next look gives it up rather than sending it late.
                let next = (now + backoff(message.attempts)).min(deadline + 1);
                outbox::reschedule(&mut conn, message.id, next).await?;
                pass.retried += 1;
                rocket::warn!(
                    "mail {} ({}) not sent ({why}); trying again in {} s",
                    message.id,
                    message.kind,
                    next - now
                );
                Ok(())
            }
        }
    }

    async fn give_up(&self, message: &Claimed, why: &str) -> sqlx::Result<()> {
        let mut conn = self.0.db.acquire().await?;
        outbox::delete(&mut conn, message.id).await?;
        self.count(&message.kind, |t| t.failed += 1);
        rocket::warn!(
            "mail {} ({}) given up after {} attempt(s): {why}",
            message.id,
            message.kind,
            message.attempts
        );
        Ok(())
    }

    fn count(&self, kind: &str, add: impl FnOnce(&mut Tally)) {
        let mut tally = self.0.tally.lock().unwrap_or_else(|e| e.into_inner());
        add(tally.entry(kind.to_string()).or_default());
    }
}

/// Runs until shutdown: a pass at start, then one each time a message is queued here or
/// [`POLL`] has passed.
pub async fn run(mailer: Mailer, shutdown: Shutdown) {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        if let Err(e) = mailer.send_due().await {
            rocket::warn!("mail sender: {e}; trying again shortly");
        }
        rocket::tokio::select! {
            _ = &mut shutdown => return,
            _ = mailer.0.wake.notified() => {}
            _ = sleep(POLL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn the_backoff_doubles_up_to_five_minutes() {
        let waits: Vec<i64> = (1..=8).map(backoff).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(backoff(1000), 300);
    }
}
