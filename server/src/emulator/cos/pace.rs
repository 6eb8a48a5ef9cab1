//! The `cos_bytes_per_second` fault: COS reads an upload body no faster than a slow
//! uplink would bring it. The pace is kept over the whole body (each chunk waits until the
//! bytes so far are due), not per chunk: a sleep per chunk rounds up to the timer's
//! millisecond, so a client that sends small chunks was slowed far below the rate.

use std::time::Duration;

use tokio::time::Instant;

/// The pace of one upload body.
#[derive(Debug)]
pub(super) struct Pace {
    started: Instant,
    bytes_per_second: u64,
    received: u64,
}

impl Pace {
    /// A pace of `bytes_per_second` (0: none) from now.
    pub(super) fn new(bytes_per_second: u64) -> Pace {
        Pace { started: Instant::now(), bytes_per_second, received: 0 }
    }

    /// Counts `bytes` more, and waits until they are due.
    pub(super) async fn received(&mut self, bytes: usize) {
        if self.bytes_per_second == 0 {
            return;
        }
        self.received += bytes as u64;
        let due = self.started + Duration::from_secs_f64(self.received as f64 / self.bytes_per_second as f64);
        tokio::time::sleep_until(due).await;
    }
}
