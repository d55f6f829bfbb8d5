//! On a Citus cluster: every community table distributed by community and colocated,
//! multi-shard queries refused outside the listed views, a community moved to another
//! worker while it is used, and a stopped worker that affects only its communities.
//! These run only when the suite runs on Citus (`.ci/run` does); elsewhere they say so.

use axum::http::StatusCode;
use linli::db::citus::{REFERENCE, Span};
use linli::db::{Db, query};
use serde_json::json;

use crate::helpers::TestApp;

const HS: &str = "440804003001";
const HUILONG: &str = "321111005001";

async fn on_citus(empty: bool) -> Option<TestApp> {
    let app = if empty { TestApp::empty().await } else { TestApp::demo().await };
    if app.state.db.is_citus() {
        Some(app)
    } else {
        eprintln!("not on Citus ({}): skipped", app.state.db.engine());
        None
    }
}

/// The worker (its port) that holds a community's rows.
async fn worker_of(app: &TestApp, code: &str) -> (i64, i32) {
    let c = app.community_id(code).await;
    let mut conn = app.state.db.read().await.unwrap();
    query(
        "SELECT s.shardid, s.nodeport FROM citus_shards s
         WHERE s.shardid = get_shard_id_for_distribution_column('tickets', $1)",
    )
    .bind(c)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

/// The cluster's superuser on this test's database, for what operators do.
async fn operator(app: &TestApp) -> Db {
    let url = secrecy::ExposeSecret::expose_secret(&app.state.config.database_url).to_string();
    Db::connect(&crate::databases::admin_url(&url), 2).await.unwrap()
}

/// Moves a community's shard (and every colocated shard with it) to another worker.
async fn move_to(app: &TestApp, shard: i64, from: i32, to: i32) {
    let mut tx = operator(app).await.begin_span(Span::Maintenance).await.unwrap();
    query("SELECT citus_move_shard_placement($1, '127.0.0.1', $2, '127.0.0.1', $3, shard_transfer_mode => 'block_writes')")
        .bind(shard)
        .bind(from)
        .bind(to)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// What the coordinator believes of a worker's port: a wrong one is a worker that does
/// not answer, for this test's database only (each test has its own cluster metadata).
async fn set_worker_port(app: &TestApp, from: i32, to: i32) {
    let mut tx = operator(app).await.begin_span(Span::Maintenance).await.unwrap();
    query("UPDATE pg_dist_node SET nodeport = $2 WHERE nodeport = $1")
        .bind(from)
        .bind(to)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn tickets_of(app: &TestApp, code: &str) -> i64 {
    let c = app.community_id(code).await;
    let mut conn = app.state.db.read().await.unwrap();
    query("SELECT COUNT(*) FROM tickets WHERE community_id = $1").bind(c).scalar(&mut conn).await.unwrap()
}

#[tokio::test]
async fn every_community_table_is_distributed_by_community_and_colocated() {
    let Some(app) = on_citus(true).await else { return };
    let mut conn = app.state.db.read().await.unwrap();
    let tables: Vec<(String, bool)> = query(
        "SELECT c.relname, EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'community_id' AND NOT a.attisdropped)
         FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let placed: Vec<(String, String, String, i32)> = query(
        "SELECT logicalrelid::regclass::text, partmethod::text, repmodel::text, colocationid FROM pg_dist_partition",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let place = |t: &str| placed.iter().find(|p| p.0 == t).cloned();
    let mut colocations = std::collections::BTreeSet::new();
    let mut distributed = 0;
    for (table, has_community) in &tables {
        if REFERENCE.contains(&table.as_str()) {
            let p = place(table).unwrap_or_else(|| panic!("{table} is not placed"));
            assert_eq!((p.1.as_str(), p.2.as_str()), ("n", "t"), "{table} is a reference table");
        } else if *has_community {
            let p = place(table).unwrap_or_else(|| panic!("{table} is not distributed"));
            assert_eq!(p.1, "h", "{table} is distributed by hash");
            colocations.insert(p.3);
            distributed += 1;
        }
    }
    assert!(distributed > 40, "only {distributed} distributed tables");
    assert_eq!(colocations.len(), 1, "all community tables are colocated: {colocations:?}");
    let keys: Vec<String> = query(
        "SELECT DISTINCT column_to_column_name(logicalrelid, partkey) FROM pg_dist_partition WHERE partmethod = 'h'",
    )
    .scalars(&mut conn)
    .await
    .unwrap();
    assert_eq!(keys, vec!["community_id".to_string()]);
    // Citus refuses triggers on them; the append-only guards are privileges instead.
    let triggers: i64 = query(
        "SELECT COUNT(*) FROM pg_trigger t JOIN pg_dist_partition p ON p.logicalrelid = t.tgrelid
         WHERE NOT t.tgisinternal AND p.partmethod = 'h'",
    )
    .scalar(&mut conn)
    .await
    .unwrap();
    assert_eq!(triggers, 0);
    drop(conn);
    let mut tx = app.state.db.begin().await.unwrap();
    let refused = query("UPDATE audit_log SET actor_name = 'x' WHERE community_id = 1").execute(&mut tx).await;
    assert!(refused.unwrap_err().to_string().contains("permission denied"), "the application cannot rewrite the log");
    drop(tx);
    let mut conn = app.state.db.read().await.unwrap();
    for table in ["audit_log", "ledger_movements", "pii_access_log"] {
        let granted: Vec<String> = query(
            "SELECT privilege_type FROM information_schema.table_privileges
             WHERE table_name = $1 AND grantee = current_user ORDER BY privilege_type",
        )
        .bind(table)
        .scalars(&mut conn)
        .await
        .unwrap();
        assert!(
            !granted.iter().any(|p| ["UPDATE", "DELETE", "TRUNCATE"].contains(&p.as_str())),
            "{table}: {granted:?}"
        );
    }
}

#[tokio::test]
async fn a_query_over_every_community_is_refused_unless_it_says_it_spans_them() {
    let Some(app) = on_citus(false).await else { return };
    let mut conn = app.state.db.read().await.unwrap();
    let refused = query("SELECT COUNT(*) FROM tickets").scalar::<i64>(&mut conn).await;
    assert!(refused.is_err(), "a query over every shard ran outside a span");
    drop(conn);
    let mut span = app.state.db.span(Span::Platform).await.unwrap();
    let all: i64 = query("SELECT COUNT(*) FROM tickets").scalar(&mut span).await.unwrap();
    assert!(all >= tickets_of(&app, HS).await + tickets_of(&app, HUILONG).await);
}

#[tokio::test]
async fn a_stopped_worker_answers_503_for_its_communities_only_and_loses_nothing() {
    let Some(mut app) = on_citus(false).await else { return };
    let (_, hs_port) = worker_of(&app, HS).await;
    let (hl_shard, hl_port) = worker_of(&app, HUILONG).await;
    app.sign_in("grid2").await;
    let huilong_page = format!("/c/{HUILONG}/tickets");
    assert_eq!(app.get(&huilong_page).await.status, StatusCode::OK);
    if hs_port == hl_port {
        // Both on one worker: move 回龙社区 away while its grid worker uses it.
        let other = if hl_port == 5441 { 5442 } else { 5441 };
        let mover = tokio::spawn({
            let app = app.restart().await;
            async move { move_to(&app, hl_shard, hl_port, other).await }
        });
        for _ in 0..20 {
            assert_eq!(app.get(&huilong_page).await.status, StatusCode::OK);
        }
        mover.await.unwrap();
        assert_eq!(worker_of(&app, HUILONG).await.1, other);
        assert_eq!(app.get(&huilong_page).await.status, StatusCode::OK);
    }
    // Both are signed in before the worker stops: the test is about their requests.
    let grid2 = (app.cookie.clone(), app.csrf.clone());
    app.sign_in("staff").await;
    let staff = (app.cookie.clone(), app.csrf.clone());
    let cat = app.ticket_category(HS, "11").await;
    let submit = |what: &str| json!({"category_id": cat, "description": what, "address": "海盛花园1栋", "channel": "hotline", "submitter_name": "王阿姨"});
    assert_eq!(app.submit_ticket(HS, submit("楼道灯坏了，晚上看不见台阶")).await.status, StatusCode::CREATED);
    let before = tickets_of(&app, HS).await;

    set_worker_port(&app, hs_port, 1).await;
    let down = app.get(&format!("/c/{HS}/tickets")).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.text().contains("暂时不可用"), "{}", down.text());
    let refused = app.submit_ticket(HS, submit("门口的井盖松了")).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.text());
    assert_eq!(refused.json()["error"]["code"], "unavailable");
    (app.cookie, app.csrf) = grid2;
    assert_eq!(app.get(&huilong_page).await.status, StatusCode::OK, "the other worker's community is served");

    set_worker_port(&app, 1, hs_port).await;
    (app.cookie, app.csrf) = staff;
    assert_eq!(app.get(&format!("/c/{HS}/tickets")).await.status, StatusCode::OK);
    assert_eq!(tickets_of(&app, HS).await, before, "the acknowledged ticket is kept, the refused one not written");
}

/// The local cluster's servers are Debian clusters named after their ports (setup.sh).
fn worker_ctl(port: i32, action: &str) {
    let version = std::fs::read_dir("/etc/postgresql")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok()?.parse::<u32>().ok())
        .max()
        .expect("a PostgreSQL under /etc/postgresql");
    let name = format!("citus{port}");
    let mut cmd = std::process::Command::new("pg_ctlcluster");
    cmd.args(["--skip-systemctl-redirect", &version.to_string(), &name, action]);
    if action == "stop" {
        // As if its machine lost power: no checkpoint, its connections cut.
        cmd.args(["-m", "immediate"]);
    }
    let out = cmd.output().expect("pg_ctlcluster runs");
    if !out.status.success() && !std::thread::panicking() {
        panic!("{action} {name}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// A worker stopped until this is dropped, so that a failing test leaves the cluster
/// running for what comes after it.
struct Stopped(i32);

impl Stopped {
    fn worker(port: i32) -> Stopped {
        worker_ctl(port, "stop");
        Stopped(port)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        worker_ctl(self.0, "start");
    }
}

/// A page, asked again until it answers `want` (at most a minute); each answer comes in
/// seconds, never a hang.
async fn until(app: &TestApp, path: &str, want: StatusCode) -> crate::helpers::Resp {
    for _ in 0..60 {
        let r = tokio::time::timeout(std::time::Duration::from_secs(20), app.get(path)).await.expect("no hang");
        if r.status == want {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    panic!("{path} never answered {want}");
}

/// A worker's server really stops (as if its machine lost power) and starts again. It stops
/// every test's database on that worker, so the suite skips it and `.ci/run` runs it
/// alone after the suite: `cargo test --test it citus::a_worker -- --ignored`.
#[tokio::test]
#[ignore = "stops a worker of the shared cluster: .ci/run runs it alone, after the suite"]
async fn a_worker_that_loses_power_fails_only_its_communities_and_loses_nothing() {
    let Some(mut app) = on_citus(false).await else { return };
    let (_, hs_port) = worker_of(&app, HS).await;
    let (hl_shard, hl_port) = worker_of(&app, HUILONG).await;
    if hs_port == hl_port {
        move_to(&app, hl_shard, hl_port, if hl_port == 5441 { 5442 } else { 5441 }).await;
    }
    app.sign_in("grid2").await;
    let grid2 = (app.cookie.clone(), app.csrf.clone());
    let hl_cat = app.ticket_category(HUILONG, "11").await;
    app.sign_in("staff").await;
    let staff = (app.cookie.clone(), app.csrf.clone());
    let cat = app.ticket_category(HS, "11").await;
    let ticket = |cat: i64, what: &str| json!({"category_id": cat, "description": what, "address": "1栋", "channel": "hotline", "submitter_name": "王阿姨"});
    let acknowledged = app.submit_ticket(HS, ticket(cat, "楼道灯坏了，晚上看不见台阶")).await;
    assert_eq!(acknowledged.status, StatusCode::CREATED, "{}", acknowledged.text());
    let (hs_before, hl_before) = (tickets_of(&app, HS).await, tickets_of(&app, HUILONG).await);

    let stopped = Stopped::worker(hs_port);
    let down = until(&app, &format!("/c/{HS}/tickets"), StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(down.text().contains("暂时不可用"), "{}", down.text());
    let refused = app.submit_ticket(HS, ticket(cat, "门口的井盖松了")).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.text());
    assert_eq!(refused.json()["error"]["code"], "unavailable");
    (app.cookie, app.csrf) = grid2;
    until(&app, &format!("/c/{HUILONG}/tickets"), StatusCode::OK).await;
    let served = app.submit_ticket(HUILONG, ticket(hl_cat, "路灯不亮")).await;
    assert_eq!(served.status, StatusCode::CREATED, "the other worker's community takes requests: {}", served.text());

    drop(stopped);
    (app.cookie, app.csrf) = staff;
    until(&app, &format!("/c/{HS}/tickets"), StatusCode::OK).await;
    assert_eq!(tickets_of(&app, HS).await, hs_before, "the acknowledged ticket is kept, the refused one not written");
    assert_eq!(tickets_of(&app, HUILONG).await, hl_before + 1);
    let again = app.submit_ticket(HS, ticket(cat, "门口的井盖松了")).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
}
