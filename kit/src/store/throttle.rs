//! Failed-login records, kept in the database so that every instance sees the same counts: known
//! failures, and password checks in flight (marked with their attempt's id until settled).

use super::users::User;
use sqlx::AnyConnection;
use std::net::{IpAddr, Ipv6Addr};

/// The throttle key of a login in comparison form (a username, lower-cased, or an address), and
/// of a client IP (below).
pub fn user_key(login_key: &str) -> String {
    format!("user:{login_key}")
}

/// The throttle key of an account, by its username: what every failure against the account
/// counts toward, however the account was named (its username or its verified address).
pub fn account_key(username: &str) -> String {
    user_key(&User::key(username))
}

/// An IPv4 address stands for itself; an IPv6 address for its /64, the block one subscriber is
/// usually given whole (keyed one by one, its addresses would be endless fresh keys); an
/// IPv4-mapped IPv6 address for its IPv4 one. Text that is no address is keyed as it is.
pub fn ip_key(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V4(v4)) => format!("ip:{v4}"),
        Ok(IpAddr::V6(v6)) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            format!("ip:{}/64", Ipv6Addr::from(prefix))
        }
        Err(_) => format!("ip:{ip}"),
    }
}

/// Seconds after which a check still marked in flight counts as a failure: its process died
/// between reserving and settling it (a check takes well under a second).
pub const IN_FLIGHT_TTL: i64 = 60;

/// Where an attempt stands against its limits (ordered: the strictest wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// Under the limit, counting the checks in flight: check the password.
    Go,
    /// Under the limit only if some checks in flight succeed: wait for them.
    Wait,
    /// At the limit with known failures alone: refused for this many seconds.
    Throttled(u64),
}

/// Known failures: settled ones, and checks in flight for so long that their process is gone.
const FAILED: &str = "(attempt IS NULL OR failed_at <= $3)";

/// Starts a password check for the attempt `attempt` against each `(key, max)` limit within
/// `window` seconds before `now`, if it may go: its checks are then marked in flight (committed),
/// else nothing is kept. Failures count once known (after the hash) and checks in flight as
/// failures to come, so parallel guesses never get more checks than the limit, and parallel
/// right passwords wait their turn instead of being refused.
///
/// The decision is serialized per key, across instances: by SQLite's single writer (the first
/// statement writes), or by a PostgreSQL advisory lock on the key.
pub async fn begin_check(
    conn: &mut AnyConnection,
    limits: &[(&str, u32)],
    attempt: &str,
    window: u64,
    now: i64,
) -> sqlx::Result<Standing> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    // Always in the same order (the username's key, then the IP's): no deadlock.
    for (key, _) in limits {
        super::lock_key(&mut tx, key).await?;
    }
    for (key, _) in limits {
        reserve(&mut tx, key, attempt, now).await?;
    }
    let mut worst = Standing::Go;
    for &(key, max) in limits {
        worst = worst.max(standing(&mut tx, key, max, window, now).await?);
    }
    match worst {
        Standing::Go => tx.commit().await?,
        _ => tx.rollback().await?,
    }
    Ok(worst)
}

/// One key's standing, counting the caller's own check (just reserved) as in flight.
async fn standing(
    conn: &mut AnyConnection,
    key: &str,
    max: u32,
    window: u64,
    now: i64,
) -> sqlx::Result<Standing> {
    let since = now - window as i64;
    let stale = now - IN_FLIGHT_TTL;
    // The max-th most recent known failure: once it leaves the window, a new attempt may go.
    let sql = format!(
        "SELECT failed_at FROM login_failures WHERE key = $1 AND failed_at > $2 AND {FAILED} \
         ORDER BY failed_at DESC LIMIT 1 OFFSET $4"
    );
    let oldest_counted: Option<(i64,)> = sqlx::query_as(&sql)
        .bind(key)
        .bind(since)
        .bind(stale)
        .bind(i64::from(max) - 1)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some((at,)) = oldest_counted {
        return Ok(Standing::Throttled((at + window as i64 - now).max(1) as u64));
    }
    let sql = format!(
        "SELECT COUNT(*) FROM login_failures WHERE key = $1 \
         AND ((failed_at > $2 AND {FAILED}) OR (attempt IS NOT NULL AND failed_at > $3))"
    );
    let (counted,): (i64,) = sqlx::query_as(&sql)
        .bind(key)
        .bind(since)
        .bind(stale)
        .fetch_one(conn)
        .await?;
    Ok(match counted <= i64::from(max) {
        true => Standing::Go,
        false => Standing::Wait,
    })
}

/// Marks a password check of `key` as in flight for the attempt `attempt`; the attempt then
/// [`release`]s it (right password, or no check made) or [`settle_failure`]s it (wrong).
async fn reserve(conn: &mut AnyConnection, key: &str, attempt: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO login_failures (key, failed_at, attempt) VALUES ($1, $2, $3)")
        .bind(key)
        .bind(now)
        .bind(attempt)
        .execute(conn)
        .await
        .map(drop)
}

/// Withdraws an attempt's checks in flight (right password, or refused before any check).
pub async fn release(conn: &mut AnyConnection, attempt: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE attempt = $1")
        .bind(attempt)
        .execute(conn)
        .await
        .map(drop)
}

/// Counts an attempt's checks as failures (wrong password), from the time they were reserved.
pub async fn settle_failure(conn: &mut AnyConnection, attempt: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE login_failures SET attempt = NULL WHERE attempt = $1")
        .bind(attempt)
        .execute(conn)
        .await
        .map(drop)
}

/// Forgets the known failures of `key` (after a successful login for that username); checks
/// still in flight stay, to be settled by their own attempts.
pub async fn clear(conn: &mut AnyConnection, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE key = $1 AND attempt IS NULL")
        .bind(key)
        .execute(conn)
        .await
        .map(drop)
}

/// Deletes failures older than the window; returns how many.
pub async fn prune(conn: &mut AnyConnection, window: u64, now: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1")
        .bind(now - window as i64)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_client_is_keyed_by_its_address_and_an_ipv6_one_by_its_64() {
        assert_eq!(ip_key("203.0.113.5"), "ip:203.0.113.5");
        assert_ne!(ip_key("203.0.113.5"), ip_key("203.0.113.6"));
        assert_eq!(ip_key("::ffff:203.0.113.5"), "ip:203.0.113.5");
        assert_eq!(ip_key("2001:db8:1:2::1"), "ip:2001:db8:1:2::/64");
        assert_eq!(
            ip_key("2001:DB8:1:2:ffff:eeee:dddd:cccc"),
            ip_key("2001:db8:1:2::1")
        );
        assert_ne!(ip_key("2001:db8:1:3::1"), ip_key("2001:db8:1:2::1"));
        assert_eq!(ip_key("::1"), "ip:::/64");
        assert_eq!(ip_key("not an address"), "ip:not an address");
    }
}
