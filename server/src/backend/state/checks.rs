//! The checks owed: from the moment a link is issued, its object is owed a check (does it
//! exist, and does it keep the rules' limits), due once its link has ended (and a grace)
//! unless a report or a request for the object brings it forward. Each check is held by
//! one instance at a time through a lease (an owner and an expiry): a second instance
//! takes over a check whose holder died once its lease has expired, so every check runs,
//! and two never run one check at once. A check's outcome is written only while its
//! holder still holds it and no new link was issued for the file meanwhile.

use std::time::Duration;

use sqlx::Row;

use super::{now_ms, on_db, Store, StoreError};

/// A check this instance holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The file.
    pub file_id: String,
    /// Whose it is (`user:<uid>` / `address:<ip>`).
    pub owner: String,
    /// When the last link issued for it ends: until then the object can still change.
    pub link_ends_at: i64,
    /// How many times it could not be made before.
    pub attempts: i64,
    /// The lease it is held under.
    lease: String,
}

impl Store {
    /// Brings `file_id`'s check forward to now (the library reported the upload).
    pub async fn due_now(&self, file_id: &str) -> Result<(), StoreError> {
        self.ready().await?;
        on_db!(self, pool => sqlx::query("UPDATE checks SET due_at = ? WHERE file_id = ? AND due_at > ?")
            .bind(now_ms()).bind(file_id.as_bytes()).bind(now_ms()).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A new lease name: this instance's, and unique to one claim.
    pub(super) fn lease_name(&self) -> String {
        format!("{}-{}", self.instance, crate::emulator::random_hex(6))
    }

    /// Claims up to `limit` checks that are due and held by no one (or whose holder's lease
    /// expired), for `lease`.
    pub async fn claim_due(&self, limit: u32, lease: Duration) -> Result<Vec<Claimed>, StoreError> {
        self.ready().await?;
        let (now, name) = (now_ms(), self.lease_name());
        let until = now + lease.as_millis() as i64;
        let claim = match self.engine() {
            "mysql" => "UPDATE checks SET lease_owner = ?, lease_until = ? \
                        WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at LIMIT ?",
            _ => "UPDATE checks SET lease_owner = ?, lease_until = ? WHERE file_id IN (SELECT file_id FROM checks \
                  WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at LIMIT ?)",
        };
        on_db!(self, pool => sqlx::query(claim).bind(&name).bind(until).bind(now).bind(now).bind(i64::from(limit)).execute(pool).await.map(|r| r.rows_affected()))?;
        self.held(&name).await
    }

    /// Claims `file_id`'s check whenever it is due, unless another instance holds it: the
    /// check is needed now (a request asks for an object not checked yet).
    pub async fn claim(&self, file_id: &str, lease: Duration) -> Result<Option<Claimed>, StoreError> {
        self.ready().await?;
        let (now, name) = (now_ms(), self.lease_name());
        let until = now + lease.as_millis() as i64;
        let sql = "UPDATE checks SET lease_owner = ?, lease_until = ? WHERE file_id = ? AND (lease_until IS NULL OR lease_until < ?)";
        on_db!(self, pool => sqlx::query(sql).bind(&name).bind(until).bind(file_id.as_bytes()).bind(now).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(self.held(&name).await?.pop())
    }

    async fn held(&self, lease: &str) -> Result<Vec<Claimed>, StoreError> {
        let sql = "SELECT file_id, owner, link_ends_at, attempts FROM checks WHERE lease_owner = ?";
        let claimed = on_db!(self, pool => {
            let mut out = Vec::new();
            for row in sqlx::query(sql).bind(lease).fetch_all(pool).await? {
                let file_id: Vec<u8> = row.try_get("file_id")?;
                out.push(Claimed {
                    file_id: String::from_utf8(file_id).unwrap_or_default(),
                    owner: row.try_get("owner")?,
                    link_ends_at: row.try_get("link_ends_at")?,
                    attempts: row.try_get::<i64, _>("attempts")?,
                    lease: lease.to_owned(),
                });
            }
            out
        });
        Ok(claimed)
    }

    /// Which of `file_ids` are owed a check (as a set, in no order).
    pub async fn checks_among(&self, file_ids: &[&str]) -> Result<Vec<String>, StoreError> {
        self.ready().await?;
        if file_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; file_ids.len()].join(", ");
        let sql = format!("SELECT file_id FROM checks WHERE file_id IN ({marks})");
        let found = on_db!(self, pool => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for id in file_ids {
                q = q.bind(id.as_bytes());
            }
            let mut out = Vec::new();
            for row in q.fetch_all(pool).await? {
                out.push(String::from_utf8(row.try_get::<Vec<u8>, _>("file_id")?).unwrap_or_default());
            }
            out
        });
        Ok(found)
    }

    /// Whether `file_id`'s check is held by an instance now (`None`: it owes none).
    pub async fn check_held(&self, file_id: &str) -> Result<Option<bool>, StoreError> {
        self.ready().await?;
        let sql = "SELECT lease_until FROM checks WHERE file_id = ?";
        let until: Option<Option<i64>> = on_db!(self, pool => match sqlx::query(sql).bind(file_id.as_bytes()).fetch_optional(pool).await? {
            Some(row) => Some(row.try_get("lease_until")?),
            None => None,
        });
        Ok(until.map(|until| until.is_some_and(|until| until >= now_ms())))
    }

    /// Whether `file_id` is owed a check.
    pub async fn has_check(&self, file_id: &str) -> Result<bool, StoreError> {
        self.ready().await?;
        let found = on_db!(self, pool => sqlx::query("SELECT 1 FROM checks WHERE file_id = ?").bind(file_id.as_bytes()).fetch_optional(pool).await?.is_some());
        Ok(found)
    }

    /// How many checks are owed.
    pub async fn pending_checks(&self) -> Result<i64, StoreError> {
        self.ready().await?;
        let n: i64 = on_db!(self, pool => sqlx::query("SELECT COUNT(*) AS n FROM checks").fetch_one(pool).await?.try_get("n")?);
        Ok(n)
    }
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The object is there and keeps its folder's limits: what it really is.
    Stored {
        /// Its real length.
        size: i64,
        /// The type it is served with.
        content_type: Option<String>,
        /// Its CRC-64 (decimal), when the storage gave one.
        crc64: Option<String>,
    },
    /// The object broke its folder's limits, or could not be read for its check: it was
    /// deleted, for this reason.
    Refused(String),
    /// There is no object (not uploaded yet, or gone).
    Missing,
    /// The check could not be made (the storage did not answer).
    Failed,
}

/// A check's outcome: what it found, and when to look again (`None`: the check is done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What it found.
    pub verdict: Verdict,
    /// When to look again: while the link lives the object can still be replaced.
    pub next: Option<i64>,
}

impl Store {
    /// Writes a check's outcome, if this instance still holds it and no new link was issued
    /// for the file meanwhile (then that link's check stands). Whether it was written.
    ///
    /// The record follows the verdict: `stored` with what the object is, `refused` with why,
    /// and for a missing object at the end of its watch, `deleted` ("gone") if it had been
    /// stored, or no row at all if it never came (a link alone stores nothing).
    pub async fn complete(&self, check: &Claimed, outcome: &Outcome) -> Result<bool, StoreError> {
        self.ready().await?;
        let now = now_ms();
        let id = check.file_id.as_bytes();
        let (watch, attempts) = match outcome.verdict {
            Verdict::Stored { .. } | Verdict::Refused(_) => (1, "0"),
            Verdict::Missing => (0, "0"),
            Verdict::Failed => (0, "attempts + 1"),
        };
        // Only while this instance holds the check, for the same link.
        let mine = " WHERE file_id = ? AND lease_owner = ? AND link_ends_at = ?";
        let check_sql = match outcome.next {
            None => format!("DELETE FROM checks{mine}"),
            Some(_) => format!(
                "UPDATE checks SET due_at = ?, lease_owner = NULL, lease_until = NULL, watch = ?, attempts = {attempts}{mine}"
            ),
        };
        let written = on_db!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(check_sql.clone()));
            if let Some(at) = outcome.next {
                q = q.bind(at).bind(watch);
            }
            let held = q.bind(id).bind(&check.lease).bind(check.link_ends_at).execute(&mut *tx).await?.rows_affected() == 1;
            if held {
                match &outcome.verdict {
                    Verdict::Stored { size, content_type, crc64 } => {
                        sqlx::query("UPDATE files SET state = 'stored', reason = NULL, size = ?, content_type = ?, crc64 = ?, updated_at = ? WHERE file_id = ?")
                            .bind(*size).bind(content_type.as_deref()).bind(crc64.as_deref()).bind(now).bind(id)
                            .execute(&mut *tx).await?;
                    }
                    Verdict::Refused(reason) => {
                        sqlx::query("UPDATE files SET state = 'refused', reason = ?, updated_at = ? WHERE file_id = ?")
                            .bind(reason).bind(now).bind(id).execute(&mut *tx).await?;
                    }
                    Verdict::Missing if outcome.next.is_none() => {
                        sqlx::query("DELETE FROM files WHERE file_id = ? AND state = 'pending'").bind(id).execute(&mut *tx).await?;
                        sqlx::query("UPDATE files SET state = 'deleted', reason = 'gone', updated_at = ? WHERE file_id = ? AND state = 'stored'")
                            .bind(now).bind(id).execute(&mut *tx).await?;
                    }
                    Verdict::Missing | Verdict::Failed => {}
                }
            }
            tx.commit().await?;
            held
        });
        Ok(written)
    }
}
