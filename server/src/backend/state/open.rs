//! Where the state store is, and connecting to it: a SQLite file (WAL, created if missing),
//! or a MySQL / MariaDB server, whose database is created if it is missing (Cloud Run
//! provisions the server but names no database). A paused serverless MySQL refuses the
//! first logins while it wakes: they are retried, with a bound.

use std::{path::PathBuf, str::FromStr, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    mysql::{MySqlConnectOptions, MySqlPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    ConnectOptions, Executor,
};

use super::{Db, Store, StoreError};

/// The longest the first connection is retried (a paused serverless MySQL wakes within
/// about 30 s).
const CONNECT_FOR: Duration = Duration::from_secs(45);

/// Where the state is kept.
#[derive(Debug, Clone)]
pub enum Location {
    /// A SQLite file (and its WAL beside it).
    Sqlite(PathBuf),
    /// A MySQL or MariaDB server: `mysql://user:password@host:port/database`. The URL holds
    /// the password: it is never printed.
    MySql(SecretString),
}

impl Location {
    /// The MySQL server Cloud Run provisioned, from `MYSQL_ADDRESS` (host:port),
    /// `MYSQL_USERNAME`, `MYSQL_PASSWORD`, and the database `name` (Cloud Run has no
    /// variable for it). `None` when `MYSQL_ADDRESS` is not set.
    pub fn from_cloud_run_env(name: &str) -> Option<Location> {
        let address = std::env::var("MYSQL_ADDRESS").ok().filter(|a| !a.is_empty())?;
        let user = std::env::var("MYSQL_USERNAME").unwrap_or_else(|_| "root".into());
        let password = std::env::var("MYSQL_PASSWORD").unwrap_or_default();
        let encode = |s: &str| {
            s.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        };
        let url = format!("mysql://{}:{}@{address}/{}", encode(&user), encode(&password), encode(name));
        Some(Location::MySql(url.into()))
    }

    /// How it reads in logs: never the password.
    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(path) => format!("SQLite {}", path.display()),
            Location::MySql(url) => match MySqlConnectOptions::from_str(url.expose_secret()) {
                Ok(options) => format!(
                    "MySQL {}:{} database {}",
                    options.get_host(),
                    options.get_port(),
                    options.get_database().unwrap_or("(none)")
                ),
                Err(_) => "MySQL (an unreadable URL)".into(),
            },
        }
    }
}

impl Store {
    /// Connects to the store at `location` and migrates it.
    pub async fn open(location: &Location) -> Result<Store, StoreError> {
        let db = match location {
            Location::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| StoreError(format!("{}: {e}", parent.display())))?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10));
                Db::Sqlite(SqlitePoolOptions::new().max_connections(8).connect_with(options).await?)
            }
            Location::MySql(url) => Db::MySql(mysql(url.expose_secret()).await?),
        };
        let store = Store::new(db);
        store.ready().await?;
        Ok(store)
    }
}

/// A private in-memory SQLite database shared by the pool's connections, connected lazily.
pub(super) fn memory_pool() -> sqlx::SqlitePool {
    // `:memory:` is a new database each time it is parsed, shared by this pool's connections.
    let options = SqliteConnectOptions::from_str("sqlite::memory:")
        .expect("a valid in-memory SQLite URL")
        .busy_timeout(Duration::from_secs(10));
    // One connection stays open for the pool's life: the database lives while one does.
    SqlitePoolOptions::new()
        .min_connections(1)
        .max_connections(4)
        .idle_timeout(None)
        .connect_lazy_with(options)
}

/// A MySQL pool, the database created first if missing; the first connection retried
/// while the server wakes.
async fn mysql(url: &str) -> Result<sqlx::MySqlPool, StoreError> {
    let options = MySqlConnectOptions::from_str(url).map_err(|e| StoreError(format!("--database: {e}")))?;
    let Some(database) = options.get_database().map(str::to_owned) else {
        return Err(StoreError("--database names no database: mysql://user:password@host:port/NAME".into()));
    };
    if !database.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StoreError(format!("the database name {database:?} may hold only A-Z, a-z, 0-9 and _")));
    }
    let server = options.clone().database("");
    let started = std::time::Instant::now();
    let mut connection = loop {
        match server.connect().await {
            Ok(connection) => break connection,
            Err(e) if started.elapsed() < CONNECT_FOR => {
                tracing::warn!("the database refused a connection (waking?), retrying: {e}");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => return Err(StoreError(format!("could not connect to the database: {e}"))),
        }
    };
    // The name was checked to be [A-Za-z0-9_] above: it cannot break out of the quotes.
    let create = format!("CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4");
    connection.execute(sqlx::AssertSqlSafe(create)).await?;
    drop(connection);
    Ok(MySqlPoolOptions::new().max_connections(16).connect_with(options).await?)
}
