//! SQL, one module per concept. Plain `$1`-style queries that serve SQLite and PostgreSQL alike.

pub mod sessions;
pub mod throttle;
pub mod users;

/// Current time as Unix seconds (UTC): the unit of every stored timestamp.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Unix seconds as an RFC 3339 UTC string, as the API shows timestamps.
pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
