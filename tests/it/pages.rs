//! The pages people use: the places browser, the map, the registry list, English.

use axum::http::StatusCode;

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// Staff create a zone 片区 in 海盛 through the page form.
    pub(crate) async fn create_zone_form(&self, name: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/zones"), &[("name", name)]).await
    }
}

#[tokio::test]
async fn the_places_browser_goes_from_subdistrict_to_household() {
    let mut app = TestApp::demo().await;
    app.sign_in("admin").await;
    let places = visible_text(&app.get("/places").await.text());
    for name in [
        "南调街道",
        "海盛社区",
        "南山街道",
        "回龙社区",
        "殿前街道",
        "嘉福社区",
        "胜利街道",
        "怡馨家园第一社区",
        "洲心街道",
        "连江社区",
        "振南社区",
    ] {
        assert!(places.contains(name), "{name} in {places}");
    }
    let c = app.community_id(HS).await;
    let community = app.get(&format!("/communities/{c}")).await;
    assert_eq!(community.status, StatusCode::OK);
    let html = community.text();
    assert!(html.contains("<svg class=\"map\""), "the community page draws its grids");
    assert!(visible_text(&html).contains("第一网格"));
    let grid = app.first_grid_id(HS).await;
    let grid_page = app.get(&format!("/c/{HS}/grids/{grid}")).await.text();
    assert!(grid_page.contains("grid-on"), "the grid is highlighted on its map");
    let household = app.scalar("SELECT MIN(id) FROM households WHERE community_id = $1", c).await;
    let page = visible_text(&app.get(&format!("/c/{HS}/households/{household}")).await.text());
    assert!(page.contains("居民"), "a household lists its residents");
}

#[tokio::test]
async fn the_map_page_works_offline() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let map = app.get(&format!("/c/{HS}/map")).await;
    assert_eq!(map.status, StatusCode::OK);
    let html = map.text();
    assert_eq!(html.matches("class=\"grid\"").count(), 4);
    assert!(!html.contains("https://") && !html.contains("http://"), "nothing is loaded from the internet");
    let css = app.get(&format!("/assets/app.css?v={}", linli::web::assets::VERSION.as_str())).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers.get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
}

#[tokio::test]
async fn pages_switch_to_english_and_back() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let r = app.get("/lang/en?next=/places").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/places");
    // The choice is remembered with the user.
    let en = visible_text(&app.get(&format!("/c/{HS}/residents")).await.text());
    assert!(en.contains("Residents") && en.contains("Phone"), "{en}");
    app.get("/lang/zh").await;
    let zh = visible_text(&app.get(&format!("/c/{HS}/residents")).await.text());
    assert!(zh.contains("联系电话"));
    assert_eq!(app.get("/lang/fr").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn user_text_is_escaped_on_pages() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let r = app.create_zone_form("<script>alert(1)</script>").await;
    let page = app.get(&r.location()).await.text();
    assert!(!page.contains("<script>alert"));
    assert!(page.contains("&#60;script&#62;alert(1)"));
}

#[tokio::test]
async fn unknown_pages_are_a_chinese_404() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let r = app.get("/c/440804003001/nothing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("找不到您要的内容"));
    let r = app.get("/no/such/page/here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("页面不存在"));
}

/// Sends `count` notes to `username` in the community `code`.
async fn notify(app: &TestApp, code: &str, username: &str, count: usize) {
    use linli::services::notify::{Audience, Note, send};
    let community = app.community_id(code).await;
    let user = app.user_id(username).await;
    let mut tx = app.state.db.begin().await.unwrap();
    for i in 0..count {
        let note = Note::new(community, None, "remind", format!("第{i}条提醒"));
        send(&mut tx, &app.state.bus, note, Audience::Users(vec![user])).await.unwrap();
    }
    tx.commit().await.unwrap();
}

fn bell(html: &str) -> Option<String> {
    let at = html.find("class=\"badge\">")? + "class=\"badge\">".len();
    Some(html[at..].split('<').next()?.to_string())
}

/// The bell on every page counts the user's unread news, and reading the inbox clears it;
/// so it does for the subdistrict's admin, who works in every community under it, and for
/// the platform's.
#[tokio::test]
async fn the_bell_counts_unread_news_and_reading_the_inbox_clears_it() {
    let mut app = TestApp::demo().await;
    app.sign_in("resident").await;
    let before = app.get("/inbox").await;
    assert_eq!(before.status, StatusCode::OK);
    notify(&app, HS, "resident", 3).await;
    let page = app.get(&format!("/c/{HS}/tickets")).await.text();
    assert_eq!(bell(&page).as_deref(), Some("3"), "three unread on the bell");
    let inbox = visible_text(&app.get("/inbox").await.text());
    assert!(inbox.contains("第2条提醒"), "{inbox}");
    assert_eq!(bell(&app.get("/inbox").await.text()), None, "read once seen");

    for (user, community) in [("street", "441802005002"), ("admin", HS)] {
        app.sign_in(user).await;
        app.get("/inbox").await;
        notify(&app, "441802005001", user, 1).await;
        notify(&app, community, user, 1).await;
        assert_eq!(bell(&app.get("/places").await.text()).as_deref(), Some("2"), "{user}");
        assert!(visible_text(&app.get("/inbox").await.text()).contains("第0条提醒"));
        assert_eq!(bell(&app.get("/places").await.text()), None, "{user}");
    }
}

/// The icon grid (宫格) at the top of the signed-in user's home.
async fn home_tiles(app: &TestApp) -> String {
    let home = app.get("/").await.text();
    home.split("class=\"tiles card\"").nth(1).expect("an icon grid").split("</nav>").next().unwrap().to_string()
}

#[tokio::test]
async fn each_role_finds_its_main_actions_as_squares_with_what_waits_on_them() {
    let mut app = TestApp::demo().await;
    app.sign_in("grid").await;
    let tiles = home_tiles(&app).await;
    assert!(
        tiles.contains(&format!("href=\"/c/{HS}/tickets?view=work\"")) && tiles.contains("class=\"badge"),
        "{tiles}"
    );
    assert!(tiles.contains(&format!("/c/{HS}/patrols")) && tiles.contains(&format!("/c/{HS}/field-notes")), "{tiles}");
    app.sign_in("resident").await;
    let tiles = home_tiles(&app).await;
    assert!(tiles.contains(&format!("href=\"/c/{HS}/tickets/new\"")), "{tiles}");
    assert!(visible_text(&tiles).contains("我要反映") && visible_text(&tiles).contains("我反映的问题"), "{tiles}");
    app.sign_in("staff").await;
    let tiles = home_tiles(&app).await;
    assert!(tiles.contains("status=submitted") && tiles.contains(&format!("/c/{HS}/service-records")), "{tiles}");
}
