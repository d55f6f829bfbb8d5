//! Moving people and relief supplies when typhoon 麦德姆 comes to 海盛社区: staff enter the
//! school as a small shelter and the activity centre beside it; the grid worker moves a
//! household from its check into the school; a second family does not fit and is told
//! the activity centre has room; when the first leaves, they fit. Ten families at once
//! into three places: exactly three get in. Water is received from a donor, handed out
//! from a household's check, moved to the shelter and counted; fifty hand-outs at once
//! from twenty boxes: exactly twenty leave, and the store never goes below zero.

use axum::http::StatusCode;
use linli::auth::model::{Grant, Role};
use linli::capabilities::emergency::shelters::{self, CheckIn};
use linli::capabilities::emergency::supplies::{self, Change, Movement};

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// Staff enter a shelter; answers its id.
    pub(crate) async fn add_shelter(&self, name: &str, capacity: &str, (lat, lng): (&str, &str)) -> i64 {
        let f = [("name", name), ("address", "海盛路1号"), ("capacity", capacity), ("lat", lat), ("lng", lng)];
        let r = self.post_form(&format!("/c/{HS}/shelters"), &f).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        r.location().split("/shelters/").nth(1).unwrap().split('?').next().unwrap().parse().unwrap()
    }

    /// Someone checks people into a shelter (from a check, or by name).
    pub(crate) async fn check_in(&self, shelter: i64, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/shelters/{shelter}/stays"), fields).await
    }

    /// Staff enter the hours a volunteer served in an incident.
    async fn record_hours(&self, incident: i64, user: i64, hours: &str) -> Resp {
        let user = user.to_string();
        self.post_form(&format!("/c/{HS}/incidents/{incident}/hours"), &[("user_id", user.as_str()), ("hours", hours)])
            .await
    }

    /// Staff do something to the supplies (`receive`, `transfer`, `hand-out`, `count`,
    /// `stores`, `items`).
    pub(crate) async fn supplies(&self, what: &str, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/supplies/{what}"), fields).await
    }
}

async fn activated_typhoon(app: &mut TestApp) -> (i64, i64) {
    let worker = app.user_id("grid").await;
    let own = app.scalar("SELECT MIN(grid_id) FROM grants WHERE user_id = $1", worker).await;
    app.sign_in("staff").await;
    let incident = app.prepare_incident("台风麦德姆", &[own]).await;
    assert_eq!(app.incident_step(incident, "activated", "").await.status, StatusCode::SEE_OTHER);
    let check =
        app.scalar("SELECT id FROM welfare_checks WHERE incident_id = $1 ORDER BY tier, id LIMIT 1", incident).await;
    (incident, check)
}

#[tokio::test]
async fn a_household_moves_to_a_shelter_and_a_full_one_names_the_nearest_with_room() {
    let mut app = TestApp::demo().await;
    let (incident, check) = activated_typhoon(&mut app).await;
    let school = app.add_shelter("海盛小学", "3", ("22.2700", "110.3600")).await;
    let centre = app.add_shelter("社区活动中心", "40", ("22.2710", "110.3600")).await;
    let _far = app.add_shelter("区体育馆", "500", ("22.3500", "110.3600")).await;
    let r = app.post_form(&format!("/c/{HS}/shelters"), &[("name", "x"), ("address", "y"), ("capacity", "0")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!r.inline_error("capacity").is_empty(), "{}", r.text());

    // The grid worker prints the rounds of their grid, opens the household's check and
    // moves it to the school.
    app.sign_in("grid").await;
    let rounds = app.get(&format!("/c/{HS}/incidents/{incident}/rounds.pdf")).await;
    assert_eq!(rounds.status, StatusCode::OK);
    assert!(rounds.body.starts_with(b"%PDF-") && rounds.headers[axum::http::header::CONTENT_TYPE] == "application/pdf");
    let page = visible_text(&app.get(&format!("/c/{HS}/welfare-checks/{check}")).await.text());
    assert!(page.contains("转移至避难场所"), "{page}");
    let list = visible_text(&app.get(&format!("/c/{HS}/shelters?check={check}")).await.text());
    assert!(list.contains("海盛小学") && list.contains("空位 3"), "{list}");
    let r = app.check_in(school, &[("check_id", &check.to_string()), ("people", "2")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().contains(&format!("/welfare-checks/{check}")));
    let page = visible_text(&app.get(&format!("/c/{HS}/welfare-checks/{check}")).await.text());
    assert!(page.contains("已转移安置"), "the check follows the move: {page}");

    // A family of two more does not fit: the nearest with room is named.
    let r = app.check_in(school, &[("name", "王家"), ("people", "2")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let why = r.inline_error("people");
    assert!(why.contains("只剩 1 个空位") && why.contains("社区活动中心") && !why.contains("区体育馆"), "{why}");
    let bad = app.check_in(centre, &[("name", "王家"), ("people", "51")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!bad.inline_error("people").is_empty(), "{}", bad.text());
    let bad = app.check_in(centre, &[("name", "王家\u{7}"), ("people", "2")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&bad.text()).contains("name 不能含有控制字符"));

    // The first family leaves (once); the two now fit.
    let stay = app.scalar("SELECT MIN(id) FROM shelter_stays WHERE shelter_id = $1", school).await;
    let out = app.post_form(&format!("/c/{HS}/shelter-stays/{stay}/out"), &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.text());
    let again = app.post_form(&format!("/c/{HS}/shelter-stays/{stay}/out"), &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(app.check_in(school, &[("name", "王家"), ("people", "2")]).await.status, StatusCode::SEE_OTHER);
    let page = visible_text(&app.get(&format!("/c/{HS}/shelters/{school}")).await.text());
    assert!(page.contains("王家") && page.contains("空位 1"), "{page}");

    // The field app reads the free places and checks in through the API, the same rules.
    let api = app.get(&format!("/api/v1/communities/{HS}/shelters")).await.json();
    let free = |id: i64| api["items"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap()["free"].clone();
    assert_eq!((free(school), free(centre)), (serde_json::json!(1), serde_json::json!(40)), "{api}");
    let r = app
        .post_json(
            &format!("/api/v1/communities/{HS}/shelters/{school}/stays"),
            serde_json::json!({"name": "赵家", "people": 3}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.field_error("people").contains("社区活动中心"), "{}", r.text());
    let r = app
        .post_json(
            &format!("/api/v1/communities/{HS}/shelters/{centre}/stays"),
            serde_json::json!({"name": "赵家", "people": 3}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // A resident may not check anyone in, nor print the rounds.
    app.sign_in("resident").await;
    assert_eq!(app.check_in(centre, &[("name", "李家"), ("people", "1")]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/c/{HS}/incidents/{incident}/rounds.pdf")).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn ten_families_at_once_into_three_places_exactly_three_get_in() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("staff").await;
    let school = app.add_shelter("海盛小学", "3", ("22.27", "110.36")).await;
    let community =
        linli::auth::guard::community_by_id(&mut app.state.db.read().await.unwrap(), c).await.unwrap().unwrap();
    let people = app.invented(10, "mover", "转移员", vec![Grant::community(Role::CommunityStaff, c)]).await;
    let tasks: Vec<_> = people
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let (state, community) = (app.state.clone(), community.clone());
            tokio::spawn(async move {
                let n = CheckIn { name: format!("第{i}户"), people: 1, ..CheckIn::default() };
                shelters::check_in(&state, &a, &community, school, &n).await
            })
        })
        .collect();
    let mut taken = 0;
    for t in tasks {
        taken += i32::from(t.await.unwrap().is_ok());
    }
    assert_eq!(taken, 3);
    assert_eq!(app.scalar("SELECT occupied FROM shelters WHERE id = $1", school).await, 3);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM shelter_stays WHERE shelter_id = $1", school).await, 3);
}

#[tokio::test]
async fn supplies_received_handed_out_moved_and_counted_are_their_movements() {
    let mut app = TestApp::demo().await;
    let (incident, check) = activated_typhoon(&mut app).await;
    let school = app.add_shelter("海盛小学", "30", ("22.27", "110.36")).await;
    assert_eq!(
        app.supplies("stores", &[("name", "二号仓库"), ("kind", "warehouse")]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.supplies("items", &[("name", "瓶装水"), ("unit", "箱")]).await.status, StatusCode::SEE_OTHER);
    let store = app
        .scalar(
            "SELECT id FROM supply_stores WHERE name = '二号仓库' AND community_id = $1",
            app.community_id(HS).await,
        )
        .await;
    let shelter_store = app.scalar("SELECT id FROM supply_stores WHERE shelter_id = $1", school).await;
    let water = app
        .scalar("SELECT id FROM supply_items WHERE name = '瓶装水' AND community_id = $1", app.community_id(HS).await)
        .await;
    let (store_s, water_s, shelter_s) = (store.to_string(), water.to_string(), shelter_store.to_string());

    // Twenty boxes given by a donor; the same form sent twice receives once.
    let receive = [
        ("item", water_s.as_str()),
        ("store", &store_s),
        ("source", "donation"),
        ("amount", "20"),
        ("reason", "海盛商会捐赠"),
        ("key", "r-1"),
    ];
    assert_eq!(app.supplies("receive", &receive).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.supplies("receive", &receive).await.status, StatusCode::SEE_OTHER);
    let page = visible_text(&app.get(&format!("/c/{HS}/supplies")).await.text());
    assert!(page.contains("二号仓库") && page.contains("20 箱") && page.contains("海盛商会捐赠"), "{page}");

    // Handed out from the household's check, which the page offers to staff.
    let page = visible_text(&app.get(&format!("/c/{HS}/welfare-checks/{check}")).await.text());
    assert!(page.contains("发放物资"), "{check} {page}");
    let (check_s, incident_s) = (check.to_string(), incident.to_string());
    let household = app.scalar("SELECT household_id FROM welfare_checks WHERE id = $1", check).await.to_string();
    let hand = [
        ("item", water_s.as_str()),
        ("store", &store_s),
        ("amount", "2"),
        ("reason", "应急发放"),
        ("household", &household),
        ("incident", &incident_s),
        ("check", &check_s),
        ("key", "h-1"),
    ];
    let r = app.supplies("hand-out", &hand).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().contains(&format!("/welfare-checks/{check}")), "back to the check");

    // Moving more than there is is refused naming the amount; moving 8 to the shelter works.
    let mv = |n: &'static str, key: &'static str| {
        vec![
            ("item", water_s.clone()),
            ("store", store_s.clone()),
            ("to_store", shelter_s.clone()),
            ("amount", n.to_string()),
            ("reason", "台风前预置".to_string()),
            ("key", key.to_string()),
        ]
    };
    let too_many = mv("19", "t-1");
    let too_many: Vec<(&str, &str)> = too_many.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app.supplies("transfer", &too_many).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.inline_error("amount").contains("库存不足"), "{}", r.text());
    let eight = mv("8", "t-2");
    let eight: Vec<(&str, &str)> = eight.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(app.supplies("transfer", &eight).await.status, StatusCode::SEE_OTHER);

    // Counted: two boxes fewer than the books; without a reason refused, with one recorded.
    let count = |reason: &'static str, key: &'static str| {
        vec![
            ("store", store_s.clone()),
            ("item", water_s.clone()),
            ("counted", "8".to_string()),
            ("reason", reason.to_string()),
            ("key", key.to_string()),
        ]
    };
    let bare = count("", "c-1");
    let bare: Vec<(&str, &str)> = bare.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app.supplies("count", &bare).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!r.inline_error("reason").is_empty(), "{}", r.text());
    let told = count("两箱破损", "c-2");
    let told: Vec<(&str, &str)> = told.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(app.supplies("count", &told).await.status, StatusCode::SEE_OTHER);

    // Each level is the sum of its movements: 20 in, 2 out, 8 moved, 2 lost.
    let page = visible_text(&app.get(&format!("/c/{HS}/supplies")).await.text());
    let stock = page.split("出入库记录").next().unwrap().to_string();
    assert!(stock.contains("二号仓库 瓶装水 8 箱") && stock.contains("海盛小学 瓶装水 8 箱"), "{stock}");
    assert!(page.contains("两箱破损") && page.contains("盘点差异"), "{page}");
    let report =
        linli::services::ledger::verify::verify::<linli::capabilities::emergency::book::Supplies>(&app.state.db, None)
            .await
            .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // The after-action report counts what was handed out for the typhoon, on the page,
    // in the Excel ledger and in the PDF.
    let report = visible_text(&app.get(&format!("/c/{HS}/incidents/{incident}/report")).await.text());
    let used = report.split("物资发放").nth(1).unwrap_or_default().to_string();
    assert!(used.contains("瓶装水 2 箱 1"), "{report}");
    assert!(report.contains("应急处置总结") && report.contains("排查"), "{report}");
    let xlsx = app.get(&format!("/c/{HS}/incidents/{incident}/report.xlsx")).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with(b"PK"), "an Excel workbook");
    let pdf = app.get(&format!("/c/{HS}/incidents/{incident}/report.pdf")).await;
    assert!(pdf.status == StatusCode::OK && pdf.body.starts_with(b"%PDF-"));

    // A volunteer's hours become a service record, counted in the report, once.
    let volunteer = app.user_id("volunteer").await;
    let r = app.record_hours(incident, volunteer, "30").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a day at most");
    assert!(!r.inline_error("hours").is_empty(), "{}", r.text());
    let r = app.record_hours(incident, volunteer, "2.5").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", visible_text(&r.text()));
    let again = app.record_hours(incident, volunteer, "2.5").await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "once per helper");
    let minutes =
        app.scalar("SELECT minutes FROM service_records WHERE source = 'emergency' AND user_id = $1", volunteer).await;
    assert_eq!(minutes, 150);
    let report = visible_text(&app.get(&format!("/c/{HS}/incidents/{incident}/report")).await.text());
    assert!(report.contains("2.5"), "{report}");

    // The stores are staff's: a grid worker and a resident are refused.
    for who in ["grid", "resident"] {
        app.sign_in(who).await;
        assert_eq!(app.get(&format!("/c/{HS}/supplies")).await.status, StatusCode::FORBIDDEN, "{who}");
    }
}

#[tokio::test]
async fn fifty_hand_outs_at_once_from_twenty_boxes_exactly_twenty_leave() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("staff").await;
    assert_eq!(
        app.supplies("stores", &[("name", "二号仓库"), ("kind", "warehouse")]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.supplies("items", &[("name", "雨衣"), ("unit", "件")]).await.status, StatusCode::SEE_OTHER);
    let store = app.scalar("SELECT id FROM supply_stores WHERE community_id = $1 AND name = '二号仓库'", c).await;
    let item = app.scalar("SELECT id FROM supply_items WHERE community_id = $1 AND name = '雨衣'", c).await;
    let household = app.scalar("SELECT MIN(id) FROM households WHERE community_id = $1", c).await;
    let community =
        linli::auth::guard::community_by_id(&mut app.state.db.read().await.unwrap(), c).await.unwrap().unwrap();
    let staff = app.invented(1, "keeper", "仓管员", vec![Grant::community(Role::CommunityStaff, c)]).await.remove(0);
    let m = |change, amount, key: String| Movement { change, item, amount, reason: "台风".into(), key };
    let receive = m(
        Change::Receive { from: linli::capabilities::emergency::book::Holder::Subdistrict, store, gift: None },
        20,
        "in".into(),
    );
    supplies::record(&app.state, &staff, &community, &receive).await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (state, community, staff) = (app.state.clone(), community.clone(), staff.clone());
            let out = m(Change::HandOut { store, household, incident: None }, 1, format!("out-{i}"));
            tokio::spawn(async move { supplies::record(&state, &staff, &community, &out).await })
        })
        .collect();
    let mut handed = 0;
    for t in tasks {
        handed += i32::from(t.await.unwrap().is_ok());
    }
    assert_eq!(handed, 20);
    let level = app
        .scalar(
            "SELECT a.balance FROM ledger_accounts a JOIN supply_lines l ON l.community_id = a.community_id AND l.id = a.owner_id \
             WHERE a.unit = 'supplies' AND a.kind = 'store' AND l.holder_id = $1",
            store,
        )
        .await;
    assert_eq!(level, 0);
}
