//! Group commit: writes that arrive while a commit is on its way to disk wait for the
//! next one, which writes them all in one transaction. Each is answered only after its
//! commit, so an answer still means "on disk", but many answers share one disk sync.
//!
//! A batch that fails as a whole (or whose commit fails) is written again item by item,
//! each in its own transaction, so that one bad write cannot sink the others. A batch may
//! also answer an error for one item and still commit the rest (the ledger does this with
//! a savepoint per item).

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::{Db, Tx};
use crate::error::{AppError, AppResult};

/// What a group writes.
pub trait Batch: Send + Sync + 'static {
    type Item: Send + Sync + 'static;
    type Out: Send + 'static;

    /// Writes `items` in `tx`, answering one result per item, in order. An `Err` sinks the
    /// whole batch.
    fn write<'a>(
        &'a self,
        tx: &'a mut Tx,
        items: &'a [Self::Item],
    ) -> BoxFuture<'a, AppResult<Vec<AppResult<Self::Out>>>>;
}

struct Job<B: Batch> {
    item: B::Item,
    done: oneshot::Sender<AppResult<B::Out>>,
}

/// The queue of one kind of write, and the task that commits it.
pub struct Committer<B: Batch> {
    sender: mpsc::Sender<Job<B>>,
}

impl<B: Batch> Committer<B> {
    /// Starts the writer task; a batch holds at most `max` items.
    pub fn start(db: Db, batch: B, max: usize) -> Committer<B> {
        let (sender, rx) = mpsc::channel(max.max(1) * 10);
        tokio::spawn(run(db, Arc::new(batch), rx, max.max(1)));
        Committer { sender }
    }

    /// Queues `item` for the next commit and waits for it.
    pub async fn submit(&self, item: B::Item) -> AppResult<B::Out> {
        let (done, wait) = oneshot::channel();
        self.sender
            .send(Job { item, done })
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the write queue is closed")))?;
        wait.await.map_err(|_| AppError::Internal(anyhow::anyhow!("the write was dropped")))?
    }
}

async fn run<B: Batch>(db: Db, batch: Arc<B>, mut rx: mpsc::Receiver<Job<B>>, max: usize) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < max {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let (items, answers): (Vec<B::Item>, Vec<_>) = jobs.into_iter().map(|j| (j.item, j.done)).unzip();
        match write(&db, &*batch, &items).await {
            Ok(results) => {
                for (done, r) in answers.into_iter().zip(results) {
                    let _ = done.send(r);
                }
            }
            Err(_) if items.len() > 1 => {
                for (item, done) in items.into_iter().zip(answers) {
                    let r = write(&db, &*batch, std::slice::from_ref(&item)).await.and_then(one);
                    let _ = done.send(r);
                }
            }
            Err(e) => {
                if let Some(done) = answers.into_iter().next() {
                    let _ = done.send(Err(e));
                }
            }
        }
    }
}

async fn write<B: Batch>(db: &Db, batch: &B, items: &[B::Item]) -> AppResult<Vec<AppResult<B::Out>>> {
    let mut tx = db.begin().await?;
    let results = batch.write(&mut tx, items).await?;
    if results.len() != items.len() {
        return Err(AppError::Internal(anyhow::anyhow!("a batch answered {} of {} items", results.len(), items.len())));
    }
    tx.commit().await?;
    Ok(results)
}

fn one<T>(mut results: Vec<AppResult<T>>) -> AppResult<T> {
    results.pop().unwrap_or_else(|| Err(AppError::Internal(anyhow::anyhow!("a batch answered nothing"))))
}
