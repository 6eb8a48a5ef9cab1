//! Group commit: the writes of requests that arrive together go to the database as one
//! transaction, so a busy backend pays for one commit (and, on MySQL, one log flush) per
//! group instead of one per request, and one statement per counter name or table instead
//! of one per request.
//!
//! There is no writer task (Cloud Run allows no work outside a request): each request puts
//! its write in the queue and waits for the group's turn. The request that gets the turn
//! and finds its write still queued takes the whole queue and flushes it; the requests
//! that queued behind it meanwhile form the next group. A flush runs as its own task, so a
//! leader whose client goes away (its request future is dropped) still delivers every
//! answer of its group; the turn is released only once the answers are sent, so a request
//! that gets the turn and finds its answer already there returns it.

use std::{
    future::Future,
    sync::{Arc, Mutex},
};

use tokio::sync::{oneshot, Mutex as Turn};

/// A queue of writes of type `Op`, each answered with an `Out`.
pub(super) struct Group<Op, Out> {
    queue: Mutex<Vec<(Op, oneshot::Sender<Out>)>>,
    turn: Arc<Turn<()>>,
}

impl<Op, Out> Default for Group<Op, Out> {
    fn default() -> Self {
        Group { queue: Mutex::new(Vec::new()), turn: Arc::new(Turn::new(())) }
    }
}

impl<Op, Out> std::fmt::Debug for Group<Op, Out> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queued = self.queue.lock().map_or(0, |queue| queue.len());
        f.debug_struct("Group").field("queued", &queued).finish()
    }
}

impl<Op: Send + 'static, Out: Send + 'static> Group<Op, Out> {
    /// Queues `op` and waits for its answer. `flush` writes a whole group (in queue order)
    /// and answers each of its writes, in the same order; it is called only by the request
    /// that leads the group. `None` when the flush failed to answer (it panicked).
    pub(super) async fn submit<F, Fut>(&self, op: Op, flush: F) -> Option<Out>
    where
        F: FnOnce(Vec<Op>) -> Fut,
        Fut: Future<Output = Vec<Out>> + Send + 'static,
    {
        let (sender, mut answer) = oneshot::channel();
        self.queue.lock().expect("group queue").push((op, sender));
        let turn = self.turn.clone().lock_owned().await;
        match answer.try_recv() {
            Ok(out) => return Some(out),
            Err(oneshot::error::TryRecvError::Closed) => return None,
            Err(oneshot::error::TryRecvError::Empty) => {}
        }
        // Still queued (nobody else took the queue while this request waited), so this
        // request leads the group: everything queued up to now.
        let (ops, senders): (Vec<Op>, Vec<oneshot::Sender<Out>>) =
            std::mem::take(&mut *self.queue.lock().expect("group queue")).into_iter().unzip();
        let writes = flush(ops);
        tokio::spawn(async move {
            for (sender, out) in senders.into_iter().zip(writes.await) {
                // A request that went away meanwhile no longer waits for its answer.
                let _ = sender.send(out);
            }
            drop(turn);
        });
        answer.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::atomic::{AtomicUsize, Ordering},
        time::Duration,
    };

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_form_groups_and_each_gets_its_own_answer() {
        let group = Arc::new(Group::<u32, u32>::default());
        let flushes = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for n in 0..200u32 {
            let (group, flushes) = (group.clone(), flushes.clone());
            tasks.push(tokio::spawn(async move {
                let flush = |ops: Vec<u32>| async move {
                    flushes.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    ops.into_iter().map(|op| op * 10).collect::<Vec<_>>()
                };
                group.submit(n, flush).await
            }));
        }
        for (n, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), Some(n as u32 * 10), "each write gets its own answer");
        }
        let flushes = flushes.load(Ordering::Relaxed);
        assert!(flushes < 100, "200 writes arriving together took {flushes} flushes");
    }

    #[tokio::test]
    async fn a_leader_that_goes_away_still_answers_its_group() {
        let group = Arc::new(Group::<u32, u32>::default());
        let (first_done, first_wait) = oneshot::channel::<()>();
        let (second_done, second_wait) = oneshot::channel::<()>();
        let flushed = Arc::new(Mutex::new(Vec::new()));
        let submit = |op: u32, wait: Option<oneshot::Receiver<()>>| {
            let (group, flushed) = (group.clone(), flushed.clone());
            tokio::spawn(async move {
                let flush = |ops: Vec<u32>| async move {
                    flushed.lock().unwrap().push(ops.clone());
                    if let Some(wait) = wait {
                        let _ = wait.await;
                    }
                    ops
                };
                group.submit(op, flush).await
            })
        };
        let pause = || tokio::time::sleep(Duration::from_millis(20));
        // 0 holds the turn; 1 and 2 queue behind it and form the next group, led by 1.
        let first = submit(0, Some(first_wait));
        pause().await;
        let leader = submit(1, Some(second_wait));
        pause().await;
        let follower = submit(2, None);
        pause().await;
        first_done.send(()).unwrap();
        pause().await;
        leader.abort();
        pause().await;
        second_done.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Some(0));
        assert_eq!(follower.await.unwrap(), Some(2), "answered by the flush of a leader that went away");
        assert_eq!(*flushed.lock().unwrap(), vec![vec![0], vec![1, 2]]);
    }

    #[tokio::test]
    async fn a_flush_that_panics_answers_none_and_the_group_goes_on() {
        let group = Group::<u32, u32>::default();
        let out = group.submit(1, |_| async { panic!("the database went away") }).await;
        assert_eq!(out, None);
        assert_eq!(group.submit(2, |ops| async move { ops }).await, Some(2));
    }
}
