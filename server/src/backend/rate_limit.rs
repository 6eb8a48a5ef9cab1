//! Requests per key (a user ID, or a client address for failed sign-ins) per minute.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// A fixed one-minute window per key; windows that have run out are forgotten, so memory
/// stays bounded by the keys of the last minute.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter { window: Duration::from_secs(60), windows: Mutex::default() }
    }
}

/// How many keys the limiter holds before it forgets the windows that have run out.
const PRUNE_AT: usize = 1024;

impl RateLimiter {
    /// Counts one request; `Err(seconds to wait)` when over `limit` in the window.
    pub(crate) fn check(&self, key: &str, limit: u32) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap();
        if windows.len() >= PRUNE_AT {
            windows.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let (start, count) = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(*start) >= self.window {
            *start = now;
            *count = 0;
        }
        if *count >= limit {
            let left = self.window.saturating_sub(now.duration_since(*start));
            return Err((left.as_secs_f64().ceil() as u64).max(1));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_counts_per_key() {
        let limiter = RateLimiter::default();
        assert!(limiter.check("a", 2).is_ok());
        assert!(limiter.check("a", 2).is_ok());
        assert_eq!(limiter.check("a", 2), Err(60));
        assert!(limiter.check("b", 2).is_ok());
    }

    #[test]
    fn the_limiter_forgets_windows_that_ran_out() {
        let limiter = RateLimiter { window: Duration::from_millis(20), windows: Mutex::default() };
        for i in 0..PRUNE_AT {
            limiter.check(&format!("user-{i}"), 1).unwrap();
        }
        std::thread::sleep(Duration::from_millis(30));
        limiter.check("late", 1).unwrap();
        assert_eq!(limiter.windows.lock().unwrap().len(), 1, "only the live window is kept");
    }
}
