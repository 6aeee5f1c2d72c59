//! The app's own tables: its SQLite and PostgreSQL migrations (migrations/) kept in step. The
//! kit's tables are checked by the kit's tests (kit/tests/database.rs).

use session_kit::testing::same_tables;

#[test]
fn the_apps_sqlite_and_postgres_migrations_define_the_same_tables_and_columns() {
    let tables = same_tables("migrations/sqlite", "migrations/postgres");
    // The kit's tables migrate from the kit's folders.
    assert!(!tables.contains_key("users") && !tables.contains_key("sessions"));
}
