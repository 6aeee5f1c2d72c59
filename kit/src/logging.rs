//! The log: one line per request, never a query value or anything shaped like a secret.
//!
//! Rocket's own logger prints each request's URI whole (`GET /x?access_token=…`) in several
//! lines, and at every level in some of them ("No matching routes for …"), so a client could put
//! a token into the log, or fill it for free. This logger takes Rocket's place:
//!
//! - Rocket's per-request lines are dropped (kept at `log_level = "debug"`, but for its dump of
//!   the raw request, which holds the `Authorization` and `Cookie` headers); a request is logged
//!   once, by [`stage`], at `info` (shown at `normal`, hidden at `critical`, the release default):
//!   `GET /api/sessions?state=… 200 (1.2 ms)`, with query names and never their values.
//! - Every line that is printed is cleaned first ([`redact`]): query values elided, and any run
//!   of 32 or more token characters (a token, a hash) replaced by `[redacted]`.
//! - Everything else (the launch banner, warnings, errors with their ids) reads as Rocket's.

use log::{Level, LevelFilter, Log, Metadata, Record};
use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Build, Data, Request, Response, Rocket};
use std::io::Write;
use std::time::Instant;

/// Makes this the process's logger (a second call does nothing), at `level` until the app's
/// configuration is read at ignite. Call before `rocket::custom`, which would install Rocket's.
pub fn install(level: rocket::config::LogLevel) {
    if log::set_boxed_logger(Box::new(AppLogger)).is_ok() {
        log::set_max_level(filter(level));
    }
}

/// Sets the configured level at ignite, and logs one line per request.
pub fn stage() -> RequestLog {
    RequestLog
}

fn filter(level: rocket::config::LogLevel) -> LevelFilter {
    use rocket::config::LogLevel;
    match level {
        LogLevel::Critical => LevelFilter::Warn,
        LogLevel::Normal => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Trace,
        LogLevel::Off => LevelFilter::Off,
    }
}

struct AppLogger;

/// What becomes of a record.
#[derive(Debug, PartialEq)]
enum Fate {
    Drop,
    Print(Level),
}

impl Log for AppLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        log::max_level() != LevelFilter::Off
            && (metadata.level() <= log::max_level() || is_launch(metadata.target()))
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        let level = match fate(record.target(), record.level(), &message, log::max_level()) {
            Fate::Drop => return,
            // Rocket logs "Rocket has launched" as a warning so that it shows at every level.
            Fate::Print(_) if is_launch(record.target()) => Level::Info,
            Fate::Print(level) => level,
        };
        if level > log::max_level() && !is_launch(record.target()) {
            return;
        }
        let text = redact(&message);
        let line = match (level, record.target().ends_with("::_")) {
            (_, true) => format!("   >> {text}"),
            (Level::Error, false) => format!("Error: {text}"),
            (Level::Warn, false) => format!("Warning: {text}"),
            _ => text,
        };
        #[cfg(feature = "testing")]
        printed::keep(&line);
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }

    fn flush(&self) {
        let _ = std::io::stdout().flush();
    }
}

/// Every line this process has printed, for tests of what reaches the log (with the `testing`
/// feature): `session_kit::logging::printed::lines()`.
#[cfg(feature = "testing")]
pub mod printed {
    use std::sync::Mutex;

    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

    pub(super) fn keep(line: &str) {
        LINES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line.to_string());
    }

    /// The lines printed so far, in order.
    pub fn lines() -> Vec<String> {
        LINES.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Rocket's launch banner: shown at every level but `off`, as Rocket does.
fn is_launch(target: &str) -> bool {
    target.starts_with("rocket::launch")
}

/// Whether (and at which level) a record is printed. Rocket's request handling logs each
/// request in several lines, its URI whole: those are debug-level detail here, as are the
/// indented warnings that Rocket's generated handler code logs from the app's own modules ("Request
/// guard failed"); a handler's panic or a catcher's failure stays an error.
fn fate(target: &str, level: Level, message: &str, max: LevelFilter) -> Fate {
    let rocket_request = [
        "rocket::server",
        "rocket::data",
        "rocket::request",
        "rocket::response",
    ]
    .iter()
    .any(|t| target.starts_with(t));
    let dependency_noise = ["hyper", "rustls", "sqlx::query"]
        .iter()
        .any(|t| target.starts_with(t));
    if message.starts_with("received request:") || message.starts_with("No matching routes") {
        return Fate::Drop;
    }
    if message.starts_with("Bad incoming HTTP request") {
        return Fate::Print(Level::Info);
    }
    let detail = (rocket_request && level != Level::Error)
        || (!target.starts_with("rocket") && target.ends_with("::_") && level == Level::Warn)
        || dependency_noise;
    if detail && max < LevelFilter::Debug {
        return Fate::Drop;
    }
    Fate::Print(level)
}

/// `text` with every query value elided (`/p?a=1&b` → `/p?a=…&b`) and every run of 32 or more
/// token characters (letters, digits, `_`, `-`) replaced by `[redacted]`.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match word.split_once('?') {
            Some((path, query)) if path.starts_with('/') => {
                out.push_str(path);
                out.push('?');
                out.push_str(&query_names(query));
            }
            _ => out.push_str(word),
        }
    }
    redact_long_runs(&out)
}

/// A query with its values elided, its names kept (a trailing `.` or `:` of the log line too).
fn query_names(query: &str) -> String {
    let tail = query.len() - query.trim_end_matches(['.', ':']).len();
    let (query, tail) = query.split_at(query.len() - tail);
    let names: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) => format!("{}=…", redact_long_runs(name)),
            None => redact_long_runs(pair),
        })
        .collect();
    names.join("&") + tail
}

fn redact_long_runs(text: &str) -> String {
    const LONGEST: usize = 31;
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if is_token_char(c) {
            run.push(c);
            continue;
        }
        if run.len() > LONGEST {
            out.push_str("[redacted]");
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// The fairing of [`stage`].
pub struct RequestLog;

/// When this request arrived.
struct Arrived(Instant);

#[rocket::async_trait]
impl Fairing for RequestLog {
    fn info(&self) -> Info {
        Info {
            name: "Request log",
            kind: Kind::Ignite | Kind::Request | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> rocket::fairing::Result {
        if let Ok(level) = rocket.figment().extract_inner("log_level") {
            log::set_max_level(filter(level));
        }
        Ok(rocket)
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        // At `critical` (the release default) requests are not logged: nothing to time.
        if log::log_enabled!(Level::Info) {
            req.local_cache(|| Arrived(Instant::now()));
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if !log::log_enabled!(Level::Info) {
            return;
        }
        let took = req.local_cache(|| Arrived(Instant::now())).0.elapsed();
        let uri = req.uri();
        let query = uri.query().map(|q| q.as_str()).unwrap_or_default();
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query_names(query))
        };
        log::info!(
            "{} {}{} {} ({:.1} ms)",
            req.method(),
            uri.path(),
            query,
            res.status().code,
            took.as_secs_f64() * 1000.0
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_never_survive() {
        assert_eq!(
            redact("No matching routes for GET /api/widgets/x/y?access_token=mt_abc&b."),
            "No matching routes for GET /api/widgets/x/y?access_token=…&b."
        );
        assert_eq!(redact("GET /api/me?x=1:"), "GET /api/me?x=…:");
        assert_eq!(redact("what? no"), "what? no");
    }

    #[test]
    fn long_token_like_runs_are_redacted() {
        let token = format!("mt_{}", "A".repeat(43));
        assert_eq!(redact(&format!("bad {token}, x")), "bad [redacted], x");
        assert_eq!(
            redact("internal error 0123456789abcdef: boom"),
            "internal error 0123456789abcdef: boom"
        );
    }

    #[test]
    fn request_chatter_is_debug_detail() {
        let normal = LevelFilter::Info;
        let line = "GET /api/nope:";
        assert_eq!(
            fate("rocket::server", Level::Info, line, normal),
            Fate::Drop
        );
        let catcher = "Responding with registered (problem_catcher) /api default catcher.";
        assert_eq!(
            fate("rocket::server::_", Level::Warn, catcher, normal),
            Fate::Drop
        );
        let unmatched = "No matching routes for GET /api/nope.";
        assert_eq!(
            fate(
                "rocket::server::_",
                Level::Error,
                unmatched,
                LevelFilter::Trace
            ),
            Fate::Drop
        );
        let guard = "Request guard `Scoped` failed: Missing.";
        assert_eq!(
            fate("session_kit::api::_", Level::Warn, guard, normal),
            Fate::Drop
        );
        assert_eq!(
            fate(
                "session_kit::api::_",
                Level::Warn,
                guard,
                LevelFilter::Debug
            ),
            Fate::Print(Level::Warn)
        );
        let panic = "Handler me panicked.";
        assert_eq!(
            fate("rocket::server::_", Level::Error, panic, normal),
            Fate::Print(Level::Error)
        );
        let ours = "database unavailable";
        assert_eq!(
            fate("session_kit::problem", Level::Warn, ours, normal),
            Fate::Print(Level::Warn)
        );
    }
}
