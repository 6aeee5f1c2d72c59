//! The mail metrics, read from the [`Mailer`] at each scrape: `mails_queued_total{kind}`,
//! `mails_sent_total{kind}`, `mails_failed_total{kind}` (given up) and `mail_outbox_length`.

use super::counters;
use crate::mail::Mailer;
use prometheus::{IntCounterVec, IntGauge, Registry};

pub struct MailMetrics {
    queued: IntCounterVec,
    sent: IntCounterVec,
    failed: IntCounterVec,
    outbox: IntGauge,
}

impl MailMetrics {
    pub fn new(registry: &Registry) -> MailMetrics {
        let outbox = IntGauge::new(
            "mail_outbox_length",
            "Mails waiting in the outbox (every instance's), as of the sender's last pass",
        )
        .expect("a valid metric");
        registry
            .register(Box::new(outbox.clone()))
            .expect("registered once");
        MailMetrics {
            queued: counters(
                registry,
                "mails_queued_total",
                "Mails taken up by this instance's sender, by kind",
                &["kind"],
            ),
            sent: counters(
                registry,
                "mails_sent_total",
                "Mails sent, by kind",
                &["kind"],
            ),
            failed: counters(
                registry,
                "mails_failed_total",
                "Mails given up (refused for good, or not sent within retry_for), by kind",
                &["kind"],
            ),
            outbox,
        }
    }

    /// Brings the counters up to the mailer's tallies (call it under the scrape's lock).
    pub fn catch_up(&self, mailer: &Mailer) {
        for (kind, tally) in mailer.tallies() {
            for (counter, total) in [
                (&self.queued, tally.queued),
                (&self.sent, tally.sent),
                (&self.failed, tally.failed),
            ] {
                let counter = counter.with_label_values(&[kind.as_str()]);
                counter.inc_by(total.saturating_sub(counter.get()));
            }
        }
        self.outbox.set(mailer.outbox_len());
    }
}
