//! Counters every instance shares: requests per caller, failed sign-ins per address, upload
//! links per folder and caller, each in fixed one-minute windows. One atomic statement per
//! count (an upsert that starts a new window or adds to the current one and gives back the
//! count), so two instances never both let the N+1th request through. Windows that have
//! run out are pruned now and then, a bounded amount per call, so the table stays bounded.

use sqlx::Row;

use super::{now_ms, on_db, Db, Store, StoreError};

/// The length of a window.
const WINDOW_MS: i64 = 60_000;

impl Store {
    /// Counts one event of `name` in the current window: `Ok(())` while the count is at most
    /// `limit`, else `Err(seconds until the window ends)`.
    pub async fn count(&self, name: &str, limit: u32) -> Result<Result<(), u64>, StoreError> {
        self.ready().await?;
        let now = now_ms();
        let window = now - now % WINDOW_MS;
        let count: i64 = match &self.db {
            Db::MySql(pool) => {
                // LAST_INSERT_ID(expr) hands the new count back in the statement's own answer.
                let sql = "INSERT INTO counters (name, window_start, count) VALUES (?, ?, LAST_INSERT_ID(1)) \
                           ON DUPLICATE KEY UPDATE count = LAST_INSERT_ID(IF(window_start = VALUES(window_start), count + 1, 1)), \
                           window_start = VALUES(window_start)";
                sqlx::query(sql).bind(name).bind(window).execute(pool).await?.last_insert_id() as i64
            }
            Db::Sqlite(pool) => {
                let sql = "INSERT INTO counters (name, window_start, count) VALUES (?, ?, 1) \
                           ON CONFLICT (name) DO UPDATE SET count = CASE WHEN counters.window_start = excluded.window_start \
                           THEN counters.count + 1 ELSE 1 END, window_start = excluded.window_start RETURNING count";
                sqlx::query(sql).bind(name).bind(window).fetch_one(pool).await?.try_get("count")?
            }
        };
        if rand::random::<u16>() < 64 {
            self.prune_counters(window).await?;
        }
        if count > i64::from(limit) {
            let left = (window + WINDOW_MS - now).max(1000);
            return Ok(Err((left as u64).div_ceil(1000)));
        }
        Ok(Ok(()))
    }

    /// Forgets windows that ended before `window` started.
    async fn prune_counters(&self, window: i64) -> Result<(), StoreError> {
        on_db!(self, pool => sqlx::query("DELETE FROM counters WHERE window_start < ?").bind(window - WINDOW_MS).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
