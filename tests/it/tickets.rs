//! Residents' requests: 群众点单 → 平台派单 → 接单 → 办结 → 群众评单, with escalation,
//! whistles, statistics that match the tickets, and Open311.

mod deadlines;
mod intake;
mod lifecycle;
mod open311;
mod stats;

use linli::db::citus::Span;
use linli::db::query;
use serde_json::Value;

use crate::helpers::TestApp;

const HS: &str = "440804003001";
const LIANJIANG: &str = "441802005001";

async fn user_id(app: &TestApp, username: &str) -> i64 {
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    query("SELECT id FROM users WHERE username = $1").bind(username).scalar(&mut conn).await.unwrap()
}

async fn category(app: &TestApp, code: &str, cat: &str) -> i64 {
    let c = app.community_id(code).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    query("SELECT id FROM ticket_categories WHERE community_id = $1 AND code = $2")
        .bind(c)
        .bind(cat)
        .scalar(&mut conn)
        .await
        .unwrap()
}

async fn resident_household(app: &TestApp) -> i64 {
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    query("SELECT g.household_id FROM grants g JOIN users u ON u.id = g.user_id WHERE u.username = 'resident'")
        .scalar(&mut conn)
        .await
        .unwrap()
}

fn id_from(location: &str) -> i64 {
    location.split('?').next().unwrap().rsplit('/').next().unwrap().parse().unwrap()
}

async fn act(app: &TestApp, id: i64, body: Value) -> crate::helpers::Resp {
    app.post_json(&format!("/api/v1/communities/{HS}/tickets/{id}/actions"), body).await
}
