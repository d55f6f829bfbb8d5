//! Every demo account sees exactly its scope, in pages and in the API; anything outside
//! is "not found", never a 403 that confirms it exists.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;

use crate::helpers::{Resp, TestApp};

const HAISHENG: &str = "440804003001";
const HUILONG: &str = "321111005001";
const LIANJIANG: &str = "441802005001";

impl TestApp {
    /// How many grants (roles in places) an account holds.
    async fn grant_count(&self, user: i64) -> i64 {
        self.scalar("SELECT COUNT(*) FROM grants WHERE user_id = $1", user).await
    }

    /// Staff give one of 海盛's grids its grid worker through the API.
    async fn assign_grid_worker(&self, grid: i64, worker: i64) -> Resp {
        let path = format!("/api/v1/communities/{HAISHENG}/grids/{grid}");
        self.patch_json(&path, serde_json::json!({ "worker_user_id": worker })).await
    }
}

/// A household in the given community and grid (by grid order), and one outside it.
async fn household_in(app: &TestApp, code: &str, grid_index: usize) -> (i64, i64) {
    let c = app.community_id(code).await;
    let grids = app.grid_ids(code).await;
    let inside = app.first_household_in_grid(code, grids[grid_index]).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let outside: i64 = query("SELECT MIN(id) FROM households WHERE community_id = $1 AND grid_id <> $2")
        .bind(c)
        .bind(grids[grid_index])
        .scalar(&mut conn)
        .await
        .unwrap();
    (inside, outside)
}

async fn status(app: &TestApp, path: &str) -> StatusCode {
    app.get(path).await.status
}

#[tokio::test]
async fn a_grid_worker_sees_the_households_of_their_grid_only() {
    let mut app = TestApp::demo().await;
    app.sign_in("grid").await;
    let (mine, other) = household_in(&app, HAISHENG, 0).await;
    assert_eq!(status(&app, &format!("/c/{HAISHENG}/households/{mine}")).await, StatusCode::OK);
    assert_eq!(status(&app, &format!("/c/{HAISHENG}/households/{other}")).await, StatusCode::NOT_FOUND);
    assert_eq!(
        status(&app, &format!("/api/v1/communities/{HAISHENG}/households/{other}")).await,
        StatusCode::NOT_FOUND
    );
    // The list holds only their grid's households.
    let list = app.get(&format!("/api/v1/communities/{HAISHENG}/households?per_page=200")).await.json();
    let grid0 = app.first_grid_id(HAISHENG).await;
    assert!(list["total"].as_i64().unwrap() > 0);
    assert!(list["items"].as_array().unwrap().iter().all(|h| h["grid_id"].as_i64() == Some(grid0)));
    // Places of the community are readable; another community does not exist for them.
    assert_eq!(status(&app, &format!("/c/{HAISHENG}/grids")).await, StatusCode::OK);
    assert_eq!(status(&app, &format!("/c/{HUILONG}/grids")).await, StatusCode::NOT_FOUND);
    assert_eq!(status(&app, &format!("/api/v1/communities/{HUILONG}/residents")).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn staff_see_their_community_and_nothing_else() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let (a, b) = household_in(&app, HAISHENG, 0).await;
    for h in [a, b] {
        assert_eq!(status(&app, &format!("/c/{HAISHENG}/households/{h}")).await, StatusCode::OK);
    }
    let (elsewhere, _) = household_in(&app, HUILONG, 0).await;
    assert_eq!(status(&app, &format!("/c/{HUILONG}/households/{elsewhere}")).await, StatusCode::NOT_FOUND);
    // Even with the right id under their own community's code.
    assert_eq!(status(&app, &format!("/c/{HAISHENG}/households/{elsewhere}")).await, StatusCode::NOT_FOUND);
    let communities = app.get("/api/v1/communities").await.json();
    assert_eq!(communities["total"], 1);
}

#[tokio::test]
async fn the_subdistrict_admin_sees_every_community_under_it_and_none_other() {
    let mut app = TestApp::demo().await;
    app.sign_in("street").await;
    let communities = app.get("/api/v1/communities?per_page=100").await.json();
    assert_eq!(communities["total"], 22, "洲心街道 has 22 communities");
    assert_eq!(status(&app, &format!("/c/{LIANJIANG}/residents")).await, StatusCode::OK);
    assert_eq!(status(&app, &format!("/c/{HAISHENG}/residents")).await, StatusCode::NOT_FOUND);
    // The subdistrict's registry search spans its communities.
    let sub: i64 =
        app.scalar("SELECT subdistrict_id FROM communities WHERE id = $1", app.community_id(LIANJIANG).await).await;
    let all = app.get(&format!("/api/v1/subdistricts/{sub}/residents?per_page=1")).await.json();
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let expected: i64 = query(
        "SELECT COUNT(*) FROM residents r JOIN communities c ON c.id = r.community_id WHERE c.subdistrict_id = $1",
    )
    .bind(sub)
    .scalar(&mut conn)
    .await
    .unwrap();
    assert_eq!(all["total"].as_i64(), Some(expected));
    // They read masked data but may not edit the registry.
    let (h, _) = household_in(&app, LIANJIANG, 0).await;
    let r = app.write_household_notes(LIANJIANG, h, "x").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_resident_sees_their_own_household_only() {
    let mut app = TestApp::demo().await;
    app.sign_in("resident").await;
    let home = app.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    let c = app.community_id(HAISHENG).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let own: i64 =
        query("SELECT g.household_id FROM grants g JOIN users u ON u.id = g.user_id WHERE u.username = 'resident'")
            .scalar(&mut conn)
            .await
            .unwrap();
    let other: i64 = query("SELECT MIN(id) FROM households WHERE community_id = $1 AND id <> $2")
        .bind(c)
        .bind(own)
        .scalar(&mut conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(status(&app, &format!("/c/{HAISHENG}/households/{own}")).await, StatusCode::OK);
    assert_eq!(status(&app, &format!("/c/{HAISHENG}/households/{other}")).await, StatusCode::NOT_FOUND);
    assert_eq!(status(&app, &format!("/c/{HAISHENG}/grids")).await, StatusCode::NOT_FOUND);
    let mine = app.get("/me/data").await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.text().contains("****"), "personal values are shown masked");
}

#[tokio::test]
async fn every_demo_account_signs_in_and_lands_on_its_home() {
    let mut app = TestApp::demo().await;
    let expectations = [
        ("admin", "系统管理员"),
        ("street", "洲心街道"),
        ("secretary", "社区书记"),
        ("staff", "社区工作者"),
        ("grid", "网格员"),
        ("volunteer", "志愿者"),
        ("resident", "我的家"),
        ("unit", "共建单位"),
        ("grid2", "回龙社区"),
    ];
    for (user, shown) in expectations {
        app.sign_in(user).await;
        let home = app.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "{user}");
        assert!(home.text().contains(shown), "{user}'s home shows {shown}");
    }
    // The second grid worker is in 回龙社区, not in 海盛社区.
    app.sign_in("grid2").await;
    assert_eq!(status(&app, &format!("/c/{HUILONG}/households")).await, StatusCode::OK);
    assert_eq!(status(&app, &format!("/c/{HAISHENG}/households")).await, StatusCode::NOT_FOUND);
    // Volunteers, partner units and residents have no registry.
    for user in ["volunteer", "unit"] {
        app.sign_in(user).await;
        assert_eq!(
            status(&app, &format!("/api/v1/communities/{HAISHENG}/residents")).await,
            StatusCode::NOT_FOUND,
            "{user}"
        );
    }
}

#[tokio::test]
async fn a_grid_is_given_only_a_worker_of_its_own_community() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let c = app.community_id(HAISHENG).await;
    let grid = app.scalar("SELECT MAX(id) FROM grids WHERE community_id = $1", c).await;
    let grid2 = app.user_id("grid2").await;
    let volunteer = app.user_id("volunteer").await;
    let grants_before = app.grant_count(grid2).await;
    // 回龙's grid worker, and 海盛's volunteer who does not work for the community.
    for outsider in [grid2, volunteer] {
        let r = app.assign_grid_worker(grid, outsider).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(r.field_error("worker_user_id"), "所选记录不存在");
    }
    assert_eq!(app.grant_count(grid2).await, grants_before);
    let worker = app.user_id("grid").await;
    let r = app.assign_grid_worker(grid, worker).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}
