//! A fresh database for each test, copied from a template built once per test run: a
//! SQLite file copied with its data directory (and so its personal-data key), a
//! PostgreSQL database created `WITH TEMPLATE`, or on a Citus cluster the same on every
//! node (the coordinator's copy finds the workers' copies by the database's name).
//! Loading the demo takes seconds; copying it, milliseconds.
//!
//! On Citus each test's connections refuse any query that touches several shards
//! (`citus.multi_task_query_log_level = error`): only the views that say they span
//! communities (`linli::db::citus::Span`) may.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use linli::config::Config;
use linli::db::{Db, query};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The database URL tests use, if PostgreSQL (or a Citus coordinator) was asked for.
pub fn pg_base() -> Option<String> {
    std::env::var("LINLI_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

/// The engine the suite was asked to run on, when it says: `LINLI_TEST_ENGINE` (`sqlite`,
/// `postgres` or `citus`; CI always sets it), else SQLite when no database URL is given.
/// With a URL and no engine named, nothing independent of the server says which it is.
pub fn expected_engine() -> Option<String> {
    match std::env::var("LINLI_TEST_ENGINE").ok().filter(|e| !e.is_empty()) {
        Some(engine) => Some(engine),
        None => pg_base().is_none().then(|| "sqlite".to_string()),
    }
}

pub struct Template {
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Start {
    Empty,
    Demo,
}

/// The servers that hold a database: one for PostgreSQL; the coordinator and each worker
/// of a Citus cluster, as admin URLs (database `postgres`).
struct Servers {
    admin: Vec<String>,
    citus: bool,
}

static SERVERS: OnceLock<Servers> = OnceLock::new();
static EMPTY: OnceLock<Template> = OnceLock::new();
static DEMO: OnceLock<Template> = OnceLock::new();

/// Runs `f` on a thread with a runtime of its own, so no pool outlives the runtime that
/// made it and a test's runtime is never blocked from inside.
fn on_own_runtime<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(f)
    })
    .join()
    .expect("database work on its own thread")
}

/// On Citus the application connects as a role of its own that owns its tables but is
/// not a superuser, as in production: the append-only guards there are privileges, which
/// a superuser would pass by. Cluster chores (moving shards, the node list) use `admin_url`.
const APP_ROLE: &str = "linli_app";

/// A test database's URL for the cluster's superuser (who made the cluster).
pub fn admin_url(app_url: &str) -> String {
    let base = pg_base().expect("a PostgreSQL or Citus test run");
    let user = base.split_once("://").and_then(|(_, r)| r.split_once('@')).map(|(u, _)| u.to_string());
    as_user(app_url, user.as_deref().unwrap_or("postgres"))
}

fn servers(base: &str) -> &'static Servers {
    SERVERS.get_or_init(|| {
        let base = base.to_string();
        on_own_runtime(async move {
            let db = Db::connect(&base, 2).await.expect("connect to LINLI_TEST_DATABASE_URL");
            let citus = db.is_citus();
            let admin = if citus {
                let nodes: Vec<(String, i32)> = query(
                    "SELECT nodename, nodeport FROM pg_dist_node WHERE noderole = 'primary' AND isactive ORDER BY groupid",
                )
                .fetch_all(&mut db.read().await.unwrap())
                .await
                .unwrap();
                nodes.into_iter().map(|(host, port)| server_url(&base, &host, port, "postgres")).collect()
            } else {
                vec![base.clone()]
            };
            db.close().await;
            if citus {
                let role = format!(
                    "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN CREATE ROLE {APP_ROLE} LOGIN; END IF; END $$"
                );
                on_every_server(&Servers { admin: admin.clone(), citus }, &[role]).await;
            }
            Servers { admin, citus }
        })
    })
}

/// Runs statements on every server, in order.
async fn on_every_server(servers: &Servers, sql: &[String]) {
    for url in &servers.admin {
        on_server(url, sql).await;
    }
}

async fn on_server(url: &str, sql: &[String]) {
    let admin = Db::connect(url, 2).await.unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    let mut conn = admin.read().await.unwrap();
    for s in sql {
        query(s.clone()).execute(&mut conn).await.unwrap_or_else(|e| panic!("{s} on {url}: {e}"));
    }
    drop(conn);
    admin.close().await;
}

pub fn template(start: Start) -> &'static Template {
    let cell = match start {
        Start::Empty => &EMPTY,
        Start::Demo => &DEMO,
    };
    // The first test to ask builds it; the others wait for it.
    cell.get_or_init(|| on_own_runtime(build_template(start)))
}

async fn build_template(start: Start) -> Template {
    linli::logging::init(false);
    let dir = tempfile::tempdir().unwrap();
    let mut pg_name = None;
    let url = match pg_base() {
        Some(base) => {
            let name = format!("linli_tpl_{}_{:?}", std::process::id(), start).to_lowercase();
            let servers = servers(&base);
            drop_stale(servers).await;
            let owner = if servers.citus { format!(" OWNER {APP_ROLE}") } else { String::new() };
            on_every_server(
                servers,
                &[format!("DROP DATABASE IF EXISTS {name}"), format!("CREATE DATABASE {name}{owner}")],
            )
            .await;
            let mut url = with_database(&base, &name);
            if servers.citus {
                make_cluster(servers, &name).await;
                url = as_user(&url, APP_ROLE);
                // Eight shards per table (two workers hold four each) instead of 32:
                // every test copies the template on every node, shards and all.
                url = with_options(&url, "-c citus.shard_count=8");
            }
            pg_name = Some(name.clone());
            Some(url)
        }
        None => None,
    };
    let config = Config::for_paths(dir.path(), url.as_deref());
    let state = linli::app::open(config).await.expect("open the app");
    if start == Start::Demo {
        linli::demo::load(&state, linli::demo::Scale::Seeds).await.expect("demo data loads");
    }
    state.db.close().await;
    if let (Some(name), Some(base)) = (&pg_name, pg_base()) {
        // A database is copied only while nobody is connected to it, and Citus keeps a
        // daemon connected to each of its databases: shut the template's doors first.
        let servers = servers(&base);
        on_every_server(
            servers,
            &[
                format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"),
                format!("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{name}'"),
            ],
        )
        .await;
    }
    Template { dir, pg_name }
}

/// The extension in the new database on every node, and the workers known to its
/// coordinator (what `../shared/citus/setup.sh` does for the cluster's first database).
async fn make_cluster(servers: &Servers, name: &str) {
    let mut coordinator = None;
    for url in &servers.admin {
        let db = Db::connect(&with_database(url, name), 2).await.unwrap();
        query("CREATE EXTENSION IF NOT EXISTS citus").execute(&mut db.read().await.unwrap()).await.unwrap();
        match coordinator {
            None => coordinator = Some(db),
            Some(_) => db.close().await,
        }
    }
    let coordinator = coordinator.expect("a coordinator");
    let mut conn = coordinator.read().await.unwrap();
    for (i, url) in servers.admin.iter().enumerate() {
        let (host, port) = host_port(url);
        let sql = if i == 0 {
            "SELECT citus_set_coordinator_host($1, CAST($2 AS INT))"
        } else {
            "SELECT citus_add_node($1, CAST($2 AS INT))"
        };
        query(sql).bind(host).bind(port).execute(&mut conn).await.unwrap();
    }
    drop(conn);
    coordinator.close().await;
}

/// A copy of the template for one test; answers its URL and name (None on SQLite).
pub async fn copy(t: &Template) -> (Option<String>, Option<(String, String)>) {
    let (Some(base), Some(tpl)) = (pg_base(), &t.pg_name) else { return (None, None) };
    let name = format!("linli_t_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst), rand_suffix());
    let servers = servers(&base);
    let owner = if servers.citus { format!(" OWNER {APP_ROLE}") } else { String::new() };
    // The nodes copy at once: a copy on Citus is three, and the largest part of a test.
    let sql = [format!("CREATE DATABASE {name} WITH TEMPLATE {tpl}{owner}")];
    futures::future::join_all(servers.admin.iter().map(|url| on_server(url, &sql))).await;
    let mut url = with_database(&base, &name);
    if servers.citus {
        url = with_options(&as_user(&url, APP_ROLE), "-c citus.multi_task_query_log_level=error");
    }
    (Some(url), Some((base, name)))
}

/// Drops a test's database on every server.
pub fn drop_copy(base: String, name: String) {
    on_own_runtime(async move {
        let servers = servers(&base);
        futures::future::join_all(servers.admin.iter().map(|url| drop_on(url, &name))).await;
    });
}

async fn drop_on(url: &str, name: &str) {
    if let Ok(admin) = Db::connect(url, 2).await {
        if let Ok(mut conn) = admin.read().await {
            let _ = query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
        }
        admin.close().await;
    }
}

/// Databases left by test runs that have ended (their process is gone).
async fn drop_stale(servers: &Servers) {
    for url in &servers.admin {
        let Ok(admin) = Db::connect(url, 2).await else { continue };
        let mut conn = admin.read().await.unwrap();
        let names: Vec<String> = query("SELECT datname FROM pg_database WHERE datname LIKE 'linli\\_t%'")
            .scalars(&mut conn)
            .await
            .unwrap_or_default();
        for name in names {
            let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists()) {
                let _ = query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
            }
        }
        drop(conn);
        admin.close().await;
    }
}

pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

pub fn rand_suffix() -> String {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).unwrap();
    hex::encode(b)
}

/// `base` with its database replaced by `name`.
pub fn with_database(base: &str, name: &str) -> String {
    let (without_query, query) = match base.split_once('?') {
        Some((a, q)) => (a, format!("?{q}")),
        None => (base, String::new()),
    };
    let scheme_end = without_query.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match without_query[scheme_end..].find('/') {
        Some(i) => &without_query[..scheme_end + i],
        None => without_query,
    };
    format!("{root}/{name}{query}")
}

/// `url` with server settings for its sessions (libpq's `options`).
fn with_options(url: &str, options: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options={}", options.replace(' ', "%20").replace('=', "%3D"))
}

/// `url` with its user replaced by `user` (no password: the test servers trust 127.0.0.1).
fn as_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let rest = rest.split_once('@').map(|(_, r)| r).unwrap_or(rest);
    format!("{scheme}://{user}@{rest}")
}

/// `base` pointed at another server and database (same user and options).
fn server_url(base: &str, host: &str, port: i32, db: &str) -> String {
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &base[scheme_end..];
    let user = rest.split_once('@').map(|(u, _)| format!("{u}@")).unwrap_or_default();
    format!("{}{user}{host}:{port}/{db}", &base[..scheme_end])
}

fn host_port(url: &str) -> (String, i32) {
    let after = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let after = after.split_once('@').map(|(_, r)| r).unwrap_or(after);
    let hostport = after.split('/').next().unwrap_or("");
    let (h, p) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
    (h.to_string(), p.parse().unwrap_or(5432))
}
