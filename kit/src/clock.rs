//! The time the auth machinery and the features read: the system clock in production, a clock
//! that tests set and advance, so that lifetimes, idle timeouts and throttle windows are tested
//! without sleeping.
//!
//! To use a test clock, manage it before the app ignites:
//! `my_app::build(figment).manage(Clock::manual(start))`; the auth stage uses the `Clock`
//! it finds, and manages the system clock when there is none.

use std::sync::atomic::{AtomicI64, Ordering::SeqCst};
use std::sync::Arc;
use time::OffsetDateTime;

/// A source of the current time, as Unix seconds (UTC). Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The operating system's clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stands at `unix_seconds` until [`Clock::advance`] moves it.
    pub fn manual(unix_seconds: i64) -> Clock {
        Clock(Some(Arc::new(AtomicI64::new(unix_seconds))))
    }

    /// Now, as Unix seconds: the unit of every stored timestamp.
    pub fn now(&self) -> i64 {
        match &self.0 {
            Some(manual) => manual.load(SeqCst),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        }
    }

    /// Now, as a date and time in UTC.
    pub fn now_utc(&self) -> OffsetDateTime {
        at(self.now())
    }

    /// Moves a manual clock forward by `seconds` (the system clock cannot be moved).
    pub fn advance(&self, seconds: i64) {
        if let Some(manual) = &self.0 {
            manual.fetch_add(seconds, SeqCst);
        }
    }
}

/// Unix seconds as a date and time in UTC (out-of-range values clamp to the epoch).
pub fn at(unix_seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix_seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Unix seconds as an RFC 3339 UTC string, as the API writes times.
pub fn rfc3339(unix_seconds: i64) -> String {
    at(unix_seconds)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_700_000_000);
        let copy = clock.clone();
        assert_eq!(clock.now(), 1_700_000_000);
        copy.advance(90);
        assert_eq!(clock.now(), 1_700_000_090);
        assert_eq!(copy.now_utc().unix_timestamp(), 1_700_000_090);
        assert_eq!(rfc3339(1_700_000_090), "2023-11-14T22:14:50Z");
    }

    #[test]
    fn the_system_clock_is_now() {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!((Clock::system().now() - now).abs() <= 1);
    }
}
