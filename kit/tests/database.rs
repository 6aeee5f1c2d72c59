//! The database layer: SQLite settings that matter, and the two migration sets kept in step.

mod common;
use common::*;
use std::collections::BTreeMap;

#[rocket::async_test]
async fn sqlite_connections_use_wal_and_foreign_keys() {
    let app = TestApp::new(build).await;
    if app.db.is_postgres() {
        return; // SQLite pragmas only.
    }
    let pool = &**app.auth().db();
    // Several connections at once, so more than one pooled connection is checked.
    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push(pool.acquire().await.unwrap());
    }
    for conn in conns.iter_mut() {
        let pragma = |name: &'static str| format!("PRAGMA {name}");
        let (mode,): (String,) = sqlx::query_as(&pragma("journal_mode"))
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        for (name, expected) in [
            ("synchronous", 1),
            ("foreign_keys", 1),
            ("busy_timeout", 5000),
        ] {
            let (value,): (i64,) = sqlx::query_as(&pragma(name))
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            assert_eq!(value, expected, "PRAGMA {name}");
        }
    }
}

/// Table → column names, read from a migrations folder's CREATE TABLE statements.
#[rocket::async_test]
async fn the_sqlite_revocation_log_is_pruned_in_small_steps_without_a_sweep() {
    let app = TestApp::with(build, serde_json::json!({"sweep_interval": 0})).await;
    if app.db.is_postgres() {
        return; // PostgreSQL notifies; it keeps no log.
    }
    let token = app.user_token("alice").await;
    assert_eq!(
        app.post("/api/auth/logout", Some(&token), serde_json::json!({}))
            .await
            .status
            .code,
        204
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM revocation_log").await, 1);
    // Past twice a cache entry's lifetime no cache can hold the token: the poller deletes it.
    app.advance(2 * session_kit::auth::ENTRY_TTL.as_secs() as i64 + 1);
    let started = std::time::Instant::now();
    while app.count("SELECT COUNT(*) FROM revocation_log").await > 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the revocation log is still not pruned after 10 s"
        );
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn schema(folder: &str) -> BTreeMap<String, Vec<String>> {
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files {
        let sql = std::fs::read_to_string(file).unwrap();
        let sql: String = sql
            .lines()
            .map(|l| l.split("--").next().unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        for stmt in sql.split(';') {
            let words: Vec<&str> = stmt.split_whitespace().collect();
            if let ["ALTER", "TABLE", table, "ADD", "COLUMN", column, ..] = words[..] {
                tables
                    .get_mut(table)
                    .unwrap_or_else(|| panic!("ALTER TABLE of unknown {table}"))
                    .push(column.to_string());
                continue;
            }
            if let ["ALTER", "TABLE", table, "RENAME", "TO", new_name] = words[..] {
                let columns = tables.remove(table).expect("RENAME of an unknown table");
                tables.insert(new_name.to_string(), columns);
                continue;
            }
            if let ["DROP", "TABLE", table] = words[..] {
                tables.remove(table);
                continue;
            }
            let Some(rest) = stmt.trim().strip_prefix("CREATE TABLE ") else {
                continue;
            };
            let (name, body) = rest.split_once('(').unwrap();
            let columns = body
                .split(",\n")
                .filter_map(|line| line.split_whitespace().next())
                .map(str::to_string)
                .collect();
            tables.insert(name.trim().to_string(), columns);
        }
    }
    tables
}

#[test]
fn sqlite_and_postgres_migrations_define_the_same_tables_and_columns() {
    let sqlite = schema("migrations/sqlite");
    let postgres = schema("migrations/postgres");
    assert!(sqlite.contains_key("sessions") && sqlite.contains_key("users"));
    assert!(sqlite["login_failures"].contains(&"attempt".to_string()));
    assert_eq!(sqlite, postgres);
    let sqlite_files: Vec<_> = std::fs::read_dir("migrations/sqlite")
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    for name in sqlite_files {
        assert!(
            std::path::Path::new("migrations/postgres")
                .join(&name)
                .exists(),
            "{name:?} has no PostgreSQL twin"
        );
    }
}

#[rocket::async_test]
async fn the_app_refuses_an_unknown_database_scheme() {
    let figment = rocket::Config::figment()
        .merge(("databases.db.url", "mysql://localhost/x"))
        .merge(("log_level", "off"));
    let client = rocket::local::asynchronous::Client::tracked(build(figment)).await;
    // Rocket's launch error must be inspected, or it panics on drop.
    let Err(error) = client else {
        panic!("ignition should fail")
    };
    assert!(matches!(
        error.kind(),
        rocket::error::ErrorKind::FailedFairings(_)
    ));
}
