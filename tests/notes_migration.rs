//! The example's table, migrated as the app's (migrations/<backend>/0001_notes.sql, recorded in
//! `_app_migrations`), on a fresh database and on one of the older layout, where it was the
//! kit's migration 0003 (tests/fixtures/old_layout/).

use session_kit::prelude::*;
use session_kit::testing::TestDb;
use sqlx::migrate::Migrator;
use std::path::Path;

fn backend(db: &TestDb) -> &'static str {
    if db.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    }
}

async fn recorded(app: &TestApp) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT version, description FROM _app_migrations")
        .fetch_all(&**app.auth().db())
        .await
        .unwrap()
}

/// A note made through the API, then counted.
async fn notes_work(app: &TestApp) {
    let token = app.user_token("alice").await;
    let note = json!({"title": "Groceries", "body": "milk"});
    let created = app.post("/api/notes", Some(&token), note).await;
    assert_eq!(created.status.code, 201, "{}", created.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM notes").await, 1);
}

#[rocket::async_test]
async fn the_notes_table_exists_after_start() {
    let app = TestApp::new(multitoken::build).await;
    assert_eq!(recorded(&app).await, [(1, "notes".to_string())]);
    let kits_notes = "SELECT COUNT(*) FROM _sqlx_migrations WHERE description = 'notes'";
    assert_eq!(app.count(kits_notes).await, 0);
    notes_work(&app).await;
}

#[rocket::async_test]
async fn a_database_of_the_older_layout_keeps_its_notes_and_starts() {
    let (db, url) = TestDb::new().await;
    let backend = backend(&db);
    let fixture = format!("tests/fixtures/old_layout/{backend}");
    // The same SQL, so that sqlx's checksum of the old migration matches the app's file.
    assert_eq!(
        std::fs::read_to_string(format!("{fixture}/0003_notes.sql")).unwrap(),
        std::fs::read_to_string(format!("migrations/{backend}/0001_notes.sql")).unwrap()
    );
    // The older layout: the kit's migrations with the notes among them, as version 3.
    {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&format!("{url}{}", sqlite_create(backend)))
            .await
            .unwrap();
        let kit = Migrator::new(Path::new(&format!("kit/migrations/{backend}")))
            .await
            .unwrap();
        kit.run(&pool).await.unwrap();
        let mut old = Migrator::new(Path::new(&fixture)).await.unwrap();
        old.set_ignore_missing(true);
        old.run(&pool).await.unwrap();
        let user = "INSERT INTO users (username, username_key, password_hash, created_at) \
                    VALUES ('bob', 'bob', 'x', 0)";
        sqlx::query(user).execute(&pool).await.unwrap();
        let note = "INSERT INTO notes (id, user_id, title, body, created_at, updated_at) \
                    VALUES ('old', 1, 'kept', '', 0, 0)";
        sqlx::query(note).execute(&pool).await.unwrap();
        pool.close().await;
    }

    let app = TestApp::on_url(multitoken::build, &url).await;
    assert_eq!(recorded(&app).await, [(1, "notes".to_string())]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notes WHERE id = 'old'")
            .await,
        1
    );
    drop(app);
    // A second start finds everything applied.
    let app = TestApp::on_url(multitoken::build, &url).await;
    assert_eq!(recorded(&app).await.len(), 1);
    app.count("SELECT COUNT(*) FROM notes").await;
    drop(app);
    drop(db);
}

/// SQLite creates the file only when asked.
fn sqlite_create(backend: &str) -> &'static str {
    if backend == "sqlite" {
        "?mode=rwc"
    } else {
        ""
    }
}

/// The binary, found by the package's name (as Cargo names it), whatever the app is called.
const BIN: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

#[rocket::async_test]
async fn an_admin_command_migrates_the_apps_tables_too() {
    let (db, url) = TestDb::new().await;
    let out = std::process::Command::new(BIN)
        .arg("prune")
        .env("ROCKET_DATABASES", format!("{{db={{url=\"{url}\"}}}}"))
        .env("ROCKET_LOG_LEVEL", "off")
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let (notes,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(notes, 0);
    let (version,): (i64,) = sqlx::query_as("SELECT version FROM _app_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(version, 1);
    pool.close().await;
    drop(db);
}
