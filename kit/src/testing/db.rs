//! A database that exists for one test: a SQLite file in a temporary folder, or with
//! `TEST_DATABASE_URL` set, a PostgreSQL database of a random name, dropped afterwards.

use crate::clock::Clock;

/// A database that exists for one test.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another instance's database, dropped by its owner.
    Shared {
        postgres: bool,
    },
}

impl TestDb {
    pub async fn new() -> (TestDb, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("mt_test_{}", hex(&crate::token::random_bytes::<8>()));
                let mut conn = pg_admin(&admin_url).await;
                sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create the test database");
                let url = replace_db_name(&admin_url, &name);
                (TestDb::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/test.sqlite3", dir.path().display());
                (TestDb::Sqlite(dir), url)
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(
            self,
            TestDb::Postgres { .. } | TestDb::Shared { postgres: true }
        )
    }
}

pub(crate) async fn pg_admin(url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .expect("TEST_DATABASE_URL must point at a reachable PostgreSQL server")
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..cut])
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime; a thread with its own runtime can block.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    let mut conn = pg_admin(&admin_url).await;
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::Executor::execute(&mut conn, sql.as_str()).await;
                });
            })
            .join();
        }
    }
}

/// A manual clock at the real time.
pub(crate) fn real_now() -> Clock {
    Clock::manual(Clock::system().now())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
