//! Service records and rules: a volunteer serves and staff approve, points name their
//! cause and the rule version in force, caps hold, activities pay a fixed amount, and a
//! volunteer who resolves a ticket has served.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::{Value, json};

use super::{HOUR, HS, balance, local, pending_of, reward_stock, slot, sound, volunteer_of};
use crate::helpers::{TestApp, visible_text};

#[tokio::test]
async fn a_volunteer_serves_staff_approve_and_the_points_name_their_cause() {
    let mut app = TestApp::demo().await;
    app.sign_in("volunteer").await;
    let me = app.user_id("volunteer").await;
    let page = app.get(&format!("/c/{HS}/volunteer")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(visible_text(&page.text()).contains("记录志愿服务"));
    let before = balance(&app, me).await;
    let (start, end) = (slot(40, 9), slot(40, 11));
    let photo = linli::services::media::png_for_tests(40, 30);
    let sent = app
        .record_service_form(
            &[
                ("service_type", "care"),
                ("content", "陪王奶奶去医院复查"),
                ("place", "久和医院"),
                ("started_at", &local(start)),
                ("ended_at", &local(end)),
            ],
            &[&photo],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    assert!(sent.location().contains("ok=record_sent"));
    let record = *pending_of(&app, me).await.last().unwrap();

    // Refused, by name, and nothing saved: longer than the span, overlapping, in the future.
    let long = app
        .record_service_form(
            &[
                ("service_type", "care"),
                ("content", "x"),
                ("started_at", &local(slot(41, 9))),
                ("ended_at", &local(slot(41, 10))),
                ("minutes", "90"),
            ],
            &[],
        )
        .await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&long.text()).contains("服务时长不能超过开始到结束的时间"));
    let overlap = app
        .record_service_form(
            &[
                ("service_type", "care"),
                ("content", "x"),
                ("started_at", &local(start + HOUR)),
                ("ended_at", &local(end + HOUR)),
            ],
            &[],
        )
        .await;
    assert_eq!(overlap.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&overlap.text()).contains(&format!("（#{record}）时间重叠")));
    assert_eq!(pending_of(&app, me).await.last(), Some(&record), "nothing more was saved");

    // Staff see it waiting, with its photo, and approve it.
    app.sign_in("staff").await;
    let queue = visible_text(&app.get(&format!("/c/{HS}/service-records")).await.text());
    assert!(queue.contains("陪王奶奶去医院复查"), "{queue}");
    let shown = app.get(&format!("/c/{HS}/service-records/{record}")).await.text();
    assert!(shown.contains("/media/") && shown.contains("久和医院"));
    let no_reason = app.reject_service_record_form(record, None).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY, "a refusal needs its reason");
    let ok = app.approve_service_record_form(record).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let again = app.approve_service_record_api(record).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "decided once");

    // Two hours of care at 10 an hour (the rule's version in force then), traceable.
    assert_eq!(balance(&app, me).await, before + 20);
    app.sign_in("volunteer").await;
    let st = app.get(&format!("/api/v1/communities/{HS}/points/statement")).await.json();
    let line = st["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["cause_id"] == record)
        .expect("a movement for the record")
        .clone();
    assert_eq!((line["cause"].as_str(), line["amount"].as_i64()), (Some("service"), Some(20)));
    let c = app.community_id(HS).await;
    let (code, version): (String, i64) =
        query("SELECT code, version FROM points_rules WHERE community_id = $1 AND id = $2")
            .bind(c)
            .bind(line["rule_id"].as_i64().unwrap())
            .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    assert_eq!((code.as_str(), version), ("care", 2));
    assert!(visible_text(&app.get(&format!("/c/{HS}/volunteer")).await.text()).contains("已通过"));

    // Staff who volunteer may not approve their own service.
    app.sign_in("staff").await;
    let reg = app.register_volunteer_api(json!({"name": "吴社工", "skills": ["法律咨询"]})).await;
    assert_eq!(reg.status, StatusCode::CREATED, "{}", reg.text());
    let served = json!({"service_type": "mediation", "content": "调解漏水纠纷", "started_at": local(slot(3, 14)), "ended_at": local(slot(3, 15))});
    let own = app.record_service_api(served).await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text());
    let id = own.json()["id"].as_i64().unwrap();
    let mine = app.approve_service_record_api(id).await;
    assert_eq!(mine.status, StatusCode::CONFLICT);
    assert!(mine.json()["error"]["message"].as_str().unwrap().contains("不能审核自己的服务记录"));
    sound(&app).await;
}

#[tokio::test]
async fn rules_are_versioned_and_capped_and_never_rewrite_the_past() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let v = app.user_id("volunteer").await;
    let vol_id = volunteer_of(&app, v).await;
    // Care is raised again: 20 an hour from now on. The version before ends where it starts.
    let rule = json!({"code": "care", "name": "关爱帮扶（每小时）", "kind": "per_hour", "service_type": "care", "points": 20, "daily_cap": 40});
    let r = app.create_points_rule(rule).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["version"], 3);
    let rules = app.get(&format!("/api/v1/communities/{HS}/points/rules")).await.json();
    let care: Vec<&Value> = rules["items"].as_array().unwrap().iter().filter(|r| r["code"] == "care").collect();
    assert_eq!(care.len(), 3);
    assert!(care[1]["effective_to"].is_string() && care[2]["in_force"] == true && care[1]["in_force"] == false);
    let kind_change = app.create_points_rule(json!({"code": "care", "name": "x", "kind": "bonus", "points": 5})).await;
    assert_eq!(kind_change.status, StatusCode::UNPROCESSABLE_ENTITY);
    let zero = app.create_points_rule(json!({"name": "x", "kind": "bonus", "points": 0})).await;
    assert!(zero.field_error("points").contains("大于零"));

    // Service served before the change is paid by the version in force then (10 an hour),
    // and the day's cap of 40 holds across two records.
    let record = |start: i64, end: i64| json!({"volunteer_id": vol_id, "service_type": "care", "content": "入户探访", "started_at": local(start), "ended_at": local(end)});
    let a = app.record_service_api(record(slot(50, 8), slot(50, 11))).await.json()["id"].as_i64().unwrap();
    let b = app.record_service_api(record(slot(50, 13), slot(50, 15))).await.json()["id"].as_i64().unwrap();
    for id in [a, b] {
        let d = app.approve_service_record_api(id).await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    }
    let points = |id: i64| app.scalar("SELECT points FROM service_records WHERE id = $1", id);
    assert_eq!(points(a).await, 30, "3 hours at the old 10 an hour");
    assert_eq!(points(b).await, 10, "2 more hours, but only 10 left under the day's cap of 40");
    sound(&app).await;
}

#[tokio::test]
async fn staff_approve_the_records_they_pick_in_one_go_and_are_told_of_any_left() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let v = app.user_id("volunteer").await;
    let vol_id = volunteer_of(&app, v).await;
    let record = |day: i64| json!({"volunteer_id": vol_id, "service_type": "care", "content": format!("第{day}次入户探访"), "started_at": local(slot(day, 9)), "ended_at": local(slot(day, 10))});
    let mut ids = Vec::new();
    for day in [41, 42, 43] {
        ids.push(app.record_service_api(record(day)).await.json()["id"].as_i64().unwrap());
    }
    let queue = app.get(&format!("/c/{HS}/service-records")).await.text();
    assert!(queue.contains(&format!("name=\"ids\" value=\"{}\"", ids[0])) && queue.contains("通过所选"), "{queue}");

    let none = app.approve_picked_records(&[]).await;
    assert_eq!(none.status, StatusCode::CONFLICT);
    assert!(visible_text(&none.text()).contains("请先勾选要通过的服务记录"));
    let picked = app.approve_picked_records(&ids[..2]).await;
    assert_eq!(picked.status, StatusCode::SEE_OTHER, "{}", picked.text());
    let page = visible_text(&app.get(&picked.location()).await.text());
    assert!(page.contains("已通过 2 条服务记录"), "{page}");
    let status = |id: i64| app.scalar("SELECT COUNT(*) FROM service_records WHERE id = $1 AND status = 'approved'", id);
    assert_eq!((status(ids[0]).await, status(ids[1]).await, status(ids[2]).await), (1, 1, 0));

    // Picked again with the third: the two already approved are left, and counted apart.
    let again = app.approve_picked_records(&ids).await;
    let page = visible_text(&app.get(&again.location()).await.text());
    assert!(page.contains("已通过 1 条服务记录；其余的已被他人处理"), "{page}");
    assert_eq!(status(ids[2]).await, 1);
    let bad = app.post_form(&format!("/c/{HS}/service-records/approve"), &[("ids", "x")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    sound(&app).await;
}

#[tokio::test]
async fn activities_pay_a_fixed_amount_rejections_say_why_and_no_one_spends_what_they_lack() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let v = app.user_id("volunteer").await;
    let vol_id = volunteer_of(&app, v).await;
    // Each activity pays 20 under the demo's rule, however long it lasts.
    let mut paid = Vec::new();
    for (i, hours) in [(1, 1), (2, 4), (3, 2)] {
        let event = json!({"volunteer_id": vol_id, "service_type": "event", "content": format!("便民集市第{i}场"), "started_at": local(slot(60 - i, 9)), "ended_at": local(slot(60 - i, 9 + hours))});
        let rec = app.record_service_api(event).await;
        assert_eq!(rec.status, StatusCode::CREATED, "{}", rec.text());
        let id = rec.json()["id"].as_i64().unwrap();
        let d = app.approve_service_record_api(id).await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text());
        paid.push(d.json()["points"].as_i64().unwrap());
    }
    assert_eq!(paid, [20, 20, 20], "20 an activity, whether it took one hour or four");

    // A rejection gives its reason, and the volunteer sees it.
    let visit = json!({"volunteer_id": vol_id, "service_type": "care", "content": "重复登记的探访", "started_at": local(slot(40, 8)), "ended_at": local(slot(40, 9))});
    let rec = app.record_service_api(visit).await.json();
    let id = rec["id"].as_i64().unwrap();
    let r = app.reject_service_record_api(id, "与 3 月 2 日记录重复").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    app.sign_in("volunteer").await;
    let mine = visible_text(&app.get(&format!("/c/{HS}/service-records/{id}")).await.text());
    assert!(mine.contains("未通过") && mine.contains("与 3 月 2 日记录重复"), "{mine}");

    // A reward dearer than the balance is refused, and nothing is held.
    let c = app.community_id(HS).await;
    let balance_now = balance(&app, v).await;
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    let reward = tx.next_id().await.unwrap();
    query("INSERT INTO rewards (community_id, id, name, kind, price, stock, hold_days, created_at, updated_at) VALUES ($1, $2, '电动自行车', 'goods', $3, 1, 7, $4, $4)")
        .bind(c)
        .bind(reward)
        .bind(balance_now + 1)
        .bind(linli::db::now_ms())
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r = app.redeem_reward_api(reward).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("积分余额不足"));
    assert_eq!(balance(&app, v).await, balance_now);
    assert_eq!(reward_stock(&app, reward).await, 1);
    sound(&app).await;
}

#[tokio::test]
async fn a_volunteer_who_resolves_a_ticket_has_served() {
    let mut app = TestApp::demo().await;
    // A resident asks for 帮办代办, which goes to the 红心微聚 pool.
    app.sign_in("resident").await;
    let c = app.community_id(HS).await;
    let category = app.ticket_category(HS, "13").await;
    let t = app
        .submit_ticket(HS, json!({"category_id": category, "description": "帮我代办老年证", "address": "海盛花园"}))
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.text());
    let ticket = t.json()["id"].as_i64().unwrap();
    app.sign_in("volunteer").await;
    let accepted = app.take_ticket(ticket).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text());
    // Taken an hour ago.
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("UPDATE tickets SET accepted_at = accepted_at - 3600000 WHERE id = $1")
        .bind(ticket)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r = app.resolve_ticket(ticket, "已帮老人办好老年证").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rec: (String, String, i64) =
        query("SELECT source, status, minutes FROM service_records WHERE community_id = $1 AND source_id = $2")
            .bind(c)
            .bind(ticket)
            .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    assert_eq!((rec.0.as_str(), rec.1.as_str()), ("ticket", "pending"));
    assert!((59..=61).contains(&rec.2), "{}", rec.2);
}
