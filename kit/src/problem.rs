//! The one error shape of the JSON API: `application/problem+json` (RFC 9457) with a stable
//! machine-readable `code`.

use rocket::http::{ContentType, Header, Status};
use rocket::response::{self, Responder, Response};
use rocket::Request;
use serde_json::json;
use std::io::Cursor;
use std::sync::Mutex;

/// The realm named in `WWW-Authenticate` challenges (API and `/metrics`): the app's name.
pub fn realm() -> &'static str {
    crate::site::get().name
}

/// `Retry-After` seconds of an answer while the database is unavailable (as long as a request
/// waits for a pooled connection before giving up).
pub const OUTAGE_RETRY_AFTER: u64 = 5;

#[derive(Debug, Clone)]
pub struct Problem {
    pub status: Status,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: Option<String>,
    pub retry_after: Option<u64>,
    pub www_authenticate: Option<String>,
    /// On a server fault: the id that the log line of the fault carries too.
    pub error_id: Option<ErrorId>,
}

impl Problem {
    pub fn new(status: Status, code: &'static str, title: &'static str) -> Problem {
        Problem {
            status,
            code,
            title,
            detail: None,
            retry_after: None,
            www_authenticate: None,
            error_id: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Problem {
        self.detail = Some(detail.into());
        self
    }

    /// The generic problem for a status, when nothing more specific was recorded.
    pub fn from_status(status: Status) -> Problem {
        let (code, title) = match status.code {
            400 => ("bad_request", "Bad request"),
            401 => ("not_authenticated", "Authentication required"),
            403 => ("forbidden", "Forbidden"),
            404 => ("not_found", "Not found"),
            405 => ("method_not_allowed", "Method not allowed"),
            413 => ("payload_too_large", "Request body too large"),
            415 => ("unsupported_media_type", "Request body must be JSON"),
            422 => ("unprocessable_entity", "Invalid request body"),
            429 => ("too_many_requests", "Too many requests"),
            // In this app a 503 without more detail is a database that cannot be reached.
            503 => ("database_unavailable", "The database is unavailable"),
            500..=599 => ("internal_error", "Internal server error"),
            _ => ("error", "Request failed"),
        };
        let mut problem = Problem::new(status, code, title);
        if status == Status::Unauthorized {
            problem.www_authenticate = Some(format!("Bearer realm=\"{}\"", realm()));
        }
        if status == Status::ServiceUnavailable {
            problem.retry_after = Some(OUTAGE_RETRY_AFTER);
        }
        problem
    }

    pub fn not_found() -> Problem {
        Problem::from_status(Status::NotFound)
    }

    pub fn unprocessable(detail: impl Into<String>) -> Problem {
        Problem::new(
            Status::UnprocessableEntity,
            "invalid_input",
            "Invalid input",
        )
        .detail(detail)
    }

    /// The database cannot be reached or refuses connections: the same answer on every route
    /// as from `GET /api/ready`.
    pub fn database_unavailable() -> Problem {
        let mut problem = Problem::new(
            Status::ServiceUnavailable,
            "database_unavailable",
            "The database is unavailable",
        );
        problem.retry_after = Some(OUTAGE_RETRY_AFTER);
        problem
    }

    /// A fault of the server (a bug, not the client's mistake nor an outage): 500 with an opaque
    /// id, logged with the cause, which never reaches the client.
    pub fn internal(cause: impl std::fmt::Display) -> Problem {
        Problem::fault(ErrorId::logged(cause))
    }

    /// The 500 answer of a fault already logged under `id`.
    pub fn fault(id: ErrorId) -> Problem {
        let mut problem = Problem::from_status(Status::InternalServerError);
        problem.error_id = Some(id);
        problem
    }

    /// 401 for a wrong username or password, whatever the reason.
    pub fn invalid_credentials() -> Problem {
        let mut problem = Problem::new(
            Status::Unauthorized,
            "invalid_credentials",
            "Invalid username or password",
        );
        problem.www_authenticate = Some(format!("Bearer realm=\"{}\"", realm()));
        problem
    }

    /// The password hashing queue is full (a login flood): retry in a second.
    pub fn busy() -> Problem {
        let mut problem = Problem::new(
            Status::ServiceUnavailable,
            "busy",
            "Too many logins at once; try again shortly",
        );
        problem.retry_after = Some(1);
        problem
    }

    pub fn throttled(retry_after: u64) -> Problem {
        let mut problem = Problem::new(
            Status::TooManyRequests,
            "throttled",
            "Too many failed logins; try again later",
        );
        problem.retry_after = Some(retry_after);
        problem
    }

    /// Records this problem for the catcher that will answer the request (for guard failures,
    /// which reach catchers with a status only).
    pub fn stash(self, req: &Request<'_>) {
        let slot = req.local_cache(|| Stashed(Mutex::new(None)));
        *slot.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(self);
    }

    /// The stashed problem if it matches `status`, else the generic one.
    pub fn for_catcher(status: Status, req: &Request<'_>) -> Problem {
        let slot = req.local_cache(|| Stashed(Mutex::new(None)));
        let stashed = slot.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        stashed
            .filter(|p| p.status == status)
            .unwrap_or_else(|| Problem::from_status(status))
    }
}

struct Stashed(Mutex<Option<Problem>>);

/// The opaque id of a server fault: in the 500 answer and in the log line of its cause, so that
/// a user's report finds the log line and nothing internal reaches the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorId([u8; 8]);

impl ErrorId {
    /// A new id, logged (as an error) with its cause.
    pub fn logged(cause: impl std::fmt::Display) -> ErrorId {
        let id = ErrorId(crate::token::random_bytes());
        rocket::error!("internal error {id}: {cause}");
        id
    }
}

impl std::fmt::Display for ErrorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// What a database error means for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFault {
    /// The database cannot be reached or is overloaded: 503, worth retrying.
    Outage,
    /// A row the request named is not there: 404.
    Missing,
    /// A unique constraint refused the write: 409.
    Conflict,
    /// Anything else (a wrong query, a type mismatch, a violated check): 500, a bug to fix.
    Bug,
}

impl DbFault {
    pub fn of(e: &sqlx::Error) -> DbFault {
        use sqlx::Error as E;
        match e {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => {
                DbFault::Outage
            }
            E::RowNotFound => DbFault::Missing,
            E::Database(db) if db.is_unique_violation() => DbFault::Conflict,
            E::Database(db) => {
                let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
                match db.code() {
                    Some(code) if is_outage_code(&code, sqlite) => DbFault::Outage,
                    _ => DbFault::Bug,
                }
            }
            _ => DbFault::Bug,
        }
    }
}

/// SQLite's busy, locked, I/O, full and cannot-open results (extended codes keep the primary one
/// in their low byte); PostgreSQL's connection, resource and operator classes (08, 53, 57: e.g.
/// the server shutting down), and the answers of a server refusing a new connection: the
/// database gone (3D000) and the login refused (class 28). (Any error met while getting a
/// connection is an outage whatever its code: see `db::DbPool::acquire`.)
fn is_outage_code(code: &str, sqlite: bool) -> bool {
    match sqlite {
        true => code
            .parse::<u32>()
            .is_ok_and(|code| matches!(code & 0xff, 5 | 6 | 10 | 13 | 14)),
        false => code == "3D000" || ["08", "28", "53", "57"].iter().any(|c| code.starts_with(c)),
    }
}

impl From<sqlx::Error> for Problem {
    fn from(e: sqlx::Error) -> Problem {
        match DbFault::of(&e) {
            DbFault::Outage => {
                // The details go to the log, never to the client.
                rocket::warn!("database unavailable: {e}");
                Problem::database_unavailable()
            }
            DbFault::Missing => Problem::not_found(),
            DbFault::Conflict => Problem::new(
                Status::Conflict,
                "conflict",
                "The request conflicts with existing data",
            ),
            DbFault::Bug => Problem::internal(format_args!("database error: {e}")),
        }
    }
}

impl<'r> Responder<'r, 'static> for Problem {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut body = json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.code,
            "code": self.code,
        });
        if let Some(detail) = &self.detail {
            body["detail"] = json!(detail);
        }
        if let Some(id) = self.error_id {
            body["error_id"] = json!(id.to_string());
        }
        let body = body.to_string();
        let mut response = Response::build();
        response
            .status(self.status)
            .header(ContentType::new("application", "problem+json"))
            .sized_body(body.len(), Cursor::new(body));
        if let Some(secs) = self.retry_after {
            response.header(Header::new("Retry-After", secs.to_string()));
        }
        if let Some(challenge) = self.www_authenticate {
            response.header(Header::new("WWW-Authenticate", challenge));
        }
        response.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_errors_are_told_apart() {
        let status = |e: sqlx::Error| Problem::from(e).status.code;
        assert_eq!(status(sqlx::Error::PoolTimedOut), 503);
        assert_eq!(status(sqlx::Error::PoolClosed), 503);
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(status(sqlx::Error::Io(io)), 503);
        assert_eq!(status(sqlx::Error::RowNotFound), 404);
        // An outage says when to try again.
        assert_eq!(
            Problem::from(sqlx::Error::PoolTimedOut).retry_after,
            Some(OUTAGE_RETRY_AFTER)
        );
        assert_eq!(Problem::from(sqlx::Error::RowNotFound).retry_after, None);
        assert_eq!(status(sqlx::Error::Protocol("unexpected".into())), 500);
        assert_eq!(status(sqlx::Error::ColumnNotFound("x".into())), 500);
    }

    #[test]
    fn outage_codes_are_connection_and_busy_errors() {
        // PostgreSQL: admin shutdown, connection failure, too many connections.
        for code in ["57P01", "08006", "53300"] {
            assert!(is_outage_code(code, false), "{code}");
        }
        // SQLite: SQLITE_BUSY, SQLITE_LOCKED, SQLITE_BUSY_SNAPSHOT (517), SQLITE_IOERR_READ (266).
        for code in ["5", "6", "517", "266"] {
            assert!(is_outage_code(code, true), "{code}");
        }
        // PostgreSQL refusing a connection: the database missing, the password refused.
        for code in ["3D000", "28P01", "28000"] {
            assert!(is_outage_code(code, false), "{code}");
        }
        // PostgreSQL: syntax error, undefined table, unique and check violations; and 55000
        // from a query (a sequence's currval not yet defined), a fault of the query. (The same
        // code while connecting is an outage: `db` says so by where it was met.)
        for code in ["42601", "42P01", "23505", "23514", "55000"] {
            assert!(!is_outage_code(code, false), "{code}");
        }
        // SQLite: SQLITE_ERROR (a wrong query), SQLITE_CONSTRAINT and its extended codes.
        for code in ["1", "19", "2067", "787"] {
            assert!(!is_outage_code(code, true), "{code}");
        }
    }

    #[test]
    fn a_fault_carries_its_id_and_nothing_else() {
        let problem = Problem::internal("secret detail: SELECT * FROM users");
        assert_eq!(problem.status.code, 500);
        let id = problem.error_id.expect("an id").to_string();
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(problem.detail.is_none());
    }
}
