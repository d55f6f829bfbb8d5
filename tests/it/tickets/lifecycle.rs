//! The request's life through the API and pages: submit, dispatch, take, resolve and rate,
//! reopening by a low rating, racing for a pooled order, whistles, and staff's own steps.

use std::time::Duration;

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use super::{HS, LIANJIANG, id_from, resident_household};
use crate::helpers::{TestApp, visible_text};

#[tokio::test]
async fn a_resident_asks_the_grid_worker_hears_resolves_with_a_photo_and_the_resident_rates() {
    let mut app = TestApp::demo().await;
    let grid_worker = app.user_id("grid").await;
    // The grid worker has a page open: they hear of the new ticket through the database.
    let mut news = app.state.bus.subscribe(&app.state.db).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    app.sign_in("resident").await;
    let h = resident_household(&app).await.to_string();
    let cat = app.ticket_category(HS, "11").await.to_string();
    let photo = linli::services::media::png_for_tests(640, 480);
    let r = app
        .submit_ticket_form(
            &[("category_id", &cat), ("description", "3栋楼道灯坏了一个星期，晚上看不见台阶"), ("household_id", &h)],
            &photo,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", visible_text(&r.text()));
    let id = id_from(&r.location());
    let heard = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let n = news.recv().await.unwrap();
            if n.subject_kind.as_deref() == Some("ticket") && n.subject_id == Some(id) {
                return n;
            }
        }
    })
    .await
    .expect("the grid worker hears of the ticket");
    assert!(heard.users.contains(&grid_worker));

    let page = visible_text(&app.get(&r.location()).await.text());
    assert!(page.contains("已派单") && page.contains("周网格员"), "dispatched to the grid's worker: {page}");

    app.sign_in("grid").await;
    let inbox = app.get("/api/v1/inbox").await.json();
    assert!(inbox["items"].as_array().unwrap().iter().any(|n| n["ticket_id"] == id));
    let work = app.get(&format!("/api/v1/communities/{HS}/tickets?view=work&status=dispatched")).await.json();
    assert!(work["items"].as_array().unwrap().iter().any(|t| t["id"] == id));
    assert_eq!(app.take_ticket(id).await.status, StatusCode::OK);
    let q = app.ticket_action(id, json!({"action": "note", "q_need": "楼道照明", "q_cause": "灯泡老化", "q_plan": "更换LED灯", "q_progress": "已采购", "q_outcome": "已亮"})).await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text());
    assert_eq!(q.json()["five_questions"]["cause"], "灯泡老化");
    assert_eq!(app.start_ticket(id).await.status, StatusCode::OK);
    let done_photo = linli::services::media::png_for_tests(300, 300);
    let resolved = app.resolve_ticket_form(id, "已更换灯泡", &done_photo).await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER, "{}", visible_text(&resolved.text()));

    // Photos are served to those who may see the ticket, and to no one else.
    let photos =
        app.get(&format!("/api/v1/communities/{HS}/tickets/{id}")).await.json()["photos"].as_array().unwrap().clone();
    assert_eq!(photos.len(), 2);
    let url = photos[1]["url"].as_str().unwrap().to_string();
    let thumb = app.get(photos[1]["thumbnail"].as_str().unwrap()).await;
    assert_eq!(thumb.status, StatusCode::OK);
    assert_eq!(thumb.headers["content-type"], "image/jpeg");
    app.sign_in("grid2").await;
    assert_eq!(app.get(&url).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/c/{HS}/tickets/{id}")).await.status, StatusCode::NOT_FOUND);

    app.sign_in("resident").await;
    assert_eq!(app.get(&url).await.status, StatusCode::OK);
    let rated = app.rate_ticket(id, 5, "很及时，谢谢").await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.text());
    assert_eq!(rated.json()["status"], "closed");
    let history: Vec<String> = app.get(&format!("/api/v1/communities/{HS}/tickets/{id}")).await.json()["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(history, ["submit", "dispatch", "accept", "note", "start", "resolve", "rate"]);
}

#[tokio::test]
async fn the_resident_follows_the_request_in_plain_words_and_is_asked_to_rate_it_with_no_star_chosen() {
    let mut app = TestApp::demo().await;
    app.sign_in("resident").await;
    let h = resident_household(&app).await.to_string();
    let cat = app.ticket_category(HS, "11").await.to_string();
    let photo = linli::services::media::png_for_tests(640, 480);
    let fields =
        [("category_id", cat.as_str()), ("description", "5栋门口的井盖松了，踩上去会响"), ("household_id", &h)];
    let r = app.submit_ticket_form(&fields, &photo).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", visible_text(&r.text()));
    let id = id_from(&r.location());
    // Their list is theirs: in their words, the way to ask first, no office filters.
    let list = app.get(&format!("/c/{HS}/tickets")).await.text();
    assert!(visible_text(&list).contains("我的反映") && list.contains("btn-large"), "{list}");
    assert!(
        !list.contains("name=\"grid_id\"") && !list.contains("name=\"from\"") && !list.contains("value=\"dispatched\"")
    );
    // The resident sees their request and its photo, not the office's 五连问, grid or map.
    let html = app.ticket_page(id).await;
    let page = visible_text(&html);
    assert!(page.contains("现场照片") && page.contains("井盖松了"), "{page}");
    assert!(!page.contains("五连问") && !html.contains("class=\"map\""), "{page}");

    // The grid worker finds the action first, and is told by when it is due.
    app.sign_in("grid").await;
    let page = visible_text(&app.ticket_page(id).await);
    let (take, questions) = (page.find("接单").unwrap(), page.find("五连问").unwrap());
    assert!(take < questions, "the action comes before the 五连问: {page}");
    let taken = app.take_ticket_form(id).await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER);
    let due = linli::web::fmt::datetime(app.scalar("SELECT due_at FROM tickets WHERE id = $1", id).await);
    let page = visible_text(&app.get(&taken.location()).await.text());
    assert!(page.contains(&format!("已接单，请在 {due} 前办结")), "{page}");
    let done_photo = linli::services::media::png_for_tests(300, 300);
    assert_eq!(app.resolve_ticket_form(id, "已紧固井盖", &done_photo).await.status, StatusCode::SEE_OTHER);
    let page = visible_text(&app.ticket_page(id).await);
    assert!(page.contains("现场照片") && page.contains("办结照片"), "before and after: {page}");

    // The resident is asked to rate, with no star chosen for them; none chosen is refused.
    app.sign_in("resident").await;
    let html = app.ticket_page(id).await;
    assert!(visible_text(&html).contains("请为这次服务打分"), "{html}");
    assert_eq!(html.matches("name=\"rating\"").count(), 5);
    for n in 1..=5 {
        assert!(
            html.contains(&format!("name=\"rating\" value=\"{n}\" required>")),
            "star {n} is not chosen beforehand"
        );
    }
    let none = app.rate_ticket_form(id, "", "").await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.ticket_status(id).await, "resolved");
    let rated = app.rate_ticket_form(id, "4", "修得快").await;
    assert_eq!(rated.status, StatusCode::SEE_OTHER);
    let page = visible_text(&app.get(&rated.location()).await.text());
    assert!(page.contains("感谢您的评价") && page.contains("★★★★"), "{page}");
}

#[tokio::test]
async fn a_low_rating_reopens_until_the_communitys_limit() {
    let mut app = TestApp::demo().await;
    // The secretary sets the community's limit: one reopening (the default is two).
    app.sign_in("secretary").await;
    let bad = app.set_ticket_settings(json!({"ticket_reopen_limit": 50})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!bad.field_error("ticket_reopen_limit").is_empty());
    let set = app.set_ticket_settings(json!({"ticket_reopen_limit": 1})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    let edit = app.get(&format!("/communities/{}/edit", app.community_id(HS).await)).await.text();
    assert!(
        edit.contains("差评重开次数上限") && edit.contains("未评价自动办结天数"),
        "the settings are on the community's form"
    );
    app.sign_in("resident").await;
    let h = resident_household(&app).await;
    let cat = app.ticket_category(HS, "14").await;
    let id = app
        .submit_ticket_id(HS, json!({"category_id": cat, "description": "地下室积水蚊子多", "household_id": h}))
        .await;
    for round in 0..2 {
        app.sign_in("grid").await;
        if round == 0 {
            assert_eq!(app.take_ticket(id).await.status, StatusCode::OK);
        } else {
            // Reopened tickets go back to their owner.
            assert_eq!(app.take_ticket(id).await.status, StatusCode::UNPROCESSABLE_ENTITY);
            app.sign_in("staff").await;
            let grid = app.user_id("grid").await;
            assert_eq!(app.dispatch_ticket(id, grid).await.status, StatusCode::OK);
            app.sign_in("grid").await;
            assert_eq!(app.take_ticket(id).await.status, StatusCode::OK);
        }
        assert_eq!(app.resolve_ticket(id, "已消杀").await.status, StatusCode::OK);
        app.sign_in("resident").await;
        let r = app.rate_ticket(id, 1, "还是很多蚊子").await.json();
        let expected = if round < 1 { "reopened" } else { "closed" };
        assert_eq!(r["status"], expected, "round {round}: the limit is 1 reopening");
    }
}

#[tokio::test]
async fn of_two_members_taking_one_order_at_once_exactly_one_wins() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("secretary").await;
    let team = app.create_ticket_pool_team("接单测试队").await.json()["id"].as_i64().unwrap();
    let mut members = Vec::new();
    for name in ["vol1", "vol2"] {
        let r = app.create_ticket_handler_account(HS, name, name, "volunteer").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let uid = r.json()["id"].as_i64().unwrap();
        let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
        query("INSERT INTO team_members (community_id, team_id, user_id, leader, joined_at) VALUES ($1, $2, $3, FALSE, 0)").bind(c).bind(team).bind(uid).execute(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        members.push(uid);
    }
    let cat = app.ticket_category(HS, "13").await;
    let set = app.set_ticket_category(cat, json!({"handler_kind": "team", "handler_team_id": team})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    let bad = app.set_ticket_category(cat, json!({"handler_kind": "partner_unit", "handler_team_id": null})).await;
    assert_eq!(bad.field_error("handler_unit_id"), "必填", "{}", bad.text());
    let t = app.submit_ticket(HS, json!({"category_id": cat, "description": "帮独居老人代办医保", "address": "海盛花园1栋", "channel": "hotline", "submitter_name": "王阿姨", "caller_phone": "13712345678"})).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.text());
    let t = t.json();
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["pool_team_id"], team);
    assert_eq!(t["caller_phone"], "137****5678");
    let id = t["id"].as_i64().unwrap();

    let mut a = app.restart().await;
    a.cookie = None;
    a.sign_in_with("vol1", "secret123").await;
    let mut b = app.restart().await;
    b.sign_in_with("vol2", "secret123").await;
    let pool = a.get(&format!("/api/v1/communities/{HS}/tickets?view=pool")).await.json();
    assert!(pool["items"].as_array().unwrap().iter().any(|x| x["id"] == id));
    let (ra, rb) = tokio::join!(a.take_ticket(id), b.take_ticket(id));
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", ra.text(), rb.text());
    let loser = if ra.status == StatusCode::CONFLICT { &ra } else { &rb };
    assert_eq!(loser.json()["error"]["message"], "已被他人接单");
    let winner = if ra.status == StatusCode::OK { members[0] } else { members[1] };
    assert_eq!(app.get(&format!("/api/v1/communities/{HS}/tickets/{id}")).await.json()["owner_user_id"], winner);
}

#[tokio::test]
async fn a_whistle_brings_a_partner_unit_in() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let unit: i64 = app.scalar("SELECT MIN(id) FROM partner_units WHERE community_id = $1", c).await;
    app.sign_in("staff").await;
    let cat = app.ticket_category(HS, "15").await;
    let id = app.submit_ticket_id(HS, json!({"category_id": cat, "description": "老人突发疾病后需要上门复查", "address": "海盛花园2栋", "channel": "hotline", "submitter_name": "李先生"})).await;
    app.sign_in("unit").await;
    assert_eq!(
        app.get(&format!("/api/v1/communities/{HS}/tickets/{id}")).await.status,
        StatusCode::NOT_FOUND,
        "not theirs yet"
    );
    app.sign_in("staff").await;
    let w = app.whistle_on_ticket(id, unit, "请医院派医生上门").await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.text());
    app.sign_in("unit").await;
    let seen = app.get(&format!("/api/v1/communities/{HS}/tickets/{id}")).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.json()["allowed_actions"].as_array().unwrap().contains(&json!("respond")));
    let home = visible_text(&app.get("/").await.text());
    assert!(home.contains("吹哨待报到"));
    let r = app.respond_to_ticket(id, "已派全科医生上门复查").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.respond_to_ticket(id, "again").await.status, StatusCode::NOT_FOUND, "answered: no longer called in");
    app.sign_in("secretary").await;
    let stats = app.get(&format!("/api/v1/communities/{HS}/tickets/stats")).await.json();
    assert_eq!((stats["whistles"].as_i64(), stats["whistles_answered"].as_i64()), (Some(1), Some(1)));
    let whistles = app.get(&format!("/api/v1/communities/{HS}/tickets/{id}")).await.json()["whistles"].clone();
    assert_eq!(whistles[0]["response"], "已派全科医生上门复查");
}

#[tokio::test]
async fn staff_merge_a_duplicate_reject_with_a_reason_reassign_reopen_and_record_a_follow_up_visit() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let cat = app.ticket_category(HS, "14").await;
    // A hotline call, and the same matter phoned in again.
    let submit = |description: &'static str| json!({"category_id": cat, "description": description, "address": "海盛花园3栋", "channel": "hotline", "submitter_name": "王阿姨", "caller_phone": "13911112222"});
    let first = app.submit_ticket_id(HS, submit("3栋楼道灯坏了")).await;
    let again = app.submit_ticket_id(HS, submit("3栋楼道灯还是不亮")).await;
    let spam = app.submit_ticket_id(HS, submit("测试")).await;

    // Raw action body: a duplicate without the ticket it repeats.
    let no_target = app.ticket_action(again, json!({"action": "duplicate", "note": "同一件事"})).await;
    assert_eq!(no_target.status, StatusCode::UNPROCESSABLE_ENTITY, "a duplicate names the ticket it repeats");
    let merged = app.mark_ticket_duplicate(again, first, "同一件事").await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text());
    assert_eq!(
        (merged.json()["status"].as_str(), merged.json()["duplicate_of"].as_i64()),
        (Some("duplicate"), Some(first))
    );
    let no_reason = app.ticket_action(spam, json!({"action": "reject"})).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY, "a rejection gives its reason");
    assert_eq!(app.reject_ticket(spam, "测试来电").await.json()["status"], "rejected");

    // Dispatched to the grid worker, then reassigned by staff to the second grid's worker.
    let grid = app.user_id("grid").await;
    assert_eq!(app.dispatch_ticket(first, grid).await.status, StatusCode::OK);
    let staff = app.user_id("staff").await;
    let moved = app.reassign_ticket(first, staff, "由社工跟进").await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    assert_eq!(moved.json()["owner_user_id"].as_i64(), Some(staff));
    app.sign_in("grid").await;
    assert_eq!(app.take_ticket(first).await.status, StatusCode::NOT_FOUND, "no longer theirs to see");
    app.sign_in("staff").await;
    assert_eq!(app.take_ticket(first).await.status, StatusCode::OK, "the new owner takes it");
    assert_eq!(app.resolve_ticket(first, "已换灯").await.status, StatusCode::OK);

    // A phoned-in ticket gets a follow-up call 回访; an unhappy caller has it reopened.
    let visit = app.follow_up_ticket(first, false, "王阿姨说晚上还是暗").await;
    assert_eq!(visit.status, StatusCode::OK, "{}", visit.text());
    let reopened = app.reopen_ticket(first, "回访不满意，重新处理").await;
    assert_eq!(reopened.json()["status"], "reopened");
    let t = app.get(&format!("/api/v1/communities/{HS}/tickets/{first}")).await.json();
    let actions: Vec<&str> = t["history"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for a in ["dispatch", "reassign", "resolve", "follow_up", "reopen"] {
        assert!(actions.contains(&a), "{a} is in the history: {actions:?}");
    }
    let page = crate::helpers::visible_text(&app.get(&format!("/c/{HS}/tickets/{first}")).await.text());
    assert!(page.contains("王阿姨说晚上还是暗"), "the follow-up shows on the ticket: {page}");
}

/// The ids of the tickets in the desktop table of a list page, in order.
fn table_ids(html: &str) -> Vec<i64> {
    let table =
        html.split("ticket-table").nth(1).unwrap().split("<tbody>").nth(1).unwrap().split("</table>").next().unwrap();
    table.split("\">#").skip(1).map(|s| s.split('<').next().unwrap().parse().unwrap()).collect()
}

#[tokio::test]
async fn staff_on_a_desktop_sort_the_list_by_deadline_grid_and_owner() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let c = app.community_id(HS).await;
    let page = app.get(&format!("/c/{HS}/tickets?view=all")).await.text();
    let head = visible_text(page.split("ticket-table").nth(1).unwrap().split("</thead>").next().unwrap());
    assert!(head.contains("网格") && head.contains("承办人") && head.contains("时限"), "{head}");
    assert!(page.contains("aria-sort=\"descending\""), "newest first unless asked");

    let by_due = table_ids(&app.get(&format!("/c/{HS}/tickets?view=all&sort=due")).await.text());
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let expected: Vec<i64> = query("SELECT id FROM tickets WHERE community_id = $1 ORDER BY due_at, id LIMIT 20")
        .bind(c)
        .scalars(&mut conn)
        .await
        .unwrap();
    assert_eq!(by_due, expected);
    let by_owner = table_ids(&app.get(&format!("/c/{HS}/tickets?view=all&sort=owner")).await.text());
    let owners: Vec<Option<i64>> = {
        let mut out = Vec::new();
        for id in &by_owner {
            let o: Option<i64> =
                query("SELECT owner_user_id FROM tickets WHERE id = $1").bind(*id).scalar(&mut conn).await.unwrap();
            out.push(o);
        }
        out
    };
    let key = |o: &Option<i64>| (o.is_none(), o.unwrap_or(0));
    assert!(owners.windows(2).all(|w| key(&w[0]) <= key(&w[1])), "{owners:?}");
    let bad = app.get(&format!("/c/{HS}/tickets?view=all&sort=price")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// The subdistrict's list of every community's tickets names each ticket's community, and
/// one community can be picked out of it.
#[tokio::test]
async fn the_subdistrict_picks_one_community_out_of_its_ticket_list() {
    let mut app = TestApp::demo().await;
    app.sign_in("street").await;
    let sub =
        app.scalar("SELECT subdistrict_id FROM communities WHERE id = $1", app.community_id(LIANJIANG).await).await;
    let all = app.get(&format!("/subdistricts/{sub}/tickets")).await.text();
    let head = visible_text(all.split("ticket-table").nth(1).unwrap().split("</thead>").next().unwrap());
    assert!(head.contains("社区"), "{head}");
    assert!(all.contains(&format!(r#"<option value="{LIANJIANG}">"#)), "a community filter");
    let picked = app.get(&format!("/subdistricts/{sub}/tickets?community={LIANJIANG}")).await.text();
    assert!(picked.contains(&format!(r#"<option value="{LIANJIANG}" selected>"#)));
    let ids = table_ids(&picked);
    assert!(!ids.is_empty());
    let c = app.community_id(LIANJIANG).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    for id in ids {
        let n: i64 = query("SELECT COUNT(*) FROM tickets WHERE community_id = $1 AND id = $2")
            .bind(c)
            .bind(id)
            .scalar(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 1, "ticket {id} is {LIANJIANG}'s");
    }
}

/// Staff at a desk pick lines of the table and send them to one grid worker at once; a
/// ticket that can no longer be dispatched is left as it is and counted apart.
#[tokio::test]
async fn staff_dispatch_the_picked_tickets_to_one_person() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let c = app.community_id(HS).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let waiting: Vec<i64> =
        query("SELECT id FROM tickets WHERE community_id = $1 AND status IN ('submitted', 'dispatched', 'reopened') ORDER BY id LIMIT 3")
            .bind(c)
            .scalars(&mut conn)
            .await
            .unwrap();
    let closed: i64 = query("SELECT MIN(id) FROM tickets WHERE community_id = $1 AND status = 'closed'")
        .bind(c)
        .scalar(&mut conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(waiting.len(), 3, "the demo has tickets waiting for dispatch");
    let page = app.get(&format!("/c/{HS}/tickets?view=all")).await.text();
    assert!(page.contains("派给所选") && page.contains(r#"name="ids""#), "picking on the desktop table");
    let grid = app.user_id("grid").await.to_string();

    let none = app.post_form(&format!("/c/{HS}/tickets/dispatch"), &[("owner_user_id", grid.as_str())]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&none.text()).contains("请先勾选要派出的工单"));

    let mut fields: Vec<(&str, String)> = waiting.iter().map(|id| ("ids", id.to_string())).collect();
    fields.push(("ids", closed.to_string()));
    fields.push(("owner_user_id", grid.clone()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sent = app.post_form(&format!("/c/{HS}/tickets/dispatch"), &pairs).await;
    assert_eq!(sent.location(), format!("/c/{HS}/tickets?view=all&n=3&ok=dispatched_some"));
    assert!(visible_text(&app.get(&sent.location()).await.text()).contains("已派出 3 件"));
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    for id in waiting {
        let (status, owner): (String, Option<i64>) =
            query("SELECT status, owner_user_id FROM tickets WHERE community_id = $1 AND id = $2")
                .bind(c)
                .bind(id)
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!((status.as_str(), owner), ("dispatched", Some(app.user_id("grid").await)));
    }
    drop(conn);
    app.sign_in("grid").await;
    let refused = app.post_form(&format!("/c/{HS}/tickets/dispatch"), &[("ids", "1"), ("owner_user_id", "1")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "the desk's, not the grid worker's");
}
