//! Ticket statistics, checked against the tickets themselves for a community, a grid
//! and a subdistrict.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::{Value, json};

use super::{HS, LIANJIANG};
use crate::helpers::{TestApp, visible_text};

/// The exact median, worked out the plain way.
fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    (n > 0).then(|| if n % 2 == 1 { sorted[n / 2] as f64 } else { (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0 })
}

#[tokio::test]
async fn the_statistics_match_the_tickets() {
    let mut app = TestApp::demo().await;
    app.sign_in("secretary").await;
    // Some life on top of the demo history.
    let cat = app.ticket_category(HS, "12").await;
    for i in 0..3 {
        let id = app
            .submit_ticket_id(HS, json!({"category_id": cat, "description": format!("纠纷{i}"), "address": "海盛"}))
            .await;
        let grid = app.user_id("grid").await;
        app.dispatch_ticket(id, grid).await;
        if i == 0 {
            app.reject_ticket(id, "不属实").await;
        }
    }
    let s = app.get(&format!("/api/v1/communities/{HS}/tickets/stats")).await.json();
    let c = app.community_id(HS).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let rows: Vec<(String, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>)> = query(
        "SELECT status, due_at, resolved_at, rating, response_ms, resolution_ms FROM tickets WHERE community_id = $1",
    )
    .bind(c)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let total = rows.len() as i64;
    let completed: Vec<_> = rows.iter().filter(|r| r.0 == "resolved" || r.0 == "closed").collect();
    let excluded = rows.iter().filter(|r| r.0 == "rejected" || r.0 == "duplicate").count() as i64;
    let on_time = completed.iter().filter(|r| r.2.is_some_and(|x| x <= r.1)).count() as f64;
    let rated: Vec<_> = rows.iter().filter_map(|r| r.3).collect();
    let satisfied = rated.iter().filter(|r| **r >= 4).count() as f64;
    assert_eq!(s["total"].as_i64(), Some(total));
    assert_eq!(s["completed"].as_i64(), Some(completed.len() as i64));
    let close = |a: &Value, b: f64| (a.as_f64().unwrap() - b).abs() < 1e-9;
    assert!(close(&s["completion_rate"], completed.len() as f64 / (total - excluded) as f64));
    assert!(close(&s["on_time_rate"], on_time / completed.len() as f64));
    assert!(close(&s["satisfaction_rate"], satisfied / rated.len() as f64));
    let mut resolution: Vec<i64> = rows.iter().filter_map(|r| r.5).collect();
    resolution.sort_unstable();
    assert_eq!(s["median_resolution_ms"].as_f64(), median(&resolution));
    let mut response: Vec<i64> = rows.iter().filter_map(|r| r.4).collect();
    response.sort_unstable();
    assert_eq!(s["median_response_ms"].as_f64(), median(&response));
    for (status, n) in s["by_status"].as_object().unwrap() {
        assert_eq!(n.as_i64(), Some(rows.iter().filter(|r| &r.0 == status).count() as i64), "{status}");
    }
    drop(conn);
    // The ledger has every ticket.
    let x = app.get(&format!("/c/{HS}/tickets.xlsx")).await;
    let table = linli::capabilities::registry::transfer::read_table(&x.body).unwrap();
    assert_eq!(table.len() as i64 - 1, total);
    assert_eq!(table[0][0], "编号");
    let page = visible_text(&app.get(&format!("/c/{HS}/tickets/stats")).await.text());
    assert!(page.contains("办结率") && page.contains("满意率"));
    // Grid workers see their grid's figures, not the community's.
    app.sign_in("grid").await;
    assert_eq!(app.get(&format!("/api/v1/communities/{HS}/tickets/stats")).await.status, StatusCode::NOT_FOUND);
    let grid = app.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", c).await;
    assert_eq!(app.get(&format!("/api/v1/communities/{HS}/tickets/stats?grid_id={grid}")).await.status, StatusCode::OK);

    // The subdistrict sees its 22 communities as one: a category is one row whatever the
    // community, and the median is that of all their tickets.
    app.sign_in("street").await;
    let sub =
        app.scalar("SELECT subdistrict_id FROM communities WHERE id = $1", app.community_id(LIANJIANG).await).await;
    let s = app.get(&format!("/api/v1/subdistricts/{sub}/tickets/stats")).await.json();
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let rows: Vec<(String, Option<i64>)> = query(
        "SELECT t.status, t.response_ms FROM tickets t JOIN communities c ON c.id = t.community_id WHERE c.subdistrict_id = $1",
    )
    .bind(sub)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    drop(conn);
    assert!(rows.len() > 100, "the demo has tickets across the subdistrict");
    assert_eq!(s["total"].as_i64(), Some(rows.len() as i64));
    let categories = s["by_category"].as_array().unwrap();
    let codes: std::collections::BTreeSet<&str> = categories.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), categories.len(), "one row per category code");
    assert_eq!(categories.iter().map(|r| r["total"].as_i64().unwrap()).sum::<i64>(), rows.len() as i64);
    assert_eq!(s["by_place"].as_array().unwrap().len(), 22);
    // The communities compare by rates, each from its own tickets: their parts add up to
    // the subdistrict's, and the page ranks them by completion rate.
    let places = s["by_place"].as_array().unwrap();
    let sum = |k: &str| places.iter().map(|r| r[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!(sum("on_time"), s["on_time"].as_i64().unwrap());
    assert_eq!(sum("satisfied"), s["satisfied"].as_i64().unwrap());
    let excluded = ["rejected", "duplicate"].iter().map(|k| s["by_status"][k].as_i64().unwrap_or(0)).sum::<i64>();
    assert_eq!(sum("excluded"), excluded);
    let html = app.get(&format!("/subdistricts/{sub}/tickets/stats")).await.text();
    assert!(html.contains("aria-label=\"社区 · 办结率"), "the chart compares by rate");
    let table = visible_text(html.rsplit("<table").next().unwrap());
    assert!(table.contains("按时办结率") && table.contains("满意率") && table.contains("连江社区"), "{table}");
    let mut response: Vec<i64> = rows.iter().filter_map(|r| r.1).collect();
    response.sort_unstable();
    assert_eq!(s["median_response_ms"].as_f64(), median(&response));
}
