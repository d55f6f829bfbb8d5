//! Done means, as a new user would try it: the community marks a resident bedridden;
//! staff activate typhoon 麦德姆 over three grids of 海盛社区; every resident with an
//! account there gets the broadcast (one in a fourth grid does not); the grid worker sees
//! the first tier first — her household among it — and checks it and two more; the
//! command page counts the checks; she is moved to the school's shelter and her needs
//! become a hand-out of water from the warehouse; the stock and the after-action report
//! agree with what happened. (The grid worker's checks made with the network cut and sent
//! on reconnecting are the browser's story, in `browser/emergency.rs`.)

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::{Value, json};

use crate::helpers::{TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// The secretary opens a resident's account for a household; answers the user.
    async fn resident_account(&self, household: i64, username: &str) -> i64 {
        let body = json!({"username": username, "display_name": username, "password": "linli-2026-typhoon",
            "role": "resident", "household_id": household});
        let r = self.post_json(&format!("/api/v1/communities/{HS}/users"), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["id"].as_i64().unwrap()
    }

    /// Staff's view of the stock of one item in one store, through the API.
    async fn stock_of(&self, store: &str, item: &str) -> i64 {
        let stock = self.get(&format!("/api/v1/communities/{HS}/supplies")).await.json();
        let items = stock["items"].as_array().unwrap();
        let line = items.iter().find(|s| s["store"] == store && s["item"] == item);
        line.map_or(0, |s| s["level"].as_i64().unwrap())
    }
}

/// A household of a grid.
async fn household_in(app: &TestApp, grid: i64) -> i64 {
    app.scalar("SELECT MAX(id) FROM households WHERE grid_id = $1 AND archived_at IS NULL", grid).await
}

async fn rows(app: &TestApp, sql: &'static str, arg: i64) -> Vec<i64> {
    query(sql).bind(arg).scalars(&mut app.state.db.span(Span::Maintenance).await.unwrap()).await.unwrap()
}

#[tokio::test]
async fn a_typhoon_over_three_grids_from_the_broadcast_to_the_after_action_report() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let worker = app.user_id("grid").await;
    let own = app.scalar("SELECT MIN(grid_id) FROM grants WHERE user_id = $1", worker).await;
    let others = rows(&app, "SELECT id FROM grids WHERE community_id = $1 ORDER BY id", c).await;
    let others: Vec<i64> = others.into_iter().filter(|g| *g != own).collect();
    let (three, fourth) = ([own, others[0], others[1]], others[2]);

    // The community adds 卧床 to its care tags and marks a resident of the first grid, in a
    // household no tag has ranked, bedridden; it opens accounts for a household of each grid.
    app.sign_in("secretary").await;
    let tags = app.get(&format!("/api/v1/communities/{HS}")).await.json()["care_tags"].clone();
    let mut tags: Vec<Value> = tags.as_array().unwrap().clone();
    tags.push(json!("卧床"));
    let r = app.patch_json(&format!("/api/v1/communities/{HS}"), json!({"care_tags": tags})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (her, her_household): (i64, i64) = query(
        "SELECT r.id, r.household_id FROM residents r JOIN households h ON h.community_id = r.community_id AND h.id = r.household_id \
         WHERE r.community_id = $1 AND h.grid_id = $2 AND r.archived_at IS NULL AND NOT EXISTS (SELECT 1 FROM residents o \
         WHERE o.community_id = r.community_id AND o.household_id = r.household_id AND o.care_tags <> '') ORDER BY r.id LIMIT 1",
    )
    .bind(c)
    .bind(own)
    .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
    .await
    .unwrap();
    let r = app.patch_json(&format!("/api/v1/communities/{HS}/residents/{her}"), json!({"care_tags": ["卧床"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mut told = Vec::new();
    for (i, g) in three.iter().enumerate() {
        told.push(app.resident_account(household_in(&app, *g).await, &format!("typhoon-{i}")).await);
    }
    let outside = app.resident_account(household_in(&app, fourth).await, "typhoon-far").await;

    // Staff activate the typhoon over the three grids.
    app.sign_in("staff").await;
    let typhoon = app.prepare_incident("台风麦德姆", &three).await;
    let r = app.incident_step(typhoon, "activated", "今晚登陆，请勿外出").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // Every resident account of the three grids is told; the one outside is not.
    let of_grids: i64 = query(
        "SELECT COUNT(DISTINCT g.user_id) FROM grants g JOIN households h ON h.community_id = $1 AND h.id = g.household_id \
         WHERE g.community_id = $1 AND g.role = 'resident' AND h.grid_id IN ($2, $3, $4)",
    )
    .bind(c)
    .bind(three[0])
    .bind(three[1])
    .bind(three[2])
    .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
    .await
    .unwrap();
    let reached: i64 = query(
        "SELECT COUNT(DISTINCT n.user_id) FROM notifications n JOIN grants g ON g.user_id = n.user_id AND g.role = 'resident' \
         JOIN households h ON h.community_id = $1 AND h.id = g.household_id \
         WHERE n.community_id = $1 AND g.community_id = $1 AND h.grid_id IN ($2, $3, $4) AND n.text LIKE '%台风麦德姆：今晚登陆%'",
    )
    .bind(c)
    .bind(three[0])
    .bind(three[1])
    .bind(three[2])
    .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
    .await
    .unwrap();
    assert!(of_grids >= 3 && reached == of_grids, "{reached} of {of_grids}");
    for user in told {
        app.act_as(user).await;
        let inbox = app.get("/api/v1/inbox").await.json().to_string();
        assert!(inbox.contains("台风麦德姆：今晚登陆"), "{inbox}");
    }
    app.act_as(outside).await;
    assert!(!app.get("/api/v1/inbox").await.json().to_string().contains("台风麦德姆：今晚登陆"));

    // The grid worker's list: the first tier first, her household among it.
    app.sign_in("grid").await;
    let list = app.get(&format!("/api/v1/communities/{HS}/incidents/{typhoon}/checks")).await.json();
    let items = list["items"].as_array().unwrap().clone();
    let tiers: Vec<i64> = items.iter().map(|i| i["tier"].as_i64().unwrap()).collect();
    assert!(tiers[0] == 1 && tiers.windows(2).all(|w| w[0] <= w[1]), "{tiers:?}");
    let hers = items.iter().find(|i| i["household_id"] == her_household).expect("her household is the grid worker's");
    assert_eq!(hers["tier"], 1, "{hers}");
    let check = hers["id"].as_i64().unwrap();
    let needs = json!({"status": "needs_help", "needs": ["transport", "medicine"], "note": "卧床，需担架", "seen": 0, "key": "s-1"});
    assert_eq!(app.send_check(check, needs).await.status, StatusCode::CREATED);
    let more: Vec<i64> = items.iter().map(|i| i["id"].as_i64().unwrap()).filter(|id| *id != check).take(2).collect();
    for (n, id) in more.iter().enumerate() {
        let safe = json!({"status": "safe", "seen": 0, "key": format!("s-safe-{n}")});
        assert_eq!(app.send_check(*id, safe).await.status, StatusCode::CREATED);
    }

    // The command page counts them.
    app.sign_in("staff").await;
    let page = visible_text(&app.get(&format!("/c/{HS}/incidents/{typhoon}")).await.text());
    assert!(page.contains("已排查 3"), "{page}");

    // She is moved to the school; her needs become two boxes of water from the warehouse.
    let school = app.scalar("SELECT id FROM shelters WHERE community_id = $1 AND name = '海盛小学避难点'", c).await;
    let r = app.check_in(school, &[("check_id", &check.to_string()), ("people", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let before = app.stock_of("社区应急仓库", "矿泉水").await;
    let warehouse =
        app.scalar("SELECT id FROM supply_stores WHERE community_id = $1 AND name = '社区应急仓库'", c).await;
    let water = app.scalar("SELECT id FROM supply_items WHERE community_id = $1 AND name = '矿泉水'", c).await;
    let hand = [
        ("item", water.to_string()),
        ("store", warehouse.to_string()),
        ("amount", "2".into()),
        ("reason", "转移途中饮水".into()),
        ("household", her_household.to_string()),
        ("incident", typhoon.to_string()),
        ("check", check.to_string()),
        ("key", "s-hand".into()),
    ];
    let hand: Vec<(&str, &str)> = hand.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app.supplies("hand-out", &hand).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // The stock and the report agree with what happened.
    assert_eq!(app.stock_of("社区应急仓库", "矿泉水").await, before - 2);
    let page = visible_text(&app.get(&format!("/c/{HS}/welfare-checks/{check}")).await.text());
    assert!(page.contains("已转移安置"), "{page}");
    let report = visible_text(&app.get(&format!("/c/{HS}/incidents/{typhoon}/report")).await.text());
    assert!(report.contains("已到访 3 户") && report.contains("转移安置 1 批 1 人"), "{report}");
    assert!(report.contains("转移车辆 1 1") && report.contains("药品 1 1"), "needs met: {report}");
    assert!(report.contains("矿泉水 2 箱 1"), "supplies used: {report}");
}
