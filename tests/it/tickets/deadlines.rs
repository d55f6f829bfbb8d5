//! The jobs that watch deadlines: escalation of overdue tickets and closing resolved
//! tickets nobody rated.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use super::{HS, LIANJIANG, act, category, resident_household};
use crate::helpers::{TestApp, visible_text};

#[tokio::test]
async fn an_overdue_ticket_escalates_once_to_the_secretary_then_to_the_subdistrict() {
    let mut app = TestApp::demo().await;
    app.sign_in("admin").await;
    let r = app.post_json(&format!("/api/v1/communities/{LIANJIANG}/users"), json!({"username": "ljsec", "display_name": "连江书记", "password": "secret123", "role": "community_secretary"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.sign_in_with("ljsec", "secret123").await;
    let cat = category(&app, LIANJIANG, "05").await;
    let t = app
        .post_json(
            &format!("/api/v1/communities/{LIANJIANG}/tickets"),
            json!({"category_id": cat, "description": "树木倒伏堵路", "address": "连江路口"}),
        )
        .await
        .json();
    let id = t["id"].as_i64().unwrap();
    let c = app.community_id(LIANJIANG).await;
    let now = linli::db::now_ms();
    // Two server processes run the job at the same moment, past the 2-hour deadline.
    let second = app.restart().await;
    let at = now + 3 * 3_600_000;
    let (r1, r2) = tokio::join!(
        linli::capabilities::tickets::jobs::run_once(&app.state, at),
        linli::capabilities::tickets::jobs::run_once(&second.state, at)
    );
    let claimed = r1.unwrap().escalated + r2.unwrap().escalated;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let rows: i64 = query("SELECT COUNT(*) FROM ticket_escalations").scalar(&mut conn).await.unwrap();
    assert_eq!(claimed as i64, rows, "every escalation (the demo's overdue tickets too) happened exactly once");
    let levels: Vec<i64> = query("SELECT level FROM ticket_escalations WHERE community_id = $1 AND ticket_id = $2")
        .bind(c)
        .bind(id)
        .scalars(&mut conn)
        .await
        .unwrap();
    assert_eq!(levels, [1]);
    drop(conn);
    let home = visible_text(&app.get("/").await.text());
    assert!(home.contains("督办工单") && home.contains(&format!("#{id}")), "the secretary's home shows it: {home}");
    let inbox = app.get("/api/v1/inbox").await.json();
    assert_eq!(
        inbox["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "escalate" && n["ticket_id"] == id).count(),
        1
    );
    // Running again does not escalate it again; a day later it goes up to the subdistrict.
    let ours = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            let mut conn = db.span(Span::Maintenance).await.unwrap();
            query("SELECT level FROM ticket_escalations WHERE community_id = $1 AND ticket_id = $2 ORDER BY level")
                .bind(c)
                .bind(id)
                .scalars::<i64>(&mut conn)
                .await
                .unwrap()
        }
    };
    linli::capabilities::tickets::jobs::run_once(&app.state, at + 60_000).await.unwrap();
    assert_eq!(ours(&app).await, [1]);
    linli::capabilities::tickets::jobs::run_once(&app.state, at + 2 * 86_400_000).await.unwrap();
    assert_eq!(ours(&app).await, [1, 2]);
    app.sign_in("street").await;
    let home = visible_text(&app.get("/").await.text());
    assert!(home.contains(&format!("#{id}")), "the subdistrict admin sees the level-2 escalation: {home}");
    let t = app.get(&format!("/api/v1/communities/{LIANJIANG}/tickets/{id}")).await.json();
    assert_eq!(t["escalation_level"], 2);
    assert!(t["history"].as_array().unwrap().iter().filter(|e| e["action"] == "escalate").count() == 2);
}

#[tokio::test]
async fn a_resolved_ticket_nobody_rates_closes_itself_after_the_communitys_days() {
    let mut app = TestApp::demo().await;
    app.sign_in("secretary").await;
    let set = app.patch_json(&format!("/api/v1/communities/{HS}"), json!({"ticket_autoclose_days": 3})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    app.sign_in("resident").await;
    let h = resident_household(&app).await;
    let cat = category(&app, HS, "14").await;
    let id = app
        .post_json(
            &format!("/api/v1/communities/{HS}/tickets"),
            json!({"category_id": cat, "description": "楼道灯不亮", "household_id": h}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    app.sign_in("grid").await;
    assert_eq!(act(&app, id, json!({"action": "accept"})).await.status, StatusCode::OK);
    assert_eq!(act(&app, id, json!({"action": "resolve", "note": "已换灯泡"})).await.status, StatusCode::OK);
    let status = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            let mut conn = db.span(Span::Maintenance).await.unwrap();
            query("SELECT status FROM tickets WHERE id = $1").bind(id).scalar::<String>(&mut conn).await.unwrap()
        }
    };
    let now = linli::db::now_ms();
    linli::capabilities::tickets::jobs::run_once(&app.state, now + 2 * 86_400_000).await.unwrap();
    assert_eq!(status(&app).await, "resolved", "two days on, still waiting for a rating");
    let r = linli::capabilities::tickets::jobs::run_once(&app.state, now + 3 * 86_400_000 + 60_000).await.unwrap();
    assert!(r.closed >= 1);
    assert_eq!(status(&app).await, "closed", "the community's three days have passed");
}
