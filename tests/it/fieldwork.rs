//! Field work: a patrol under way on a phone, a finding that becomes a ticket in one tap,
//! the forest patrol's unbroken days, and field notes read by staff day by day.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";
const HUILONG: &str = "321111005001";

impl TestApp {
    /// A grid worker starts a patrol on the page (its grid and route, as the form's fields).
    pub async fn start_patrol(&self, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/patrols"), fields).await
    }

    /// Someone starts a patrol through the API (a volunteer, for their team).
    pub async fn start_patrol_api(&self, patrol: Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/patrols"), patrol).await
    }

    /// The patroller records a finding where they stand.
    pub async fn record_patrol_finding(&self, patrol: i64, note: &str, lat: &str, lng: &str) -> Resp {
        let path = format!("/c/{HS}/patrols/{patrol}/findings");
        self.post_form(&path, &[("note", note), ("lat", lat), ("lng", lng)]).await
    }

    /// The patroller turns a finding into a ticket of a category, in one tap.
    pub async fn turn_patrol_finding_into_ticket(&self, finding: i64, category_id: i64) -> Resp {
        let category_id = category_id.to_string();
        self.post_form(&format!("/c/{HS}/findings/{finding}/ticket"), &[("category_id", &category_id)]).await
    }

    /// The patroller ends the patrol on the page, with a closing note or none.
    pub async fn end_patrol(&self, patrol: i64, note: Option<&str>) -> Resp {
        let fields: Vec<(&str, &str)> = note.map(|note| ("note", note)).into_iter().collect();
        self.post_form(&format!("/c/{HS}/patrols/{patrol}/end"), &fields).await
    }

    /// The patroller ends the patrol through the API, with a closing note.
    pub async fn end_patrol_api(&self, patrol: i64, note: &str) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/patrols/{patrol}/end"), json!({"note": note})).await
    }

    /// A grid worker writes a field note: what they heard at a household and what follows.
    pub async fn write_field_note(&self, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/field-notes"), fields).await
    }
}

#[tokio::test]
async fn a_patrol_finding_becomes_a_ticket_in_one_tap() {
    let mut app = TestApp::demo().await;
    app.sign_in("grid").await;
    let c = app.community_id(HS).await;
    let grid = app.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", c).await;
    let start = app.start_patrol(&[("grid_id", &grid.to_string()), ("route", "海盛花园—南调新村")]).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.text());
    let twice = app.start_patrol(&[("route", "again")]).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(visible_text(&twice.text()).contains("还有一次巡查没有结束"));
    let patrol = app.scalar("SELECT MAX(id) FROM patrols WHERE community_id = $1", c).await;

    let bad = app.record_patrol_finding(patrol, "井盖缺失", "north", "110.45").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (lat, lng): (f64, f64) = query("SELECT center_lat, center_lng FROM communities WHERE id = $1")
        .bind(c)
        .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    let ok = app.record_patrol_finding(patrol, "南调新村路口井盖缺失", &lat.to_string(), &lng.to_string()).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let page = visible_text(&app.get(&format!("/c/{HS}/patrols")).await.text());
    assert!(page.contains("南调新村路口井盖缺失") && page.contains("转为工单"));
    let finding = app.scalar("SELECT MAX(id) FROM patrol_findings WHERE community_id = $1", c).await;
    let category = app.ticket_category(HS, "11").await;
    let t = app.turn_patrol_finding_into_ticket(finding, category).await;
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
    let again = app.turn_patrol_finding_into_ticket(finding, category).await;
    assert!(again.location().contains(&format!("/tickets/{ticket}")), "a second tap answers the same ticket");

    let end = app.end_patrol(patrol, Some("一处问题已转工单")).await;
    assert_eq!(end.status, StatusCode::SEE_OTHER);
    let shown = visible_text(&app.get(&end.location()).await.text());
    assert!(shown.contains("已结束") && shown.contains("一处问题已转工单"));
    assert_eq!(app.end_patrol(patrol, None).await.status, StatusCode::CONFLICT);
    // Residents do not patrol.
    app.sign_in("resident").await;
    assert_eq!(app.start_patrol(&[]).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_volunteers_patrol_is_service_waiting_for_approval() {
    let mut app = TestApp::demo().await;
    app.sign_in("volunteer").await;
    let c = app.community_id(HS).await;
    let team = app.scalar("SELECT id FROM teams WHERE community_id = $1 AND name = '红心微聚志愿服务队'", c).await;
    let p = app.start_patrol_api(json!({"team_id": team, "route": "海景苑周边"})).await;
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
    let end = app.end_patrol_api(id, "一切正常").await;
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
    assert_eq!(app.start_patrol_api(json!({"team_id": other})).await.status, StatusCode::FORBIDDEN);
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
    // The worker picks a household by its address, among their grid's only, or comes from
    // the household's page with it chosen; nobody asks for a household number.
    let form = app.get(&format!("/c/{HS}/field-notes")).await.text();
    assert!(form.contains(&format!(r#"<option value="{mine}">"#)), "their grid's households");
    assert!(!form.contains(&format!(r#"<option value="{other}""#)), "not another grid's");
    assert!(!visible_text(&form).contains("户编号"));
    let household_page = app.get(&format!("/c/{HS}/households/{mine}")).await.text();
    assert!(household_page.contains(&format!("/c/{HS}/field-notes?household={mine}")), "记民情笔记 on its page");
    let chosen = app.get(&format!("/c/{HS}/field-notes?household={mine}")).await.text();
    assert!(chosen.contains(&format!(r#"<option value="{mine}" selected>"#)));
    let nowhere = app.write_field_note(&[("heard", "反映噪音")]).await;
    assert_eq!(nowhere.status, StatusCode::UNPROCESSABLE_ENTITY, "where it was heard");
    let not_mine = app.write_field_note(&[("household_id", &other.to_string()), ("heard", "x")]).await;
    assert_eq!(not_mine.status, StatusCode::UNPROCESSABLE_ENTITY, "outside the grid");
    let ok = app
        .write_field_note(&[
            ("household_id", &mine.to_string()),
            ("heard", "老人希望有人定期上门量血压"),
            ("follow_up", "联系久和医院家庭医生"),
        ])
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
