//! Taking requests in: routing points to grids, refusing bad input, idempotent retries,
//! and the household plate's QR form.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::{Value, json};

use super::HS;
use crate::helpers::{TestApp, visible_text};

#[tokio::test]
async fn points_route_to_their_grid_and_points_outside_go_to_the_community_queue_flagged() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let c = app.community_id(HS).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let (grid, poly): (i64, sqlx::types::Json<Value>) =
        query("SELECT id, polygon FROM grids WHERE community_id = $1 ORDER BY id LIMIT 1")
            .bind(c)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    drop(conn);
    let ring = poly.0["coordinates"][0].as_array().unwrap().clone();
    let (lng, lat) = (
        ring[..4].iter().map(|p| p[0].as_f64().unwrap()).sum::<f64>() / 4.0,
        ring[..4].iter().map(|p| p[1].as_f64().unwrap()).sum::<f64>() / 4.0,
    );
    let cat = app.ticket_category(HS, "01").await;
    let inside = app
        .submit_ticket(
            HS,
            json!({"category_id": cat, "description": "垃圾满溢", "lat": lat, "lng": lng, "channel": "patrol"}),
        )
        .await
        .json();
    assert_eq!(inside["grid_id"], grid);
    assert_eq!(inside["status"], "dispatched");
    assert_eq!(inside["owner_user_id"], app.user_id("grid").await);
    let outside = app
        .submit_ticket(HS, json!({"category_id": cat, "description": "远处垃圾", "lat": 30.0, "lng": 120.0}))
        .await
        .json();
    assert_eq!(outside["outside_grid"], true);
    assert_eq!(outside["status"], "submitted");
    assert!(outside["grid_id"].is_null());
    let queue = app.get(&format!("/api/v1/communities/{HS}/tickets?status=submitted")).await.json();
    assert!(queue["items"].as_array().unwrap().iter().any(|t| t["id"] == outside["id"]));
    let page = visible_text(&app.get(&format!("/c/{HS}/tickets/{}", outside["id"])).await.text());
    assert!(page.contains("不在任何网格内"));
}

#[tokio::test]
async fn bad_input_is_refused_by_name_and_nothing_is_saved() {
    let mut app = TestApp::demo().await;
    app.sign_in("resident").await;
    let c = app.community_id(HS).await;
    let before = app.ticket_count(c).await;
    let cat = app.ticket_category(HS, "11").await;
    let r = app.submit_ticket(HS, json!({"category_id": 999, "description": "", "lat": 95.0, "lng": 10.0})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let f = &r.json()["error"]["fields"];
    assert_eq!(f["description"], "必填");
    assert!(f["lat"].as_str().unwrap().contains("-90"));
    let r = app.submit_ticket(HS, json!({"category_id": 999, "description": "x", "address": "某处"})).await;
    assert_eq!(r.field_error("category_id"), "本社区没有这个类别");
    let r = app.submit_ticket(HS, json!({"category_id": cat, "description": "x"})).await;
    assert_eq!(r.field_error("place"), "请选择户、地图位置或填写地址");
    let r = app.submit_ticket(HS, json!({"category_id": cat, "description": "x", "lat": "north", "lng": 1})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "coordinates that are not numbers");
    assert_eq!(r.field_error("lat"), "应为数字");
    let other_household = app.scalar("SELECT MAX(id) FROM households WHERE community_id = $1", c).await;
    let r =
        app.submit_ticket(HS, json!({"category_id": cat, "description": "x", "household_id": other_household})).await;
    assert_eq!(r.field_error("household_id"), "所选记录不存在", "a resident reports for their own household only");
    let page = app
        .submit_ticket_form(
            &[("category_id", &cat.to_string()), ("description", "照片"), ("address", "门口")],
            b"GIF89a not really an image",
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&page.text()).contains("只能上传 JPEG、PNG 或 WebP 图片"));
    assert_eq!(app.ticket_count(c).await, before, "nothing saved");

    // A step the user may not take, and one the state does not allow.
    let id = app.submit_ticket_id(HS, json!({"category_id": cat, "description": "路灯不亮", "address": "南门"})).await;
    assert_eq!(app.dispatch_ticket(id, 1).await.status, StatusCode::FORBIDDEN);
    // Raw action bodies: an unknown action, a close the state does not allow, a rejection without its reason.
    assert_eq!(app.ticket_action(id, json!({"action": "fly"})).await.field_error("action"), "不是可选的值");
    app.sign_in("staff").await;
    let r = app.ticket_action(id, json!({"action": "close"})).await;
    assert_eq!(r.field_error("action"), "工单当前状态下不能这样操作");
    assert_eq!(app.ticket_action(id, json!({"action": "reject"})).await.field_error("note"), "请填写说明");
}

#[tokio::test]
async fn a_retried_submission_with_the_same_key_makes_one_ticket() {
    let mut app = TestApp::demo().await;
    app.sign_in("resident").await;
    let cat = app.ticket_category(HS, "16").await;
    let ticket = json!({"category_id": cat, "description": "咨询低保", "address": "海盛"});
    let first = app.submit_ticket_with_key(HS, "phone-7f3a", ticket.clone()).await;
    let again = app.submit_ticket_with_key(HS, "phone-7f3a", ticket).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(first.json()["id"], again.json()["id"]);
}

#[tokio::test]
async fn a_household_plate_opens_the_form_with_the_household_filled_in() {
    let mut app = TestApp::demo().await;
    app.sign_in("grid").await;
    let c = app.community_id(HS).await;
    let grid = app.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", c).await;
    let plates = app.get(&format!("/c/{HS}/plates/grid/{grid}")).await;
    assert_eq!(plates.status, StatusCode::OK);
    let html = plates.text();
    assert!(html.contains("<svg") && html.contains("网格服务牌"));
    let token = html.split("/plate/").nth(1).unwrap().split(['<', '"']).next().unwrap().to_string();
    assert!(html.contains("http://localhost/plate/"), "the code holds a full address a phone can open");
    app.cookie = None;
    let form = app.get(&format!("/plate/{token}")).await;
    assert_eq!(form.status, StatusCode::OK);
    let cat = app.ticket_category(HS, "11").await.to_string();
    let missing = app.submit_ticket_by_plate(&token, &[("category_id", &cat), ("description", "门口的灯坏了")]).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&missing.text()).contains("必填"));
    let ok = app
        .submit_ticket_by_plate(
            &token,
            &[
                ("category_id", &cat),
                ("description", "门口的灯坏了"),
                ("submitter_name", "张阿姨"),
                ("caller_phone", "13812340000"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert!(visible_text(&ok.text()).contains("已收到"));
    let h: i64 = token.split('-').nth(1).unwrap().parse().unwrap();
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let (channel, household): (String, Option<i64>) = query(
        "SELECT channel, household_id FROM tickets WHERE community_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(c)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!((channel.as_str(), household), ("plate", Some(h)));
    let forged = token.replace(&format!("-{h}-"), &format!("-{}-", h + 1));
    assert_eq!(app.get(&format!("/plate/{forged}")).await.status, StatusCode::NOT_FOUND);
}
