//! Staff accounts and their posts 岗位: 嘉福's 小区秘书, 外勤员 and 片区秘书 (seed 002).

use axum::http::StatusCode;
use linli::db::citus::Span;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";
const JF: &str = "350206004001";

impl TestApp {
    /// How many accounts the platform has.
    async fn account_count(&self) -> i64 {
        self.scalar("SELECT COUNT(*) FROM users WHERE id > $1", 0).await
    }

    /// A secretary creates a colleague's account through 海盛's page form.
    async fn create_account_form(&self, fields: &[(&str, String)]) -> Resp {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post_form(&format!("/c/{HS}/users"), &pairs).await
    }

    /// A secretary creates a colleague's account through 海盛's API.
    async fn create_account_api(&self, body: Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/users"), body).await
    }
}

#[tokio::test]
async fn jiafu_has_its_twelve_posts_each_keeping_field_notes() {
    let mut app = TestApp::demo().await;
    app.sign_in("admin").await;
    let users = app.get(&format!("/api/v1/communities/{JF}/users")).await.json();
    let items = users["items"].as_array().unwrap();
    let with = |post: &str| items.iter().filter(|u| u["post"] == post).collect::<Vec<&Value>>();
    assert_eq!(with("compound_secretary").len(), 3);
    assert_eq!(with("field_worker").len(), 4);
    let zones: Vec<&str> = with("zone_secretary").iter().map(|u| u["post_place"].as_str().unwrap()).collect();
    assert_eq!(zones, ["第一片区", "第二片区", "第三片区", "第四片区", "第五片区"]);
    assert!(with("compound_secretary").iter().all(|u| u["post_place"].as_str().is_some_and(|p| !p.is_empty())));
    assert!(with("field_worker").iter().all(|u| u["post_place"].is_null()));
    let page = visible_text(&app.get(&format!("/c/{JF}/users")).await.text());
    assert!(page.contains("社区工作者 · 片区秘书") && page.contains("第三片区"), "{page}");

    // Their notebooks, as the community's staff read them day by day.
    let staff = app.user_id("jf-staff").await;
    app.act_as(staff).await;
    let notes = visible_text(&app.get(&format!("/c/{JF}/field-notes")).await.text());
    for post in ["（小区秘书）", "（外勤员）", "（片区秘书）"] {
        assert!(notes.contains(post), "{post} in {notes}");
    }
    let c = app.community_id(JF).await;
    let writers = app
        .scalar("SELECT COUNT(DISTINCT n.user_id) FROM field_notes n JOIN users u ON u.id = n.user_id WHERE n.community_id = $1 AND u.post IS NOT NULL", c)
        .await;
    assert_eq!(writers, 12);
}

#[tokio::test]
async fn a_secretary_gives_a_new_colleague_a_post_and_mistakes_are_named() {
    let mut app = TestApp::demo().await;
    app.sign_in("secretary").await;
    let c = app.community_id(HS).await;
    let compound = app.scalar("SELECT MIN(id) FROM compounds WHERE community_id = $1", c).await;
    let elsewhere = app.scalar("SELECT MIN(id) FROM zones WHERE community_id <> $1", c).await;
    let form = |post: &str, place: String, role: &'static str| {
        vec![
            ("username", "xqms".to_string()),
            ("display_name", "海盛 何秘书".to_string()),
            ("phone", String::new()),
            ("password", "demo12345".to_string()),
            ("role", role.to_string()),
            ("grid_id", String::new()),
            ("post", post.to_string()),
            ("post_place_id", place),
        ]
    };
    let users_before = app.account_count().await;

    let r = app.create_account_form(&form("compound_secretary", String::new(), "community_staff")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.inline_error("post_place_id"), "必填");
    let r = app.create_account_form(&form("zone_secretary", elsewhere.to_string(), "community_staff")).await;
    assert_eq!(r.inline_error("post_place_id"), "所选记录不存在", "another community's zone");
    let r = app.create_account_form(&form("field_worker", String::new(), "volunteer")).await;
    assert_eq!(r.inline_error("post"), "只有社区工作者可有岗位");
    let r = app.create_account_form(&form("field_worker", compound.to_string(), "community_staff")).await;
    assert!(r.inline_error("post_place_id").contains("请留空"));
    assert_eq!(app.account_count().await, users_before);

    let r = app.create_account_form(&form("compound_secretary", compound.to_string(), "community_staff")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let listed = app.get(&format!("/api/v1/communities/{HS}/users")).await.json();
    let he = listed["items"].as_array().unwrap().iter().find(|u| u["username"] == "xqms").unwrap().clone();
    assert_eq!(he["post"], "compound_secretary");
    let name: String = {
        let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
        linli::db::query("SELECT name FROM compounds WHERE community_id = $1 AND id = $2")
            .bind(c)
            .bind(compound)
            .scalar(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(he["post_place"], name.as_str());

    // Through the API too, with the error on its field.
    let r = app
        .create_account_api(
            json!({"username": "waiqin", "display_name": "海盛 外勤", "password": "demo12345", "role": "community_staff", "post": "courier"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field_error("post"), "不是可选的值");
    let r = app
        .create_account_api(
            json!({"username": "waiqin", "display_name": "海盛 外勤", "password": "demo12345", "role": "community_staff", "post": "field_worker"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}
