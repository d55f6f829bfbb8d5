//! Emergencies: staff prepare typhoon 麦德姆 over two grids of 海盛社区 and activate it:
//! a check for every household there, the first tier first, and the broadcast in the
//! inbox of every resident there. A resident answers "I need help"; the grid worker
//! records checks — one sent twice is recorded once, one made on an old version is kept as
//! a conflict and shown —; the command page counts them; stood down, nothing more is
//! recorded. Two people changing one household at once: one applied, both kept.

use axum::http::StatusCode;
use linli::auth::model::{Grant, Role};
use linli::capabilities::emergency::store::{self, Outcome, Source};
use linli::capabilities::emergency::{CheckChange, CheckStatus};
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// Staff prepare an incident over the grids given; answers its id.
    pub(crate) async fn prepare_incident(&self, title: &str, grids: &[i64]) -> i64 {
        let grids: Vec<String> = grids.iter().map(i64::to_string).collect();
        let mut f = vec![("title", title), ("kind", "typhoon"), ("level", "2")];
        f.extend(grids.iter().map(|g| ("grids", g.as_str())));
        let r = self.post_form(&format!("/c/{HS}/incidents"), &f).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        r.location().split("/incidents/").nth(1).unwrap().split('?').next().unwrap().parse().unwrap()
    }

    /// Staff move an incident on (`activated`, `stood_down`, `closed`).
    pub(crate) async fn incident_step(&self, incident: i64, to: &str, note: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/incidents/{incident}/status"), &[("status", to), ("note", note)]).await
    }

    /// A grid worker's app sends a change to a household's check.
    pub(crate) async fn send_check(&self, check: i64, body: serde_json::Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/welfare-checks/{check}/changes"), body).await
    }
}

async fn ids(app: &TestApp, sql: &'static str, arg: i64) -> Vec<i64> {
    query(sql).bind(arg).scalars(&mut app.state.db.span(Span::Maintenance).await.unwrap()).await.unwrap()
}

#[tokio::test]
async fn a_typhoon_over_two_grids_checks_every_household_first_tier_first() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let worker = app.user_id("grid").await;
    let own = app.scalar("SELECT MIN(grid_id) FROM grants WHERE user_id = $1", worker).await;
    let other = ids(&app, "SELECT id FROM grids WHERE community_id = $1 ORDER BY id", c)
        .await
        .into_iter()
        .find(|g| *g != own)
        .unwrap();
    app.sign_in("staff").await;
    let typhoon = app.prepare_incident("台风麦德姆", &[own, other]).await;
    let r = app.incident_step(typhoon, "closed", "").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "not a step from prepared");
    let r = app.incident_step(typhoon, "activated", "台风橙色预警").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // A check for every household of the two grids, each assigned to its grid's worker.
    let households = app
        .scalar(
            "SELECT COUNT(*) FROM households h JOIN incident_grids x ON x.community_id = h.community_id \
             AND x.grid_id = h.grid_id WHERE x.incident_id = $1 AND h.archived_at IS NULL",
            typhoon,
        )
        .await;
    let checks = app.scalar("SELECT COUNT(*) FROM welfare_checks WHERE incident_id = $1", typhoon).await;
    assert!(households > 10 && checks == households, "{checks} checks for {households} households");

    // The resident (of the worker's grid) was told, and answers that they need help.
    app.sign_in("resident").await;
    let inbox = app.get("/api/v1/inbox").await.json();
    assert!(inbox.to_string().contains("台风麦德姆"), "{inbox}");
    let told = app.get(&format!("/c/{HS}/incidents/{typhoon}")).await;
    assert_eq!(
        told.location(),
        format!("/c/{HS}/incidents/{typhoon}/reply"),
        "the broadcast leads a resident to reply"
    );
    let page = visible_text(&app.get(&told.location()).await.text());
    assert!(page.contains("我安全") && page.contains("我需要帮助"), "{page}");
    let r = app.post_form(&format!("/c/{HS}/incidents/{typhoon}/reply"), &[("safe", "false")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let household =
        app.scalar("SELECT MIN(household_id) FROM grants WHERE user_id = $1", app.user_id("resident").await).await;
    let status: String = query("SELECT status FROM welfare_checks WHERE incident_id = $1 AND household_id = $2")
        .bind(typhoon)
        .bind(household)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert_eq!(status, "needs_help");

    // The grid worker's list: their own grid only, the first tier first.
    app.sign_in("grid").await;
    let list = app.get(&format!("/api/v1/communities/{HS}/incidents/{typhoon}/checks")).await.json();
    let items = list["items"].as_array().unwrap();
    let tiers: Vec<i64> = items.iter().map(|w| w["tier"].as_i64().unwrap()).collect();
    assert!(tiers.windows(2).all(|w| w[0] <= w[1]) && tiers[0] < 4, "first tier first: {tiers:?}");
    assert!(items.len() < checks as usize, "only the worker's grid");
    let first = items[0]["id"].as_i64().unwrap();
    let v = items[0]["version"].as_i64().unwrap();

    // Checked safe, sent twice (the network came back): recorded once.
    let safe = json!({"status": "safe", "seen": v, "key": "phone-1"});
    let r = app.send_check(first, safe.clone()).await;
    assert_eq!((r.status, r.json()["outcome"].as_str()), (StatusCode::CREATED, Some("applied")), "{}", r.text());
    let r = app.send_check(first, safe).await;
    assert_eq!(r.json()["outcome"], "repeated");
    // Another change made on the version before it: kept as a conflict, not applied.
    let r = app.send_check(first, json!({"status": "unreachable", "seen": v, "key": "phone-2"})).await;
    assert_eq!(r.json()["outcome"], "conflict", "{}", r.text());
    let page = visible_text(&app.get(&format!("/c/{HS}/welfare-checks/{first}")).await.text());
    assert!(page.contains("平安") && page.contains("冲突，已保留"), "{page}");
    // On the page, too: a form made on the old version is kept and said so, and the form
    // comes back on the check as it now stands, to be sent again.
    let form = [("status", "refused"), ("seen", &v.to_string()), ("key", "form-1")];
    let r = app.post_form(&format!("/c/{HS}/welfare-checks/{first}"), &form).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("您的记录已作为冲突保留"), "{}", r.text());
    assert!(r.text().contains(&format!("name=\"seen\" value=\"{}\"", v + 1)), "the form on the current version");
    // Needs go with help; a household of another grid is not the worker's.
    let r = app.send_check(first, json!({"status": "safe", "needs": ["food"], "seen": v + 1, "key": "phone-3"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["needs"].is_string(), "{}", r.text());
    let r = app
        .send_check(
            first,
            json!({"status": "needs_help", "needs": ["food", "medicine"], "seen": v + 1, "key": "phone-4"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let elsewhere = app.scalar("SELECT MIN(id) FROM welfare_checks WHERE grid_id = $1", other).await;
    let r = app.send_check(elsewhere, json!({"status": "safe", "seen": 0, "key": "phone-5"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The command page counts the checks; stood down, nothing more is recorded.
    app.sign_in("staff").await;
    let page = visible_text(&app.get(&format!("/c/{HS}/incidents/{typhoon}")).await.text());
    assert!(
        page.contains("台风麦德姆") && page.contains(&format!("户数 {checks}")) && page.contains("已排查 2"),
        "{page}"
    );
    // The community's typhoon plan is on it, and staff keep plans as records.
    assert!(page.contains("预案：台风防御预案") && page.contains("加固户外广告牌和树木"), "{page}");
    let plan = json!({"kind": "flood", "title": "防汛预案", "tasks": ["巡查低洼地段"], "supplies": "沙袋 200 个"});
    let r = app.post_json(&format!("/api/v1/communities/{HS}/incident-plans"), plan).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .post_json(&format!("/api/v1/communities/{HS}/incident-plans"), json!({"kind": "meteor", "title": "x"}))
        .await;
    assert!(!r.field_error("kind").is_empty(), "{}", r.text());
    assert_eq!(app.incident_step(typhoon, "stood_down", "").await.status, StatusCode::SEE_OTHER);
    app.sign_in("grid").await;
    let r = app.send_check(first, json!({"status": "safe", "seen": v + 2, "key": "phone-6"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    // A resident neither prepares incidents nor sees the list.
    app.sign_in("resident").await;
    assert_eq!(app.get(&format!("/c/{HS}/incidents")).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_people_changing_one_household_at_once_one_is_applied_and_both_are_kept() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let grid = app.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", c).await;
    app.sign_in("staff").await;
    let incident = app.prepare_incident("防汛排查", &[grid]).await;
    assert_eq!(app.incident_step(incident, "activated", "").await.status, StatusCode::SEE_OTHER);
    let check = app.scalar("SELECT MIN(id) FROM welfare_checks WHERE incident_id = $1", incident).await;
    let community =
        linli::auth::guard::community_by_id(&mut app.state.db.read().await.unwrap(), c).await.unwrap().unwrap();
    let people = app.invented(2, "checker", "排查员", vec![Grant::community(Role::CommunityStaff, c)]).await;
    let tasks: Vec<_> = people
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let (state, community) = (app.state.clone(), community.clone());
            let status = if i == 0 { CheckStatus::Safe } else { CheckStatus::Sheltered };
            tokio::spawn(async move {
                let ch = CheckChange { status, needs: Vec::new(), note: None, seen: 0 };
                store::change(&state, &a, &community, check, &ch, &format!("race-{i}"), Source::Field).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap().unwrap());
    }
    let applied = outcomes.iter().filter(|o| matches!(o, Outcome::Applied(1))).count();
    let conflicts = outcomes.iter().filter(|o| matches!(o, Outcome::Conflict(_))).count();
    assert_eq!((applied, conflicts), (1, 1), "{outcomes:?}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM welfare_check_changes WHERE check_id = $1", check).await, 2);
    assert_eq!(app.scalar("SELECT version FROM welfare_checks WHERE id = $1", check).await, 1);
}

#[tokio::test]
async fn a_community_ranks_its_own_care_tags_and_activation_follows_them() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let grid = app.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", c).await;
    app.sign_in("secretary").await;
    let community = app.get(&format!("/api/v1/communities/{HS}")).await.json();
    assert_eq!(community["emergency_tier_one"], json!(["独居老人", "卧床", "残疾人", "孕妇"]), "{community}");
    // 海盛社区 checks low-income households first, and has no second tier.
    let r = app
        .patch_json(
            &format!("/api/v1/communities/{HS}"),
            json!({"emergency_tier_one": ["低保"], "emergency_tier_two": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let bad = app.patch_json(&format!("/api/v1/communities/{HS}"), json!({"emergency_tier_one": "低保"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!bad.field_error("emergency_tier_one").is_empty(), "{}", bad.text());
    let incident = app.prepare_incident("防汛排查", &[grid]).await;
    assert_eq!(app.incident_step(incident, "activated", "").await.status, StatusCode::SEE_OTHER);
    let count = |sql: &'static str| app.scalar(sql, incident);
    assert!(count("SELECT COUNT(*) FROM welfare_checks WHERE incident_id = $1 AND tier = 1").await > 0);
    assert_eq!(
        count("SELECT COUNT(*) FROM welfare_checks WHERE incident_id = $1 AND tier = 1 AND tags NOT LIKE '%|低保|%'")
            .await,
        0
    );
    assert_eq!(count("SELECT COUNT(*) FROM welfare_checks WHERE incident_id = $1 AND tier = 2").await, 0);
    let alone = "SELECT COUNT(*) FROM welfare_checks WHERE incident_id = $1 AND tags LIKE '%|独居老人|%' AND tags NOT LIKE '%|低保|%' AND tier <> 3";
    assert_eq!(count(alone).await, 0, "living alone is an ordinary tag here");
}

#[tokio::test]
async fn the_grid_worker_hands_a_household_to_a_volunteer_who_checks_it() {
    let mut app = TestApp::demo().await;
    let worker = app.user_id("grid").await;
    let own = app.scalar("SELECT MIN(grid_id) FROM grants WHERE user_id = $1", worker).await;
    app.sign_in("staff").await;
    let incident = app.prepare_incident("台风麦德姆", &[own]).await;
    assert_eq!(app.incident_step(incident, "activated", "").await.status, StatusCode::SEE_OTHER);
    let check = app.scalar("SELECT MIN(id) FROM welfare_checks WHERE incident_id = $1", incident).await;
    let volunteer = app.user_id("volunteer").await.to_string();
    let resident = app.user_id("resident").await.to_string();

    // The grid worker hands it to a volunteer; a resident is no helper.
    app.sign_in("grid").await;
    let page = visible_text(&app.get(&format!("/c/{HS}/welfare-checks/{check}")).await.text());
    assert!(page.contains("转交他人排查") && page.contains("（网格员）"), "{page}");
    let r =
        app.post_form(&format!("/c/{HS}/welfare-checks/{check}/assignee"), &[("assignee_id", resident.as_str())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!r.inline_error("assignee_id").is_empty(), "{}", r.text());
    let r = app
        .post_form(&format!("/c/{HS}/welfare-checks/{check}/assignee"), &[("assignee_id", volunteer.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // The volunteer is told, sees that household alone, and records it.
    app.sign_in("volunteer").await;
    let inbox = app.get("/api/v1/inbox").await.json();
    assert!(inbox.to_string().contains("请协助入户排查"), "{inbox}");
    let field = app.get(&format!("/api/v1/communities/{HS}/incidents/{incident}/checks")).await.json();
    let ids: Vec<i64> = field["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![check], "{field}");
    let r = app.send_check(check, json!({"status": "safe", "seen": 0, "key": "v-1"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let other = app.scalar("SELECT MAX(id) FROM welfare_checks WHERE incident_id = $1", incident).await;
    let r = app.send_check(other, json!({"status": "safe", "seen": 0, "key": "v-2"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "not handed to them");
    // Nor may the volunteer hand it on.
    let r = app
        .post_form(&format!("/c/{HS}/welfare-checks/{check}/assignee"), &[("assignee_id", volunteer.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_households_needs_become_a_ticket_in_one_tap_and_the_report_counts_it() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let grid = app.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", c).await;
    app.sign_in("staff").await;
    let incident = app.prepare_incident("台风麦德姆", &[grid]).await;
    assert_eq!(app.incident_step(incident, "activated", "").await.status, StatusCode::SEE_OTHER);
    let checks = ids(&app, "SELECT id FROM welfare_checks WHERE incident_id = $1 ORDER BY id", incident).await;
    let (needy, safe) = (checks[0], checks[1]);
    let r = app.send_check(needy, json!({"status": "needs_help", "needs": ["medicine", "food"], "note": "降压药用完", "seen": 0, "key": "t-1"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        app.send_check(safe, json!({"status": "safe", "seen": 0, "key": "t-2"})).await.status,
        StatusCode::CREATED
    );

    let page = visible_text(&app.get(&format!("/c/{HS}/welfare-checks/{needy}")).await.text());
    assert!(page.contains("需求转为工单"), "{page}");
    let r = app.post_form(&format!("/c/{HS}/welfare-checks/{needy}/ticket"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", visible_text(&r.text()));
    let ticket: i64 = r.location().split("/tickets/").nth(1).unwrap().split('?').next().unwrap().parse().unwrap();
    let text = visible_text(&app.get(&format!("/c/{HS}/tickets/{ticket}")).await.text());
    assert!(text.contains("台风麦德姆") && text.contains("药品、食物") && text.contains("降压药用完"), "{text}");
    // Tapped again: the same ticket, not a second.
    let again = app.post_form(&format!("/c/{HS}/welfare-checks/{needy}/ticket"), &[]).await;
    assert!(again.location().contains(&format!("/tickets/{ticket}")));
    let household = app.scalar("SELECT household_id FROM welfare_checks WHERE id = $1", needy).await;
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM tickets WHERE household_id = $1 AND description LIKE '%台风麦德姆%'",
            household
        )
        .await,
        1
    );
    assert_eq!(app.post_form(&format!("/c/{HS}/welfare-checks/{safe}/ticket"), &[]).await.status, StatusCode::CONFLICT);

    let report = visible_text(&app.get(&format!("/c/{HS}/incidents/{incident}/report")).await.text());
    assert!(report.contains("转办工单 1 件") && report.contains(&format!("#{ticket}")), "{report}");
}

#[tokio::test]
async fn the_subdistrict_activates_one_incident_over_several_communities() {
    let mut app = TestApp::demo().await;
    let lianjiang = app.community_id("441802005001").await;
    let sub = app.scalar("SELECT subdistrict_id FROM communities WHERE id = $1", lianjiang).await;
    let two = ids(&app, "SELECT id FROM communities WHERE subdistrict_id = $1 ORDER BY id LIMIT 2", sub).await;
    let other = app.community_id(HS).await.to_string();
    app.sign_in("street").await;
    let home = app.get("/").await.text();
    assert!(
        home.contains(&format!("/subdistricts/{sub}/incidents")),
        "the subdistrict's home leads to its emergencies"
    );
    let (a, b) = (two[0].to_string(), two[1].to_string());
    let bad = [
        ("title", "台风"),
        ("kind", "typhoon"),
        ("level", "2"),
        ("communities", a.as_str()),
        ("communities", other.as_str()),
    ];
    let r = app.post_form(&format!("/subdistricts/{sub}/incidents"), &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a community of another subdistrict");
    assert!(!r.inline_error("communities").is_empty(), "{}", r.text());
    let f = [
        ("title", "台风海葵防御"),
        ("kind", "typhoon"),
        ("level", "2"),
        ("communities", a.as_str()),
        ("communities", b.as_str()),
    ];
    let r = app.post_form(&format!("/subdistricts/{sub}/incidents"), &f).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let group = r.location().split("/incidents/").nth(1).unwrap().split('?').next().unwrap().to_string();
    let r = app
        .post_form(&format!("/subdistricts/{sub}/incidents/{group}/status"), &[("status", "activated"), ("note", "")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // Each community has its own incident with a check for each of its households.
    for c in &two {
        let households =
            app.scalar("SELECT COUNT(*) FROM households WHERE community_id = $1 AND archived_at IS NULL", *c).await;
        let checks = app
            .scalar("SELECT COUNT(*) FROM welfare_checks w JOIN incidents i ON i.community_id = w.community_id AND i.id = w.incident_id WHERE w.community_id = $1 AND i.group_id IS NOT NULL", *c)
            .await;
        assert!(households > 0 && checks == households, "{checks} checks for {households} households");
    }
    let page = visible_text(&app.get(&format!("/subdistricts/{sub}/incidents/{group}")).await.text());
    assert!(page.contains("各社区情况") && page.contains("已启动"), "{page}");
    let again = app
        .post_form(&format!("/subdistricts/{sub}/incidents/{group}/status"), &[("status", "activated"), ("note", "")])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "not a step any more");

    // A community's staff do not command the subdistrict's incidents.
    app.sign_in("staff").await;
    assert_eq!(app.get(&format!("/subdistricts/{sub}/incidents/{group}")).await.status, StatusCode::NOT_FOUND);
}
