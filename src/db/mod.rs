//! The one way to reach the database.
//!
//! SQL is written once, in the common subset of PostgreSQL and SQLite, with `$1`-style
//! parameters (sqlx's SQLite driver reads `$N` as positional). Everything that differs
//! between the two lives in this module: connecting, write transactions, id allocation,
//! schema types in migrations, backups and the shape of constraint errors.
//!
//! SQLite runs in WAL mode with one writer connection (every write transaction starts
//! `BEGIN IMMEDIATE` on it, so concurrent requests queue instead of failing with
//! "database is locked") and a pool of read-only connections.

pub mod chain;
pub mod citus;
mod errors;
pub mod group;
pub mod migrate;

pub use errors::{is_unavailable, unique_violation_field};

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{
    AssertSqlSafe, Decode, FromRow, PgConnection, PgPool, Postgres, Row as _, Sqlite, SqliteConnection, SqlitePool,
    Type,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    /// Appends "`column` starts with `prefix`" in the form each backend answers from an
    /// index.
    pub fn push_prefix(self, b: &mut Builder, column: &str, prefix: &str) {
        match self {
            // SQLite's BINARY collation is code point order: a range on the index.
            DbKind::Sqlite => {
                b.push(&format!("({column} >= ")).arg(prefix).push(&format!(" AND {column} < "));
                b.arg(format!("{prefix}\u{10FFFF}")).push(")");
            }
            // Locale collations do not sort like code points; a `text_pattern_ops`
            // index serves LIKE 'x%' whatever the collation.
            DbKind::Postgres => {
                b.push(&format!("{column} LIKE ")).arg(format!("{}%", escape_like(prefix))).push(" ESCAPE '\\'");
            }
        }
    }
}

impl DbKind {
    /// What makes a `SELECT` lock the rows it reads until the transaction ends: needed on
    /// PostgreSQL, where writers run side by side; SQLite's one writer holds them anyway.
    pub fn lock_rows(self) -> &'static str {
        match self {
            DbKind::Sqlite => "",
            DbKind::Postgres => " FOR UPDATE",
        }
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

#[derive(Clone)]
pub struct Db(Arc<Backend>);

enum Backend {
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    /// `citus`: the database is a Citus coordinator (`citus`).
    Postgres {
        pool: PgPool,
        citus: bool,
    },
}

/// A value that decodes from a column on both backends.
pub trait Col:
    for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres> + Send + Unpin
{
}
impl<T> Col for T where
    T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres> + Send + Unpin
{
}

/// A row type (`#[derive(sqlx::FromRow)]`) that decodes on both backends.
pub trait Record: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Record for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

/// How long a SQLite reader connection may sit unused before it is closed.
const READER_IDLE: Duration = Duration::from_secs(30);

impl Db {
    /// Connects (creating the SQLite file and its directory if needed). Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        if url.starts_with("postgres") {
            let opts = PgConnectOptions::from_str(url).context("parsing the PostgreSQL URL")?;
            let pool_of = |opts: PgConnectOptions| {
                PgPoolOptions::new()
                    .max_connections(max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(opts)
            };
            let mut pool = pool_of(opts.clone()).await.context("connecting to PostgreSQL")?;
            let citus = citus::detect(&pool).await.context("asking PostgreSQL for its extensions")?;
            if citus {
                pool.close().await;
                pool = pool_of(citus::session_options(opts)).await.context("connecting to Citus")?;
            }
            return Ok(Db(Arc::new(Backend::Postgres { pool, citus })));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .context("SQLite URL must look like sqlite://PATH")?;
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before it is acknowledged.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("temp_store", "memory")
            // Let the connection's thread hand over a page of rows without waiting for
            // each to be taken: far fewer thread switches per query.
            .row_buffer_size(4096);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            // The writer keeps more of the indexes it updates in memory (64 MiB at most).
            .connect_with(base.clone().create_if_missing(true).pragma("cache_size", "-65536"))
            .await
            .with_context(|| format!("opening SQLite database {path}"))?;
        let read = SqlitePoolOptions::new()
            .max_connections(max_connections.clamp(2, 4))
            .min_connections(1)
            // A reader keeps the pages it read and its thread's allocations; a server
            // left alone gives them back (a small office machine idles under 50 MB).
            .idle_timeout(READER_IDLE)
            .connect_with(base.read_only(true))
            .await
            .with_context(|| format!("opening SQLite database {path} for reading"))?;
        Ok(Db(Arc::new(Backend::Sqlite { read, write })))
    }

    /// The SQLite file, for a reader that goes to it directly (the chain check); none on
    /// PostgreSQL.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        match &*self.0 {
            Backend::Sqlite { read, .. } => {
                Some(read.connect_options().get_filename().to_path_buf()).filter(|p| p.is_file())
            }
            Backend::Postgres { .. } => None,
        }
    }

    pub fn kind(&self) -> DbKind {
        match &*self.0 {
            Backend::Sqlite { .. } => DbKind::Sqlite,
            Backend::Postgres { .. } => DbKind::Postgres,
        }
    }

    /// What runs it, for operators: `sqlite`, `postgres` or `citus`.
    pub fn engine(&self) -> &'static str {
        match &*self.0 {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres { citus: false, .. } => "postgres",
            Backend::Postgres { citus: true, .. } => "citus",
        }
    }

    pub fn is_citus(&self) -> bool {
        matches!(&*self.0, Backend::Postgres { citus: true, .. })
    }

    /// A connection for a view that reads across communities on purpose (`citus::Span`
    /// names which); on Citus it is a read-only transaction allowed to touch several
    /// shards, elsewhere a plain read connection.
    pub async fn span(&self, why: citus::Span) -> Result<Conn, sqlx::Error> {
        match &*self.0 {
            Backend::Postgres { pool, citus: true } => {
                tracing::trace!(?why, "reading across communities");
                let mut t = pool.begin().await?;
                sqlx::query("SET TRANSACTION READ ONLY").execute(&mut *t).await?;
                sqlx::query("SET LOCAL citus.multi_task_query_log_level = 'off'").execute(&mut *t).await?;
                Ok(Conn::PgSpan(t))
            }
            _ => self.read().await,
        }
    }

    /// A read connection for a view over the communities of a scope: a plain one for one
    /// community, a `Span::Subdistrict` for several.
    pub async fn read_over(&self, communities: &[i64]) -> Result<Conn, sqlx::Error> {
        if communities.len() > 1 { self.span(citus::Span::Subdistrict).await } else { self.read().await }
    }

    /// A write transaction for work meant to span communities (`citus::Span`).
    pub async fn begin_span(&self, why: citus::Span) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin().await?;
        if self.is_citus() {
            tracing::trace!(?why, "writing across communities");
            citus::allow_span(tx.inner()).await?;
        }
        Ok(tx)
    }

    /// Starts a write transaction. On SQLite it takes the single writer connection with
    /// `BEGIN IMMEDIATE`, so writers queue in the pool instead of failing.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match &*self.0 {
            Backend::Sqlite { write, .. } => Tx::new(TxInner::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?)),
            Backend::Postgres { pool, .. } => Tx::new(TxInner::Pg(pool.begin().await?)),
        })
    }

    /// A connection for reading.
    pub async fn read(&self) -> Result<Conn, sqlx::Error> {
        Ok(match &*self.0 {
            Backend::Sqlite { read, .. } => Conn::Sqlite(read.acquire().await?),
            Backend::Postgres { pool, .. } => Conn::Pg(pool.acquire().await?),
        })
    }

    /// The PostgreSQL pool, for LISTEN/NOTIFY and the like.
    pub fn pg_pool(&self) -> Option<&PgPool> {
        match &*self.0 {
            Backend::Postgres { pool, .. } => Some(pool),
            Backend::Sqlite { .. } => None,
        }
    }

    /// An online backup to `dest` (SQLite: `VACUUM INTO`, consistent while the server runs).
    pub async fn backup(&self, dest: &Path) -> anyhow::Result<()> {
        match &*self.0 {
            Backend::Sqlite { read, .. } => {
                anyhow::ensure!(!dest.exists(), "{} already exists", dest.display());
                let target = dest.to_str().context("backup path is not UTF-8")?.to_string();
                sqlx::query("VACUUM INTO $1").bind(target).execute(read).await?;
                Ok(())
            }
            Backend::Postgres { .. } => {
                anyhow::bail!("PostgreSQL is backed up with pg_dump (see docs/deployment.md), not by linli")
            }
        }
    }

    pub async fn close(&self) {
        match &*self.0 {
            Backend::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Backend::Postgres { pool, .. } => pool.close().await,
        }
    }
}

/// A write transaction. Dropped without `commit` it rolls back (and its after-commit
/// actions never run).
pub struct Tx {
    inner: TxInner,
    after_commit: Vec<Box<dyn FnOnce() + Send>>,
    /// Rows of chained tables written here, linked at commit (`chain`).
    chained: Vec<chain::Pending>,
}

pub enum TxInner {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Pg(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    fn new(inner: TxInner) -> Tx {
        Tx { inner, after_commit: Vec::new(), chained: Vec::new() }
    }

    pub fn kind(&self) -> DbKind {
        match self.inner {
            TxInner::Sqlite(_) => DbKind::Sqlite,
            TxInner::Pg(_) => DbKind::Postgres,
        }
    }

    /// The backend's own transaction, for what only one backend does.
    pub fn inner(&mut self) -> &mut TxInner {
        &mut self.inner
    }

    /// Runs `f` once the transaction has committed (e.g. to tell live pages).
    pub fn after_commit(&mut self, f: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(f));
    }

    /// Links a row just written to a chained table into its community's chain when the
    /// transaction commits; `values` are its covered columns, in the table's order.
    pub fn chain(&mut self, spec: &'static chain::Chained, community_id: i64, id: i64, values: &[Arg]) {
        let content = chain::content(community_id, id, values);
        self.chained.push(chain::Pending { spec, community_id, id, content, row: None });
    }

    /// Writes a row of a chained table when the transaction commits, already linked into
    /// its community's chain (one write, not a write and a link); for rows nothing reads
    /// back before then. `values` are its covered columns, which are all its columns but
    /// `community_id` and `id`.
    pub fn insert_chained(&mut self, spec: &'static chain::Chained, community_id: i64, id: i64, values: Vec<Arg>) {
        let content = chain::content(community_id, id, &values);
        self.chained.push(chain::Pending { spec, community_id, id, content, row: Some(values) });
    }

    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let chained = std::mem::take(&mut self.chained);
        if !chained.is_empty() {
            chain::link_pending(&mut self, chained).await?;
        }
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Pg(t) => t.commit().await?,
        }
        for f in self.after_commit {
            f();
        }
        Ok(())
    }

    /// Marks a point to come back to: a failure after it can be undone without losing
    /// what came before (a batch answers each item on its own this way).
    pub async fn savepoint(&mut self) -> Result<Savepoint, sqlx::Error> {
        query("SAVEPOINT linli_item").execute(self).await?;
        Ok(Savepoint { hooks: self.after_commit.len(), chained: self.chained.len() })
    }

    /// Keeps what was done since the savepoint.
    pub async fn release(&mut self, _: Savepoint) -> Result<(), sqlx::Error> {
        query("RELEASE SAVEPOINT linli_item").execute(self).await?;
        Ok(())
    }

    /// Undoes what was done since the savepoint, with its after-commit actions.
    pub async fn rollback_to(&mut self, sp: Savepoint) -> Result<(), sqlx::Error> {
        query("ROLLBACK TO SAVEPOINT linli_item").execute(self).await?;
        query("RELEASE SAVEPOINT linli_item").execute(self).await?;
        self.after_commit.truncate(sp.hooks);
        self.chained.truncate(sp.chained);
        Ok(())
    }

    /// The next number of a series in a community (a volunteer number, a proposal's next
    /// round). `highest` is the largest number the series' own rows hold today: the
    /// series starts after it, and never falls behind it. One upsert takes the number, so
    /// writers at the same time get different ones (PostgreSQL makes the second wait for
    /// the first's row; SQLite has one writer).
    pub async fn next_number(&mut self, community_id: i64, series: &str, highest: i64) -> Result<i64, sqlx::Error> {
        query(
            "INSERT INTO counters (community_id, series, value) VALUES ($1, $2, $3)
             ON CONFLICT (community_id, series) DO UPDATE SET value =
               CASE WHEN counters.value + 1 > excluded.value THEN counters.value + 1 ELSE excluded.value END
             RETURNING value",
        )
        .bind(community_id)
        .bind(series)
        .bind(highest.saturating_add(1))
        .scalar(self)
        .await
    }

    /// A fresh id, unique across all tables. SQLite keeps the counter in a table updated
    /// inside this transaction (a rollback returns the id; writers are serialised anyway);
    /// PostgreSQL uses a sequence, safe across processes.
    pub async fn next_id(&mut self) -> Result<i64, sqlx::Error> {
        Ok(self.next_ids(1).await?[0])
    }

    /// `n` fresh ids in one round trip.
    pub async fn next_ids(&mut self, n: usize) -> Result<Vec<i64>, sqlx::Error> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let n = n as i64;
        match &mut self.inner {
            TxInner::Sqlite(t) => {
                let last: i64 = sqlx::query_scalar("UPDATE id_seq SET value = value + $1 RETURNING value")
                    .bind(n)
                    .fetch_one(&mut **t)
                    .await?;
                Ok((last - n + 1..=last).collect())
            }
            TxInner::Pg(t) => {
                sqlx::query_scalar("SELECT nextval('id_seq') FROM generate_series(1, $1)")
                    .bind(n)
                    .fetch_all(&mut **t)
                    .await
            }
        }
    }
}

/// A point inside a transaction (see [`Tx::savepoint`]).
#[must_use]
pub struct Savepoint {
    hooks: usize,
    chained: usize,
}

/// A pooled read connection.
pub enum Conn {
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    Pg(sqlx::pool::PoolConnection<Postgres>),
    /// A read-only transaction allowed to span shards (`Db::span`).
    PgSpan(sqlx::Transaction<'static, Postgres>),
}

/// Something queries can run on: a transaction or a read connection.
pub trait Exec: Send {
    fn conn(&mut self) -> ConnRef<'_>;
}

pub enum ConnRef<'a> {
    Sqlite(&'a mut SqliteConnection),
    Pg(&'a mut PgConnection),
}

impl Exec for Tx {
    fn conn(&mut self) -> ConnRef<'_> {
        match &mut self.inner {
            TxInner::Sqlite(t) => ConnRef::Sqlite(t),
            TxInner::Pg(t) => ConnRef::Pg(t),
        }
    }
}

impl Exec for Conn {
    fn conn(&mut self) -> ConnRef<'_> {
        match self {
            Conn::Sqlite(c) => ConnRef::Sqlite(c),
            Conn::Pg(c) => ConnRef::Pg(c),
            Conn::PgSpan(t) => ConnRef::Pg(t),
        }
    }
}

/// A bound parameter, the same on both backends.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    I64(Option<i64>),
    F64(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Json(Option<serde_json::Value>),
    Date(Option<chrono::NaiveDate>),
}

macro_rules! arg_from {
    ($t:ty, $variant:ident, $conv:expr) => {
        impl From<$t> for Arg {
            fn from(v: $t) -> Arg {
                Arg::$variant(Some($conv(v)))
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Arg {
                Arg::$variant(v.map($conv))
            }
        }
    };
}
arg_from!(i64, I64, |v| v);
arg_from!(i32, I64, i64::from);
arg_from!(u32, I64, i64::from);
arg_from!(f64, F64, |v| v);
arg_from!(bool, Bool, |v| v);
arg_from!(String, Text, |v| v);
arg_from!(&str, Text, str::to_string);
arg_from!(&String, Text, String::clone);
arg_from!(Vec<u8>, Bytes, |v| v);
arg_from!(serde_json::Value, Json, |v| v);

arg_from!(chrono::NaiveDate, Date, |v| v);

/// A query written once for both backends.
#[must_use]
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<Arg>,
}

/// Starts a query. Parameters are `$1`, `$2`, … in the order they are bound.
pub fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query { sql: sql.into(), args: Vec::new() }
}

/// For SQLite, big statements whose parameters are `$1, $2, … $n` in order get plain `?`
/// placeholders: SQLite looks up each named parameter by walking a list, which makes
/// binding thousands of them quadratic.
fn sqlite_sql(sql: Cow<'static, str>, args: usize) -> Cow<'static, str> {
    if args < 64 {
        return sql;
    }
    let mut out = String::with_capacity(sql.len());
    let mut next = 1usize;
    let mut rest = sql.as_ref();
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let len = tail.bytes().take_while(u8::is_ascii_digit).count();
        if tail[..len].parse::<usize>() != Ok(next) {
            return sql;
        }
        out.push('?');
        next += 1;
        rest = &tail[len..];
    }
    out.push_str(rest);
    if next - 1 == args { Cow::Owned(out) } else { sql }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I64(v) => q.bind(v),
                Arg::F64(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
                Arg::Json(v) => q.bind(v.map(sqlx::types::Json)),
                Arg::Date(v) => q.bind(v),
            };
        }
        q
    }};
}

/// PostgreSQL refuses a NUL in text (and in JSON strings); SQLite would keep it. Refusing
/// it here on both makes a text that slipped past the input checks fail the same way on
/// both, so the tests (which run on SQLite too) see it.
fn refuse_nul(args: &[Arg]) -> Result<(), sqlx::Error> {
    let nul = args.iter().any(|a| match a {
        Arg::Text(Some(s)) => s.contains('\0'),
        Arg::Json(Some(v)) => json_has_nul(v),
        _ => false,
    });
    if nul { Err(sqlx::Error::Encode("a NUL character in a text parameter".into())) } else { Ok(()) }
}

fn json_has_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(json_has_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v)),
        _ => false,
    }
}

impl Query {
    pub fn bind(mut self, v: impl Into<Arg>) -> Self {
        self.args.push(v.into());
        self
    }

    pub fn bind_all(mut self, args: impl IntoIterator<Item = Arg>) -> Self {
        self.args.extend(args);
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Runs a statement; answers the number of rows it changed.
    pub async fn execute(self, ex: &mut impl Exec) -> Result<u64, sqlx::Error> {
        refuse_nul(&self.args)?;
        let conn = ex.conn();
        let sql = match conn {
            ConnRef::Sqlite(_) => AssertSqlSafe(sqlite_sql(self.sql, self.args.len())),
            ConnRef::Pg(_) => AssertSqlSafe(self.sql),
        };
        Ok(match conn {
            ConnRef::Sqlite(c) => bind_all!(sqlx::query(sql), self.args).execute(c).await?.rows_affected(),
            ConnRef::Pg(c) => bind_all!(sqlx::query(sql), self.args).execute(c).await?.rows_affected(),
        })
    }

    pub async fn fetch_all<T: Record>(self, ex: &mut impl Exec) -> Result<Vec<T>, sqlx::Error> {
        refuse_nul(&self.args)?;
        let sql = AssertSqlSafe(self.sql);
        match ex.conn() {
            ConnRef::Sqlite(c) => bind_all!(sqlx::query_as::<_, T>(sql), self.args).fetch_all(c).await,
            ConnRef::Pg(c) => bind_all!(sqlx::query_as::<_, T>(sql), self.args).fetch_all(c).await,
        }
    }

    pub async fn fetch_optional<T: Record>(self, ex: &mut impl Exec) -> Result<Option<T>, sqlx::Error> {
        refuse_nul(&self.args)?;
        let sql = AssertSqlSafe(self.sql);
        match ex.conn() {
            ConnRef::Sqlite(c) => bind_all!(sqlx::query_as::<_, T>(sql), self.args).fetch_optional(c).await,
            ConnRef::Pg(c) => bind_all!(sqlx::query_as::<_, T>(sql), self.args).fetch_optional(c).await,
        }
    }

    pub async fn fetch_one<T: Record>(self, ex: &mut impl Exec) -> Result<T, sqlx::Error> {
        self.fetch_optional(ex).await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// The first column of every row.
    pub async fn scalars<T: Col>(self, ex: &mut impl Exec) -> Result<Vec<T>, sqlx::Error> {
        refuse_nul(&self.args)?;
        let sql = AssertSqlSafe(self.sql);
        match ex.conn() {
            ConnRef::Sqlite(c) => bind_all!(sqlx::query_scalar::<_, T>(sql), self.args).fetch_all(c).await,
            ConnRef::Pg(c) => bind_all!(sqlx::query_scalar::<_, T>(sql), self.args).fetch_all(c).await,
        }
    }

    /// The first column of the first row, if there is a row.
    pub async fn scalar_optional<T: Col>(self, ex: &mut impl Exec) -> Result<Option<T>, sqlx::Error> {
        refuse_nul(&self.args)?;
        let sql = AssertSqlSafe(self.sql);
        match ex.conn() {
            ConnRef::Sqlite(c) => bind_all!(sqlx::query_scalar::<_, T>(sql), self.args).fetch_optional(c).await,
            ConnRef::Pg(c) => bind_all!(sqlx::query_scalar::<_, T>(sql), self.args).fetch_optional(c).await,
        }
    }

    pub async fn scalar<T: Col>(self, ex: &mut impl Exec) -> Result<T, sqlx::Error> {
        self.scalar_optional(ex).await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// Rows whose columns are read by name at run time (for the generic record store).
    pub async fn rows(self, ex: &mut impl Exec) -> Result<Vec<DynRow>, sqlx::Error> {
        refuse_nul(&self.args)?;
        let sql = AssertSqlSafe(self.sql);
        Ok(match ex.conn() {
            ConnRef::Sqlite(c) => {
                bind_all!(sqlx::query(sql), self.args).fetch_all(c).await?.into_iter().map(DynRow::Sqlite).collect()
            }
            ConnRef::Pg(c) => {
                bind_all!(sqlx::query(sql), self.args).fetch_all(c).await?.into_iter().map(DynRow::Pg).collect()
            }
        })
    }
}

/// Builds SQL with a growing list of parameters, numbering them as they come.
#[derive(Debug, Default)]
pub struct Builder {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Builder {
    pub fn new(sql: impl Into<String>) -> Builder {
        Builder { sql: sql.into(), args: Vec::new() }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a parameter placeholder for `v`.
    pub fn arg(&mut self, v: impl Into<Arg>) -> &mut Self {
        use std::fmt::Write as _;
        self.args.push(v.into());
        let _ = write!(self.sql, "${}", self.args.len());
        self
    }

    /// Appends `(…, …)` with one placeholder per value.
    pub fn list<T: Into<Arg>>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self {
        self.sql.push('(');
        let mut empty = true;
        for v in values {
            if !empty {
                self.sql.push_str(", ");
            }
            self.arg(v);
            empty = false;
        }
        // `IN (NULL)` matches nothing, and unlike `IN ()` both backends accept it.
        self.sql.push_str(if empty { "NULL)" } else { ")" });
        self
    }

    /// ` {inner}.community_id IN (…) AND {inner}.community_id = {outer}.community_id`: a
    /// subquery that names its communities itself, not only through its outer row, so that
    /// Citus answers each community from its one shard.
    pub fn same_community(&mut self, inner: &str, outer: &str, communities: &[i64]) -> &mut Self {
        self.push(&format!(" {inner}.community_id IN ")).list(communities.iter().copied());
        self.push(&format!(" AND {inner}.community_id = {outer}.community_id"))
    }

    pub fn build(self) -> Query {
        query(self.sql).bind_all(self.args)
    }
}

/// Inserts many rows, several hundred per statement (within both backends' limits on
/// parameters per statement).
pub async fn insert_many(tx: &mut Tx, table: &str, columns: &[&str], rows: Vec<Vec<Arg>>) -> Result<(), sqlx::Error> {
    let per_statement = (2_000 / columns.len().max(1)).max(1);
    let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut b = Builder::new(head.clone());
        for (i, row) in rows.by_ref().take(per_statement).enumerate() {
            debug_assert_eq!(row.len(), columns.len());
            if i > 0 {
                b.push(", ");
            }
            b.list(row);
        }
        b.build().execute(tx).await?;
    }
    Ok(())
}

/// A row read by column name.
pub enum DynRow {
    Sqlite(SqliteRow),
    Pg(PgRow),
}

impl DynRow {
    pub fn get<T: Col>(&self, column: &str) -> Result<T, sqlx::Error> {
        match self {
            DynRow::Sqlite(r) => r.try_get(column),
            DynRow::Pg(r) => r.try_get(column),
        }
    }
}

/// Gives memory that SQLite freed (it allocates with the C library's `malloc`, not the
/// process's allocator) back to the system, after a large load.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the C allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Milliseconds since the Unix epoch: how every timestamp is stored, on both backends.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_sqlite_statements_get_plain_placeholders_only_when_safe() {
        let many: String = (1..=70).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!("INSERT INTO t VALUES ({many})");
        let out = sqlite_sql(Cow::Owned(sql.clone()), 70);
        assert_eq!(out.matches('?').count(), 70);
        assert!(!out.contains('$'));
        // Out of order, repeated, or small: left alone.
        assert_eq!(sqlite_sql(Cow::Owned(sql.replace("$2,", "$3,")), 70), sql.replace("$2,", "$3,"));
        assert_eq!(sqlite_sql(Cow::Borrowed("SELECT $1, $1"), 2), "SELECT $1, $1");
        assert_eq!(sqlite_sql(Cow::Owned(sql.clone()), 71), sql);
    }

    #[test]
    fn builders_number_their_parameters_and_empty_lists_match_nothing() {
        let mut b = Builder::new("SELECT 1 WHERE a = ");
        b.arg(1i64).push(" AND b IN ").list([2i64, 3]).push(" AND c IN ").list(Vec::<i64>::new());
        assert_eq!(b.sql, "SELECT 1 WHERE a = $1 AND b IN ($2, $3) AND c IN (NULL)");
        assert_eq!(b.args.len(), 3);
    }
}
