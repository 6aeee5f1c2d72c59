//! Entries of the security activity log for what a client did. Each is written on the action's
//! own transaction, so the entry and the action commit together or not at all.

use super::{Auth, ClientInfo};
use crate::store::activity::{Activity, ActivityKind, NewActivity};
use serde_json::Value;
use sqlx::AnyConnection;

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

impl Auth {
    /// Writes `entry` on `conn` (the action's transaction where it has one), dated now.
    pub(super) async fn record(
        &self,
        conn: &mut AnyConnection,
        entry: NewActivity,
    ) -> sqlx::Result<()> {
        Activity::record(conn, &entry, self.clock.now()).await
    }
}
