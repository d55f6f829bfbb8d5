//! The jobs that watch deadlines: escalation of overdue tickets and closing resolved
//! tickets nobody rated.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use super::{HS, LIANJIANG, resident_household};
use crate::helpers::{TestApp, visible_text};

#[tokio::test]
async fn an_overdue_ticket_escalates_once_to_the_secretary_then_to_the_subdistrict() {
    let mut app = TestApp::demo().await;
    app.sign_in("admin").await;
    let r = app.create_ticket_handler_account(LIANJIANG, "ljsec", "连江书记", "community_secretary").await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.sign_in_with("ljsec", "secret123").await;
    let cat = app.ticket_category(LIANJIANG, "05").await;
    let id = app
        .submit_ticket_id(LIANJIANG, json!({"category_id": cat, "description": "树木倒伏堵路", "address": "连江路口"}))
        .await;
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
    drop(conn);
    assert_eq!(claimed as i64, rows, "every escalation (the demo's overdue tickets too) happened exactly once");
    assert_eq!(app.ticket_escalation_levels(c, id).await, [1]);
    let home = visible_text(&app.get("/").await.text());
    assert!(home.contains("督办工单") && home.contains(&format!("#{id}")), "the secretary's home shows it: {home}");
    let inbox = app.get("/api/v1/inbox").await.json();
    assert_eq!(
        inbox["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "escalate" && n["ticket_id"] == id).count(),
        1
    );
    // Running again does not escalate it again; a day later it goes up to the subdistrict.
    linli::capabilities::tickets::jobs::run_once(&app.state, at + 60_000).await.unwrap();
    assert_eq!(app.ticket_escalation_levels(c, id).await, [1]);
    linli::capabilities::tickets::jobs::run_once(&app.state, at + 2 * 86_400_000).await.unwrap();
    assert_eq!(app.ticket_escalation_levels(c, id).await, [1, 2]);
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
    let set = app.set_ticket_settings(json!({"ticket_autoclose_days": 3})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    app.sign_in("resident").await;
    let h = resident_household(&app).await;
    let cat = app.ticket_category(HS, "14").await;
    let id =
        app.submit_ticket_id(HS, json!({"category_id": cat, "description": "楼道灯不亮", "household_id": h})).await;
    app.sign_in("grid").await;
    assert_eq!(app.take_ticket(id).await.status, StatusCode::OK);
    assert_eq!(app.resolve_ticket(id, "已换灯泡").await.status, StatusCode::OK);
    let now = linli::db::now_ms();
    linli::capabilities::tickets::jobs::run_once(&app.state, now + 2 * 86_400_000).await.unwrap();
    assert_eq!(app.ticket_status(id).await, "resolved", "two days on, still waiting for a rating");
    let r = linli::capabilities::tickets::jobs::run_once(&app.state, now + 3 * 86_400_000 + 60_000).await.unwrap();
    assert!(r.closed >= 1);
    assert_eq!(app.ticket_status(id).await, "closed", "the community's three days have passed");
}
