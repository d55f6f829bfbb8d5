//! Field work: a patrol under way on a phone, a finding that becomes a ticket in one tap,
//! the forest patrol's unbroken days, and field notes read by staff day by day.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use crate::helpers::{TestApp, visible_text};

const HS: &str = "440804003001";
const HUILONG: &str = "321111005001";

#[tokio::test]
async fn a_patrol_finding_becomes_a_ticket_in_one_tap() {
    let mut app = TestApp::demo().await;
    app.sign_in("grid").await;
    let c = app.community_id(HS).await;
    let grid = app.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", c).await;
    let start = app
        .post_form(&format!("/c/{HS}/patrols"), &[("grid_id", &grid.to_string()), ("route", "海盛花园—南调新村")])
        .await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.text());
    let twice = app.post_form(&format!("/c/{HS}/patrols"), &[("route", "again")]).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(visible_text(&twice.text()).contains("还有一次巡查没有结束"));
    let patrol = app.scalar("SELECT MAX(id) FROM patrols WHERE community_id = $1", c).await;

    let bad = app
        .post_form(
            &format!("/c/{HS}/patrols/{patrol}/findings"),
            &[("note", "井盖缺失"), ("lat", "north"), ("lng", "110.45")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (lat, lng): (f64, f64) = query("SELECT center_lat, center_lng FROM communities WHERE id = $1")
        .bind(c)
        .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    let ok = app
        .post_form(
            &format!("/c/{HS}/patrols/{patrol}/findings"),
            &[("note", "南调新村路口井盖缺失"), ("lat", &lat.to_string()), ("lng", &lng.to_string())],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let page = visible_text(&app.get(&format!("/c/{HS}/patrols")).await.text());
    assert!(page.contains("南调新村路口井盖缺失") && page.contains("转为工单"));
    let finding = app.scalar("SELECT MAX(id) FROM patrol_findings WHERE community_id = $1", c).await;
    let category = app.scalar("SELECT id FROM ticket_categories WHERE community_id = $1 AND code = '11'", c).await;
    let t =
        app.post_form(&format!("/c/{HS}/findings/{finding}/ticket"), &[("category_id", &category.to_string())]).await;
    assert_eq!(t.status, StatusCode::SEE_OTHER, "{}", t.text());
    let ticket: i64 = t.location().split("/tickets/").nth(1).unwrap().split('?').next().unwrap().parse().unwrap();
    let (channel, description): (String, String) =
        query("SELECT channel, description FROM tickets WHERE community_id = $1 AND id = $2")
            .bind(c)
            .bind(ticket)
            .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    assert_eq!((channel.as_str(), description.as_str()), ("patrol", "南调新村路口井盖缺失"));
    let again =
        app.post_form(&format!("/c/{HS}/findings/{finding}/ticket"), &[("category_id", &category.to_string())]).await;
    assert!(again.location().contains(&format!("/tickets/{ticket}")), "a second tap answers the same ticket");

    let end = app.post_form(&format!("/c/{HS}/patrols/{patrol}/end"), &[("note", "一处问题已转工单")]).await;
    assert_eq!(end.status, StatusCode::SEE_OTHER);
    let shown = visible_text(&app.get(&end.location()).await.text());
    assert!(shown.contains("已结束") && shown.contains("一处问题已转工单"));
    assert_eq!(app.post_form(&format!("/c/{HS}/patrols/{patrol}/end"), &[]).await.status, StatusCode::CONFLICT);
    // Residents do not patrol.
    app.sign_in("resident").await;
    assert_eq!(app.post_form(&format!("/c/{HS}/patrols"), &[]).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_volunteers_patrol_is_service_waiting_for_approval() {
    let mut app = TestApp::demo().await;
    app.sign_in("volunteer").await;
    let c = app.community_id(HS).await;
    let team = app.scalar("SELECT id FROM teams WHERE community_id = $1 AND name = '红心微聚志愿服务队'", c).await;
    let p = app
        .post_json(&format!("/api/v1/communities/{HS}/patrols"), json!({"team_id": team, "route": "海景苑周边"}))
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text());
    let id = p.json()["id"].as_i64().unwrap();
    // Out for an hour and a half.
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("UPDATE patrols SET started_at = started_at - 5400000 WHERE id = $1")
        .bind(id)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let end = app.post_json(&format!("/api/v1/communities/{HS}/patrols/{id}/end"), json!({"note": "一切正常"})).await;
    assert_eq!(end.status, StatusCode::OK, "{}", end.text());
    let (source, status, minutes): (String, String, i64) =
        query("SELECT source, status, minutes FROM service_records WHERE community_id = $1 AND source = 'patrol' AND source_id = $2")
            .bind(c)
            .bind(id)
            .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    assert_eq!((source.as_str(), status.as_str()), ("patrol", "pending"));
    assert!((89..=91).contains(&minutes));
    // A team the volunteer is not in is not theirs to patrol for.
    let other = app.scalar("SELECT id FROM teams WHERE community_id = $1 AND name = '邻聚欢享文艺队'", c).await;
    assert_eq!(
        app.post_json(&format!("/api/v1/communities/{HS}/patrols"), json!({"team_id": other})).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_forest_patrol_runs_unbroken_for_over_a_thousand_days() {
    let mut app = TestApp::demo().await;
    app.sign_in("grid2").await;
    let list = app.get(&format!("/api/v1/communities/{HUILONG}/patrols")).await.json();
    let forest = list["streaks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["team"].as_str().unwrap().contains("森林巡防队"))
        .unwrap()
        .clone();
    assert!(forest["current"].as_i64().unwrap() >= 1000, "{forest}");
    assert_eq!(forest["current"], forest["longest"]);
    let page = visible_text(&app.get(&format!("/c/{HUILONG}/patrols")).await.text());
    assert!(page.contains("巡查连续天数") && page.contains("守护绿色行动支部森林巡防队"));
}

#[tokio::test]
async fn field_notes_are_one_thing_one_record_read_by_staff_by_day() {
    let mut app = TestApp::demo().await;
    app.sign_in("grid").await;
    let c = app.community_id(HS).await;
    let grid = app.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", c).await;
    let household = |same: bool| {
        let sql = if same {
            "SELECT MIN(id) FROM households WHERE community_id = $1 AND grid_id = $2"
        } else {
            "SELECT MIN(id) FROM households WHERE community_id = $1 AND grid_id <> $2"
        };
        let db = app.state.db.clone();
        async move { query(sql).bind(c).bind(grid).scalar::<i64>(&mut db.read().await.unwrap()).await.unwrap() }
    };
    let (mine, other) = (household(true).await, household(false).await);
    let nowhere = app.post_form(&format!("/c/{HS}/field-notes"), &[("heard", "反映噪音")]).await;
    assert_eq!(nowhere.status, StatusCode::UNPROCESSABLE_ENTITY, "where it was heard");
    let not_mine =
        app.post_form(&format!("/c/{HS}/field-notes"), &[("household_id", &other.to_string()), ("heard", "x")]).await;
    assert_eq!(not_mine.status, StatusCode::UNPROCESSABLE_ENTITY, "outside the grid");
    let ok = app
        .post_form(
            &format!("/c/{HS}/field-notes"),
            &[
                ("household_id", &mine.to_string()),
                ("heard", "老人希望有人定期上门量血压"),
                ("follow_up", "联系久和医院家庭医生"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    app.sign_in("staff").await;
    let today = linli::web::fmt::today();
    let day = visible_text(&app.get(&format!("/c/{HS}/field-notes?day={today}")).await.text());
    assert!(day.contains("老人希望有人定期上门量血压") && day.contains("联系久和医院家庭医生"));
    let api = app.get(&format!("/api/v1/communities/{HS}/field-notes?day={today}")).await.json();
    assert!(api["items"].as_array().unwrap().iter().any(|n| n["household_id"] == mine));
    let week = visible_text(&app.get(&format!("/c/{HS}/field-notes")).await.text());
    assert!(week.contains("按日查看"));
    app.sign_in("resident").await;
    assert_eq!(app.get(&format!("/c/{HS}/field-notes")).await.status, StatusCode::NOT_FOUND);
}
