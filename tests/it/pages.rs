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
    notify_about(app, code, username, count, None, "remind").await;
}

/// `count` notes to the user about a subject, as a capability would send them.
async fn notify_about(
    app: &TestApp,
    code: &str,
    username: &str,
    count: usize,
    subject: Option<(&'static str, i64)>,
    action: &str,
) {
    use linli::services::notify::{Audience, Note, Subject, send};
    let community = app.community_id(code).await;
    let user = app.user_id(username).await;
    let mut tx = app.state.db.begin().await.unwrap();
    for i in 0..count {
        let subject = subject.map(|(kind, id)| Subject { kind, id });
        let note = Note::new(community, subject, action, format!("第{i}条提醒"));
        send(&mut tx, &app.state.bus, note, Audience::Users(vec![user])).await.unwrap();
    }
    tx.commit().await.unwrap();
}

fn bell(html: &str) -> Option<String> {
    let at = html.find("class=\"badge\">")? + "class=\"badge\">".len();
    Some(html[at..].split('<').next()?.to_string())
}

/// The addresses of the inbox's lines, newest first.
fn inbox_lines(html: &str) -> Vec<String> {
    html.split("href=\"/inbox/").skip(1).map(|s| format!("/inbox/{}", s.split('"').next().unwrap())).collect()
}

/// The bell on every page counts the user's unread news; opening a line reads it and goes
/// to what it is about, and 全部已读 clears the rest; so it does for the subdistrict's admin,
/// who works in every community under it, and for the platform's.
#[tokio::test]
async fn the_bell_counts_unread_news_and_opening_or_marking_all_read_clears_it() {
    let mut app = TestApp::demo().await;
    app.sign_in("resident").await;
    app.post_form("/inbox/read", &[]).await;
    notify(&app, HS, "resident", 3).await;
    let page = app.get(&format!("/c/{HS}/tickets")).await.text();
    assert_eq!(bell(&page).as_deref(), Some("3"), "three unread on the bell");
    let inbox = app.get("/inbox").await.text();
    assert!(visible_text(&inbox).contains("第2条提醒"), "{inbox}");
    assert_eq!(bell(&app.get("/inbox").await.text()).as_deref(), Some("3"), "seeing the list reads nothing");
    let opened = app.get(&inbox_lines(&inbox)[0]).await;
    assert_eq!(opened.location(), "/inbox", "a note about nothing leads back to the inbox");
    assert_eq!(bell(&app.get("/inbox").await.text()).as_deref(), Some("2"), "the one opened is read");
    let all = app.post_form("/inbox/read", &[("g", "")]).await;
    assert_eq!(all.location(), "/inbox?n=2&ok=all_read");
    assert!(visible_text(&app.get(&all.location()).await.text()).contains("已全部标为已读（2 条）"));
    assert_eq!(bell(&app.get("/inbox").await.text()), None, "all read");

    for (user, community) in [("street", "441802005002"), ("admin", HS)] {
        app.sign_in(user).await;
        app.post_form("/inbox/read", &[]).await;
        notify(&app, "441802005001", user, 1).await;
        notify(&app, community, user, 1).await;
        assert_eq!(bell(&app.get("/places").await.text()).as_deref(), Some("2"), "{user}");
        assert!(visible_text(&app.get("/inbox").await.text()).contains("第0条提醒"));
        app.post_form("/inbox/read", &[]).await;
        assert_eq!(bell(&app.get("/places").await.text()), None, "{user}");
    }
}

/// A grid worker with a pile of 督办 finds them under their own tab, reads them all at
/// once there, and keeps the rest of the news unread; a line leads to its ticket.
#[tokio::test]
async fn the_inbox_keeps_escalations_in_their_own_tab() {
    let mut app = TestApp::demo().await;
    app.sign_in("grid").await;
    app.post_form("/inbox/read", &[]).await;
    notify_about(&app, HS, "grid", 5, Some(("ticket", 7)), "escalate").await;
    notify_about(&app, HS, "grid", 1, Some(("ticket", 8)), "accept").await;
    let inbox = visible_text(&app.get("/inbox").await.text());
    assert!(inbox.contains("全部 6") && inbox.contains("督办 5") && inbox.contains("办事进度 1"), "{inbox}");
    let escalations = app.get("/inbox?g=escalate").await.text();
    assert_eq!(inbox_lines(&escalations).len(), 5, "only the 督办 under its tab");
    let opened = app.get(&inbox_lines(&escalations)[0]).await;
    assert_eq!(opened.location(), format!("/c/{HS}/tickets/7"));
    let marked = app.post_form("/inbox/read", &[("g", "escalate")]).await;
    assert_eq!(marked.location(), "/inbox?g=escalate&n=4&ok=all_read");
    let inbox = visible_text(&app.get("/inbox").await.text());
    assert!(inbox.contains("全部 1") && inbox.contains("办事进度 1") && !inbox.contains("督办 5"), "{inbox}");

    // Someone else's line is not theirs to open.
    let other = inbox_lines(&escalations)[1].clone();
    app.sign_in("resident").await;
    assert_eq!(app.get(&other).await.location(), "/inbox");
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
