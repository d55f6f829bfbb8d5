//! A newcomer registers as a resident: signed in at once, checked by the office, bound to
//! their household (or declined with a reason they see).

use axum::http::StatusCode;
use linli::db::query;

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// A newcomer sends 海盛's resident registration form.
    async fn register_as_resident(&self, fields: &[(&str, &str)]) -> Resp {
        self.post_raw_form(&format!("/c/{HS}/residents/join"), fields).await
    }

    /// The office approves a registration, binding it to a household.
    async fn approve_registration(&self, id: i64, household: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/resident-requests/{id}/approve"), &[("household_id", household)]).await
    }

    async fn decline_registration(&self, id: i64, reason: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/resident-requests/{id}/decline"), &[("reason", reason)]).await
    }

    /// The newest registration's id.
    async fn last_registration(&self) -> i64 {
        self.scalar("SELECT MAX(id) FROM resident_requests WHERE community_id = $1", self.community_id(HS).await).await
    }

    /// A household of 海盛 and its address.
    async fn some_household(&self) -> (i64, String) {
        let c = self.community_id(HS).await;
        let id = self.scalar("SELECT MIN(id) FROM households WHERE community_id = $1 AND archived_at IS NULL", c).await;
        let mut conn = self.state.db.read().await.unwrap();
        let address: String = query("SELECT address FROM households WHERE community_id = $1 AND id = $2")
            .bind(c)
            .bind(id)
            .scalar(&mut conn)
            .await
            .unwrap();
        (id, address)
    }
}

#[tokio::test]
async fn a_newcomer_registers_and_the_office_binds_them_to_their_household() {
    let mut app = TestApp::demo().await;
    let (household, address) = app.some_household().await;
    let page = visible_text(&app.get_public(&format!("/c/{HS}/residents/join")).await.text());
    assert!(page.contains("居民注册") && page.contains("住址"), "{page}");

    // Every refused field is named, and nothing is written.
    let bad =
        app.register_as_resident(&[("name", "李桂英"), ("phone", "12345"), ("address", ""), ("password", "x")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = visible_text(&bad.text());
    assert!(text.contains("手机号码格式不正确"), "{text}");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM resident_requests WHERE community_id = $1", app.community_id(HS).await).await,
        0
    );

    let fields =
        [("name", "李桂英"), ("phone", "13912345678"), ("address", address.as_str()), ("password", "Guiying2026")];
    let joined = app.register_as_resident(&fields).await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.text());
    assert_eq!(joined.location(), "/?ok=applied");
    app.keep_session_of(&joined).await;
    let home = visible_text(&app.get("/?ok=applied").await.text());
    assert!(home.contains("注册已提交") && home.contains("审核中"), "{home}");
    assert_eq!(
        app.get(&format!("/c/{HS}/households/{household}")).await.status,
        StatusCode::NOT_FOUND,
        "not yet theirs"
    );
    let again = app.register_as_resident(&fields).await;
    assert!(visible_text(&again.text()).contains("这个手机号已注册"), "one account per mobile");

    // The office hears of it, finds the household the address names already chosen, and binds it.
    app.sign_in("staff").await;
    let id = app.last_registration().await;
    let tiles = visible_text(&app.get("/").await.text());
    assert!(tiles.contains("居民注册审核"), "{tiles}");
    let list = app.get(&format!("/c/{HS}/resident-requests")).await.text();
    assert!(list.contains(&format!(r#"<option value="{household}" selected>"#)), "{list}");
    assert!(visible_text(&list).contains("139****5678"), "the mobile masked");
    let unpicked = app.approve_registration(id, "").await;
    assert_eq!(unpicked.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = app.approve_registration(id, &household.to_string()).await;
    assert_eq!(ok.location(), format!("/c/{HS}/resident-requests?ok=bound"));
    assert_eq!(app.approve_registration(id, &household.to_string()).await.status, StatusCode::CONFLICT, "once only");

    // Now a resident of that household: their home, their household's page, a line in the inbox.
    app.sign_in_with("13912345678", "Guiying2026").await;
    assert_eq!(app.get(&format!("/c/{HS}/households/{household}")).await.status, StatusCode::OK);
    let inbox = visible_text(&app.get("/inbox").await.text());
    assert!(inbox.contains("您的居民注册已通过审核"), "{inbox}");
    assert!(app.get(&format!("/c/{HS}/tickets/new")).await.status.is_success());
}

#[tokio::test]
async fn a_declined_newcomer_sees_why_and_a_grid_worker_binds_only_in_their_grid() {
    let mut app = TestApp::demo().await;
    let joined = app
        .register_as_resident(&[
            ("name", "张三"),
            ("phone", "13812340000"),
            ("address", "不知道"),
            ("password", "Zhangsan2026"),
        ])
        .await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.text());
    let id = app.last_registration().await;

    // The grid worker may bind only to their own grid's households.
    app.sign_in("grid").await;
    let c = app.community_id(HS).await;
    let grid: i64 = app
        .scalar("SELECT grid_id FROM grants WHERE user_id = $1 AND role = 'grid_worker'", app.user_id("grid").await)
        .await;
    let mut conn = app.state.db.read().await.unwrap();
    let other: i64 = query("SELECT MIN(id) FROM households WHERE community_id = $1 AND grid_id <> $2")
        .bind(c)
        .bind(grid)
        .scalar(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let refused = app.approve_registration(id, &other.to_string()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "not their grid");

    app.sign_in("staff").await;
    let no_reason = app.decline_registration(id, " ").await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.decline_registration(id, "本社区查无此住址，请到社区服务站核实").await.location(),
        format!("/c/{HS}/resident-requests?ok=declined")
    );
    app.sign_in_with("13812340000", "Zhangsan2026").await;
    let home = visible_text(&app.get("/").await.text());
    assert!(home.contains("未通过") && home.contains("本社区查无此住址"), "{home}");

    // Residents and volunteers do not check registrations.
    app.sign_in("resident").await;
    assert_eq!(app.get(&format!("/c/{HS}/resident-requests")).await.status, StatusCode::NOT_FOUND);
}
