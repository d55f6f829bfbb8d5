//! What the points show outwards: the public honor roll, and the figures with their
//! Excel export.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use linli::web::fmt;
use serde_json::{Value, json};

use super::{HOUR, HS, local, volunteer_of};
use crate::helpers::{TestApp, visible_text};

#[tokio::test]
async fn the_honor_roll_updates_and_names_only_those_who_agreed() {
    let mut app = TestApp::demo().await;
    app.cookie = None;
    let board = app.get(&format!("/p/{HS}/honor?by=hours&period=all")).await;
    assert_eq!(board.status, StatusCode::OK, "public, no sign-in");
    let roll = app.get(&format!("/api/v1/communities/{HS}/honor-roll?by=hours&period=all")).await.json();
    let names: Vec<String> =
        roll["ranking"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    let c = app.community_id(HS).await;
    let hidden: Vec<String> = query("SELECT name FROM volunteers WHERE community_id = $1 AND show_name = FALSE")
        .bind(c)
        .scalars(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert!(!hidden.is_empty());
    assert!(hidden.iter().all(|h| !names.contains(h)), "who did not agree is not named");
    assert!(names.iter().any(|n| n.contains('*')));
    assert!(roll["commendations"].as_array().unwrap().iter().any(|m| m["honoree_name"] == "红心微聚志愿服务队"));

    // Ten hours of approved service add ten hours to the volunteer's line.
    let hours_of = |roll: &Value| {
        roll["ranking"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "郑晓红")
            .map(|r| r["value"].as_i64().unwrap())
            .unwrap_or(0)
    };
    let before = hours_of(&roll);
    app.sign_in("staff").await;
    let v = app.user_id("volunteer").await;
    let vol = volunteer_of(&app, v).await;
    // Ten hours that have passed, and that no demo record touches: the night before last.
    let start = linli::time::day_start_ms(fmt::today()) - 2 * 24 * HOUR - 2 * HOUR;
    let record = json!({"volunteer_id": vol, "service_type": "event", "content": "邻聚欢享文化节通宵布展", "started_at": local(start), "ended_at": local(start + 10 * HOUR)});
    let r = app.record_service_api(record).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    app.approve_service_record_api(id).await;
    app.cookie = None;
    let roll = app.get(&format!("/api/v1/communities/{HS}/honor-roll?by=hours&period=all")).await.json();
    assert_eq!(hours_of(&roll), before + 600, "named (they agreed), ten hours more");
    let page = visible_text(&app.get(&format!("/p/{HS}/honor?by=hours&period=all")).await.text());
    assert!(page.contains("郑晓红") && page.contains("光荣榜"));
    assert_eq!(
        app.get(&format!("/api/v1/communities/{HS}/honor-roll?period=decade")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn the_figures_match_the_records_and_export_to_excel() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let c = app.community_id(HS).await;
    let from = format!("{}-01-01", chrono::Datelike::year(&fmt::today()) - 2);
    let f = app.get(&format!("/api/v1/communities/{HS}/points/stats?from={from}")).await.json();
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let (n, minutes, active): (i64, i64, i64) = query(
        "SELECT COUNT(*), CAST(SUM(minutes) AS BIGINT), COUNT(DISTINCT user_id) FROM service_records WHERE community_id = $1 AND status = 'approved'",
    )
    .bind(c)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let volunteers: i64 =
        query("SELECT COUNT(*) FROM volunteers WHERE community_id = $1").bind(c).scalar(&mut conn).await.unwrap();
    let issued: i64 = query(
        "SELECT CAST(SUM(m.amount) AS BIGINT) FROM ledger_movements m JOIN ledger_accounts a ON a.community_id = m.community_id AND a.id = m.to_account
         WHERE m.community_id = $1 AND a.kind = 'person' AND m.cause IN ('service', 'bonus', 'adjustment')",
    )
    .bind(c)
    .scalar(&mut conn)
    .await
    .unwrap();
    drop(conn);
    assert_eq!(
        (f["records"].as_i64(), f["minutes"].as_i64(), f["active_volunteers"].as_i64()),
        (Some(n), Some(minutes), Some(active))
    );
    assert_eq!(f["volunteers"].as_i64(), Some(volunteers));
    assert_eq!(f["points_issued"].as_i64(), Some(issued));
    assert_eq!(f["points_redeemed"], 20, "the demo's one meal handed over");
    let page = visible_text(&app.get(&format!("/c/{HS}/points/stats?from={from}")).await.text());
    assert!(page.contains("活跃志愿者") && page.contains("队伍排行"));
    let x = app.get(&format!("/c/{HS}/points.xlsx?from={from}")).await;
    let table = linli::capabilities::registry::transfer::read_table(&x.body).unwrap();
    assert_eq!(table.len() as i64 - 1, volunteers);
    assert_eq!(table[0][1], "志愿者编号");
    assert!(table.iter().skip(1).all(|r| r[2].contains('*')), "names masked in the export");
    // The subdistrict sees its communities; others see nothing.
    app.sign_in("street").await;
    let sub = app
        .scalar("SELECT subdistrict_id FROM communities WHERE id = $1", app.community_id("441802005001").await)
        .await;
    assert_eq!(app.get(&format!("/api/v1/subdistricts/{sub}/points/stats")).await.status, StatusCode::OK);
    app.sign_in("volunteer").await;
    assert_eq!(app.get(&format!("/api/v1/communities/{HS}/points/stats")).await.status, StatusCode::NOT_FOUND);
}

/// The demo's 22 communities of 洲心街道 each have volunteers with service and party
/// members who registered and took part: the street admin's figures compare them, none
/// all zeros.
#[tokio::test]
async fn every_community_of_the_demo_subdistrict_has_figures_to_compare() {
    let mut app = TestApp::demo().await;
    app.sign_in("street").await;
    let sub = app
        .scalar("SELECT subdistrict_id FROM communities WHERE id = $1", app.community_id("441802005001").await)
        .await;
    let points = app.get(&format!("/api/v1/subdistricts/{sub}/points/stats?from=2020-01-01")).await.json();
    let places = points["by_place"].as_array().unwrap();
    assert_eq!(places.len(), 22, "{points}");
    assert!(places.iter().all(|p| p["volunteers"].as_i64() > Some(0) && p["records"].as_i64() > Some(0)), "{places:?}");
    let dual = app.get(&format!("/api/v1/subdistricts/{sub}/participation/stats")).await.json();
    let each = dual["communities"].as_array().unwrap();
    assert_eq!(each.len(), 22);
    assert!(each.iter().all(|c| c["members"].as_i64() > Some(0) && c["active"].as_i64() > Some(0)), "{each:?}");
}
