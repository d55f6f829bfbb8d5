//! Live updates: each notification also reaches the people concerned on their open pages,
//! through server-sent events.
//!
//! The news goes through the database so that several server processes sharing one
//! PostgreSQL all hear it: `pg_notify` inside the writing transaction (delivered on
//! commit, in commit order) and a listener per process. SQLite is one process: the news
//! is handed to the local listeners when the transaction commits.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{OnceCell, broadcast};

use crate::db::{Db, Tx, TxInner};

const CHANNEL: &str = "linli_live";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct News {
    pub community_id: i64,
    /// What it is about (`ticket`, `service_record`, …) and which one, if anything.
    pub subject_kind: Option<String>,
    pub subject_id: Option<i64>,
    /// Who should hear it.
    pub users: Vec<i64>,
    /// The action that happened (`submit`, `accept`, …).
    pub action: String,
    pub text: String,
}

pub struct Bus {
    sender: broadcast::Sender<News>,
    listening: OnceCell<()>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus { sender: broadcast::channel(1024).0, listening: OnceCell::new() }
    }
}

impl Bus {
    /// Sends `news` when `tx` commits.
    pub async fn publish(&self, tx: &mut Tx, news: News) -> Result<(), sqlx::Error> {
        if news.users.is_empty() {
            return Ok(());
        }
        match tx.inner() {
            TxInner::Pg(t) => {
                let payload = serde_json::to_string(&news).expect("news serialises");
                sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&mut **t).await?;
            }
            TxInner::Sqlite(_) => {
                let sender = self.sender.clone();
                tx.after_commit(move || {
                    let _ = sender.send(news);
                });
            }
        }
        Ok(())
    }

    /// A receiver of all news; on PostgreSQL the first call starts this process's listener.
    pub async fn subscribe(self: &Arc<Self>, db: &Db) -> broadcast::Receiver<News> {
        if let Some(pool) = db.pg_pool() {
            let sender = self.sender.clone();
            let pool = pool.clone();
            self.listening
                .get_or_init(|| async move {
                    tokio::spawn(listen(pool, sender));
                })
                .await;
        }
        self.sender.subscribe()
    }
}

/// Forwards PostgreSQL notifications to this process's subscribers, reconnecting when
/// the connection drops.
async fn listen(pool: sqlx::PgPool, sender: broadcast::Sender<News>) {
    loop {
        match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if listener.listen(CHANNEL).await.is_ok() {
                    while let Ok(n) = listener.recv().await {
                        if let Ok(news) = serde_json::from_str::<News>(n.payload()) {
                            let _ = sender.send(news);
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "live updates: cannot listen on PostgreSQL"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
