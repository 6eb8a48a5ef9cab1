//! The file record: one row per object this backend issued a link for (key, file ID, owner,
//! declared and real size and type, CRC-64, state, times), and the listing of what is
//! stored, a page at a time, by a cursor that is stable under concurrent uploads and
//! deletes (keyset pagination: a page starts after the last key, or time and key, of the
//! one before, so a file there for the whole walk is seen exactly once).

use sqlx::Row;

use super::{now_ms, on_db, Store, StoreError};

/// A file as the record knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    /// `cloud://…`.
    pub file_id: String,
    /// The object key.
    pub key: String,
    /// Who asked for its link (`user:<uid>`, or `address:<ip>`).
    pub owner: String,
    /// `pending`, `stored` or `deleted`.
    pub state: String,
    /// Why it was deleted.
    pub reason: Option<String>,
    /// Its real length, once checked.
    pub size: Option<i64>,
    /// The type it is served with, once checked.
    pub content_type: Option<String>,
    /// Its CRC-64 (decimal), once checked and when the storage gave one.
    pub crc64: Option<String>,
    /// When its last link was issued.
    pub created_at: i64,
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// By key, bytewise ascending.
    Name,
    /// Newest first (by when its last link was issued), then by key descending.
    Newest,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Keys that start with this.
    pub prefix: String,
    /// Keys that contain this (none: every key).
    pub contains: Option<String>,
    /// Where the page starts: after this key (and, newest first, this time).
    pub after: Option<(i64, String)>,
    /// The most rows.
    pub limit: u32,
    /// The order.
    pub order: ListOrder,
}

/// The columns a [`FileRow`] is read from.
macro_rules! columns {
    () => {
        "file_id, object_key, owner, state, reason, size, content_type, crc64, created_at"
    };
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_default()
}

macro_rules! row {
    ($row:expr) => {
        FileRow {
            file_id: text($row.try_get("file_id")?),
            key: text($row.try_get("object_key")?),
            owner: $row.try_get("owner")?,
            state: $row.try_get("state")?,
            reason: $row.try_get("reason")?,
            size: $row.try_get("size")?,
            content_type: $row.try_get("content_type")?,
            crc64: $row.try_get("crc64")?,
            created_at: $row.try_get("created_at")?,
        }
    };
}

/// The first key after every key that starts with `prefix` (bytewise); `None` when there
/// is none (an empty prefix, or all 0xFF).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl Store {
    /// The record of `file_id`, if there is one.
    pub async fn file(&self, file_id: &str) -> Result<Option<FileRow>, StoreError> {
        self.ready().await?;
        let sql = concat!("SELECT ", columns!(), " FROM files WHERE file_id = ?");
        let row = on_db!(self, pool => match sqlx::query(sql).bind(file_id.as_bytes()).fetch_optional(pool).await? {
            Some(row) => Some(row!(row)),
            None => None,
        });
        Ok(row)
    }

    /// The record of the file at `key`, if there is one.
    pub async fn file_at(&self, key: &str) -> Result<Option<FileRow>, StoreError> {
        self.ready().await?;
        let sql = concat!("SELECT ", columns!(), " FROM files WHERE object_key = ?");
        let row = on_db!(self, pool => match sqlx::query(sql).bind(key.as_bytes()).fetch_optional(pool).await? {
            Some(row) => Some(row!(row)),
            None => None,
        });
        Ok(row)
    }

    /// Marks a file deleted through the backend. Its check, if one is owed, stays: while its
    /// link lives, the object can be posted again, and the check at the link's end sees it.
    pub async fn mark_deleted(&self, file_id: &str) -> Result<(), StoreError> {
        self.ready().await?;
        let sql = "UPDATE files SET state = 'deleted', reason = 'deleted', updated_at = ? WHERE file_id = ?";
        on_db!(self, pool => sqlx::query(sql).bind(now_ms()).bind(file_id.as_bytes()).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Marks a stored file gone (the storage said it does not exist: deleted elsewhere).
    pub async fn mark_gone(&self, file_id: &str) -> Result<(), StoreError> {
        self.ready().await?;
        let sql = "UPDATE files SET state = 'deleted', reason = 'gone', updated_at = ? WHERE file_id = ? AND state = 'stored'";
        on_db!(self, pool => sqlx::query(sql).bind(now_ms()).bind(file_id.as_bytes()).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// One page of the files `query` asks for: stored, or pending (not checked yet: the
    /// caller checks those before it shows them).
    pub async fn list(&self, query: &ListQuery) -> Result<Vec<FileRow>, StoreError> {
        self.ready().await?;
        // Built from fixed fragments only: every value is bound.
        let mut sql = String::from(concat!(
            "SELECT ",
            columns!(),
            " FROM files WHERE state IN ('pending', 'stored') AND object_key >= ?"
        ));
        let end = prefix_end(query.prefix.as_bytes());
        if end.is_some() {
            sql.push_str(" AND object_key < ?");
        }
        if query.contains.is_some() {
            sql.push_str(match self.engine() {
                "mysql" => " AND LOCATE(?, object_key) > 0",
                _ => " AND instr(object_key, ?) > 0",
            });
        }
        if query.after.is_some() {
            sql.push_str(match query.order {
                ListOrder::Name => " AND object_key > ?",
                ListOrder::Newest => " AND (created_at < ? OR (created_at = ? AND object_key < ?))",
            });
        }
        sql.push_str(match query.order {
            ListOrder::Name => " ORDER BY object_key LIMIT ?",
            ListOrder::Newest => " ORDER BY created_at DESC, object_key DESC LIMIT ?",
        });
        let rows = on_db!(self, pool => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(query.prefix.as_bytes());
            if let Some(end) = &end {
                q = q.bind(end.clone());
            }
            if let Some(contains) = &query.contains {
                q = q.bind(contains.as_bytes());
            }
            if let Some((time, key)) = &query.after {
                q = match query.order {
                    ListOrder::Name => q.bind(key.as_bytes()),
                    ListOrder::Newest => q.bind(*time).bind(*time).bind(key.as_bytes()),
                };
            }
            let mut out = Vec::new();
            for row in q.bind(i64::from(query.limit)).fetch_all(pool).await? {
                out.push(row!(row));
            }
            out
        });
        Ok(rows)
    }

    /// How many files the record holds in each state (`pending`, `stored`, `refused`,
    /// `deleted`).
    pub async fn file_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.ready().await?;
        let sql = "SELECT state, COUNT(*) AS n FROM files GROUP BY state";
        let rows = on_db!(self, pool => {
            let mut out = Vec::new();
            for row in sqlx::query(sql).fetch_all(pool).await? {
                out.push((row.try_get("state")?, row.try_get("n")?));
            }
            out
        });
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_ranges_are_bytewise() {
        assert_eq!(prefix_end(b"users/42/"), Some(b"users/420".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b""), None);
        assert_eq!(prefix_end(b"\xff\xff"), None);
    }
}
