//! The app's migrations beside the kit's: recorded in `_app_migrations`, numbered on their own,
//! checked against their files, adopted from a database of the older layout (the app's tables
//! among the kit's), applied once when instances start together. The app here is a test's own
//! set (a `widgets` table), the same SQL for both backends.

mod common;
use common::*;
use session_kit::db::{Backend, DbPool};
use session_kit::migrations::AppMigrations;
use sqlx::migrate::{Migration, MigrationType};

const WIDGETS: &str = "CREATE TABLE widgets (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO widgets (id, name) VALUES (1, 'first');";

fn migration(version: i64, description: &'static str, sql: &'static str) -> Migration {
    Migration::new(
        version,
        description.into(),
        MigrationType::Simple,
        sql.into(),
        false,
    )
}

/// An app whose migration 0001 creates `widgets` (and the kit has a 0001 of its own).
fn widgets(sql: &'static str) -> AppMigrations {
    let list = vec![migration(1, "widgets", sql)];
    AppMigrations::new(list.clone(), list)
}

async fn count(db: &DbPool, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&**db).await.expect(sql);
    n
}

async fn applied(db: &DbPool) -> Vec<(i64, String, String, i64)> {
    sqlx::query_as("SELECT version, description, checksum, applied_at FROM _app_migrations")
        .fetch_all(&**db)
        .await
        .unwrap()
}

async fn fresh() -> (TestDb, DbPool) {
    let (test_db, url) = TestDb::new().await;
    let db = DbPool::connect(&url, 4).await.unwrap();
    (test_db, db)
}

fn folder(db: &DbPool) -> &'static str {
    match db.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

#[rocket::async_test]
async fn an_app_migration_numbered_as_a_kit_one_runs_and_a_second_start_changes_nothing() {
    let (_test_db, db) = fresh().await;
    db.migrate(&widgets(WIDGETS)).await.unwrap();
    // The kit's 0001 and the app's 0001, each in its own table.
    let kit_first =
        "SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 1 AND description = 'init'";
    assert_eq!(count(&db, kit_first).await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM widgets").await, 1);
    let first = applied(&db).await;
    assert_eq!(first.len(), 1);
    let (version, description, checksum, _) = &first[0];
    assert_eq!((*version, description.as_str()), (1, "widgets"));
    assert_eq!(checksum, &session_kit::migrations::checksum(WIDGETS));
    assert_eq!(checksum.len(), 64, "SHA-256, in hex");

    db.migrate(&widgets(WIDGETS)).await.unwrap();
    assert_eq!(applied(&db).await, first);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM widgets").await, 1);
}

#[rocket::async_test]
async fn an_applied_migration_whose_file_changed_is_refused_by_its_name() {
    let (_test_db, db) = fresh().await;
    db.migrate(&widgets(WIDGETS)).await.unwrap();
    let changed = "CREATE TABLE widgets (id BIGINT PRIMARY KEY, label TEXT NOT NULL);";
    let error = db.migrate(&widgets(changed)).await.unwrap_err().to_string();
    let file = format!("migrations/{}/0001_widgets.sql", folder(&db));
    assert!(error.contains(&file), "{error}");
    assert!(error.contains("changed after it was applied"), "{error}");
    // Nothing was run or recorded.
    assert_eq!(applied(&db).await.len(), 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM widgets").await, 1);
}

#[rocket::async_test]
async fn a_migration_applied_among_the_kits_by_the_older_layout_is_adopted() {
    let (_test_db, db) = fresh().await;
    db.migrate(&AppMigrations::default()).await.unwrap();
    // The older layout: the app's table was the kit's migration 0003, recorded by sqlx.
    let old = migration(3, "widgets", WIDGETS);
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 3")
        .execute(&*db)
        .await
        .unwrap();
    sqlx::raw_sql("CREATE TABLE widgets (id BIGINT PRIMARY KEY, name TEXT NOT NULL)")
        .execute(&*db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, $2, $3, $4, 0)",
    )
    .bind(old.version)
    .bind(old.description.as_ref())
    .bind(true)
    .bind(old.checksum.to_vec())
    .execute(&*db)
    .await
    .unwrap();

    // The kit no longer has a 0003: it starts all the same, and the app's 0001 is recorded
    // without running (its INSERT would add a row, its CREATE TABLE would fail).
    db.migrate(&widgets(WIDGETS)).await.unwrap();
    assert_eq!(applied(&db).await.len(), 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM widgets").await, 0);
    db.migrate(&widgets(WIDGETS)).await.unwrap();

    // Another migration of the same name is not the one applied: it runs.
    let (_other_db, other) = fresh().await;
    other.migrate(&AppMigrations::default()).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (3, 'widgets', $1, $2, 0)",
    )
    .bind(true)
    .bind(vec![0u8; 48])
    .execute(&*other)
    .await
    .unwrap();
    other.migrate(&widgets(WIDGETS)).await.unwrap();
    assert_eq!(count(&other, "SELECT COUNT(*) FROM widgets").await, 1);
}

#[rocket::async_test]
async fn an_app_migration_identical_to_one_the_kit_ships_is_never_taken_as_applied() {
    let (_test_db, db) = fresh().await;
    // The kit's own 0002 (its name and its SQL, so its sqlx checksum too), as the app's 0001.
    let path = format!(
        "{}/migrations/{}/0002_login_attempts.sql",
        env!("CARGO_MANIFEST_DIR"),
        folder(&db)
    );
    let sql: &'static str = std::fs::read_to_string(&path).unwrap().leak();
    let copy = vec![migration(1, "login attempts", sql)];
    let error = db
        .migrate(&AppMigrations::new(copy.clone(), copy))
        .await
        .expect_err("the copy runs, and its CREATE TABLE meets the kit's table");
    let error = error.to_string();
    assert!(error.contains("0001_login_attempts.sql failed"), "{error}");
    assert!(applied(&db).await.is_empty(), "nothing recorded");
}

#[rocket::async_test]
async fn a_migration_recorded_but_gone_from_the_files_is_left_alone() {
    let (_test_db, db) = fresh().await;
    db.migrate(&widgets(WIDGETS)).await.unwrap();
    db.migrate(&AppMigrations::default()).await.unwrap();
    assert_eq!(applied(&db).await.len(), 1);
}

#[rocket::async_test]
async fn instances_that_start_together_apply_each_migration_once() {
    let (test_db, url) = TestDb::new().await;
    if !test_db.is_postgres() {
        return; // The advisory lock is PostgreSQL's; SQLite has a single writer.
    }
    let second = "CREATE TABLE gadgets (id BIGINT PRIMARY KEY);
INSERT INTO gadgets (id) VALUES (1);";
    let list = vec![
        migration(1, "widgets", WIDGETS),
        migration(2, "gadgets", second),
    ];
    let set = AppMigrations::new(list.clone(), list);
    let mut pools = Vec::new();
    for _ in 0..4 {
        pools.push(DbPool::connect(&url, 2).await.unwrap());
    }
    let starts: Vec<_> = pools
        .iter()
        .map(|db| {
            let (db, set) = (db.clone(), set.clone());
            rocket::tokio::spawn(async move { db.migrate(&set).await.map_err(|e| e.to_string()) })
        })
        .collect();
    for start in starts {
        start.await.unwrap().unwrap();
    }
    let db = &pools[0];
    assert_eq!(applied(db).await.len(), 2);
    assert_eq!(count(db, "SELECT COUNT(*) FROM widgets").await, 1);
    assert_eq!(count(db, "SELECT COUNT(*) FROM gadgets").await, 1);
    for db in pools {
        db.close().await;
    }
}
