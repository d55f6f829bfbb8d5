//! What an emergency draws on: the community's typhoon plan 预案 sets its tasks going when
//! an incident is activated, tells the one on call and weighs the supplies it wants ready
//! against the stock; a household's check goes first to the member paired with it
//! (党群1+1); relief supplies given in kind are taken out of the gift the money's records
//! keep, so that the gift's page says where they went.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// Staff write a plan for a kind of incident through the API.
    async fn write_plan(&self, plan: serde_json::Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/incident-plans"), plan).await
    }

    /// Staff mark one of an incident's tasks done.
    async fn mark_task_done(&self, incident: i64, task: i64) -> Resp {
        let task = task.to_string();
        self.post_form(&format!("/c/{HS}/incidents/{incident}/tasks"), &[("task", task.as_str())]).await
    }

    /// Staff record a gift in kind in the money's records; answers its id.
    async fn record_gift_in_kind(&self, item: &str, unit: &str, quantity: &str) -> i64 {
        let today = linli::web::fmt::today().to_string();
        let gift = [
            ("donor_kind", "person"),
            ("donor_name", "陈志强"),
            ("named", "true"),
            ("item", item),
            ("quantity", quantity),
            ("unit", unit),
            ("value", "450"),
            ("stored_at", "社区应急仓库"),
            ("given_on", today.as_str()),
        ];
        let r = self.post_form(&format!("/c/{HS}/goods"), &gift).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        r.location().split("/goods/").nth(1).unwrap().split('?').next().unwrap().parse().unwrap()
    }
}

async fn own_grid(app: &TestApp) -> i64 {
    let worker = app.user_id("grid").await;
    app.scalar("SELECT MIN(grid_id) FROM grants WHERE user_id = $1", worker).await
}

#[tokio::test]
async fn a_plan_sets_its_tasks_going_tells_the_one_on_call_and_weighs_its_supplies() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let on_call = app.user_id("grid").await;
    app.sign_in("staff").await;

    // A plan whose supplies cannot be read as items and numbers is refused, naming them.
    let bad = app.write_plan(json!({"kind": "flood", "title": "防汛预案", "supplies": "沙袋 很多"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.field_error("supplies").contains("沙袋 很多"), "{}", bad.text());
    let plan = json!({
        "kind": "flood",
        "title": "防汛预案",
        "tasks": ["巡查低洼地段", "疏通排水口"],
        "on_call_user_id": on_call,
        "supplies": "瓶装水 30 箱；沙袋 500 个",
    });
    let r = app.write_plan(plan).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // Twenty boxes of water in a store: the plan wants thirty.
    assert_eq!(app.supplies("items", &[("name", "瓶装水"), ("unit", "箱")]).await.status, StatusCode::SEE_OTHER);
    let water = app.scalar("SELECT id FROM supply_items WHERE name = '瓶装水' AND community_id = $1", c).await;
    let store = app.scalar("SELECT MIN(id) FROM supply_stores WHERE community_id = $1", c).await;
    let (water, store) = (water.to_string(), store.to_string());
    let receive =
        [("item", water.as_str()), ("store", &store), ("source", "purchase"), ("amount", "20"), ("reason", "采购")];
    let r = app.supplies("receive", &[&receive[..], &[("key", "p-1")]].concat()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // A flood prepared: the command page shows the plan and what is still short.
    let grid = own_grid(&app).await;
    let f = [("title", "暴雨积水"), ("kind", "flood"), ("level", "3"), ("grids", &grid.to_string())];
    let r = app.post_form(&format!("/c/{HS}/incidents"), &f).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let flood: i64 = r.location().split("/incidents/").nth(1).unwrap().split('?').next().unwrap().parse().unwrap();
    let page = visible_text(&app.get(&format!("/c/{HS}/incidents/{flood}")).await.text());
    assert!(page.contains("预案：防汛预案") && page.contains("物资准备：防汛预案"), "{page}");
    assert!(page.contains("20箱") && page.contains("还差 10箱") && page.contains("还差 500"), "{page}");
    assert!(!page.contains("预案：台风防御预案"), "the typhoon plan is not a flood's: {page}");

    // Activated: the plan's tasks are the incident's, and the one on call is told.
    assert_eq!(app.incident_step(flood, "activated", "").await.status, StatusCode::SEE_OTHER);
    let page = visible_text(&app.get(&format!("/c/{HS}/incidents/{flood}")).await.text());
    assert!(page.contains("预案任务") && page.contains("巡查低洼地段") && page.contains("待完成"), "{page}");
    let task = app.scalar("SELECT MIN(id) FROM incident_tasks WHERE incident_id = $1", flood).await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM incident_tasks WHERE incident_id = $1", flood).await, 2);
    let r = app.mark_task_done(flood, task).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let again = app.mark_task_done(flood, task).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(visible_text(&again.text()).contains("这项任务已标记完成"), "{}", again.text());
    let report = visible_text(&app.get(&format!("/c/{HS}/incidents/{flood}/report")).await.text());
    assert!(report.contains("巡查低洼地段") && report.contains("疏通排水口") && report.contains("待完成"), "{report}");
    // Stood down and activated again (the rain returns): the tasks are not made twice.
    assert_eq!(app.incident_step(flood, "stood_down", "").await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.incident_step(flood, "activated", "").await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM incident_tasks WHERE incident_id = $1", flood).await, 2);

    app.sign_in("grid").await;
    let inbox = app.get("/api/v1/inbox").await.json().to_string();
    assert_eq!(inbox.matches("【应急值班】暴雨积水已启动").count(), 1, "{inbox}");
    // Only staff mark tasks done.
    assert_eq!(app.mark_task_done(flood, task + 1).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_households_check_goes_first_to_the_member_paired_with_it() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let grid = own_grid(&app).await;
    let volunteer = app.user_id("volunteer").await;
    let name: String = linli::db::query("SELECT display_name FROM users WHERE id = $1")
        .bind(volunteer)
        .scalar(&mut app.state.db.read().await.unwrap())
        .await
        .unwrap();
    app.sign_in("staff").await;
    let incident = app.prepare_incident("台风麦德姆", &[grid]).await;
    assert_eq!(app.incident_step(incident, "activated", "").await.status, StatusCode::SEE_OTHER);
    let (first, last) = (
        app.scalar("SELECT MIN(id) FROM welfare_checks WHERE incident_id = $1", incident).await,
        app.scalar("SELECT MAX(id) FROM welfare_checks WHERE incident_id = $1", incident).await,
    );
    let household = app.scalar("SELECT household_id FROM welfare_checks WHERE id = $1", first).await;
    let address: String = linli::db::query("SELECT address FROM households WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(household)
        .scalar(&mut app.state.db.read().await.unwrap())
        .await
        .unwrap();
    let pair = [("kind", "volunteer"), ("user_id", &volunteer.to_string()), ("household_ids", &address)];
    let r = app.post_form(&format!("/c/{HS}/pairs"), &[&pair[..], &[("every_days", "14")]].concat()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // The grid worker sees the paired member offered right after themself.
    app.sign_in("grid").await;
    let page = visible_text(&app.get(&format!("/c/{HS}/welfare-checks/{first}")).await.text());
    let (worker_at, paired_at) = (page.find("（网格员）"), page.find(&format!("{name}（结对）")));
    assert!(worker_at.is_some() && paired_at.is_some() && worker_at < paired_at, "{page}");
    assert_eq!(page.matches(&name).count(), 1, "offered once: {page}");
    let other = visible_text(&app.get(&format!("/c/{HS}/welfare-checks/{last}")).await.text());
    assert!(!other.contains("（结对）") && other.contains(&name), "another household has no pair: {other}");
    let r = app
        .post_form(&format!("/c/{HS}/welfare-checks/{first}/assignee"), &[("assignee_id", &volunteer.to_string())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    app.sign_in("volunteer").await;
    let inbox = app.get("/api/v1/inbox").await.json().to_string();
    assert!(inbox.contains(&format!("请协助入户排查：{address}")), "{inbox}");
}

#[tokio::test]
async fn supplies_given_in_kind_are_taken_out_of_the_gift_the_money_keeps() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("staff").await;
    let gift = app.record_gift_in_kind("自热米饭", "箱", "10").await;
    let number: String = linli::db::query("SELECT number FROM goods WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(gift)
        .scalar(&mut app.state.db.read().await.unwrap())
        .await
        .unwrap();
    assert_eq!(app.supplies("items", &[("name", "自热米饭"), ("unit", "箱")]).await.status, StatusCode::SEE_OTHER);
    let item = app.scalar("SELECT id FROM supply_items WHERE name = '自热米饭' AND community_id = $1", c).await;
    let store = app.scalar("SELECT MIN(id) FROM supply_stores WHERE community_id = $1", c).await;
    let (item, store, gift_s) = (item.to_string(), store.to_string(), gift.to_string());
    let page = visible_text(&app.get(&format!("/c/{HS}/supplies")).await.text());
    assert!(page.contains("来自哪笔实物捐赠") && page.contains(&format!("{number} 陈志强 自热米饭 余10箱")), "{page}");

    let receive = |source: &'static str, amount: &'static str, key: &'static str| {
        let (item, store, gift) = (item.clone(), store.clone(), gift_s.clone());
        let app = &app;
        async move {
            let f = [
                ("item", item.as_str()),
                ("store", store.as_str()),
                ("source", source),
                ("gift", gift.as_str()),
                ("amount", amount),
                ("reason", "陈志强先生捐赠"),
                ("key", key),
            ];
            app.supplies("receive", &f).await
        }
    };
    let bought = receive("purchase", "2", "g-1").await;
    assert_eq!(bought.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bought.inline_error("gift").contains("只有来源为“捐赠”"), "{}", bought.text());
    let too_many = receive("donation", "12", "g-2").await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_many.inline_error("amount").contains("库存只剩 10"), "{}", too_many.text());
    assert_eq!(receive("donation", "6", "g-3").await.status, StatusCode::SEE_OTHER);
    assert_eq!(receive("donation", "6", "g-3").await.status, StatusCode::SEE_OTHER, "the same form again");

    // The gift has four left and says where six went; the stock has six, from the gift.
    let left = app.scalar("SELECT left_qty FROM goods WHERE id = $1", gift).await;
    assert_eq!(left, 4, "taken once");
    let goods = visible_text(&app.get(&format!("/c/{HS}/goods/{gift}")).await.text());
    assert!(goods.contains("转入应急物资：") && goods.contains("6箱") && goods.contains("4箱"), "{goods}");
    let page = visible_text(&app.get(&format!("/c/{HS}/supplies")).await.text());
    assert!(page.contains(&format!("捐赠 {number} 陈志强 · 自热米饭")) && page.contains("6 箱"), "{page}");
    assert!(page.contains("余4箱"), "{page}");
}
