//! What operators rely on: health, metrics, migrations, backups.

use axum::http::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_metrics_answer() {
    let app = TestApp::empty().await;
    let h = app.get("/healthz").await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json()["status"], "ok");
    assert_eq!(h.json()["database"], if app.is_postgres() { "postgres" } else { "sqlite" });
    app.get("/login").await;
    let m = app.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    let text = m.text();
    assert!(text.contains("linli_http_requests_total") && text.contains("route=\"/login\""), "{text}");
}

#[tokio::test]
async fn an_upgrade_migrates_by_itself_and_twice_is_harmless() {
    let app = TestApp::empty().await;
    let again = app.restart().await;
    let mut conn = again.state.db.read().await.unwrap();
    let versions: Vec<i64> =
        linli::db::query("SELECT version FROM schema_migrations ORDER BY version").scalars(&mut conn).await.unwrap();
    let expected: Vec<i64> =
        linli::db::migrate::migrations(again.state.db.kind()).unwrap().iter().map(|m| m.version).collect();
    assert_eq!(versions, expected);
}

#[tokio::test]
async fn a_backup_is_taken_while_the_server_runs() {
    let app = TestApp::demo().await;
    if app.is_postgres() {
        let err = app.state.db.backup(&app.dir.path().join("b.db")).await.unwrap_err();
        assert!(err.to_string().contains("pg_dump"));
        return;
    }
    let file = app.dir.path().join("backup.db");
    app.state.db.backup(&file).await.unwrap();
    let copy = linli::db::Db::connect(&format!("sqlite://{}", file.display()), 2).await.unwrap();
    let mut conn = copy.read().await.unwrap();
    let n: i64 = linli::db::query("SELECT COUNT(*) FROM residents").scalar(&mut conn).await.unwrap();
    assert!(n > 1000);
    assert!(app.state.db.backup(&file).await.is_err(), "an existing file is never overwritten");
}

#[tokio::test]
async fn loading_the_demo_again_reuses_what_is_there() {
    let app = TestApp::demo().await;
    let tables = [
        "communities",
        "households",
        "residents",
        "users",
        "grants",
        "tickets",
        "volunteers",
        "points_movements",
        "registrations",
        "needs",
        "pledges",
        "pairs",
        "pair_visits",
        "proposals",
        "ballots",
        "council_projects",
    ];
    let count = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            let mut conn = db.read().await.unwrap();
            let mut out = Vec::new();
            for t in tables {
                out.push(linli::db::query(format!("SELECT COUNT(*) FROM {t}")).scalar::<i64>(&mut conn).await.unwrap());
            }
            out
        }
    };
    let first = count(&app).await;
    assert!(
        first.iter().all(|n| *n > 0),
        "the demo fills every capability: {:?}",
        tables.iter().zip(&first).collect::<Vec<_>>()
    );
    let wrote = linli::demo::load(&app.state, linli::demo::Scale::Seeds).await.unwrap();
    assert!(!wrote, "nothing to write the second time");
    assert_eq!(count(&app).await, first, "nothing duplicated");
}
