//! The database layer: SQLite settings that matter, and the kit's two migration sets kept in step.

mod common;
use common::*;

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

#[test]
fn the_kits_sqlite_and_postgres_migrations_define_the_same_tables_and_columns() {
    let tables = same_tables("migrations/sqlite", "migrations/postgres");
    assert!(tables.contains_key("sessions") && tables.contains_key("users"));
    assert!(tables["login_failures"].contains(&"attempt".to_string()));
    // The app's tables migrate from the app's folders.
    assert!(!tables.contains_key("notes"));
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
