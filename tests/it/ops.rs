//! What operators rely on: health, metrics, migrations, backups.

use linli::db::citus::Span;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use axum::http::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_metrics_answer() {
    let app = TestApp::empty().await;
    let h = app.get("/healthz").await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json()["status"], "ok");
    assert_eq!(h.json()["database"], app.state.db.engine());
    if let Some(expected) = crate::databases::expected_engine() {
        assert_eq!(app.state.db.engine(), expected, "the suite runs on the database it was asked for");
    }
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
    let mut conn = again.state.db.span(Span::Maintenance).await.unwrap();
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
        "ledger_movements",
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
            let mut conn = db.span(Span::Maintenance).await.unwrap();
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

/// Sends one HTTP/1.1 request on a new connection; answers the stream after the headers
/// have been read, and the headers.
fn http(addr: &str, request: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "the server closed before answering");
        head.push(byte[0]);
    }
    (stream, String::from_utf8_lossy(&head).to_string())
}

#[tokio::test]
async fn the_server_stops_on_sigterm_while_a_page_listens_for_live_news() {
    let app = TestApp::demo().await;
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    let mut server = app.command(&["serve", "--listen", &addr]).stderr(std::process::Stdio::null()).spawn().unwrap();
    let up = Instant::now();
    while TcpStream::connect(&addr).is_err() {
        assert!(up.elapsed() < Duration::from_secs(30), "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let body = r#"{"username":"resident","password":"demo1234"}"#;
    let (_, head) = http(
        &addr,
        &format!(
            "POST /api/v1/session HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie in {head}"))
        .to_string();
    // A page open in a browser: the live news stream, which never ends by itself.
    let (mut events, head) = http(
        &addr,
        &format!("GET /events HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"),
    );
    assert!(head.starts_with("HTTP/1.1 200") && head.contains("text/event-stream"), "{head}");

    let term = std::process::Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(term.success());
    let asked = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if asked.elapsed() > Duration::from_secs(25) {
            server.kill().ok();
            panic!("the server was still running 25 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    // The stream was ended by the server, not cut: its last chunk arrived.
    let mut rest = Vec::new();
    events.read_to_end(&mut rest).unwrap();
    assert!(rest.ends_with(b"0\r\n\r\n"), "{}", String::from_utf8_lossy(&rest));
}
