//! Entries of the security activity log for what a client did. Each is written on the action's
//! own transaction, so the entry and the action commit together or not at all; except the entry
//! of a failed sign-in, written just after the answer (see [`Auth::record_later`]).

use super::{Auth, ClientInfo, Sessions};
use crate::store::activity::{Activity, ActivityKind, ActivityRow, NewActivity};
use serde_json::Value;
use sqlx::AnyConnection;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// The entries being written after their request's answer, by ticket (in the order handed over).
#[derive(Default)]
pub(super) struct LateEntries {
    tickets: Mutex<Tickets>,
    /// Wakes the readers waiting in [`Auth::entries_written`] when an entry is done.
    written: tokio::sync::Notify,
}

#[derive(Default)]
struct Tickets {
    next: u64,
    pending: BTreeSet<u64>,
}

impl LateEntries {
    fn tickets(&self) -> std::sync::MutexGuard<'_, Tickets> {
        self.tickets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A late entry's ticket, given back when its task ends however it ends (written, failed, or
/// dropped with the runtime), so that no reader waits for it forever.
struct Ticket(Auth, u64);

impl Drop for Ticket {
    fn drop(&mut self) {
        let Ticket(auth, ticket) = self;
        auth.late.tickets().pending.remove(ticket);
        auth.late.written.notify_waiters();
    }
}

impl ClientInfo {
    /// An entry for something this client did to `session_id` (its own session, or the one it
    /// made or changed).
    pub(super) fn activity(
        &self,
        user_id: i64,
        kind: ActivityKind,
        session_id: &str,
        detail: Value,
    ) -> NewActivity {
        NewActivity {
            user_id,
            kind,
            ip: self.ip.clone(),
            device: Some(crate::device::label(self.user_agent.as_deref())),
            session_id: Some(session_id.to_string()),
            network: None,
            detail,
        }
    }
}

impl ClientInfo {
    /// An entry for something this client did with no session of its own (a link used from a
    /// mail).
    pub(super) fn unsigned_activity(
        &self,
        user_id: i64,
        kind: ActivityKind,
        detail: Value,
    ) -> NewActivity {
        NewActivity {
            session_id: None,
            ..self.activity(user_id, kind, "", detail)
        }
    }
}

impl Auth {
    /// Writes `entry` on `conn` (the action's transaction where it has one), dated now.
    pub(super) async fn record(
        &self,
        conn: &mut AnyConnection,
        entry: NewActivity,
    ) -> sqlx::Result<()> {
        Activity::record(conn, &entry, self.clock.now()).await
    }

    /// Writes `entry`, dated now, on a task of its own, so that the caller answers without
    /// waiting for it: for an entry that must not make one answer slower than another (a failed
    /// sign-in of an existing account, against that of an unknown username). A reader of the log
    /// waits for it with [`Auth::entries_written`]; should the write fail, the log says so.
    pub(super) fn record_later(&self, entry: NewActivity) {
        let at = self.clock.now();
        self.after_answer(|auth| async move {
            let written = async {
                let mut conn = auth.db().acquire().await?;
                Activity::record(&mut conn, &entry, at).await
            };
            if let Err(e) = written.await {
                let kind = entry.kind.as_str();
                rocket::warn!(
                    "could not record the {kind} entry of user {}: {e}",
                    entry.user_id
                );
            }
        });
    }

    /// Runs `work` on a task of its own, after the caller's answer (the work of a password
    /// reset request, which must not make one answer slower than another);
    /// [`Auth::entries_written`] waits for it like for a late entry.
    pub(super) fn after_answer<F>(&self, work: impl FnOnce(Auth) -> F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let ticket = {
            let mut tickets = self.late.tickets();
            let ticket = tickets.next;
            tickets.next += 1;
            tickets.pending.insert(ticket);
            Ticket(self.clone(), ticket)
        };
        let work = work(self.clone());
        rocket::tokio::spawn(async move {
            work.await;
            drop(ticket);
        });
    }

    /// Waits until every entry handed to [`Auth::record_later`] (and all work handed to
    /// [`Auth::after_answer`]) before this call is done (or given up): a reader of the activity
    /// log calls it first, so that what a client was answered is on record when it looks.
    /// Entries handed over later are not waited for.
    pub async fn entries_written(&self) {
        let before = self.late.tickets().next;
        loop {
            let written = self.late.written.notified();
            let mut written = std::pin::pin!(written);
            written.as_mut().enable(); // From now on, no completion goes unnoticed.
            let waiting = (self.late.tickets().pending.first()).is_some_and(|&t| t < before);
            if !waiting {
                return;
            }
            written.await;
        }
    }
}

impl Sessions<'_> {
    /// A page of the user's activity log, newest first: at most `limit` entries older than the
    /// entry `before`. Whatever this instance has answered is on record first.
    pub async fn activity(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> sqlx::Result<Vec<ActivityRow>> {
        self.0.entries_written().await;
        let mut conn = self.0.db().acquire().await?;
        Activity::page(&mut conn, user_id, before, limit).await
    }
}
