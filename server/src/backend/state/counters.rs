//! Counters every instance shares: requests per caller, failed sign-ins per address, upload
//! links per folder and caller, each in fixed one-minute windows. Each count is atomic (an
//! upsert that starts a new window or adds to the current one and gives back the count),
//! so two instances never both let the N+1th request through.
//!
//! Counts made together are written together ([`group`](super::group)): one upsert a name,
//! adding how many times the group counts it, in one transaction a group, names in order
//! (so two instances' groups lock rows in one order). The upsert gives back the name's new
//! total, and the group's counts of that name take the numbers below it in queue order:
//! the same numbers one statement a count would have given them. Windows that have run
//! out are pruned now and then, a bounded amount per call, so the table stays bounded.

use std::collections::BTreeMap;

use sqlx::Row;

use super::{now_ms, on_pool, Db, Store, StoreError};

/// The length of a window.
const WINDOW_MS: i64 = 60_000;

const ADD_MYSQL: &str = "INSERT INTO counters (name, window_start, count) VALUES (?, ?, LAST_INSERT_ID(?)) \
    ON DUPLICATE KEY UPDATE count = LAST_INSERT_ID(IF(window_start = VALUES(window_start), count + VALUES(count), VALUES(count))), \
    window_start = VALUES(window_start)";
const ADD_SQLITE: &str = "INSERT INTO counters (name, window_start, count) VALUES (?, ?, ?) \
    ON CONFLICT (name) DO UPDATE SET count = CASE WHEN counters.window_start = excluded.window_start \
    THEN counters.count + excluded.count ELSE excluded.count END, window_start = excluded.window_start RETURNING count";

impl Store {
    /// Counts one event of `name` in the current window: `Ok(())` while the count is at most
    /// `limit`, else `Err(seconds until the window ends)`.
    pub async fn count(&self, name: &str, limit: u32) -> Result<Result<(), u64>, StoreError> {
        self.ready().await?;
        let db = self.db.clone();
        let answer = self.counts.submit(name.to_owned(), |names| write_counts(db, names)).await;
        let (count, window) = answer.unwrap_or_else(|| Err(StoreError("counting failed".into())))?;
        if rand::random::<u16>() < 64 {
            self.prune_counters(window).await?;
        }
        if count > i64::from(limit) {
            let left = (window + WINDOW_MS - now_ms()).max(1000);
            return Ok(Err((left as u64).div_ceil(1000)));
        }
        Ok(Ok(()))
    }

    /// Forgets windows that ended before `window` started.
    async fn prune_counters(&self, window: i64) -> Result<(), StoreError> {
        on_pool!(&self.db, pool => sqlx::query("DELETE FROM counters WHERE window_start < ?").bind(window - WINDOW_MS).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// Writes a group of counts: for each, the count it reached and the window it fell in.
async fn write_counts(db: Db, names: Vec<String>) -> Vec<Result<(i64, i64), StoreError>> {
    let now = now_ms();
    let window = now - now % WINDOW_MS;
    let mut tally: BTreeMap<&str, i64> = BTreeMap::new();
    for name in &names {
        *tally.entry(name).or_default() += 1;
    }
    let mut next = match add(&db, &tally, window).await {
        // The group's counts of a name are the `added` numbers up to its new total.
        Ok(totals) => totals
            .into_iter()
            .map(|(name, total)| (name, total - tally[name] + 1))
            .collect::<BTreeMap<_, _>>(),
        Err(e) => return names.iter().map(|_| Err(e.clone())).collect(),
    };
    names
        .iter()
        .map(|name| {
            let number = next.get_mut(name.as_str()).expect("every name was added");
            *number += 1;
            Ok((*number - 1, window))
        })
        .collect()
}

/// Adds each name's tally in `window`, in one transaction: each name's new total.
async fn add<'a>(
    db: &Db,
    tally: &BTreeMap<&'a str, i64>,
    window: i64,
) -> Result<Vec<(&'a str, i64)>, StoreError> {
    let mut totals = Vec::with_capacity(tally.len());
    match db {
        Db::MySql(pool) => {
            let mut tx = pool.begin().await?;
            for (name, added) in tally {
                // LAST_INSERT_ID(expr) hands the new count back in the statement's own answer.
                let query = sqlx::query(ADD_MYSQL).bind(*name).bind(window).bind(added);
                totals.push((*name, query.execute(&mut *tx).await?.last_insert_id() as i64));
            }
            tx.commit().await?;
        }
        Db::Sqlite(pool) => {
            let mut tx = pool.begin().await?;
            for (name, added) in tally {
                let query = sqlx::query(ADD_SQLITE).bind(*name).bind(window).bind(added);
                totals.push((*name, query.fetch_one(&mut *tx).await?.try_get("count")?));
            }
            tx.commit().await?;
        }
    }
    Ok(totals)
}
