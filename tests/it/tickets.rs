//! Residents' requests: 群众点单 → 平台派单 → 接单 → 办结 → 群众评单, with escalation,
//! whistles, statistics that match the tickets, and Open311.

use linli::db::citus::Span;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use linli::db::query;
use serde_json::{Value, json};

use crate::helpers::{TestApp, visible_text};

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

#[tokio::test]
async fn a_resident_asks_the_grid_worker_hears_resolves_with_a_photo_and_the_resident_rates() {
    let mut app = TestApp::demo().await;
    let grid_worker = user_id(&app, "grid").await;
    // The grid worker has a page open: they hear of the new ticket through the database.
    let mut news = app.state.bus.subscribe(&app.state.db).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    app.sign_in("resident").await;
    let h = resident_household(&app).await.to_string();
    let cat = category(&app, HS, "11").await.to_string();
    let photo = linli::services::media::png_for_tests(640, 480);
    let r = app
        .post_multipart(
            &format!("/c/{HS}/tickets"),
            &[("category_id", &cat), ("description", "3栋楼道灯坏了一个星期，晚上看不见台阶"), ("household_id", &h)],
            &[("photos", &photo)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", visible_text(&r.text()));
    let id = id_from(&r.location());
    let heard = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let n = news.recv().await.unwrap();
            if n.subject_kind.as_deref() == Some("ticket") && n.subject_id == Some(id) {
                return n;
            }
        }
    })
    .await
    .expect("the grid worker hears of the ticket");
    assert!(heard.users.contains(&grid_worker));

    let page = visible_text(&app.get(&r.location()).await.text());
    assert!(page.contains("已派单") && page.contains("周网格员"), "dispatched to the grid's worker: {page}");

    app.sign_in("grid").await;
    let inbox = app.get("/api/v1/inbox").await.json();
    assert!(inbox["items"].as_array().unwrap().iter().any(|n| n["ticket_id"] == id));
    let work = app.get(&format!("/api/v1/communities/{HS}/tickets?view=work&status=dispatched")).await.json();
    assert!(work["items"].as_array().unwrap().iter().any(|t| t["id"] == id));
    assert_eq!(act(&app, id, json!({"action": "accept"})).await.status, StatusCode::OK);
    let q = act(&app, id, json!({"action": "note", "q_need": "楼道照明", "q_cause": "灯泡老化", "q_plan": "更换LED灯", "q_progress": "已采购", "q_outcome": "已亮"})).await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text());
    assert_eq!(q.json()["five_questions"]["cause"], "灯泡老化");
    assert_eq!(act(&app, id, json!({"action": "start"})).await.status, StatusCode::OK);
    let done_photo = linli::services::media::png_for_tests(300, 300);
    let resolved = app
        .post_multipart(
            &format!("/c/{HS}/tickets/{id}/act"),
            &[("action", "resolve"), ("note", "已更换灯泡")],
            &[("photos", &done_photo)],
        )
        .await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER, "{}", visible_text(&resolved.text()));

    // Photos are served to those who may see the ticket, and to no one else.
    let photos =
        app.get(&format!("/api/v1/communities/{HS}/tickets/{id}")).await.json()["photos"].as_array().unwrap().clone();
    assert_eq!(photos.len(), 2);
    let url = photos[1]["url"].as_str().unwrap().to_string();
    let thumb = app.get(photos[1]["thumbnail"].as_str().unwrap()).await;
    assert_eq!(thumb.status, StatusCode::OK);
    assert_eq!(thumb.headers["content-type"], "image/jpeg");
    app.sign_in("grid2").await;
    assert_eq!(app.get(&url).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/c/{HS}/tickets/{id}")).await.status, StatusCode::NOT_FOUND);

    app.sign_in("resident").await;
    assert_eq!(app.get(&url).await.status, StatusCode::OK);
    let rated = act(&app, id, json!({"action": "rate", "rating": 5, "note": "很及时，谢谢"})).await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.text());
    assert_eq!(rated.json()["status"], "closed");
    let history: Vec<String> = app.get(&format!("/api/v1/communities/{HS}/tickets/{id}")).await.json()["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(history, ["submit", "dispatch", "accept", "note", "start", "resolve", "rate"]);
}

#[tokio::test]
async fn a_low_rating_reopens_until_the_communitys_limit() {
    let mut app = TestApp::demo().await;
    // The secretary sets the community's limit: one reopening (the default is two).
    app.sign_in("secretary").await;
    let bad = app.patch_json(&format!("/api/v1/communities/{HS}"), json!({"ticket_reopen_limit": 50})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!bad.field_error("ticket_reopen_limit").is_empty());
    let set = app.patch_json(&format!("/api/v1/communities/{HS}"), json!({"ticket_reopen_limit": 1})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    let edit = app.get(&format!("/communities/{}/edit", app.community_id(HS).await)).await.text();
    assert!(
        edit.contains("差评重开次数上限") && edit.contains("未评价自动办结天数"),
        "the settings are on the community's form"
    );
    app.sign_in("resident").await;
    let h = resident_household(&app).await;
    let cat = category(&app, HS, "14").await;
    let t = app
        .post_json(
            &format!("/api/v1/communities/{HS}/tickets"),
            json!({"category_id": cat, "description": "地下室积水蚊子多", "household_id": h}),
        )
        .await;
    let id = t.json()["id"].as_i64().unwrap();
    for round in 0..2 {
        app.sign_in("grid").await;
        if round == 0 {
            assert_eq!(act(&app, id, json!({"action": "accept"})).await.status, StatusCode::OK);
        } else {
            // Reopened tickets go back to their owner.
            assert_eq!(act(&app, id, json!({"action": "accept"})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
            app.sign_in("staff").await;
            let grid = user_id(&app, "grid").await;
            assert_eq!(
                act(&app, id, json!({"action": "dispatch", "owner_user_id": grid})).await.status,
                StatusCode::OK
            );
            app.sign_in("grid").await;
            assert_eq!(act(&app, id, json!({"action": "accept"})).await.status, StatusCode::OK);
        }
        assert_eq!(act(&app, id, json!({"action": "resolve", "note": "已消杀"})).await.status, StatusCode::OK);
        app.sign_in("resident").await;
        let r = act(&app, id, json!({"action": "rate", "rating": 1, "note": "还是很多蚊子"})).await.json();
        let expected = if round < 1 { "reopened" } else { "closed" };
        assert_eq!(r["status"], expected, "round {round}: the limit is 1 reopening");
    }
}

#[tokio::test]
async fn of_two_members_taking_one_order_at_once_exactly_one_wins() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("secretary").await;
    let team = app
        .post_json(&format!("/api/v1/communities/{HS}/teams"), json!({"name": "接单测试队", "kind": "volunteer"}))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let mut members = Vec::new();
    for name in ["vol1", "vol2"] {
        let r = app
            .post_json(
                &format!("/api/v1/communities/{HS}/users"),
                json!({"username": name, "display_name": name, "password": "secret123", "role": "volunteer"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let uid = r.json()["id"].as_i64().unwrap();
        let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
        query("INSERT INTO team_members (community_id, team_id, user_id, leader, joined_at) VALUES ($1, $2, $3, FALSE, 0)").bind(c).bind(team).bind(uid).execute(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        members.push(uid);
    }
    let cat = category(&app, HS, "13").await;
    let set = app
        .patch_json(
            &format!("/api/v1/communities/{HS}/ticket_categories/{cat}"),
            json!({"handler_kind": "team", "handler_team_id": team}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    let bad = app
        .patch_json(
            &format!("/api/v1/communities/{HS}/ticket_categories/{cat}"),
            json!({"handler_kind": "partner_unit", "handler_team_id": null}),
        )
        .await;
    assert_eq!(bad.field_error("handler_unit_id"), "必填", "{}", bad.text());
    let t = app.post_json(&format!("/api/v1/communities/{HS}/tickets"), json!({"category_id": cat, "description": "帮独居老人代办医保", "address": "海盛花园1栋", "channel": "hotline", "submitter_name": "王阿姨", "caller_phone": "13712345678"})).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.text());
    let t = t.json();
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["pool_team_id"], team);
    assert_eq!(t["caller_phone"], "137****5678");
    let id = t["id"].as_i64().unwrap();

    let mut a = app.restart().await;
    a.cookie = None;
    a.sign_in_with("vol1", "secret123").await;
    let mut b = app.restart().await;
    b.sign_in_with("vol2", "secret123").await;
    let pool = a.get(&format!("/api/v1/communities/{HS}/tickets?view=pool")).await.json();
    assert!(pool["items"].as_array().unwrap().iter().any(|x| x["id"] == id));
    let (a, b) = (Arc::new(a), Arc::new(b));
    let url = format!("/api/v1/communities/{HS}/tickets/{id}/actions");
    let (ra, rb) = tokio::join!(
        {
            let a = a.clone();
            let url = url.clone();
            async move { a.post_json(&url, json!({"action": "accept"})).await }
        },
        {
            let b = b.clone();
            let url = url.clone();
            async move { b.post_json(&url, json!({"action": "accept"})).await }
        }
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", ra.text(), rb.text());
    let loser = if ra.status == StatusCode::CONFLICT { &ra } else { &rb };
    assert_eq!(loser.json()["error"]["message"], "已被他人接单");
    let winner = if ra.status == StatusCode::OK { members[0] } else { members[1] };
    assert_eq!(app.get(&format!("/api/v1/communities/{HS}/tickets/{id}")).await.json()["owner_user_id"], winner);
}

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

#[tokio::test]
async fn a_whistle_brings_a_partner_unit_in() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let unit: i64 = app.scalar("SELECT MIN(id) FROM partner_units WHERE community_id = $1", c).await;
    app.sign_in("staff").await;
    let cat = category(&app, HS, "15").await;
    let id = app
        .post_json(&format!("/api/v1/communities/{HS}/tickets"), json!({"category_id": cat, "description": "老人突发疾病后需要上门复查", "address": "海盛花园2栋", "channel": "hotline", "submitter_name": "李先生"}))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    app.sign_in("unit").await;
    assert_eq!(
        app.get(&format!("/api/v1/communities/{HS}/tickets/{id}")).await.status,
        StatusCode::NOT_FOUND,
        "not theirs yet"
    );
    app.sign_in("staff").await;
    let w = act(&app, id, json!({"action": "whistle", "unit_id": unit, "note": "请医院派医生上门"})).await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.text());
    app.sign_in("unit").await;
    let seen = app.get(&format!("/api/v1/communities/{HS}/tickets/{id}")).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.json()["allowed_actions"].as_array().unwrap().contains(&json!("respond")));
    let home = visible_text(&app.get("/").await.text());
    assert!(home.contains("吹哨待报到"));
    let r = act(&app, id, json!({"action": "respond", "note": "已派全科医生上门复查"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        act(&app, id, json!({"action": "respond", "note": "again"})).await.status,
        StatusCode::NOT_FOUND,
        "answered: no longer called in"
    );
    app.sign_in("secretary").await;
    let stats = app.get(&format!("/api/v1/communities/{HS}/tickets/stats")).await.json();
    assert_eq!((stats["whistles"].as_i64(), stats["whistles_answered"].as_i64()), (Some(1), Some(1)));
    let whistles = app.get(&format!("/api/v1/communities/{HS}/tickets/{id}")).await.json()["whistles"].clone();
    assert_eq!(whistles[0]["response"], "已派全科医生上门复查");
}

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
    let cat = category(&app, HS, "01").await;
    let inside = app
        .post_json(
            &format!("/api/v1/communities/{HS}/tickets"),
            json!({"category_id": cat, "description": "垃圾满溢", "lat": lat, "lng": lng, "channel": "patrol"}),
        )
        .await
        .json();
    assert_eq!(inside["grid_id"], grid);
    assert_eq!(inside["status"], "dispatched");
    assert_eq!(inside["owner_user_id"], user_id(&app, "grid").await);
    let outside = app
        .post_json(
            &format!("/api/v1/communities/{HS}/tickets"),
            json!({"category_id": cat, "description": "远处垃圾", "lat": 30.0, "lng": 120.0}),
        )
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
    let before = app.scalar("SELECT COUNT(*) FROM tickets WHERE community_id = $1", c).await;
    let url = format!("/api/v1/communities/{HS}/tickets");
    let cat = category(&app, HS, "11").await;
    let r = app.post_json(&url, json!({"category_id": 999, "description": "", "lat": 95.0, "lng": 10.0})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let f = &r.json()["error"]["fields"];
    assert_eq!(f["description"], "必填");
    assert!(f["lat"].as_str().unwrap().contains("-90"));
    let r = app.post_json(&url, json!({"category_id": 999, "description": "x", "address": "某处"})).await;
    assert_eq!(r.field_error("category_id"), "本社区没有这个类别");
    let r = app.post_json(&url, json!({"category_id": cat, "description": "x"})).await;
    assert_eq!(r.field_error("place"), "请选择户、地图位置或填写地址");
    let r = app.post_json(&url, json!({"category_id": cat, "description": "x", "lat": "north", "lng": 1})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "coordinates that are not numbers");
    assert_eq!(r.field_error("lat"), "应为数字");
    let other_household = app.scalar("SELECT MAX(id) FROM households WHERE community_id = $1", c).await;
    let r = app.post_json(&url, json!({"category_id": cat, "description": "x", "household_id": other_household})).await;
    assert_eq!(r.field_error("household_id"), "所选记录不存在", "a resident reports for their own household only");
    let page = app
        .post_multipart(
            &format!("/c/{HS}/tickets"),
            &[("category_id", &cat.to_string()), ("description", "照片"), ("address", "门口")],
            &[("photos", b"GIF89a not really an image")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&page.text()).contains("只能上传 JPEG、PNG 或 WebP 图片"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM tickets WHERE community_id = $1", c).await, before, "nothing saved");

    // A step the user may not take, and one the state does not allow.
    let id = app
        .post_json(&url, json!({"category_id": cat, "description": "路灯不亮", "address": "南门"}))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(act(&app, id, json!({"action": "dispatch", "owner_user_id": 1})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(act(&app, id, json!({"action": "fly"})).await.field_error("action"), "不是可选的值");
    app.sign_in("staff").await;
    let r = act(&app, id, json!({"action": "close"})).await;
    assert_eq!(r.field_error("action"), "工单当前状态下不能这样操作");
    assert_eq!(act(&app, id, json!({"action": "reject"})).await.field_error("note"), "请填写说明");
}

#[tokio::test]
async fn a_retried_submission_with_the_same_key_makes_one_ticket() {
    let mut app = TestApp::demo().await;
    app.sign_in("resident").await;
    let cat = category(&app, HS, "16").await;
    let req = || {
        axum::http::Request::post(format!("/api/v1/communities/{HS}/tickets"))
            .header("content-type", "application/json")
            .header("idempotency-key", "phone-7f3a")
            .body(axum::body::Body::from(
                json!({"category_id": cat, "description": "咨询低保", "address": "海盛"}).to_string(),
            ))
            .unwrap()
    };
    let first = app.send(req()).await;
    let again = app.send(req()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(first.json()["id"], again.json()["id"]);
}

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
    let cat = category(&app, HS, "12").await;
    for i in 0..3 {
        let id = app
            .post_json(
                &format!("/api/v1/communities/{HS}/tickets"),
                json!({"category_id": cat, "description": format!("纠纷{i}"), "address": "海盛"}),
            )
            .await
            .json()["id"]
            .as_i64()
            .unwrap();
        let grid = user_id(&app, "grid").await;
        act(&app, id, json!({"action": "dispatch", "owner_user_id": grid})).await;
        if i == 0 {
            act(&app, id, json!({"action": "reject", "note": "不属实"})).await;
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
    let mut response: Vec<i64> = rows.iter().filter_map(|r| r.1).collect();
    response.sort_unstable();
    assert_eq!(s["median_response_ms"].as_f64(), median(&response));
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
    let missing = app
        .post_raw_form(
            &format!("/plate/{token}"),
            &[("category_id", &category(&app, HS, "11").await.to_string()), ("description", "门口的灯坏了")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&missing.text()).contains("必填"));
    let ok = app
        .post_raw_form(
            &format!("/plate/{token}"),
            &[
                ("category_id", &category(&app, HS, "11").await.to_string()),
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

#[tokio::test]
async fn open311_clients_read_and_write_in_json_and_xml() {
    let app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let key = linli::capabilities::tickets::open311::create_key(&app.state, c, "test").await.unwrap();
    let services = app.get(&format!("/open311/v2/services.json?jurisdiction_id={HS}")).await;
    assert_eq!(services.status, StatusCode::OK);
    let list = services.json();
    let codes: Vec<&str> = list.as_array().unwrap().iter().map(|s| s["service_code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"01") && codes.contains(&"13"));
    for s in list.as_array().unwrap() {
        assert!(s["service_name"].is_string() && s["metadata"].is_boolean() && s["type"] == "realtime");
    }
    let xml = app.get(&format!("/open311/v2/services.xml?jurisdiction_id={HS}")).await.text();
    assert!(xml.contains("<services><service><service_code>"), "{xml}");
    let def = app.get(&format!("/open311/v2/services/01.json?jurisdiction_id={HS}")).await.json();
    assert_eq!(def["service_code"], "01");
    assert!(def["attributes"].is_array());

    let post = |format: &'static str, fields: Vec<(&'static str, String)>| {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        axum::http::Request::post(format!("/open311/v2/requests.{format}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let base = |k: &str| {
        vec![
            ("api_key", k.to_string()),
            ("jurisdiction_id", HS.to_string()),
            ("service_code", "01".to_string()),
            ("address_string", "海盛路12号".to_string()),
        ]
    };
    // Clients poll the same list: an answer given before a change is not given after it.
    let open_url = format!("/open311/v2/requests.json?jurisdiction_id={HS}&status=open&service_code=01");
    let before = app.get(&open_url).await.json();
    let mut fields = base(&key);
    fields.push(("description", "路边垃圾，联系13812345678".into()));
    let created = app.send(post("json", fields)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let id = created.json()[0]["service_request_id"].as_str().unwrap().to_string();
    let created_xml = app.send(post("xml", base(&key))).await.text();
    assert!(created_xml.contains("<service_requests><request><service_request_id>"), "{created_xml}");

    let one = app.get(&format!("/open311/v2/requests/{id}.json?jurisdiction_id={HS}")).await.json();
    let r = &one[0];
    assert_eq!(r["service_request_id"], id.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], "01");
    assert!(r["requested_datetime"].as_str().unwrap().ends_with("+08:00"));
    assert_eq!(r["description"], "路边垃圾，联系138****5678", "numbers are masked in public answers");
    let one_xml = app.get(&format!("/open311/v2/requests/{id}.xml?jurisdiction_id={HS}")).await.text();
    assert!(one_xml.contains("<service_requests><request>") && one_xml.contains("<status>open</status>"));
    let open = app.get(&open_url).await.json();
    assert!(open.as_array().unwrap().iter().all(|x| x["status"] == "open" && x["service_code"] == "01"));
    assert!(open.as_array().unwrap().iter().any(|x| x["service_request_id"] == id.as_str()));
    assert!(!before.as_array().unwrap().iter().any(|x| x["service_request_id"] == id.as_str()));
    let closed =
        app.get(&format!("/open311/v2/requests.json?jurisdiction_id={HS}&status=closed&page_size=5")).await.json();
    assert_eq!(closed.as_array().unwrap().len(), 5);
    assert!(closed.as_array().unwrap().iter().all(|x| x["status"] == "closed"));

    // Errors in the spec's format.
    let bad_key = app.send(post("json", base("nope"))).await;
    assert_eq!(bad_key.status, StatusCode::FORBIDDEN);
    assert_eq!(bad_key.json()[0]["code"], 403);
    let bad_key_xml = app.send(post("xml", base("nope"))).await.text();
    assert!(bad_key_xml.contains("<errors><error><code>403</code><description>"));
    let mut unknown = base(&key);
    unknown[2].1 = "99".into();
    let r = app.send(post("json", unknown)).await;
    assert_eq!((r.status, r.json()[0]["code"].as_i64()), (StatusCode::BAD_REQUEST, Some(400)));
    let mut not_number = base(&key);
    not_number.push(("lat", "north".into()));
    not_number.push(("long", "113".into()));
    assert!(app.send(post("json", not_number)).await.json()[0]["description"].as_str().unwrap().starts_with("lat"));
    let wrong_place = app.get("/open311/v2/services.json?jurisdiction_id=000000").await;
    assert_eq!(wrong_place.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/open311/v2/requests/999999999.json?jurisdiction_id={HS}")).await.status,
        StatusCode::NOT_FOUND
    );
    let discovery = app.get("/open311/v2/discovery.json").await.json();
    assert!(discovery["endpoints"][0]["url"].as_str().unwrap().ends_with("/open311/v2"));
    assert!(app.get("/open311/v2/discovery.xml").await.text().contains("<discovery>"));
    let no_key = app.send(post("json", base("")[1..].to_vec())).await;
    assert_eq!(no_key.status, StatusCode::FORBIDDEN, "posting needs a key");

    // Every answer conforms to the GeoReport v2 JSON Schemas.
    conforms("service.json", list.as_array().unwrap());
    conforms("service-definition.json", std::slice::from_ref(&def));
    for answer in [&one, &open, &closed] {
        conforms("request.json", answer.as_array().unwrap());
    }
    let mut broken = one[0].clone();
    broken["status"] = json!("pending");
    broken["requested_datetime"] = json!("yesterday");
    assert_eq!(violations("request.json", &broken).len(), 2, "the check can fail");
    let by_id =
        app.get(&format!("/open311/v2/requests.json?jurisdiction_id={HS}&service_request_id={id}")).await.json();
    assert_eq!(by_id.as_array().unwrap().len(), 1, "{by_id}");
    let today = linli::web::fmt::today();
    let since = app
        .get(&format!("/open311/v2/requests.json?jurisdiction_id={HS}&start_date={}T00:00:00%2B08:00", today))
        .await
        .json();
    assert!(since.as_array().unwrap().iter().any(|x| x["service_request_id"] == id.as_str()), "today's are in");
    let long_ago = app
        .get(&format!("/open311/v2/requests.json?jurisdiction_id={HS}&end_date=2000-01-01T00:00:00%2B08:00"))
        .await
        .json();
    assert_eq!(long_ago.as_array().unwrap().len(), 0);

    // The token endpoint, and nothing written by refused requests.
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let token: String = query("SELECT token FROM tickets WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(id.parse::<i64>().unwrap())
        .scalar(&mut conn)
        .await
        .unwrap();
    let open311_count: i64 = query("SELECT COUNT(*) FROM tickets WHERE community_id = $1 AND channel = 'open311'")
        .bind(c)
        .scalar(&mut conn)
        .await
        .unwrap();
    assert_eq!(open311_count, 2);
    drop(conn);
    let t = app.get(&format!("/open311/v2/tokens/{token}.json")).await.json();
    assert_eq!(t[0]["service_request_id"], id.as_str());
}

#[tokio::test]
async fn staff_merge_a_duplicate_reject_with_a_reason_reassign_reopen_and_record_a_follow_up_visit() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let cat = category(&app, HS, "14").await;
    // A hotline call, and the same matter phoned in again.
    let submit = |description: &'static str| json!({"category_id": cat, "description": description, "address": "海盛花园3栋", "channel": "hotline", "submitter_name": "王阿姨", "caller_phone": "13911112222"});
    let first = app.post_json(&format!("/api/v1/communities/{HS}/tickets"), submit("3栋楼道灯坏了")).await.json()["id"]
        .as_i64()
        .unwrap();
    let again =
        app.post_json(&format!("/api/v1/communities/{HS}/tickets"), submit("3栋楼道灯还是不亮")).await.json()["id"]
            .as_i64()
            .unwrap();
    let spam = app.post_json(&format!("/api/v1/communities/{HS}/tickets"), submit("测试")).await.json()["id"]
        .as_i64()
        .unwrap();

    let no_target = act(&app, again, json!({"action": "duplicate", "note": "同一件事"})).await;
    assert_eq!(no_target.status, StatusCode::UNPROCESSABLE_ENTITY, "a duplicate names the ticket it repeats");
    let merged = act(&app, again, json!({"action": "duplicate", "duplicate_of": first, "note": "同一件事"})).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text());
    assert_eq!(
        (merged.json()["status"].as_str(), merged.json()["duplicate_of"].as_i64()),
        (Some("duplicate"), Some(first))
    );
    let no_reason = act(&app, spam, json!({"action": "reject"})).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY, "a rejection gives its reason");
    assert_eq!(act(&app, spam, json!({"action": "reject", "note": "测试来电"})).await.json()["status"], "rejected");

    // Dispatched to the grid worker, then reassigned by staff to the second grid's worker.
    let grid = user_id(&app, "grid").await;
    assert_eq!(act(&app, first, json!({"action": "dispatch", "owner_user_id": grid})).await.status, StatusCode::OK);
    let staff = user_id(&app, "staff").await;
    let moved = act(&app, first, json!({"action": "reassign", "owner_user_id": staff, "note": "由社工跟进"})).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    assert_eq!(moved.json()["owner_user_id"].as_i64(), Some(staff));
    app.sign_in("grid").await;
    assert_eq!(
        act(&app, first, json!({"action": "accept"})).await.status,
        StatusCode::NOT_FOUND,
        "no longer theirs to see"
    );
    app.sign_in("staff").await;
    assert_eq!(act(&app, first, json!({"action": "accept"})).await.status, StatusCode::OK, "the new owner takes it");
    assert_eq!(act(&app, first, json!({"action": "resolve", "note": "已换灯"})).await.status, StatusCode::OK);

    // A phoned-in ticket gets a follow-up call 回访; an unhappy caller has it reopened.
    let visit =
        act(&app, first, json!({"action": "follow_up", "satisfied": false, "note": "王阿姨说晚上还是暗"})).await;
    assert_eq!(visit.status, StatusCode::OK, "{}", visit.text());
    let reopened = act(&app, first, json!({"action": "reopen", "note": "回访不满意，重新处理"})).await;
    assert_eq!(reopened.json()["status"], "reopened");
    let t = app.get(&format!("/api/v1/communities/{HS}/tickets/{first}")).await.json();
    let actions: Vec<&str> = t["history"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["dispatch", "reassign", "resolve", "follow_up", "reopen"] {
        assert!(actions.contains(&a), "{a} is in the history: {actions:?}");
    }
    let page = crate::helpers::visible_text(&app.get(&format!("/c/{HS}/tickets/{first}")).await.text());
    assert!(page.contains("王阿姨说晚上还是暗"), "the follow-up shows on the ticket: {page}");
}

/// What an answer breaks of one of the GeoReport v2 schemas (kept in tests/open311-schemas).
fn violations(schema: &str, item: &Value) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/open311-schemas").join(schema);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let v = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
    v.iter_errors(item).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

fn conforms(schema: &str, items: &[Value]) {
    assert!(!items.is_empty(), "something to check against {schema}");
    for item in items {
        let errors = violations(schema, item);
        assert!(errors.is_empty(), "{item} does not conform to {schema}: {errors:?}");
    }
}

#[tokio::test]
async fn a_category_with_extra_questions_asks_them_of_open311_clients() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let key = linli::capabilities::tickets::open311::create_key(&app.state, c, "test").await.unwrap();
    let cat = category(&app, HS, "14").await;
    app.sign_in("secretary").await;
    let questions = json!([
        {"code": "floor", "datatype": "singlevaluelist", "description": "在几楼", "required": true,
         "values": [{"key": "1", "name": "一楼"}, {"key": "2", "name": "二楼及以上"}]},
        {"code": "since", "datatype": "string", "description": "从什么时候开始", "required": false}
    ]);
    let bad = app
        .patch_json(
            &format!("/api/v1/communities/{HS}/ticket_categories/{cat}"),
            json!({"attributes": [{"code": "x"}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "a malformed question is refused");
    let set = app
        .patch_json(&format!("/api/v1/communities/{HS}/ticket_categories/{cat}"), json!({"attributes": questions}))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());

    let services = app.get(&format!("/open311/v2/services.json?jurisdiction_id={HS}")).await.json();
    let listed = services.as_array().unwrap().iter().find(|s| s["service_code"] == "14").unwrap().clone();
    assert_eq!(listed["metadata"], true, "clients are told to ask for the definition");
    let def = app.get(&format!("/open311/v2/services/14.json?jurisdiction_id={HS}")).await.json();
    conforms("service-definition.json", std::slice::from_ref(&def));
    let attrs = def["attributes"].as_array().unwrap();
    assert_eq!(
        (attrs.len(), attrs[0]["code"].as_str(), attrs[0]["required"].as_bool()),
        (2, Some("floor"), Some(true))
    );
    let xml = app.get(&format!("/open311/v2/services/14.xml?jurisdiction_id={HS}")).await.text();
    assert!(xml.contains("<attributes><attribute>") && xml.contains("<code>floor</code>"), "{xml}");

    let post = |extra: &[(&str, &str)]| {
        let mut fields = vec![
            ("api_key", key.as_str()),
            ("jurisdiction_id", HS),
            ("service_code", "14"),
            ("address_string", "海盛花园5栋"),
        ];
        fields.extend_from_slice(extra);
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        axum::http::Request::post("/open311/v2/requests.json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let before = app.scalar("SELECT COUNT(*) FROM tickets WHERE community_id = $1", c).await;
    let missing = app.send(post(&[])).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.json()[0]["description"].as_str().unwrap().contains("attribute[floor]"), "{}", missing.text());
    let not_a_choice = app.send(post(&[("attribute[floor]", "9")])).await;
    assert_eq!(not_a_choice.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM tickets WHERE community_id = $1", c).await,
        before,
        "refusals save nothing"
    );
    let ok = app.send(post(&[("attribute[floor]", "1"), ("attribute[since]", "上周")])).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let id: i64 = ok.json()[0]["service_request_id"].as_str().unwrap().parse().unwrap();
    let stored: String = query("SELECT CAST(attributes AS TEXT) FROM tickets WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(id)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert!(stored.contains("floor") && stored.contains("上周"), "the answers are kept with the ticket: {stored}");
}
