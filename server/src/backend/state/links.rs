//! The record of a link just issued: its file is pending (again, if it was stored: a new
//! upload may replace it) and its object owed a check (`checks.rs`). Links issued together
//! are written together ([`group`](super::group)): one transaction a group, one statement
//! a table, rows in file ID order (so two instances' groups take their row locks in one
//! order and cannot deadlock each other).
//!
//! Each owner has a share of links whose uploads were neither reported nor found: past it,
//! a link is refused. The share is counted before the group's transaction, as one query
//! for the group's owners, and the group's own links count as they are admitted; two
//! instances admitting one owner's links at once may each admit up to the share (it bounds
//! a user's unchecked objects, it is not a quota).

use std::collections::{BTreeSet, HashMap};

use sqlx::Row;

use super::{now_ms, on_pool, Db, Store, StoreError};

/// What a link's issue records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued<'a> {
    /// The file the link is for.
    pub file_id: &'a str,
    /// Its key.
    pub key: &'a str,
    /// Who asked (`user:<uid>` / `address:<ip>`).
    pub owner: &'a str,
    /// What the upload declared.
    pub declared_size: Option<u64>,
    /// What the upload declared.
    pub declared_type: Option<&'a str>,
    /// When its check is due.
    pub due_at: i64,
    /// When the link ends.
    pub link_ends_at: i64,
}

/// Why a link could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueError {
    /// The owner already has this many checks pending (their share is full).
    Full(i64),
    /// The store failed.
    Store(StoreError),
}

impl From<sqlx::Error> for IssueError {
    fn from(error: sqlx::Error) -> IssueError {
        IssueError::Store(error.into())
    }
}

/// A link waiting in its group: what [`Issued`] says, owned, and the owner's share.
#[derive(Debug)]
pub(super) struct Link {
    file_id: String,
    key: String,
    owner: String,
    declared_size: Option<i64>,
    declared_type: Option<String>,
    due_at: i64,
    link_ends_at: i64,
    share: Option<i64>,
}

/// How many rows one statement writes at most.
const ROWS_PER_STATEMENT: usize = 200;

const FILES_SQLITE: &str =
    "ON CONFLICT (file_id) DO UPDATE SET owner = excluded.owner, state = 'pending', reason = NULL, \
    declared_size = excluded.declared_size, declared_type = excluded.declared_type, \
    created_at = excluded.created_at, updated_at = excluded.updated_at";
const FILES_MYSQL: &str = "ON DUPLICATE KEY UPDATE owner = VALUES(owner), state = 'pending', reason = NULL, \
    declared_size = VALUES(declared_size), declared_type = VALUES(declared_type), \
    created_at = VALUES(created_at), updated_at = VALUES(updated_at)";
const CHECKS_SQLITE: &str = "ON CONFLICT (file_id) DO UPDATE SET owner = excluded.owner, due_at = MIN(checks.due_at, excluded.due_at), \
    counted = excluded.counted, link_ends_at = MAX(checks.link_ends_at, excluded.link_ends_at), attempts = 0, watch = 0, \
    lease_owner = NULL, lease_until = NULL";
const CHECKS_MYSQL: &str = "ON DUPLICATE KEY UPDATE owner = VALUES(owner), due_at = LEAST(due_at, VALUES(due_at)), \
    counted = VALUES(counted), link_ends_at = GREATEST(link_ends_at, VALUES(link_ends_at)), attempts = 0, watch = 0, \
    lease_owner = NULL, lease_until = NULL";

impl Store {
    /// Records a link just issued: the file is pending, and its check due at `due_at`, or
    /// sooner if it already was; the link's end is the later of the two. `share`: how many
    /// unreported links the owner may hold (refused past it); `None` for a link that counts
    /// toward no share (a folder without limits, whose uploads the library does not report).
    pub async fn issued(&self, link: &Issued<'_>, share: Option<i64>) -> Result<(), IssueError> {
        self.ready().await.map_err(IssueError::Store)?;
        let link = Link {
            file_id: link.file_id.to_owned(),
            key: link.key.to_owned(),
            owner: link.owner.to_owned(),
            declared_size: link.declared_size.map(|s| s.min(i64::MAX as u64) as i64),
            declared_type: link.declared_type.map(str::to_owned),
            due_at: link.due_at,
            link_ends_at: link.link_ends_at,
            share,
        };
        let db = self.db.clone();
        let answer = self.links.submit(link, |links| write_links(db, links)).await;
        answer.unwrap_or_else(|| Err(IssueError::Store(StoreError("recording the link failed".into()))))
    }
}

/// Writes a group of links: each owner's share counted, then the admitted links in one
/// transaction. One answer a link, in order.
async fn write_links(db: Db, links: Vec<Link>) -> Vec<Result<(), IssueError>> {
    let mut pending = match shares_taken(&db, &links).await {
        Ok(pending) => pending,
        Err(e) => return links.iter().map(|_| Err(IssueError::Store(e.clone()))).collect(),
    };
    let answers: Vec<Result<(), IssueError>> = links
        .iter()
        .map(|link| {
            let Some(share) = link.share else { return Ok(()) };
            let taken = pending.entry(link.owner.as_str()).or_default();
            if *taken >= share {
                return Err(IssueError::Full(*taken));
            }
            *taken += 1;
            Ok(())
        })
        .collect();
    let mut admitted: Vec<&Link> =
        links.iter().zip(&answers).filter(|(_, a)| a.is_ok()).map(|(l, _)| l).collect();
    // Stable: a file named twice in a group keeps its links' order (the later one wins).
    admitted.sort_by(|a, b| a.file_id.cmp(&b.file_id));
    match insert(&db, &admitted).await {
        Ok(()) => answers,
        Err(e) => answers.into_iter().map(|a| a.and(Err(IssueError::Store(e.clone())))).collect(),
    }
}

/// How many counted checks each owner with a share already has pending.
async fn shares_taken<'a>(db: &Db, links: &'a [Link]) -> Result<HashMap<&'a str, i64>, StoreError> {
    let owners: BTreeSet<&str> =
        links.iter().filter(|l| l.share.is_some()).map(|l| l.owner.as_str()).collect();
    let mut taken = HashMap::new();
    if owners.is_empty() {
        return Ok(taken);
    }
    let marks = vec!["?"; owners.len()].join(", ");
    let sql = format!(
        "SELECT owner, COUNT(*) AS n FROM checks WHERE owner IN ({marks}) AND watch = 0 AND counted = 1 GROUP BY owner"
    );
    let rows = on_pool!(db, pool => {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        for owner in &owners {
            query = query.bind(*owner);
        }
        let mut rows = Vec::new();
        for row in query.fetch_all(pool).await? {
            rows.push((row.try_get::<String, _>("owner")?, row.try_get::<i64, _>("n")?));
        }
        rows
    });
    for (owner, n) in rows {
        if let Some(owner) = owners.get(owner.as_str()) {
            taken.insert(*owner, n);
        }
    }
    Ok(taken)
}

/// Upserts the links' files and checks, in one transaction.
async fn insert(db: &Db, links: &[&Link]) -> Result<(), StoreError> {
    if links.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let (files_tail, checks_tail) = match db {
        Db::MySql(_) => (FILES_MYSQL, CHECKS_MYSQL),
        Db::Sqlite(_) => (FILES_SQLITE, CHECKS_SQLITE),
    };
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        for chunk in links.chunks(ROWS_PER_STATEMENT) {
            let rows = vec!["(?, ?, ?, 'pending', ?, ?, ?, ?)"; chunk.len()].join(", ");
            let sql = format!("INSERT INTO files (file_id, object_key, owner, state, declared_size, declared_type, created_at, updated_at) VALUES {rows} {files_tail}");
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for link in chunk {
                query = query.bind(link.file_id.as_bytes()).bind(link.key.as_bytes()).bind(&link.owner)
                    .bind(link.declared_size).bind(&link.declared_type).bind(now).bind(now);
            }
            query.execute(&mut *tx).await?;
            let rows = vec!["(?, ?, ?, ?, 0, ?)"; chunk.len()].join(", ");
            let sql = format!("INSERT INTO checks (file_id, owner, due_at, link_ends_at, attempts, counted) VALUES {rows} {checks_tail}");
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for link in chunk {
                query = query.bind(link.file_id.as_bytes()).bind(&link.owner).bind(link.due_at)
                    .bind(link.link_ends_at).bind(i64::from(link.share.is_some()));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}
