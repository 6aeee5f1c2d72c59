//! The database pool, for SQLite (the default) or PostgreSQL (a `postgres://` URL).
//!
//! rocket_db_pools 0.2's own sqlx integration pins sqlx 0.7 and leaves SQLite out of WAL mode, so
//! this module implements its public `Pool` trait for a sqlx 0.8 `AnyPool`: handlers still take
//! `Connection<Db>`, and the same `$1`-style SQL runs on both backends.

use crate::migrations::AppMigrations;
pub use crate::store::lock_key;
use rocket::fairing::{self, AdHoc};
use rocket::figment::Figment;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;

/// The kit's migrations (kit/migrations/<backend>/, recorded in `_sqlx_migrations`). They ignore
/// a version applied in the database that they no longer have: the notes example was the kit's
/// migration 0003 before it became the app's own (migrations/<backend>/0001_notes.sql, recorded
/// in `_app_migrations`), so a database created before has version 3 applied, and sqlx would
/// otherwise refuse to start on it.
static SQLITE_MIGRATIONS: LazyLock<Migrator> =
    LazyLock::new(|| ignore_missing(sqlx::migrate!("migrations/sqlite")));
static POSTGRES_MIGRATIONS: LazyLock<Migrator> =
    LazyLock::new(|| ignore_missing(sqlx::migrate!("migrations/postgres")));

fn ignore_missing(mut migrator: Migrator) -> Migrator {
    migrator.set_ignore_missing(true);
    migrator
}

/// Which server is behind the pool; chosen by the URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// The application's database, as a request guard (`Connection<Db>`) and as managed state.
#[derive(Database)]
#[database("db")]
pub struct Db(DbPool);

/// A sqlx 0.8 pool that knows its backend.
#[derive(Clone)]
pub struct DbPool {
    pool: AnyPool,
    backend: Backend,
    /// Kept for connections outside the pool (the PostgreSQL listener). Never logged.
    url: String,
}

impl DbPool {
    /// Opens a pool for `url`, creating a SQLite file (and its folder) when missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<DbPool, DbError> {
        let backend = Backend::of_url(url).ok_or(DbError::UnsupportedUrl)?;
        sqlx::any::install_default_drivers();
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5));
        if backend == Backend::Sqlite {
            ensure_sqlite_folder(url)?;
            // Not expressible in a SQLite URL; set on every new connection and tested.
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(crate::store::SQLITE_PRAGMAS).await?;
                    Ok(())
                })
            });
        }
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let connect = AnyConnectOptions::from_str(&url).map_err(DbError::Sqlx)?;
        let pool = options.connect_with(connect).await.map_err(DbError::Sqlx)?;
        Ok(DbPool { pool, backend, url })
    }

    /// Brings the schema up to date: the kit's migrations, then the app's (see
    /// [`crate::migrations`]).
    pub async fn migrate(&self, app: &AppMigrations) -> Result<(), DbError> {
        let migrator: &Migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| DbError::Sqlx(e.into()))?;
        let mut conn = self.pool.acquire().await.map_err(DbError::Sqlx)?;
        let (folder, list) = match self.backend {
            Backend::Sqlite => ("migrations/sqlite", app.sqlite()),
            Backend::Postgres => ("migrations/postgres", app.postgres()),
        };
        crate::migrations::run(&mut conn, migrator, folder, list)
            .await
            .map_err(DbError::Migration)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL the pool connects to (it may hold a password: never log it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connection from the pool. Any failure to get one is an outage (see [`connection_failed`]).
    pub async fn acquire(&self) -> sqlx::Result<PoolConnection<Any>> {
        self.pool.acquire().await.map_err(connection_failed)
    }

    /// A transaction on a connection from the pool. Any failure is an outage: the connection
    /// could not be had, or it failed at its first statement (`BEGIN`), which only a broken
    /// connection does.
    pub async fn begin(&self) -> sqlx::Result<Transaction<'static, Any>> {
        self.pool.begin().await.map_err(connection_failed)
    }
}

/// An error met while getting a connection, as the I/O failure it is for the request: the
/// server refused the connection (not accepting connections, SQLSTATE 55000; the database gone,
/// 3D000; the password refused, 28P01), or could not be reached at all. Such an answer carries a
/// database error code that, from an open connection, would be a fault of the query; where it
/// was raised tells them apart. The cause stays inside, for the log.
fn connection_failed(e: sqlx::Error) -> sqlx::Error {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => e,
        other => sqlx::Error::Io(std::io::Error::other(other)),
    }
}

impl Deref for DbPool {
    type Target = AnyPool;
    fn deref(&self) -> &AnyPool {
        &self.pool
    }
}

fn ensure_sqlite_folder(url: &str) -> Result<(), DbError> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|e| DbError::Folder(e.to_string()))
        }
        _ => Ok(()),
    }
}

#[rocket::async_trait]
impl rocket_db_pools::Pool for DbPool {
    type Connection = PoolConnection<Any>;
    type Error = DbError;

    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        let config: rocket_db_pools::Config = figment
            .extract()
            .map_err(|e| DbError::Config(e.to_string()))?;
        DbPool::connect(&config.url, config.max_connections as u32).await
    }

    async fn get(&self) -> Result<Self::Connection, Self::Error> {
        self.acquire().await.map_err(DbError::Sqlx)
    }

    async fn close(&self) {
        // rocket_db_pools calls this from its shutdown fairing, which runs before the auth
        // fairing's final flush of last-used times; the auth fairing closes the pool after it.
    }
}

/// Why the pool could not start or hand out a connection.
#[derive(Debug)]
pub enum DbError {
    Config(String),
    UnsupportedUrl,
    Folder(String),
    Sqlx(sqlx::Error),
    /// An app migration failed or was refused; the message names its file.
    Migration(String),
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::Config(e) => write!(f, "invalid databases.db configuration: {e}"),
            DbError::UnsupportedUrl => {
                f.write_str("databases.db.url must start with sqlite: or postgres://")
            }
            DbError::Folder(e) => write!(f, "cannot create the SQLite folder: {e}"),
            DbError::Sqlx(e) => write!(f, "database error: {e}"),
            DbError::Migration(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for DbError {}

async fn run_migrations(rocket: Rocket<Build>, app: AppMigrations) -> fairing::Result {
    let Some(db) = Db::fetch(&rocket) else {
        return Err(rocket);
    };
    match db.migrate(&app).await {
        Ok(()) => Ok(rocket),
        Err(e) => {
            rocket::error!("migrations failed: {e}");
            Err(rocket)
        }
    }
}

/// Opens the pool and migrates the schema at ignition: the kit's tables, then the app's.
pub fn stage(app: AppMigrations) -> AdHoc {
    AdHoc::on_ignite("Database", |rocket| async {
        rocket
            .attach(Db::init())
            .attach(AdHoc::try_on_ignite("Database migrations", |rocket| {
                run_migrations(rocket, app)
            }))
    })
}

#[cfg(test)]
mod tests {
    use super::connection_failed;
    use crate::problem::{DbFault, Problem};

    #[test]
    fn any_error_met_while_getting_a_connection_is_an_outage() {
        for e in [
            sqlx::Error::Protocol("the server answered nonsense".into()),
            sqlx::Error::Configuration("bad URL".into()),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
        ] {
            let e = connection_failed(e);
            assert_eq!(DbFault::of(&e), DbFault::Outage, "{e}");
            let problem = Problem::from(e);
            assert_eq!(
                (problem.status.code, problem.code),
                (503, "database_unavailable")
            );
            assert!(problem.retry_after.is_some());
        }
        // The cause is kept, for the log.
        let e = connection_failed(sqlx::Error::Protocol("the server answered nonsense".into()));
        assert!(
            e.to_string().contains("the server answered nonsense"),
            "{e}"
        );
        // The same error from an open connection stays a fault of the query.
        let fault = sqlx::Error::Protocol("the server answered nonsense".into());
        assert_eq!(DbFault::of(&fault), DbFault::Bug);
    }
}
