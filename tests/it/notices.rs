//! Notices 公告: staff of 海盛社区 publish a safety notice to two buildings that asks each
//! reader to acknowledge it; its readers find it on their home page and in the inbox,
//! acknowledge it on their phones (once), a neighbour in a third building never sees it,
//! and staff see who has, by grid and building, and print the list of the rest to visit.
//! A grid worker publishes only to their grid; a scheduled notice publishes itself when
//! its time comes; an expired one leaves the front page for the archive; each edit is a
//! version with what changed.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use crate::events::id_after;
use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// Someone publishes a notice through the page's form, with files.
    async fn publish_notice(&self, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Resp {
        self.post_multipart(&format!("/c/{HS}/notices"), fields, files).await
    }

    /// A reader acknowledges a notice on its page.
    async fn acknowledge(&self, notice: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/notices/{notice}/ack"), &[]).await
    }

    /// The secretary opens an account for a household; answers the user.
    async fn account_for(&self, household: i64, username: &str) -> i64 {
        let body = json!({"username": username, "display_name": username, "password": "linli-notice-2026",
            "role": "resident", "household_id": household});
        let r = self.post_json(&format!("/api/v1/communities/{HS}/users"), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["id"].as_i64().unwrap()
    }
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Three buildings of 海盛 with households, and a household of each (two of the first two).
async fn three_buildings(app: &TestApp) -> Vec<(i64, Vec<i64>)> {
    let c = app.community_id(HS).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let buildings: Vec<i64> = query(
        "SELECT building_id FROM households WHERE community_id = $1 AND building_id IS NOT NULL AND archived_at IS NULL \
         GROUP BY building_id HAVING COUNT(*) >= 2 ORDER BY building_id LIMIT 3",
    )
    .bind(c)
    .scalars(&mut conn)
    .await
    .unwrap();
    let mut out = Vec::new();
    for b in buildings {
        let hs: Vec<i64> =
            query("SELECT id FROM households WHERE community_id = $1 AND building_id = $2 ORDER BY id LIMIT 2")
                .bind(c)
                .bind(b)
                .scalars(&mut conn)
                .await
                .unwrap();
        out.push((b, hs));
    }
    out
}

#[tokio::test]
async fn a_safety_notice_to_two_buildings_is_acknowledged_and_the_rest_printed_to_visit() {
    let mut app = TestApp::demo().await;
    let places = three_buildings(&app).await;
    assert_eq!(places.len(), 3);
    app.sign_in("secretary").await;
    let mut readers = Vec::new();
    for (i, (_, households)) in places[..2].iter().enumerate() {
        for (j, h) in households.iter().enumerate() {
            readers.push(app.account_for(*h, &format!("reader-{i}-{j}")).await);
        }
    }
    let outsider = app.account_for(places[2].1[0], "reader-far").await;
    let (a, b) = (places[0].0.to_string(), places[1].0.to_string());
    let now = linli::db::now_ms();
    let week = linli::web::fmt::local_input(now + 7 * 86_400_000);
    let yesterday = linli::web::fmt::local_input(now - 86_400_000);
    let notice = |expires: &str| {
        vec![
            ("category", "safety".to_string()),
            ("title", "燃气安全入户检查".to_string()),
            ("body", "本周六上午上门检查燃气管道，请家中留人。".to_string()),
            ("audience", "buildings".to_string()),
            ("targets", a.clone()),
            ("targets", b.clone()),
            ("expires_at", expires.to_string()),
            ("asks_ack", "true".to_string()),
        ]
    };
    app.sign_in("staff").await;
    let before = app.scalar("SELECT COUNT(*) FROM notices WHERE id > $1", 0).await;

    // An expiry before publication, and a file that is no picture or PDF: both named, nothing written.
    let late = notice(&yesterday);
    let r = app.publish_notice(&pairs(&late), &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.inline_error("expires_at").contains("截止时间须晚于发布时间"), "{}", r.text());
    let good = notice(&week);
    let r = app.publish_notice(&pairs(&good), &[("files", b"MZ\x90\x00 not a document")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!r.inline_error("files").is_empty(), "{}", r.text());
    // A picture that calls itself a PDF.
    let picture = linli::services::media::png_for_tests(80, 60);
    let mut fields = vec![("_csrf", app.csrf.as_str())];
    fields.extend(pairs(&good));
    let named = [("files", "停水通知.pdf".to_string(), picture.as_slice())];
    let r = app.send(crate::helpers::multipart_named(&format!("/c/{HS}/notices"), &fields, &named)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.inline_error("files").contains("文件名是 .pdf，内容却不是"), "{}", r.text());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM notices WHERE id > $1", 0).await, before);

    // Published with a picture: every resident account of the two buildings is a reader, each told.
    let r = app.publish_notice(&pairs(&good), &[("files", &picture)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", visible_text(&r.text()));
    let id = id_after(&r.location(), "/notices/");
    let c = app.community_id(HS).await;
    let of_buildings: i64 = query(
        "SELECT COUNT(DISTINCT g.user_id) FROM grants g JOIN households h ON h.community_id = $1 AND h.id = g.household_id \
         WHERE g.community_id = $1 AND g.role = 'resident' AND h.building_id IN ($2, $3)",
    )
    .bind(c)
    .bind(places[0].0)
    .bind(places[1].0)
    .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
    .await
    .unwrap();
    assert!(of_buildings >= 4);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM notice_recipients WHERE notice_id = $1", id).await, of_buildings);

    // A reader finds it on the home page and in the inbox, opens it and acknowledges, once.
    app.act_as(readers[0]).await;
    let home = visible_text(&app.get("/").await.text());
    assert!(home.contains("未读公告") && home.contains("燃气安全入户检查"), "{home}");
    assert!(app.get("/api/v1/inbox").await.json().to_string().contains("【公告】燃气安全入户检查"));
    let page = visible_text(&app.get(&format!("/c/{HS}/notices/{id}")).await.text());
    assert!(page.contains("请家中留人") && page.contains("我已知悉"), "{page}");
    assert_eq!(app.acknowledge(id).await.status, StatusCode::SEE_OTHER);
    let again = app.acknowledge(id).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(visible_text(&again.text()).contains("您已确认过"), "{}", again.text());
    let page = visible_text(&app.get(&format!("/c/{HS}/notices/{id}")).await.text());
    assert!(page.contains("您已确认知悉") && !page.contains("应读人数"), "a reader sees no one else: {page}");
    // Another acknowledges through the API; a third only reads it.
    app.act_as(readers[1]).await;
    let r = app.post_json(&format!("/api/v1/communities/{HS}/notices/{id}/ack"), json!({})).await;
    assert_eq!(r.json()["acked"], "now", "{}", r.text());
    app.act_as(readers[2]).await;
    assert_eq!(app.get(&format!("/api/v1/communities/{HS}/notices/{id}")).await.json()["acked"], false);
    // The neighbour in the third building never sees it.
    app.act_as(outsider).await;
    assert_eq!(app.get(&format!("/c/{HS}/notices/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.acknowledge(id).await.status, StatusCode::NOT_FOUND);

    // Staff see who has, by building, and print the rest to visit.
    app.sign_in("staff").await;
    let page = visible_text(&app.get(&format!("/c/{HS}/notices/{id}")).await.text());
    assert!(page.contains(&format!("应读人数 {of_buildings}")) && page.contains("已读 3"), "{page}");
    assert!(page.contains("已确认 2") && page.contains(&format!("未确认 {}", of_buildings - 2)), "{page}");
    assert!(page.contains("按网格和楼栋"), "{page}");
    let readers_json = app.get(&format!("/api/v1/communities/{HS}/notices/{id}/readers")).await.json();
    let acked = readers_json["items"].as_array().unwrap().iter().filter(|r| !r["acked_at"].is_null()).count();
    assert_eq!(acked, 2, "{readers_json}");
    let pdf = app.get(&format!("/c/{HS}/notices/{id}/to-visit.pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with(b"%PDF-"));
}

#[tokio::test]
async fn a_grid_worker_publishes_to_their_grid_and_a_scheduled_notice_publishes_itself() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let worker = app.user_id("grid").await;
    let own = app.scalar("SELECT MIN(grid_id) FROM grants WHERE user_id = $1", worker).await;
    let other = app.scalar("SELECT MAX(id) FROM grids WHERE community_id = $1", c).await;
    let body = |audience: &str, targets: Vec<i64>| {
        json!({"category": "daily_life", "title": "楼道杂物清理", "body": "请于周五前清理楼道杂物。",
            "audience": audience, "targets": targets})
    };
    let path = format!("/api/v1/communities/{HS}/notices");
    app.sign_in("grid").await;
    let r = app.post_json(&path, body("community", vec![])).await;
    assert!(r.field_error("audience").contains("只能发给您负责的网格"), "{}", r.text());
    let r = app.post_json(&path, body("grids", vec![other])).await;
    assert!(r.field_error("targets").contains("只能发给您负责的网格"), "{}", r.text());
    let r = app.post_json(&path, body("grids", vec![own])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    app.sign_in("resident").await;
    let mine = app.get(&path).await.json().to_string();
    assert!(mine.contains("楼道杂物清理"), "the demo resident lives in the worker's grid: {mine}");

    // Scheduled an hour ahead: not yet the resident's; the job publishes it when due, once.
    app.sign_in("staff").await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let mut scheduled = body("community", vec![]);
    scheduled["title"] = json!("停水通知");
    scheduled["publish_at"] = json!(later);
    let r = app.post_json(&path, scheduled).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    let list = visible_text(&app.get(&format!("/c/{HS}/notices")).await.text());
    assert!(list.contains("定时发布") && list.contains("停水通知"), "{list}");
    app.sign_in("resident").await;
    assert_eq!(app.get(&format!("/c/{HS}/notices/{id}")).await.status, StatusCode::NOT_FOUND);
    let soon = linli::db::now_ms() + 2 * 3_600_000;
    assert!(linli::capabilities::notices::store::publish_due(&app.state, soon).await.unwrap() >= 1);
    assert_eq!(linli::capabilities::notices::store::publish_due(&app.state, soon).await.unwrap(), 0, "once");
    assert_eq!(app.get(&format!("/c/{HS}/notices/{id}")).await.status, StatusCode::OK);

    // Published a month ago until last week: in the archive, not among the current.
    app.sign_in("staff").await;
    let month = (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    let week = (chrono::Utc::now() - chrono::Duration::days(7)).to_rfc3339();
    let mut old = body("community", vec![]);
    old["title"] = json!("国庆值班安排");
    old["publish_at"] = json!(month);
    old["expires_at"] = json!(week);
    assert_eq!(app.post_json(&path, old).await.status, StatusCode::CREATED);
    let items = app.get(&path).await.json();
    let old = items["items"].as_array().unwrap().iter().find(|n| n["title"] == "国庆值班安排").unwrap().clone();
    assert_eq!(old["state"], "expired", "{old}");
}

/// Staff change a notice's wording through its page's form.
async fn edit_notice(app: &TestApp, id: i64, body: &str, pinned: &str) -> Resp {
    let f = [("category", "finance"), ("title", "十一月公益金收支公示"), ("body", body), ("pinned", pinned)];
    app.post_form(&format!("/c/{HS}/notices/{id}"), &f).await
}

#[tokio::test]
async fn each_edit_of_a_notice_is_a_version_with_what_changed() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let path = format!("/api/v1/communities/{HS}/notices");
    let notice = json!({"category": "finance", "title": "十一月公益金收支公示", "body": "收入 1200 元。",
        "audience": "community"});
    let id = app.post_json(&path, notice).await.json()["id"].as_i64().unwrap();
    assert_eq!(edit_notice(&app, id, "收入 1250 元（更正）。", "true").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        edit_notice(&app, id, "收入 1250 元（更正）。", "true").await.status,
        StatusCode::SEE_OTHER,
        "nothing changed"
    );
    let bad = edit_notice(&app, id, "收入\u{7}", "true").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get(&format!("{path}/{id}")).await.json()["version"], 2);
    let page = visible_text(&app.get(&format!("/c/{HS}/notices/{id}")).await.text());
    assert!(page.contains("第 2 版") && page.contains("修改了正文、置顶") && page.contains("首次发布"), "{page}");
    assert!(page.contains("1250"), "{page}");
    // A resident may not edit it.
    app.sign_in("resident").await;
    assert_eq!(edit_notice(&app, id, "x", "false").await.status, StatusCode::FORBIDDEN);
}
