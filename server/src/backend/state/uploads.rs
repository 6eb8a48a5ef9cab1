//! The multipart uploads this backend started: which key, owner, size and part size each
//! upload ID is for (a client names only the upload ID; everything it may do with it
//! comes from here), and where each stands. An upload moves by conditional updates, so
//! exactly one request moves it out of `open`: `open` → `completing` → `done`, or `open`
//! → `aborting` → `aborted`. Each part signed touches it; one not touched for the idle
//! time is claimed by a request's sweep (under a lease, as checks are) and aborted. A
//! `completing` or `aborting` upload whose holder died is claimed again once its lease
//! ends, and aborted (COS answers that a completed one is gone, and its object's check,
//! owed since the start, finds what was stored).

use std::time::Duration;

use sqlx::Row;

use super::{now_ms, on_db, Store, StoreError};

/// A multipart upload as the record holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartUpload {
    /// COS's upload ID.
    pub upload_id: String,
    /// The file it makes.
    pub file_id: String,
    /// Its key.
    pub key: String,
    /// The object's URL (as `tcb/uploadfile` named it).
    pub url: String,
    /// Who started it (`user:<uid>` / `address:<ip>`).
    pub owner: String,
    /// The declared size: the parts signed add up to exactly this.
    pub size: i64,
    /// Every part but the last is exactly this long.
    pub part_size: i64,
    /// The type the object is stored with.
    pub content_type: Option<String>,
    /// Until when its object's check treats it as still changing (ms since the epoch).
    pub link_ends_at: i64,
    /// `open`, `completing`, `done`, `aborting` or `aborted`.
    pub state: String,
}

const COLUMNS: &str =
    "upload_id, file_id, object_key, url, owner, size, part_size, content_type, link_ends_at, state";

impl Store {
    /// Records an upload just initiated (`open`).
    pub async fn upload_started(&self, upload: &MultipartUpload) -> Result<(), StoreError> {
        self.ready().await?;
        let now = now_ms();
        let sql = format!("INSERT INTO uploads ({COLUMNS}, created_at, touched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)");
        on_db!(self, pool => sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(upload.upload_id.as_bytes()).bind(upload.file_id.as_bytes()).bind(upload.key.as_bytes())
            .bind(upload.url.as_bytes()).bind(&upload.owner).bind(upload.size).bind(upload.part_size)
            .bind(&upload.content_type).bind(upload.link_ends_at).bind(now).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The upload `upload_id`, if this backend started it.
    pub async fn multipart_upload(&self, upload_id: &str) -> Result<Option<MultipartUpload>, StoreError> {
        self.ready().await?;
        let sql = format!("SELECT {COLUMNS} FROM uploads WHERE upload_id = ?");
        let found = on_db!(self, pool => match sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(upload_id.as_bytes()).fetch_optional(pool).await? {
            Some(row) => Some(read(&row)?),
            None => None,
        });
        Ok(found)
    }

    /// Moves `upload_id` from state `from` to `to` (touching it): whether this call moved it.
    pub async fn move_upload(
        &self,
        upload_id: &str,
        from: &str,
        to: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        self.ready().await?;
        let now = now_ms();
        let until = now + lease.as_millis() as i64;
        let sql = "UPDATE uploads SET state = ?, touched_at = ?, lease_owner = ?, lease_until = ? WHERE upload_id = ? AND state = ?";
        let moved = on_db!(self, pool => sqlx::query(sql).bind(to).bind(now).bind(&self.instance).bind(until)
            .bind(upload_id.as_bytes()).bind(from).execute(pool).await?.rows_affected());
        Ok(moved == 1)
    }

    /// Notes that a part of `upload_id` was just signed: whether it is still open.
    pub async fn touch_upload(&self, upload_id: &str) -> Result<bool, StoreError> {
        self.ready().await?;
        let sql = "UPDATE uploads SET touched_at = ? WHERE upload_id = ? AND state = 'open'";
        let touched = on_db!(self, pool => sqlx::query(sql).bind(now_ms()).bind(upload_id.as_bytes()).execute(pool).await?.rows_affected());
        Ok(touched == 1)
    }

    /// Claims up to `limit` uploads to abort: open ones not touched since `idle_before`, and
    /// completing or aborting ones whose holder's lease ended. Each is `aborting` under a
    /// new lease when returned.
    pub async fn claim_idle_uploads(
        &self,
        idle_before: i64,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<MultipartUpload>, StoreError> {
        self.ready().await?;
        let (now, name) = (now_ms(), self.lease_name());
        let until = now + lease.as_millis() as i64;
        let idle = "(state = 'open' AND touched_at < ?) OR (state IN ('completing', 'aborting') AND lease_until < ?)";
        let claim = match self.engine() {
            "mysql" => format!("UPDATE uploads SET state = 'aborting', lease_owner = ?, lease_until = ? WHERE {idle} LIMIT ?"),
            _ => format!(
                "UPDATE uploads SET state = 'aborting', lease_owner = ?, lease_until = ? \
                 WHERE upload_id IN (SELECT upload_id FROM uploads WHERE {idle} LIMIT ?)"
            ),
        };
        let select = format!("SELECT {COLUMNS} FROM uploads WHERE lease_owner = ? AND state = 'aborting'");
        let claimed = on_db!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(claim.clone())).bind(&name).bind(until).bind(idle_before).bind(now)
                .bind(i64::from(limit)).execute(pool).await?;
            let mut out = Vec::new();
            for row in sqlx::query(sqlx::AssertSqlSafe(select.clone())).bind(&name).fetch_all(pool).await? {
                out.push(read(&row)?);
            }
            out
        });
        Ok(claimed)
    }

    /// An upload of `file_id` that was to end at `planned` completed at `now`: its object's
    /// check is due now, and the object no longer changes (unless a later link was issued
    /// for it meanwhile, which keeps its own end).
    pub async fn upload_completed(&self, file_id: &str, planned: i64) -> Result<(), StoreError> {
        self.ready().await?;
        let now = now_ms();
        let sql = "UPDATE checks SET link_ends_at = ?, due_at = ?, lease_owner = NULL, lease_until = NULL \
                   WHERE file_id = ? AND link_ends_at = ?";
        on_db!(self, pool => sqlx::query(sql).bind(now).bind(now).bind(file_id.as_bytes()).bind(planned)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// How many uploads are open.
    pub async fn open_uploads(&self) -> Result<i64, StoreError> {
        self.ready().await?;
        let n: i64 = on_db!(self, pool => sqlx::query("SELECT COUNT(*) AS n FROM uploads WHERE state = 'open'").fetch_one(pool).await?.try_get("n")?);
        Ok(n)
    }
}

fn read<R: Row>(row: &R) -> Result<MultipartUpload, sqlx::Error>
where
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    let bytes = |column: &str| -> Result<String, sqlx::Error> {
        Ok(String::from_utf8_lossy(&row.try_get::<Vec<u8>, _>(column)?).into_owned())
    };
    Ok(MultipartUpload {
        upload_id: bytes("upload_id")?,
        file_id: bytes("file_id")?,
        key: bytes("object_key")?,
        url: bytes("url")?,
        owner: row.try_get("owner")?,
        size: row.try_get("size")?,
        part_size: row.try_get("part_size")?,
        content_type: row.try_get("content_type")?,
        link_ends_at: row.try_get("link_ends_at")?,
        state: row.try_get("state")?,
    })
}
