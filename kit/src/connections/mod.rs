//! Bounds on client connections, which Rocket 0.5 does not set: it turns hyper's header read
//! timeout off and has no connection limit, so a client that never finishes its headers, or
//! trickles a body, holds a socket (and its memory) for as long as it likes.
//!
//! A watchdog task looks at this process's own sockets on the server's port once per tick, with
//! what the kernel knows of each (`TCP_INFO`: how long since anything was sent on it), and what
//! this fairing knows (which connections have a request being answered, since when). It shuts
//! down (never closes: the descriptor stays Rocket's) a connection that:
//! - has no request being answered and has sent nothing for `header_timeout` seconds: its
//!   headers are unfinished, or it idles between two requests (keep-alive);
//! - has had one request in hand for `request_timeout` seconds (a body trickled or stalled);
//!   a request is in hand once its headers and its body's first 14 bytes are in (Rocket reads
//!   those before anything else runs, to look for a `_method` field);
//! - is the quietest without a request in hand while more than `max` are open.
//!
//! Linux only (it reads `/proc/self/fd`); elsewhere it says so once and does nothing. A proxy in
//! front still bounds what this cannot: the rate of new connections and bytes per second.

mod sockets;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Data, Orbit, Request, Response, Rocket};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `[connections]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionsConfig {
    /// Seconds a connection may go without sending a request's headers in full (0 = no bound).
    pub header_timeout: u64,
    /// Seconds one request may take, its body included (0 = no bound).
    pub request_timeout: u64,
    /// Open client connections; past it, the quietest idle ones are shut (0 = no bound).
    pub max: usize,
}

impl Default for ConnectionsConfig {
    fn default() -> Self {
        ConnectionsConfig {
            header_timeout: 10,
            request_timeout: 60,
            max: 1024,
        }
    }
}

impl ConnectionsConfig {
    fn is_off(&self) -> bool {
        self.header_timeout == 0 && self.request_timeout == 0 && self.max == 0
    }

    /// How often the watchdog looks: a quarter of the shortest timeout, 100 ms to 1 s.
    fn tick(&self) -> Duration {
        let shortest = [self.header_timeout, self.request_timeout]
            .into_iter()
            .filter(|&s| s > 0)
            .min()
            .unwrap_or(4);
        Duration::from_millis((shortest * 250).clamp(100, 1000))
    }
}

/// Why the watchdog shut a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shut {
    HeaderTimeout,
    RequestTimeout,
    OverLimit,
}

const SHARDS: usize = 16;

/// The connections with a request being answered, by peer address, with when it began.
/// Sharded, so that the two updates per request rarely meet on one lock.
#[derive(Default)]
struct InFlight([Mutex<HashMap<SocketAddr, Instant>>; SHARDS]);

impl InFlight {
    fn shard(&self, peer: &SocketAddr) -> &Mutex<HashMap<SocketAddr, Instant>> {
        &self.0[peer.port() as usize % SHARDS]
    }

    fn begin(&self, peer: SocketAddr) {
        let mut shard = self.shard(&peer).lock().unwrap_or_else(|e| e.into_inner());
        shard.insert(peer, Instant::now());
    }

    fn end(&self, peer: &SocketAddr) {
        let mut shard = self.shard(peer).lock().unwrap_or_else(|e| e.into_inner());
        shard.remove(peer);
    }

    fn since(&self, peer: &SocketAddr) -> Option<Instant> {
        let shard = self.shard(peer).lock().unwrap_or_else(|e| e.into_inner());
        shard.get(peer).copied()
    }

    /// Forgets connections that are gone (a request whose answer never went out).
    fn retain(&self, open: &dyn Fn(&SocketAddr) -> bool) {
        for shard in &self.0 {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            shard.retain(|peer, _| open(peer));
        }
    }
}

/// One client connection as the watchdog sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen {
    pub peer: SocketAddr,
    /// Time since this side last sent anything on it (or since it was accepted).
    pub quiet: Duration,
}

/// What to shut among `open`, by the rules at the top of this module. `in_flight` tells when a
/// connection's current request began, if it has one.
pub(crate) fn decide(
    config: &ConnectionsConfig,
    open: &[Seen],
    in_flight: impl Fn(&SocketAddr) -> Option<Instant>,
    now: Instant,
) -> Vec<(SocketAddr, Shut)> {
    let header = Duration::from_secs(config.header_timeout);
    let request = Duration::from_secs(config.request_timeout);
    let mut shut = Vec::new();
    let mut idle = Vec::new();
    for seen in open {
        match in_flight(&seen.peer) {
            Some(began) => {
                if config.request_timeout > 0 && now.saturating_duration_since(began) >= request {
                    shut.push((seen.peer, Shut::RequestTimeout));
                }
            }
            None if config.header_timeout > 0 && seen.quiet >= header => {
                shut.push((seen.peer, Shut::HeaderTimeout));
            }
            None => idle.push(*seen),
        }
    }
    let left = open.len() - shut.len();
    if config.max > 0 && left > config.max {
        idle.sort_by_key(|seen| std::cmp::Reverse(seen.quiet));
        let over = (left - config.max).min(idle.len());
        shut.extend(idle[..over].iter().map(|seen| (seen.peer, Shut::OverLimit)));
    }
    shut
}

/// The fairing: reads `[connections]`, tracks requests in hand, starts the watchdog at liftoff.
#[derive(Default)]
pub struct Watchdog {
    config: std::sync::OnceLock<ConnectionsConfig>,
    in_flight: Arc<InFlight>,
}

impl Watchdog {
    fn watching(&self) -> bool {
        sockets::SUPPORTED && self.config.get().is_some_and(|c| !c.is_off())
    }
}

#[rocket::async_trait]
impl Fairing for Watchdog {
    fn info(&self) -> Info {
        Info {
            name: "Connection watchdog",
            kind: Kind::Ignite | Kind::Liftoff | Kind::Request | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<rocket::Build>) -> rocket::fairing::Result {
        let config = match rocket
            .figment()
            .extract_inner::<ConnectionsConfig>("connections")
        {
            Ok(config) => config,
            Err(e) if e.missing() => ConnectionsConfig::default(),
            Err(e) => {
                rocket::error!("invalid [connections] configuration: {e}");
                return Err(rocket);
            }
        };
        let _ = self.config.set(config);
        Ok(rocket)
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        let Some(config) = self.config.get().cloned().filter(|c| !c.is_off()) else {
            return;
        };
        if !sockets::SUPPORTED {
            rocket::warn!("connection bounds need Linux; [connections] is ignored here");
            return;
        }
        let port = rocket.config().port;
        let in_flight = self.in_flight.clone();
        let mut shutdown = rocket.shutdown();
        rocket::tokio::spawn(async move {
            let mut tick = rocket::tokio::time::interval(config.tick());
            loop {
                rocket::tokio::select! {
                    _ = tick.tick() => watch(&config, port, &in_flight),
                    _ = &mut shutdown => break,
                }
            }
        });
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        if !self.watching() {
            return;
        }
        if let Some(peer) = req.remote() {
            self.in_flight.begin(peer);
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, _: &mut Response<'r>) {
        if !self.watching() {
            return;
        }
        if let Some(peer) = req.remote() {
            self.in_flight.end(&peer);
        }
    }
}

/// One look at the connections: shuts what [`decide`] says, logs how many and why.
fn watch(config: &ConnectionsConfig, port: u16, in_flight: &InFlight) {
    let open = match sockets::connections(port) {
        Ok(open) => open,
        Err(e) => {
            rocket::warn!("connection watchdog: cannot list sockets: {e}");
            return;
        }
    };
    let by_peer: HashMap<SocketAddr, &sockets::Connection> =
        open.iter().map(|c| (c.seen.peer, c)).collect();
    in_flight.retain(&|peer| by_peer.contains_key(peer));
    let seen: Vec<Seen> = open.iter().map(|c| c.seen).collect();
    let verdicts = decide(config, &seen, |peer| in_flight.since(peer), Instant::now());
    let mut counts = [0usize; 3];
    for (peer, why) in verdicts {
        if by_peer.get(&peer).is_some_and(|conn| conn.shut()) {
            counts[why as usize] += 1;
        }
    }
    if counts.iter().any(|&n| n > 0) {
        rocket::info!(
            "connection watchdog shut {} without headers in time, {} with a request too slow, \
             {} over the limit of {}",
            counts[0],
            counts[1],
            counts[2],
            config.max
        );
    }
}

/// The fairing, to attach to the app.
pub fn stage() -> Watchdog {
    Watchdog::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(port: u16, quiet_ms: u64) -> Seen {
        Seen {
            peer: SocketAddr::from(([127, 0, 0, 1], port)),
            quiet: Duration::from_millis(quiet_ms),
        }
    }

    #[test]
    fn idle_past_the_header_timeout_is_shut_and_a_request_in_hand_is_not() {
        let config = ConnectionsConfig::default();
        let now = Instant::now();
        let open = [seen(1, 11_000), seen(2, 9_000), seen(3, 30_000)];
        let busy = seen(3, 0).peer;
        let shut = decide(&config, &open, |p| (*p == busy).then_some(now), now);
        assert_eq!(shut, vec![(open[0].peer, Shut::HeaderTimeout)]);
    }

    #[test]
    fn a_request_in_hand_too_long_is_shut() {
        let config = ConnectionsConfig::default();
        let now = Instant::now() + Duration::from_secs(120);
        let began = now - Duration::from_secs(61);
        let open = [seen(1, 61_000)];
        let shut = decide(&config, &open, |_| Some(began), now);
        assert_eq!(shut, vec![(open[0].peer, Shut::RequestTimeout)]);
    }

    #[test]
    fn over_the_limit_the_quietest_idle_ones_go_first() {
        let config = ConnectionsConfig {
            max: 2,
            ..ConnectionsConfig::default()
        };
        let now = Instant::now();
        let open = [seen(1, 100), seen(2, 5_000), seen(3, 2_000), seen(4, 0)];
        let busy = open[3].peer;
        let shut = decide(&config, &open, |p| (*p == busy).then_some(now), now);
        assert_eq!(
            shut,
            vec![
                (open[1].peer, Shut::OverLimit),
                (open[2].peer, Shut::OverLimit)
            ]
        );
    }

    #[test]
    fn zero_turns_each_bound_off() {
        let config = ConnectionsConfig {
            header_timeout: 0,
            request_timeout: 0,
            max: 0,
        };
        let now = Instant::now() + Duration::from_secs(3600);
        let open = [seen(1, 3_600_000), seen(2, 3_600_000)];
        let began = now - Duration::from_secs(3000);
        let shut = decide(&config, &open, |p| (p.port() == 2).then_some(began), now);
        assert!(shut.is_empty());
        assert!(config.is_off());
    }
}
