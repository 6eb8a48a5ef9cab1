//! What the faults do to an upload body as COS reads it, a form's file part or a part of
//! a multipart upload alike: `cos_bytes_per_second` paces the read, `corrupt_next` flips
//! the first byte stored (so its ETag and CRC-64 differ from what was sent), and the
//! connection is dropped mid-body, after the first chunk (`drop_next`) or once
//! `drop_after_bytes` more bytes have come, as a network failure would drop it.
//!
//! The pace is kept over the whole body (each chunk waits until the bytes so far are due),
//! not per chunk: a sleep per chunk rounds up to the timer's millisecond, so a client that
//! sends small chunks was slowed far below the rate.

use std::time::Duration;

use axum::Extension;
use tokio::time::Instant;

use super::{errors::Refusal, get_object::internal};
use crate::{
    emulator::{store::Upload, State as Emulator},
    http::DropConnection,
};

/// The faults acting on one upload body, drawn when its reading starts.
#[derive(Debug)]
pub(super) struct BodyFaults {
    started: Instant,
    bytes_per_second: u64,
    received: u64,
    corrupt: bool,
    drop_first: bool,
    drop: Option<Extension<DropConnection>>,
}

impl BodyFaults {
    /// The faults for a body about to be read from the connection `drop` closes;
    /// `drop_first`: the `drop_next` fault drew this request.
    pub(super) fn draw(
        state: &Emulator,
        drop: Option<Extension<DropConnection>>,
        drop_first: bool,
    ) -> BodyFaults {
        let mut faults = state.faults.lock().unwrap();
        BodyFaults {
            started: Instant::now(),
            bytes_per_second: faults.cos_bytes_per_second,
            received: 0,
            corrupt: faults.take_corrupt(),
            drop_first,
            drop,
        }
    }

    /// Stores the body's next `chunk` in `upload`, as the faults have it. When the
    /// connection is to be dropped here, `upload` is dropped first (no part file is left)
    /// and this never returns: the handler is cancelled with its connection.
    pub(super) async fn write(
        &mut self,
        state: &Emulator,
        mut upload: Upload,
        chunk: &[u8],
    ) -> Result<Upload, Refusal> {
        self.pace(chunk.len()).await;
        if self.corrupt && !chunk.is_empty() {
            self.corrupt = false;
            let mut flipped = chunk.to_vec();
            flipped[0] ^= 0xff;
            upload.write(&flipped).await.map_err(internal)?;
        } else {
            upload.write(chunk).await.map_err(internal)?;
        }
        let dropped = self.drop_first || state.faults.lock().unwrap().take_drop_after(chunk.len() as u64);
        if let (true, Some(Extension(drop))) = (dropped, &self.drop) {
            std::mem::drop(upload);
            drop.now().await;
        }
        Ok(upload)
    }

    /// Counts `bytes` more, and waits until they are due at the fault's pace.
    async fn pace(&mut self, bytes: usize) {
        if self.bytes_per_second == 0 {
            return;
        }
        self.received += bytes as u64;
        let due = self.started + Duration::from_secs_f64(self.received as f64 / self.bytes_per_second as f64);
        tokio::time::sleep_until(due).await;
    }
}
