//! Where `wxcs serve` keeps its state (the file record, the checks owed, the rate
//! counters): `--database` (MySQL or MariaDB, shared by every instance), else the MySQL that
//! WeChat Cloud Run provisioned (`MYSQL_ADDRESS`, `MYSQL_USERNAME`, `MYSQL_PASSWORD`), else
//! a SQLite file under `--data-dir`.

use std::path::PathBuf;

use clap::Args;
use wx_cloud_storage_server::backend::state::{Location, Store};

use super::invalid;

#[derive(Debug, Args)]
#[command(next_help_heading = "State (the file record, the checks owed, the rate counters)")]
pub(crate) struct StateArgs {
    /// Folder of the SQLite state file (wxcs.sqlite) when no MySQL is configured. On Cloud
    /// Run a container's disk is lost on restart and not shared: use MySQL there.
    #[arg(long, env = "WXCS_DATA_DIR", default_value = "wxcs-data")]
    data_dir: PathBuf,
    /// MySQL 5.7/8.0 or MariaDB for state every instance shares:
    /// mysql://user:password@host:port/database (created if missing). Never logged.
    #[arg(long, env = "WXCS_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// With MYSQL_ADDRESS (which WeChat Cloud Run sets, with no database name): the
    /// database to use, created if missing.
    #[arg(long, env = "MYSQL_DATABASE", default_value = "wxcs")]
    database_name: String,
}

impl StateArgs {
    /// Where the state is, by the order above.
    pub(crate) fn location(&self) -> Location {
        if let Some(url) = &self.database {
            return Location::MySql(url.clone().into());
        }
        Location::from_cloud_run_env(&self.database_name)
            .unwrap_or_else(|| Location::Sqlite(self.data_dir.join("wxcs.sqlite")))
    }

    /// Opens (and migrates) the store, saying where it is; warns when SQLite is used where
    /// the environment looks like Cloud Run.
    pub(crate) async fn open(&self) -> std::io::Result<Store> {
        let location = self.location();
        if matches!(location, Location::Sqlite(_)) && on_cloud_run() {
            tracing::warn!(
                "state is in SQLite on what looks like WeChat Cloud Run: each instance has its own, and a restart \
                 loses it (pending checks included). Enable the environment's MySQL (MYSQL_ADDRESS) or set --database."
            );
            eprintln!("wxcs serve: warning: SQLite state on Cloud Run is per instance and lost on restart; use MySQL");
        }
        let store = Store::open(&location)
            .await
            .map_err(|e| invalid(format!("state store ({}): {e}", location.describe())))?;
        println!("wxcs serve: state in {}", location.describe());
        Ok(store)
    }
}

/// Whether this process looks like it runs on WeChat Cloud Run (the variables it sets).
fn on_cloud_run() -> bool {
    ["CBR_ENV_ID", "WX_CLOUDRUN_ENV", "MYSQL_ADDRESS"].iter().any(|name| std::env::var_os(name).is_some())
}
