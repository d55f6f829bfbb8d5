//! Embedded migrations, applied at start.
//!
//! One set of files in `migrations/`, written in PostgreSQL's dialect restricted to what
//! SQLite also understands. The few type names SQLite lacks are rewritten here. A file
//! `NNNN_name.postgres.sql` or `NNNN_name.sqlite.sql` holds statements for one backend only
//! (triggers, sequences) and runs right after the shared `NNNN_name.sql`.
//! Released migrations are never edited: add a new one (expand, then contract).

use anyhow::{Context, bail};
use rust_embed::RustEmbed;
use sqlx::AssertSqlSafe;

use super::{Db, DbKind, TxInner, now_ms, query};

#[derive(RustEmbed)]
#[folder = "migrations/"]
#[include = "*.sql"]
struct Files;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub sql: String,
}

/// The migrations for one backend, in order.
pub fn migrations(kind: DbKind) -> anyhow::Result<Vec<Migration>> {
    // (version, name, backend-specific?, file): shared statements run before the
    // backend-specific ones of the same version.
    let mut files = Vec::new();
    for file in Files::iter() {
        let stem = file.trim_end_matches(".sql");
        let (stem, only) = match stem.rsplit_once('.') {
            Some((s, "postgres")) => (s, Some(DbKind::Postgres)),
            Some((s, "sqlite")) => (s, Some(DbKind::Sqlite)),
            Some(_) => bail!("unexpected migration file name {file}"),
            None => (stem, None),
        };
        if only.is_some_and(|k| k != kind) {
            continue;
        }
        let (num, name) = stem.split_once('_').with_context(|| format!("migration {file} needs NNNN_name"))?;
        let version: i64 = num.parse().with_context(|| format!("migration {file} needs a number"))?;
        files.push((version, name.to_string(), only.is_some(), file.to_string()));
    }
    files.sort();
    let mut out: Vec<Migration> = Vec::new();
    for (version, name, _, file) in files {
        let body = Files::get(&file).expect("listed file exists").data;
        let sql = dialect(kind, std::str::from_utf8(&body)?);
        match out.last_mut() {
            Some(prev) if prev.version == version => prev.sql.push_str(&sql),
            _ => out.push(Migration { version, name, sql }),
        }
    }
    Ok(out)
}

/// Rewrites PostgreSQL type names that SQLite would give the wrong affinity.
fn dialect(kind: DbKind, sql: &str) -> String {
    match kind {
        DbKind::Postgres => sql.to_string(),
        DbKind::Sqlite => sql.replace("JSONB", "TEXT").replace("BYTEA", "BLOB"),
    }
}

/// Applies every migration not yet applied. Safe to run from several processes at once.
pub async fn run(db: &Db) -> anyhow::Result<Vec<Migration>> {
    let all = migrations(db.kind())?;
    let mut applied_now = Vec::new();
    let mut tx = db.begin().await?;
    if let TxInner::Pg(t) = tx.inner() {
        // Serialise concurrent starts of several server processes.
        sqlx::query("SELECT pg_advisory_xact_lock(7274011)").execute(&mut **t).await?;
    }
    if db.is_citus() {
        // Migrations may touch every shard (a new column, a data fix).
        super::citus::allow_span(tx.inner()).await?;
    }
    query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .execute(&mut tx)
    .await?;
    let done: Vec<i64> = query("SELECT version FROM schema_migrations").scalars(&mut tx).await?;
    for m in all {
        if done.contains(&m.version) {
            continue;
        }
        tracing::info!(version = m.version, name = %m.name, "applying migration");
        let sql = AssertSqlSafe(m.sql.clone());
        match tx.inner() {
            TxInner::Sqlite(t) => sqlx::raw_sql(sql).execute(&mut **t).await.map(|_| ()),
            TxInner::Pg(t) => sqlx::raw_sql(sql).execute(&mut **t).await.map(|_| ()),
        }
        .with_context(|| format!("migration {} {}", m.version, m.name))?;
        query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name.as_str())
            .bind(now_ms())
            .execute(&mut tx)
            .await?;
        applied_now.push(m);
    }
    if db.is_citus() {
        super::citus::distribute(&mut tx).await.context("placing the tables on the Citus cluster")?;
    }
    tx.commit().await?;
    Ok(applied_now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_and_backend_specific_parts_join_their_version() {
        for kind in [DbKind::Sqlite, DbKind::Postgres] {
            let ms = migrations(kind).unwrap();
            assert!(!ms.is_empty());
            assert!(ms.windows(2).all(|w| w[0].version < w[1].version));
        }
        let sqlite = migrations(DbKind::Sqlite).unwrap();
        assert!(sqlite.iter().all(|m| !m.sql.contains("JSONB") && !m.sql.contains("BYTEA")));
        let pg = migrations(DbKind::Postgres).unwrap();
        assert!(pg[0].sql.contains("CREATE SEQUENCE"));
    }
}
