//! The app's migrations, beside the kit's own.
//!
//! The kit's tables migrate from kit/migrations/<backend>/ through sqlx's migrator (table
//! `_sqlx_migrations`); the app's from its own migrations/<backend>/ folders, embedded by
//! [`migrations!`](crate::migrations!) and passed to [`Kit::migrations`](crate::Kit::migrations).
//! They are recorded in a table of their own, `_app_migrations`, so an app migration numbered
//! 0001 never collides with the kit's 0001. At start the kit's run first, then the app's, each in
//! a transaction:
//!
//! - an app migration already recorded is skipped, once its SHA-256 matches the file's: a file
//!   changed after it was applied stops the start, with an error that names it;
//! - one that an older layout applied among the kit's (same description and sqlx checksum in
//!   `_sqlx_migrations`, as the notes example was, numbered 0003) is adopted: recorded, not run;
//! - a recorded migration whose file is gone (a removed feature) is left alone.
//!
//! On PostgreSQL each step holds an advisory lock ([`store::lock_key`](crate::store::lock_key))
//! while it checks and applies, so instances that start together apply each migration once.

use sha2::{Digest, Sha256};
use sqlx::migrate::{Migration, Migrator};
use sqlx::{Any, AnyConnection, Connection, Executor, Row, Transaction};

/// Embeds the calling crate's migrations: the `.sql` files of its `migrations/sqlite/` and
/// `migrations/postgres/` folders (next to its Cargo.toml), named `NNNN_<name>.sql`. Both folders
/// must exist; keep an empty one with a `.gitkeep`. The caller depends on `sqlx` (the expansion
/// names it), and its build.rs prints `cargo:rerun-if-changed=migrations` so that a new file
/// rebuilds it.
///
/// ```ignore
/// Kit::new(site!(token_prefix = "mt_")).migrations(session_kit::migrations!())
/// ```
#[macro_export]
macro_rules! migrations {
    () => {
        $crate::migrations::AppMigrations::new(
            $crate::migrations::__sqlx::migrate!("migrations/sqlite")
                .iter()
                .cloned()
                .collect(),
            $crate::migrations::__sqlx::migrate!("migrations/postgres")
                .iter()
                .cloned()
                .collect(),
        )
    };
}

#[doc(hidden)]
pub use sqlx as __sqlx;

/// The key of the advisory lock that serialises the app's migrations across instances.
const LOCK: &str = "app migrations";

/// An app's migrations, one list per backend, in the order of their numbers.
#[derive(Debug, Clone, Default)]
pub struct AppMigrations {
    sqlite: Vec<Migration>,
    postgres: Vec<Migration>,
}

impl AppMigrations {
    /// The two lists (down migrations, `.down.sql`, are left out).
    pub fn new(sqlite: Vec<Migration>, postgres: Vec<Migration>) -> AppMigrations {
        let up = |mut list: Vec<Migration>| {
            list.retain(|m| !m.migration_type.is_down_migration());
            list.sort_by_key(|m| m.version);
            list
        };
        AppMigrations {
            sqlite: up(sqlite),
            postgres: up(postgres),
        }
    }

    /// The SQLite list, from migrations/sqlite/.
    pub fn sqlite(&self) -> &[Migration] {
        &self.sqlite
    }

    /// The PostgreSQL list, from migrations/postgres/.
    pub fn postgres(&self) -> &[Migration] {
        &self.postgres
    }
}

/// The file a migration came from, for messages: `migrations/sqlite/0001_notes.sql` (its
/// folder, then the name `migrations!` reads, with the number on four digits).
pub fn file_name(folder: &str, migration: &Migration) -> String {
    let name = migration.description.replace(' ', "_");
    format!("{folder}/{:04}_{name}.sql", migration.version)
}

/// The SHA-256 of a migration's SQL, in hex: what `_app_migrations.checksum` holds.
pub fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Applies the app's migrations not yet applied (the list of the connection's backend, from
/// `folder`, e.g. `migrations/sqlite`), on a database the kit's migrations (`kit`) have already
/// run on. The `Err` is a message for the operator.
pub async fn run(
    conn: &mut AnyConnection,
    kit: &Migrator,
    folder: &str,
    migrations: &[Migration],
) -> Result<(), String> {
    let failed = |what: &str, e: sqlx::Error| format!("app migrations: {what}: {e}");
    let mut tx = begin_locked(conn).await.map_err(|e| failed("lock", e))?;
    tx.execute(
        "CREATE TABLE IF NOT EXISTS _app_migrations (
            version     BIGINT PRIMARY KEY,
            description TEXT   NOT NULL,
            checksum    TEXT   NOT NULL,
            applied_at  BIGINT NOT NULL
        )",
    )
    .await
    .map_err(|e| failed("create _app_migrations", e))?;
    tx.commit().await.map_err(|e| failed("commit", e))?;
    for migration in migrations {
        let file = file_name(folder, migration);
        apply(conn, kit, migration, &file)
            .await
            .map_err(|e| match e {
                Step::Refused(msg) => msg,
                Step::Failed(e) => format!("app migration {file} failed: {e}"),
            })?;
    }
    Ok(())
}

/// Why a step stopped.
enum Step {
    /// The database holds something this migration contradicts.
    Refused(String),
    Failed(sqlx::Error),
}

impl From<sqlx::Error> for Step {
    fn from(e: sqlx::Error) -> Step {
        Step::Failed(e)
    }
}

/// One migration, in a transaction of its own under the lock: checked if recorded, else adopted
/// or run, then recorded.
async fn apply(
    conn: &mut AnyConnection,
    kit: &Migrator,
    migration: &Migration,
    file: &str,
) -> Result<(), Step> {
    if migration.no_tx {
        return Err(Step::Refused(format!(
            "{file}: `-- no-transaction` is not supported; every app migration runs in a \
             transaction"
        )));
    }
    let sum = checksum(&migration.sql);
    let mut tx = begin_locked(conn).await?;
    let recorded: Option<(String,)> =
        sqlx::query_as("SELECT checksum FROM _app_migrations WHERE version = $1")
            .bind(migration.version)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some((applied,)) = recorded {
        if applied != sum {
            return Err(Step::Refused(format!(
                "{file} was changed after it was applied (its SHA-256 differs from the one \
                 recorded in _app_migrations): restore it, and make the change in a new migration"
            )));
        }
        return Ok(());
    }
    if !applied_among_the_kits(&mut tx, kit, migration).await? {
        // Unprepared, as sqlx runs its own: a file may hold several statements.
        tx.execute(&*migration.sql).await?;
    }
    sqlx::query(
        "INSERT INTO _app_migrations (version, description, checksum, applied_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(migration.version)
    .bind(migration.description.as_ref())
    .bind(&sum)
    .bind(time::OffsetDateTime::now_utc().unix_timestamp())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether an older layout, where the app's tables migrated among the kit's, already applied
/// this migration: a row of `_sqlx_migrations` with its description and its sqlx checksum, at a
/// version the kit does not ship itself (a row of the kit's own is never the app's).
async fn applied_among_the_kits(
    conn: &mut AnyConnection,
    kit: &Migrator,
    migration: &Migration,
) -> sqlx::Result<bool> {
    let rows = sqlx::query("SELECT version, checksum FROM _sqlx_migrations WHERE description = $1")
        .bind(migration.description.as_ref())
        .fetch_all(conn)
        .await?;
    for row in rows {
        let version: i64 = row.try_get(0)?;
        let applied: Vec<u8> = row.try_get(1)?;
        let the_kits = kit.iter().any(|own| own.version == version);
        if !the_kits && applied == *migration.checksum {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A transaction that holds the app migrations' lock until it ends: on PostgreSQL the advisory
/// lock; on SQLite the database's single write lock, taken at `BEGIN IMMEDIATE` (a read first,
/// then a write, could meet another instance's transaction and fail as busy).
async fn begin_locked(conn: &mut AnyConnection) -> sqlx::Result<Transaction<'_, Any>> {
    if conn.backend_name() == "PostgreSQL" {
        let mut tx = conn.begin().await?;
        crate::store::lock_key(&mut tx, LOCK).await?;
        Ok(tx)
    } else {
        conn.begin_with("BEGIN IMMEDIATE").await
    }
}
