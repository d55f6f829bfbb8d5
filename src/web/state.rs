//! What every handler shares: the database, the keys, the configuration, the capabilities
//! this server runs and what they keep while it runs.

use std::sync::Arc;
use std::time::Instant;

use axum::http::Extensions;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::ExposeSecret;

use super::capability::Capability;
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::Actor;
use crate::config::Config;
use crate::db::{self, Db};
use crate::services::notify::Bus;
use crate::services::pii::Pii;
use crate::services::records::{self, model::NewCommunityFn};
use crate::services::{audit, ledger};

/// One `Arc`, so that handing it to each request costs one reference count, not one per
/// part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub db: Db,
    pub pii: Arc<Pii>,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
    pub started: Instant,
    /// Live news to open pages (`services::notify`).
    pub bus: Arc<Bus>,
    /// The national holiday calendar every schedule follows (`services::hours`).
    pub holidays: crate::services::hours::store::Holidays,
    /// Each community's opening hours as last read, for the public search (`services::hours`).
    pub hours: crate::services::hours::store::Kept,
    /// The capabilities this server runs (`capabilities::ALL`).
    pub caps: &'static [&'static Capability],
    /// What each capability keeps while the server runs, by type (`AppState::runtime`).
    runtimes: Extensions,
    /// Turns true when the server starts to shut down, so that endless answers (the live
    /// event streams) end and the requests in flight can finish.
    pub stopping: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// Connects, migrates, loads keys and lets each capability put its data in order:
    /// everything a command needs before it works.
    pub async fn open(config: Config, caps: &'static [&'static Capability]) -> anyhow::Result<AppState> {
        std::fs::create_dir_all(&config.data_dir)?;
        let db = Db::connect(config.database_url.expose_secret(), config.db_max_connections).await?;
        let applied = db::migrate::run(&db).await?;
        if !applied.is_empty() {
            tracing::info!(count = applied.len(), "database migrated");
        }
        let linked = db::chain::link_unlinked(&db, &[&audit::CHAIN, &ledger::CHAIN]).await?;
        if linked > 0 {
            tracing::info!(rows = linked, "rows written before chains were linked");
        }
        let pii = Pii::load(&config)?;
        records::register(caps.iter().flat_map(|c| c.records.iter().copied()));
        records::model::register_settings(caps.iter().flat_map(|c| c.settings.iter().copied()));
        for cap in caps {
            if let Some(start) = cap.on_start {
                start(&db, &pii).await?;
            }
        }
        let mut runtimes = Extensions::new();
        for cap in caps {
            if let Some(init) = cap.runtime {
                init(&mut runtimes);
            }
        }
        Ok(AppState(Arc::new(Shared {
            db,
            pii: Arc::new(pii),
            config: Arc::new(config),
            metrics: super::ops::metrics_handle(),
            started: Instant::now(),
            bus: Arc::new(Bus::default()),
            holidays: Default::default(),
            hours: Default::default(),
            caps,
            runtimes,
            stopping: tokio::sync::watch::Sender::new(false),
        })))
    }

    /// What a capability keeps while the server runs (registered by its `runtime`).
    pub fn runtime<T: Send + Sync + 'static>(&self) -> &T {
        self.runtimes.get::<T>().expect("each capability registers its runtime at start")
    }

    /// What a new community gets from each capability.
    pub fn new_community_hooks(&self) -> Vec<NewCommunityFn> {
        self.caps.iter().filter_map(|c| c.on_new_community).collect()
    }

    /// The community a user works in first (their first community-level role).
    pub async fn home_community(&self, actor: &Actor) -> Option<CommunityRef> {
        let id = actor.grants.iter().find_map(|g| g.community_id)?;
        let mut conn = self.db.read().await.ok()?;
        guard::community_by_id(&mut conn, id).await.ok().flatten()
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
