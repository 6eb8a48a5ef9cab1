//! Splitting file-ID lists into the chunks WeChat accepts.
//!
//! `tcb/batchdownloadfile` and `tcb/batchdeletefile` take at most 50 items per call.
//! Callers hand the library any number; it sends chunks in order and concatenates the
//! results, so result `i` always belongs to input `i`.

/// The most items one `batchdownloadfile` / `batchdeletefile` call accepts.
pub const MAX_BATCH: usize = 50;

/// `items` in consecutive chunks of at most [`MAX_BATCH`], in order. Empty input gives
/// no chunks.
pub fn chunks<T>(items: &[T]) -> std::slice::Chunks<'_, T> {
    items.chunks(MAX_BATCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_into_fifties_preserving_order() {
        let ids: Vec<u32> = (0..120).collect();
        let sizes: Vec<usize> = chunks(&ids).map(<[u32]>::len).collect();
        assert_eq!(sizes, [50, 50, 20]);
        let rejoined: Vec<u32> = chunks(&ids).flatten().copied().collect();
        assert_eq!(rejoined, ids);
        assert_eq!(chunks::<u32>(&[]).count(), 0);
        assert_eq!(chunks(&ids[..50]).count(), 1);
    }
}
