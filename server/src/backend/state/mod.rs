//! The backend's state, which it must not lose and which every instance must share: the
//! record of the files it issued links for (`files.rs`), the checks it owes them
//! (`checks.rs`, each held by one instance at a time through a lease), and the counters of
//! its rates (`counters.rs`).
//!
//! One interface over two engines, through `sqlx`: SQLite by default (one file under
//! `--data-dir`, WAL, nothing to install; per instance, so on Cloud Run, whose disks are
//! ephemeral, it is lost on a restart), or MySQL 5.7/8.0 or MariaDB (`--database`, or the
//! `MYSQL_ADDRESS` / `MYSQL_USERNAME` / `MYSQL_PASSWORD` Cloud Run injects), shared by any
//! number of instances (`open.rs`). Writes that every request makes (its counts, the link
//! it issues) are grouped with the writes of the requests beside it (`group.rs`). The queries are runtime SQL both engines take; where
//! their dialects differ (upserts, claiming a batch of rows) the two forms sit side by side
//! in the one function that needs them. Migrations (`server/migrations/{sqlite,mysql}`) run
//! at start, idempotent; on MySQL they take a lock, so instances starting together do not
//! race. The store holds no secret. Times are milliseconds since the Unix epoch.

mod checks;
mod counters;
mod files;
mod group;
mod links;
mod open;
mod uploads;

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{mysql::MySqlPool, sqlite::SqlitePool};
use tokio::sync::OnceCell;

use group::Group;

pub use checks::{Claimed, Outcome, Verdict};
pub use files::{FileRow, ListOrder, ListQuery};
pub use links::{IssueError, Issued};
pub use open::Location;
pub use uploads::MultipartUpload;

/// The pool of whichever engine the store is on.
#[derive(Debug, Clone)]
enum Db {
    Sqlite(SqlitePool),
    MySql(MySqlPool),
}

/// Runs `$body` with `$pool` bound to the engine's pool of the [`Db`] `$db`: one query text
/// for both engines (each arm is compiled for its own database types).
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::backend::state::Db::Sqlite($pool) => $body,
            $crate::backend::state::Db::MySql($pool) => $body,
        }
    };
}
use on_pool;

/// [`on_pool!`] on a [`Store`]'s pool.
macro_rules! on_db {
    ($store:expr, $pool:ident => $body:expr) => {
        $crate::backend::state::on_pool!(&$store.db, $pool => $body)
    };
}
use on_db;

/// The backend's shared state.
#[derive(Debug)]
pub struct Store {
    db: Db,
    /// This instance's name in leases (random at every start).
    instance: String,
    /// Set once the migrations have run.
    migrated: OnceCell<()>,
    /// The counts waiting to be written together (`counters.rs`).
    counts: Group<String, Result<(i64, i64), StoreError>>,
    /// The links waiting to be recorded together (`links.rs`).
    links: Group<links::Link, Result<(), IssueError>>,
}

/// A failure of the state store (the database is unreachable, or refused a statement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> StoreError {
        StoreError(error.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> StoreError {
        StoreError(format!("migrating the state store: {error}"))
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static MYSQL_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/mysql");

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Store {
    fn new(db: Db) -> Store {
        Store {
            db,
            instance: crate::emulator::random_hex(8),
            migrated: OnceCell::new(),
            counts: Group::default(),
            links: Group::default(),
        }
    }

    /// An in-memory SQLite store, private to this process (for the library's own use and
    /// its tests): connected, and migrated, on first use.
    pub fn memory() -> Store {
        Store::new(Db::Sqlite(open::memory_pool()))
    }

    /// Which engine: `sqlite` or `mysql`.
    pub fn engine(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::MySql(_) => "mysql",
        }
    }

    /// Runs the migrations once; every operation awaits this first.
    async fn ready(&self) -> Result<(), StoreError> {
        self.migrated
            .get_or_try_init(|| async {
                match &self.db {
                    Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
                    Db::MySql(pool) => MYSQL_MIGRATIONS.run(pool).await?,
                }
                Ok::<(), StoreError>(())
            })
            .await
            .map(|_| ())
    }

    /// Whether the database answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.ready().await?;
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
