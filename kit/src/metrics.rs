//! Prometheus metrics at `GET /metrics`, when the `[metrics]` table says `enabled = true`
//! (otherwise the path is a 404). With `token` set, a scrape needs `Authorization: Bearer <token>`.
//!
//! Built on the `prometheus` crate with a registry per app (no process-global recorder), so two
//! apps in one process (as in the tests) keep their own counts. No label ever carries a user name,
//! an IP, a token or a session id: routes are labelled by their template (`/api/sessions/<id>`).
//!
//! - `http_requests_total{method, route, status}` and `http_request_duration_seconds{route}`,
//!   counted by a response fairing;
//! - `sessions_started_total{kind}` and `sessions_ended_total{reason}`, from the event bus;
//! - `logins_total{outcome}` (succeeded, failed, throttled: every password check, wherever it
//!   is made), `session_cache_hits_total`, `session_cache_misses_total`,
//!   `session_cache_trusted` (0 while the PostgreSQL listener or the SQLite revocation poller is
//!   down) and `password_hash_queue`, read from the auth machinery at each scrape (nothing on the
//!   request path, and exact: no event can be missed);
//! - the mails queued, sent and given up by kind, and the outbox's length ([`mail`]).

mod mail;

use crate::auth::Auth;
use crate::events::{self, AuthEvent};
use crate::mail::Mailer;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::http::{ContentType, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::response::status::Custom;
use rocket::{Data, Request, Response, State};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The `[metrics]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Whether `GET /metrics` serves the metrics.
    pub enabled: bool,
    /// When set, a scrape must present it as a bearer token.
    pub token: Option<String>,
}

/// Every metric of the app, in its own registry.
pub struct Metrics {
    registry: Registry,
    token: Option<String>,
    requests: IntCounterVec,
    durations: HistogramVec,
    logins: IntCounterVec,
    started: IntCounterVec,
    ended: IntCounterVec,
    cache_hits: IntCounter,
    cache_misses: IntCounter,
    cache_trusted: IntGauge,
    hash_queue: IntGauge,
    mail: mail::MailMetrics,
    /// Held while a scrape brings the counters read from the machinery up to date, so that two
    /// scrapes at once never add the same difference twice.
    catching_up: Mutex<()>,
}

fn counters(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let vec = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid metric");
    registry
        .register(Box::new(vec.clone()))
        .expect("registered once");
    vec
}

impl Metrics {
    fn new(token: Option<String>) -> Metrics {
        let registry = Registry::new();
        let durations = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from a request's arrival to its response, by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["route"],
        )
        .expect("a valid histogram");
        registry
            .register(Box::new(durations.clone()))
            .expect("registered once");
        let single = |name: &str, help: &str| {
            let counter = IntCounter::new(name, help).expect("a valid metric");
            registry
                .register(Box::new(counter.clone()))
                .expect("registered once");
            counter
        };
        let gauge = |name: &str, help: &str| {
            let gauge = IntGauge::new(name, help).expect("a valid metric");
            registry
                .register(Box::new(gauge.clone()))
                .expect("registered once");
            gauge
        };
        Metrics {
            requests: counters(
                &registry,
                "http_requests_total",
                "HTTP requests answered, by method, route template and status",
                &["method", "route", "status"],
            ),
            durations,
            logins: counters(
                &registry,
                "logins_total",
                "Password checks by outcome: succeeded, failed, throttled",
                &["outcome"],
            ),
            started: counters(
                &registry,
                "sessions_started_total",
                "Sessions opened, by kind (api, browser, token)",
                &["kind"],
            ),
            ended: counters(
                &registry,
                "sessions_ended_total",
                "Sessions ended, by reason",
                &["reason"],
            ),
            cache_hits: single(
                "session_cache_hits_total",
                "Validations answered from the in-process cache",
            ),
            cache_misses: single(
                "session_cache_misses_total",
                "Validations that read the database",
            ),
            cache_trusted: gauge(
                "session_cache_trusted",
                "1 while this instance trusts its cache (revocations from elsewhere reach it)",
            ),
            hash_queue: gauge(
                "password_hash_queue",
                "Password hashing jobs queued or running",
            ),
            mail: mail::MailMetrics::new(&registry),
            catching_up: Mutex::new(()),
            registry,
            token,
        }
    }

    /// Counts what an event says about sessions.
    fn observe(&self, event: &AuthEvent) {
        let ended = |reason: &str, n: usize| {
            self.ended.with_label_values(&[reason]).inc_by(n as u64);
        };
        match event {
            AuthEvent::LoginSucceeded { kind, .. } => {
                self.started.with_label_values(&[kind.as_str()]).inc();
            }
            AuthEvent::TokenCreated { .. } => self.started.with_label_values(&["token"]).inc(),
            AuthEvent::LoggedOut {
                all,
                sessions_ended,
                ..
            } => ended(if *all { "logout_all" } else { "logout" }, *sessions_ended),
            AuthEvent::SessionRevoked {
                reason,
                sessions_ended,
                ..
            } => ended(reason.as_str(), *sessions_ended),
            AuthEvent::PasswordChanged { sessions_ended, .. } => {
                ended("password_changed", *sessions_ended)
            }
            AuthEvent::PasswordReset { sessions_ended, .. } => {
                ended("password_reset", *sessions_ended)
            }
            _ => {}
        }
    }

    /// The text exposition, with the auth machinery's figures read now.
    fn render(&self, auth: &Auth, mailer: Option<&Mailer>) -> String {
        let caught_up = self.catching_up.lock().unwrap_or_else(|e| e.into_inner());
        let (hits, misses) = auth.cache_stats();
        // Counters only go up: add what happened since the last scrape.
        let catch_up = |counter: &IntCounter, total: u64| {
            counter.inc_by(total.saturating_sub(counter.get()));
        };
        catch_up(&self.cache_hits, hits);
        catch_up(&self.cache_misses, misses);
        let checks = auth.password_checks();
        for (outcome, total) in [
            ("succeeded", checks.succeeded),
            ("failed", checks.failed),
            ("throttled", checks.throttled),
        ] {
            catch_up(&self.logins.with_label_values(&[outcome]), total);
        }
        if let Some(mailer) = mailer {
            self.mail.catch_up(mailer);
        }
        drop(caught_up);
        self.cache_trusted.set(i64::from(auth.cache_is_trusted()));
        self.hash_queue.set(auth.hasher.queue_len() as i64);
        let mut text = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut text);
        String::from_utf8(text).unwrap_or_default()
    }

    /// Whether a scrape may read the metrics.
    fn admits(&self, authorization: Option<&str>) -> bool {
        use subtle::ConstantTimeEq;
        let Some(token) = &self.token else {
            return true;
        };
        let presented = authorization
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, presented)| presented.trim())
            .unwrap_or("");
        presented.len() == token.len() && bool::from(presented.as_bytes().ct_eq(token.as_bytes()))
    }
}

/// When the request arrived (request-local).
struct Arrived(Instant);

/// Counts every answered request, by its route template (never its path, which holds ids).
struct RequestMetrics;

#[rocket::async_trait]
impl Fairing for RequestMetrics {
    fn info(&self) -> Info {
        Info {
            name: "Request metrics",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(|| Arrived(Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let Some(metrics) = req.rocket().state::<Arc<Metrics>>() else {
            return;
        };
        let route = req.route().map_or("unmatched", |route| route.uri.as_str());
        let status = res.status().code.to_string();
        metrics
            .requests
            .with_label_values(&[req.method().as_str(), route, &status])
            .inc();
        let elapsed = req.local_cache(|| Arrived(Instant::now())).0.elapsed();
        metrics
            .durations
            .with_label_values(&[route])
            .observe(elapsed.as_secs_f64());
    }
}

/// A scrape's answer.
#[derive(rocket::Responder)]
enum Scrape {
    Metrics(String, ContentType),
    Refused(Custom<&'static str>, rocket::http::Header<'static>),
}

/// The request's `Authorization` header, if any.
struct Authorization(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Authorization {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let value = req.headers().get_one("Authorization").map(str::to_string);
        Outcome::Success(Authorization(value))
    }
}

#[get("/metrics")]
fn scrape(
    metrics: &State<Arc<Metrics>>,
    auth: &State<Auth>,
    mailer: Option<&State<Mailer>>,
    presented: Authorization,
) -> Scrape {
    if !metrics.admits(presented.0.as_deref()) {
        let challenge = format!("Bearer realm=\"{}\"", crate::site::get().name);
        return Scrape::Refused(
            Custom(Status::Unauthorized, "a scrape needs the metrics token\n"),
            rocket::http::Header::new("WWW-Authenticate", challenge),
        );
    }
    let text_format = ContentType::new("text", "plain").with_params([("version", "0.0.4")]);
    Scrape::Metrics(metrics.render(auth, mailer.map(|m| m.inner())), text_format)
}

/// Reads `[metrics]`; when enabled, manages the registry, counts requests and events, and
/// mounts `GET /metrics`. Attach it after the auth stage.
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("Metrics", |rocket| async {
        let config: MetricsConfig = match rocket.figment().extract_inner("metrics") {
            Ok(config) => config,
            Err(e) if e.missing() => MetricsConfig::default(),
            Err(e) => {
                rocket::error!("invalid [metrics] configuration: {e}");
                return Err(rocket);
            }
        };
        if !config.enabled {
            return Ok(rocket);
        }
        if config.token.as_deref().is_some_and(|t| t.trim().is_empty()) {
            rocket::error!("invalid [metrics] configuration: token must not be empty");
            return Err(rocket);
        }
        let metrics = Arc::new(Metrics::new(config.token));
        let observed = metrics.clone();
        Ok(rocket
            .manage(metrics)
            .attach(RequestMetrics)
            .attach(events::subscriber("metrics", move |event| {
                observed.observe(event)
            }))
            .mount("/", routes![scrape]))
    })
}
