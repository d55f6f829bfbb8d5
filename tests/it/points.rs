//! Volunteer service and the points economy 红心微聚: a volunteer serves and staff
//! approve, points name their cause, rules are versioned and capped, the ledger stays
//! exact through retries, corrections and races, the shop hands rewards over, the honor
//! roll and certificates are public.

use linli::db::citus::Span;
use std::sync::Arc;

use axum::http::{Request, StatusCode, header};
use linli::db::query;
use linli::web::fmt;
use serde_json::{Value, json};

use crate::helpers::{TestApp, visible_text};

const HS: &str = "440804003001";

async fn user_id(app: &TestApp, username: &str) -> i64 {
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    query("SELECT id FROM users WHERE username = $1").bind(username).scalar(&mut conn).await.unwrap()
}

async fn balance(app: &TestApp, user: i64) -> i64 {
    let c = app.community_id(HS).await;
    linli::capabilities::points::ledger::balance(&mut app.state.db.span(Span::Maintenance).await.unwrap(), c, user)
        .await
        .unwrap()
}

async fn sound(app: &TestApp) {
    let r = linli::capabilities::points::ledger::verify(&app.state.db, None).await.unwrap();
    assert!(r.is_sound(), "the ledger has breaks: {:?}", r.problems);
    assert!(r.movements > 0);
}

fn local(ms: i64) -> String {
    fmt::local_input(ms)
}

const HOUR: i64 = 3_600_000;

/// A whole hour some days ago, so that tests' services never touch the demo's.
fn slot(days_ago: i64, hour: i64) -> i64 {
    let midnight = linli::time::day_start_ms(fmt::today()) - days_ago * 24 * HOUR;
    midnight + hour * HOUR
}

async fn pending_of(app: &TestApp, user: i64) -> Vec<i64> {
    let c = app.community_id(HS).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    query("SELECT id FROM service_records WHERE community_id = $1 AND user_id = $2 AND status = 'pending' ORDER BY id")
        .bind(c)
        .bind(user)
        .scalars(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_volunteer_serves_staff_approve_and_the_points_name_their_cause() {
    let mut app = TestApp::demo().await;
    app.sign_in("volunteer").await;
    let me = user_id(&app, "volunteer").await;
    let page = app.get(&format!("/c/{HS}/volunteer")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(visible_text(&page.text()).contains("记录志愿服务"));
    let before = balance(&app, me).await;
    let (start, end) = (slot(40, 9), slot(40, 11));
    let photo = linli::services::media::png_for_tests(40, 30);
    let sent = app
        .post_multipart(
            &format!("/c/{HS}/service-records"),
            &[
                ("service_type", "care"),
                ("content", "陪王奶奶去医院复查"),
                ("place", "久和医院"),
                ("started_at", &local(start)),
                ("ended_at", &local(end)),
            ],
            &[("photos", &photo)],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    assert!(sent.location().contains("ok=record_sent"));
    let record = *pending_of(&app, me).await.last().unwrap();

    // Refused, by name, and nothing saved: longer than the span, overlapping, in the future.
    let long = app
        .post_multipart(
            &format!("/c/{HS}/service-records"),
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
        .post_multipart(
            &format!("/c/{HS}/service-records"),
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
    let no_reason =
        app.post_form(&format!("/c/{HS}/service-records/{record}/decide?reject=1"), &[("decision", "reject")]).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY, "a refusal needs its reason");
    let ok = app.post_form(&format!("/c/{HS}/service-records/{record}/decide"), &[("decision", "approve")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let again = app
        .post_json(&format!("/api/v1/communities/{HS}/service-records/{record}/decision"), json!({"approve": true}))
        .await;
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
    let reg = app
        .post_json(
            &format!("/api/v1/communities/{HS}/volunteers/me"),
            json!({"name": "吴社工", "skills": ["法律咨询"]}),
        )
        .await;
    assert_eq!(reg.status, StatusCode::CREATED, "{}", reg.text());
    let own = app
        .post_json(
            &format!("/api/v1/communities/{HS}/service-records"),
            json!({"service_type": "mediation", "content": "调解漏水纠纷", "started_at": local(slot(3, 14)), "ended_at": local(slot(3, 15))}),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text());
    let id = own.json()["id"].as_i64().unwrap();
    let mine = app
        .post_json(&format!("/api/v1/communities/{HS}/service-records/{id}/decision"), json!({"approve": true}))
        .await;
    assert_eq!(mine.status, StatusCode::CONFLICT);
    assert!(mine.json()["error"]["message"].as_str().unwrap().contains("不能审核自己的服务记录"));
    sound(&app).await;
}

#[tokio::test]
async fn rules_are_versioned_and_capped_and_never_rewrite_the_past() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let v = user_id(&app, "volunteer").await;
    let vol_id = app.scalar("SELECT id FROM volunteers WHERE user_id = $1", v).await;
    // Care is raised again: 20 an hour from now on. The version before ends where it starts.
    let r = app
        .post_json(&format!("/api/v1/communities/{HS}/points/rules"), json!({"code": "care", "name": "关爱帮扶（每小时）", "kind": "per_hour", "service_type": "care", "points": 20, "daily_cap": 40}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["version"], 3);
    let rules = app.get(&format!("/api/v1/communities/{HS}/points/rules")).await.json();
    let care: Vec<&Value> = rules["items"].as_array().unwrap().iter().filter(|r| r["code"] == "care").collect();
    assert_eq!(care.len(), 3);
    assert!(care[1]["effective_to"].is_string() && care[2]["in_force"] == true && care[1]["in_force"] == false);
    let kind_change = app
        .post_json(
            &format!("/api/v1/communities/{HS}/points/rules"),
            json!({"code": "care", "name": "x", "kind": "bonus", "points": 5}),
        )
        .await;
    assert_eq!(kind_change.status, StatusCode::UNPROCESSABLE_ENTITY);
    let zero = app
        .post_json(
            &format!("/api/v1/communities/{HS}/points/rules"),
            json!({"name": "x", "kind": "bonus", "points": 0}),
        )
        .await;
    assert!(zero.field_error("points").contains("大于零"));

    // Service served before the change is paid by the version in force then (10 an hour),
    // and the day's cap of 40 holds across two records.
    let record = |start: i64, end: i64| json!({"volunteer_id": vol_id, "service_type": "care", "content": "入户探访", "started_at": local(start), "ended_at": local(end)});
    let a = app
        .post_json(&format!("/api/v1/communities/{HS}/service-records"), record(slot(50, 8), slot(50, 11)))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let b = app
        .post_json(&format!("/api/v1/communities/{HS}/service-records"), record(slot(50, 13), slot(50, 15)))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    for id in [a, b] {
        let d = app
            .post_json(&format!("/api/v1/communities/{HS}/service-records/{id}/decision"), json!({"approve": true}))
            .await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    }
    let points = |id: i64| app.scalar("SELECT points FROM service_records WHERE id = $1", id);
    assert_eq!(points(a).await, 30, "3 hours at the old 10 an hour");
    assert_eq!(points(b).await, 10, "2 more hours, but only 10 left under the day's cap of 40");
    sound(&app).await;
}

#[tokio::test]
async fn hand_given_points_retries_corrections_and_the_check_keep_the_ledger_exact() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let v = user_id(&app, "volunteer").await;
    let start = balance(&app, v).await;
    let give = |key: &'static str, body: Value| {
        let mut req = Request::post(format!("/api/v1/communities/{HS}/points/movements"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap();
        if !key.is_empty() {
            req.headers_mut().insert("idempotency-key", key.parse().unwrap());
        }
        req
    };
    let first = app.send(give("k-1", json!({"user_id": v, "amount": 15, "reason": "春节慰问活动帮忙"}))).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let retry = app.send(give("k-1", json!({"user_id": v, "amount": 15, "reason": "春节慰问活动帮忙"}))).await;
    assert_eq!(first.json()["id"], retry.json()["id"], "a retry posts once");
    assert_eq!(balance(&app, v).await, start + 15);
    let reused = app.send(give("k-1", json!({"user_id": v, "amount": 16, "reason": "另一笔"}))).await;
    assert_eq!(reused.status, StatusCode::CONFLICT);
    assert_eq!(
        app.send(give("", json!({"user_id": v, "amount": 5, "reason": "x"}))).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let zero = app.send(give("k-2", json!({"user_id": v, "amount": 0, "reason": "x"}))).await;
    assert!(zero.field_error("amount").contains("大于零"));
    let no_reason = app.send(give("k-3", json!({"user_id": v, "amount": 5, "reason": " "}))).await;
    assert!(!no_reason.field_error("reason").is_empty());
    let too_much = app.send(give("k-4", json!({"user_id": v, "amount": -(start + 10_000), "reason": "扣减"}))).await;
    assert_eq!(too_much.status, StatusCode::CONFLICT, "a balance never goes below zero");
    assert!(too_much.json()["error"]["message"].as_str().unwrap().contains("积分余额不足"));
    assert_eq!(balance(&app, v).await, start + 15);

    // A deduction under a rule, then a correction by reversal; a reversal is posted once.
    let rule = app
        .post_json(
            &format!("/api/v1/communities/{HS}/points/rules"),
            json!({"name": "乱扔垃圾扣分", "kind": "deduction", "points": 5}),
        )
        .await
        .json();
    let d = app.send(give("k-5", json!({"user_id": v, "rule_id": rule["id"], "reason": "楼道乱堆杂物"}))).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text());
    assert_eq!(balance(&app, v).await, start + 10);
    let id = d.json()["id"].as_i64().unwrap();
    let rev = app
        .post_json(&format!("/api/v1/communities/{HS}/points/movements/{id}/reversal"), json!({"reason": "核实后撤销"}))
        .await;
    assert_eq!(rev.status, StatusCode::CREATED, "{}", rev.text());
    assert_eq!(rev.json()["reverses"], id);
    let twice = app
        .post_json(&format!("/api/v1/communities/{HS}/points/movements/{id}/reversal"), json!({"reason": "again"}))
        .await;
    assert_eq!(twice.json()["id"], rev.json()["id"]);
    assert_eq!(balance(&app, v).await, start + 15);
    sound(&app).await;

    // Nothing is edited or deleted; a balance that drifts from its movements is found.
    let c = app.community_id(HS).await;
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    let edit = query("UPDATE ledger_movements SET amount = 1 WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(id)
        .execute(&mut tx)
        .await;
    assert!(edit.is_err(), "movements are append-only");
    drop(tx);
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("UPDATE ledger_accounts SET balance = balance + 7 WHERE community_id = $1 AND kind = 'person' AND owner_id = $2")
        .bind(c)
        .bind(v)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let report = linli::capabilities::points::ledger::verify(&app.state.db, Some(c)).await.unwrap();
    assert!(!report.is_sound());
    assert!(report.problems.iter().any(|p| p.contains("stored balance")), "{:?}", report.problems);
    // The command says so and fails.
    let out = app.cli(&["ledger", "verify", "--community", HS]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("BREAK"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test]
async fn teams_and_partner_units_hold_points_of_their_own() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("staff").await;
    let team = app.scalar("SELECT id FROM teams WHERE community_id = $1 AND name = '红心微聚志愿服务队'", c).await;
    let unit = app.scalar("SELECT MIN(id) FROM partner_units WHERE community_id = $1", c).await;
    let give = |key: &str, body: Value| {
        Request::post(format!("/api/v1/communities/{HS}/points/movements"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", key)
            .body(axum::body::Body::from(body.to_string()))
            .unwrap()
    };
    let held = |app: &TestApp, kind: &'static str, owner: i64| {
        let db = app.state.db.clone();
        async move {
            let mut conn = db.read().await.unwrap();
            query("SELECT balance FROM ledger_accounts WHERE community_id = $1 AND kind = $2 AND owner_id = $3")
                .bind(c)
                .bind(kind)
                .bind(owner)
                .scalar::<i64>(&mut conn)
                .await
                .unwrap()
        }
    };
    assert_eq!(held(&app, "team", team).await, 500, "the demo's commendation");
    let r = app.send(give("t-1", json!({"team_id": team, "amount": 120, "reason": "重阳节活动"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app.send(give("u-1", json!({"partner_unit_id": unit, "amount": 80, "reason": "共建活动"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!((held(&app, "team", team).await, held(&app, "unit", unit).await), (620, 80));
    let over = app.send(give("t-2", json!({"team_id": team, "amount": -1000, "reason": "扣减"}))).await;
    assert_eq!(over.status, StatusCode::CONFLICT, "a team's balance never goes below zero either");
    let both = app.send(give("t-3", json!({"team_id": team, "user_id": 1, "amount": 5, "reason": "x"}))).await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY, "one holder at a time");
    let elsewhere = app.send(give("t-4", json!({"team_id": 999_999, "amount": 5, "reason": "x"}))).await;
    assert!(!elsewhere.field_error("team_id").is_empty());
    // By the ledger page's form, too; the page lists what each holds.
    let key = "page-team-1";
    let r = app
        .post_form(
            &format!("/c/{HS}/points/give"),
            &[("holder", &format!("team:{team}")), ("amount", "30"), ("reason", "队伍例会"), ("key", key)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(held(&app, "team", team).await, 650);
    let page = visible_text(&app.get(&format!("/c/{HS}/points")).await.text());
    assert!(page.contains("队伍和共建单位的积分") && page.contains("650 积分"), "{page}");
    sound(&app).await;
}

#[tokio::test]
async fn a_volunteer_redeems_and_the_merchant_hands_it_over() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let c = app.community_id(HS).await;
    let unit = app.scalar("SELECT id FROM partner_units WHERE community_id = $1 AND name = '久和医院'", c).await;
    let made = app
        .post_json(
            &format!("/api/v1/communities/{HS}/rewards"),
            json!({"name": "免费体检一次", "kind": "service", "provider_unit_id": unit, "price": 40, "stock": 3, "per_person_limit": 1, "hold_days": 7}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let reward = made.json()["id"].as_i64().unwrap();
    let v = user_id(&app, "volunteer").await;
    let before = balance(&app, v).await;
    assert!(before >= 40, "the demo volunteer has points: {before}");

    app.sign_in("volunteer").await;
    let shop = visible_text(&app.get(&format!("/c/{HS}/shop")).await.text());
    assert!(shop.contains("免费体检一次") && shop.contains("久和医院"));
    let r = app.post_form(&format!("/c/{HS}/shop/{reward}/redeem"), &[("key", "one-tap")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = app.get(&r.location()).await.text();
    assert!(page.contains("<svg") && visible_text(&page).contains("待领取"), "a code and its QR");
    let mine = app.get(&format!("/api/v1/communities/{HS}/redemptions")).await.json();
    let held = mine["items"].as_array().unwrap().iter().find(|d| d["reward_id"] == reward).unwrap().clone();
    let code = held["code"].as_str().unwrap().to_string();
    assert_eq!(balance(&app, v).await, before - 40);
    let limit = app.post_form(&format!("/c/{HS}/shop/{reward}/redeem"), &[("key", "second")]).await;
    assert_eq!(limit.status, StatusCode::CONFLICT);
    assert!(visible_text(&limit.text()).contains("已达到每人限兑数量"));

    // The hospital's contact hands it over against the code: once, and only the right code.
    app.sign_in("unit").await;
    let desk = visible_text(&app.get(&format!("/c/{HS}/handover")).await.text());
    assert!(desk.contains("免费体检一次"));
    let wrong = app.post_form(&format!("/c/{HS}/handover"), &[("code", "00000000")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&wrong.text()).contains("兑换码不正确"));
    let done = app.post_form(&format!("/c/{HS}/handover"), &[("code", &code)]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(visible_text(&done.text()).contains("核销成功"));
    let twice = app.post_form(&format!("/c/{HS}/handover"), &[("code", &code)]).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(visible_text(&twice.text()).contains("已核销"));
    let provider: i64 =
        query("SELECT balance FROM ledger_accounts WHERE community_id = $1 AND kind = 'provider' AND owner_id = $2")
            .bind(c)
            .bind(unit)
            .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    assert_eq!(provider, 40, "the held points went to the provider");

    // Cancelled, and expired: the points and the unit come back.
    app.sign_in("volunteer").await;
    let meal = app.scalar("SELECT id FROM rewards WHERE community_id = $1 AND name = '社区食堂餐券'", c).await;
    let stock = || app.scalar("SELECT stock FROM rewards WHERE id = $1", meal);
    let (b0, s0) = (balance(&app, v).await, stock().await);
    let d = app.post_json(&format!("/api/v1/communities/{HS}/shop/{meal}/redemptions"), json!({})).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text());
    assert_eq!((balance(&app, v).await, stock().await), (b0 - 20, s0 - 1));
    let id = d.json()["id"].as_i64().unwrap();
    assert_eq!(
        app.post_json(&format!("/api/v1/communities/{HS}/redemptions/{id}/cancel"), json!({})).await.json()["status"],
        "cancelled"
    );
    assert_eq!((balance(&app, v).await, stock().await), (b0, s0));
    let d = app.post_json(&format!("/api/v1/communities/{HS}/shop/{meal}/redemptions"), json!({})).await.json();
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("UPDATE redemptions SET expires_at = 1 WHERE id = $1")
        .bind(d["id"].as_i64().unwrap())
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(linli::capabilities::points::store::expire_due(&app.state, linli::db::now_ms()).await.unwrap(), 1);
    assert_eq!((balance(&app, v).await, stock().await), (b0, s0));
    sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_residents_race_for_the_last_ten_units() {
    let app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    // 200 residents with 10 points each, each signed in.
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    let ids = tx.next_ids(201).await.unwrap();
    let (reward, people) = (ids[0], ids[1..].to_vec());
    let now = linli::db::now_ms();
    for p in &people {
        query("INSERT INTO users (id, username, display_name, password_hash, community_id, created_at, updated_at) VALUES ($1, $2, $3, '!', $4, $5, $5)")
            .bind(*p)
            .bind(format!("racer{p}"))
            .bind(format!("居民{p}"))
            .bind(c)
            .bind(now)
            .execute(&mut tx)
            .await
            .unwrap();
        linli::capabilities::registry::people::users::insert_grant(
            &mut tx,
            *p,
            &linli::auth::model::Grant::community(linli::auth::model::Role::Volunteer, c),
        )
        .await
        .unwrap();
        linli::capabilities::points::ledger::post(
            &mut tx,
            &linli::capabilities::points::ledger::Posting {
                community_id: c,
                from: linli::capabilities::points::ledger::Acct::ISSUING,
                to: linli::capabilities::points::ledger::Acct::person(*p),
                amount: 10,
                cause: linli::capabilities::points::Cause::Adjustment,
                cause_id: None,
                rule_id: None,
                reason: Some("测试".into()),
                author_id: Some(0),
                key: format!("race:{p}"),
            },
        )
        .await
        .unwrap();
    }
    query("INSERT INTO rewards (community_id, id, name, kind, price, stock, hold_days, created_at, updated_at) VALUES ($1, $2, '最后十份年货', 'goods', 10, 10, 7, $3, $3)")
        .bind(c)
        .bind(reward)
        .bind(now)
        .execute(&mut tx)
        .await
        .unwrap();
    let mut cookies = Vec::new();
    for p in &people {
        let (token, _) = linli::auth::session::open(&mut tx, *p).await.unwrap();
        cookies.push(format!("{}={token}", linli::auth::session::COOKIE));
    }
    tx.commit().await.unwrap();
    let path = format!("/api/v1/communities/{HS}/shop/{reward}/redemptions");
    let redemptions = cookies.into_iter().map(|cookie| (cookie, path.clone(), Value::Null)).collect();
    let mut won = 0;
    for (status, body) in app.all_at_once(redemptions).await {
        match status {
            StatusCode::CREATED => won += 1,
            StatusCode::CONFLICT => assert!(body.contains("库存不足"), "losers are told why: {body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(won, 10, "exactly the ten units");
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let stock: i64 = query("SELECT stock FROM rewards WHERE id = $1").bind(reward).scalar(&mut conn).await.unwrap();
    let held: i64 = query("SELECT COUNT(*) FROM redemptions WHERE reward_id = $1 AND status = 'held'")
        .bind(reward)
        .scalar(&mut conn)
        .await
        .unwrap();
    let mut b =
        linli::db::Builder::new("SELECT balance FROM ledger_accounts WHERE kind = 'person' AND community_id = ");
    b.arg(c).push(" AND owner_id IN ").list(people.iter().copied());
    let balances: Vec<i64> = b.build().scalars(&mut conn).await.unwrap();
    drop(conn);
    assert_eq!((stock, held), (0, 10), "no oversell");
    assert_eq!(balances.iter().filter(|b| **b == 0).count(), 10, "ten spent their points");
    assert_eq!(balances.iter().filter(|b| **b == 10).count(), 190, "the others kept theirs: no double spend");
    sound(&app).await;
}

#[tokio::test]
async fn the_honor_roll_updates_and_names_only_those_who_agreed() {
    let mut app = TestApp::demo().await;
    app.cookie = None;
    let board = app.get(&format!("/p/{HS}/honor?by=hours&period=all")).await;
    assert_eq!(board.status, StatusCode::OK, "public, no sign-in");
    let roll = app.get(&format!("/api/v1/communities/{HS}/honor-roll?by=hours&period=all")).await.json();
    let names: Vec<String> =
        roll["ranking"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    let c = app.community_id(HS).await;
    let hidden: Vec<String> = query("SELECT name FROM volunteers WHERE community_id = $1 AND show_name = FALSE")
        .bind(c)
        .scalars(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert!(!hidden.is_empty());
    assert!(hidden.iter().all(|h| !names.contains(h)), "who did not agree is not named");
    assert!(names.iter().any(|n| n.contains('*')));
    assert!(roll["commendations"].as_array().unwrap().iter().any(|m| m["honoree_name"] == "红心微聚志愿服务队"));

    // Ten hours of approved service add ten hours to the volunteer's line.
    let hours_of = |roll: &Value| {
        roll["ranking"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "郑晓红")
            .map(|r| r["value"].as_i64().unwrap())
            .unwrap_or(0)
    };
    let before = hours_of(&roll);
    app.sign_in("staff").await;
    let v = user_id(&app, "volunteer").await;
    let vol = app.scalar("SELECT id FROM volunteers WHERE user_id = $1", v).await;
    // Ten hours that have passed, and that no demo record touches: the night before last.
    let start = linli::time::day_start_ms(fmt::today()) - 2 * 24 * HOUR - 2 * HOUR;
    let r = app
        .post_json(
            &format!("/api/v1/communities/{HS}/service-records"),
            json!({"volunteer_id": vol, "service_type": "event", "content": "邻聚欢享文化节通宵布展", "started_at": local(start), "ended_at": local(start + 10 * HOUR)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    app.post_json(&format!("/api/v1/communities/{HS}/service-records/{id}/decision"), json!({"approve": true})).await;
    app.cookie = None;
    let roll = app.get(&format!("/api/v1/communities/{HS}/honor-roll?by=hours&period=all")).await.json();
    assert_eq!(hours_of(&roll), before + 600, "named (they agreed), ten hours more");
    let page = visible_text(&app.get(&format!("/p/{HS}/honor?by=hours&period=all")).await.text());
    assert!(page.contains("郑晓红") && page.contains("光荣榜"));
    assert_eq!(
        app.get(&format!("/api/v1/communities/{HS}/honor-roll?period=decade")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn a_certificate_is_a_pdf_whose_code_anyone_can_check() {
    let mut app = TestApp::demo().await;
    app.sign_in("volunteer").await;
    let v = user_id(&app, "volunteer").await;
    let vol = app.scalar("SELECT id FROM volunteers WHERE user_id = $1", v).await;
    let year = chrono::Datelike::year(&fmt::today());
    let from = format!("{}-01-01", year - 1);
    let to = fmt::today().to_string();
    let made = app.post_form(&format!("/c/{HS}/volunteers/{vol}/certificates"), &[("from", &from), ("to", &to)]).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text());
    let pdf = app.get(&made.location()).await;
    assert_eq!(pdf.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    let empty = app
        .post_form(&format!("/c/{HS}/volunteers/{vol}/certificates"), &[("from", "2001-01-01"), ("to", "2001-12-31")])
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&empty.text()).contains("这段时间没有已通过的服务记录"));
    let api = app
        .post_json(&format!("/api/v1/communities/{HS}/volunteers/{vol}/certificates"), json!({"from": from, "to": to}))
        .await
        .json();
    let code = api["code"].as_str().unwrap().to_string();
    assert!(api["verify_url"].as_str().unwrap().ends_with(&format!("/p/{HS}/certificates/{code}")));
    let c = app.community_id(HS).await;
    let minutes: i64 = query("SELECT CAST(SUM(minutes) AS BIGINT) FROM service_records WHERE community_id = $1 AND user_id = $2 AND status = 'approved'")
        .bind(c)
        .bind(v)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert_eq!(api["minutes"], minutes);

    // Anyone checks it, signed in or not; a wrong code is not valid.
    app.cookie = None;
    let check = app.get(&format!("/p/{HS}/certificates/{}", code.to_lowercase())).await;
    assert_eq!(check.status, StatusCode::OK);
    let text = visible_text(&check.text());
    assert!(
        text.contains("该证明真实有效") && text.contains(&linli::time::hours(minutes)) && text.contains("郑*"),
        "{text}"
    );
    let forged = app.get(&format!("/p/{HS}/certificates/ABCDEFGHJKLM")).await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    assert!(visible_text(&forged.text()).contains("查无此证明"));
    // Someone else cannot download it.
    app.sign_in("resident").await;
    assert_eq!(app.get(&made.location()).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn people_sign_up_as_volunteers_and_join_teams() {
    let mut app = TestApp::demo().await;
    app.cookie = None;
    assert_eq!(app.get(&format!("/c/{HS}/volunteers/join")).await.status, StatusCode::OK);
    let bad = app
        .post_raw_form(
            &format!("/c/{HS}/volunteers/join"),
            &[("name", "刘热心"), ("phone", "12345"), ("password", "short")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = visible_text(&bad.text());
    assert!(text.contains("手机号码格式不正确"), "{text}");
    let joined = app
        .post_raw_form(
            &format!("/c/{HS}/volunteers/join"),
            &[
                ("name", "刘热心"),
                ("phone", "13712345678"),
                ("password", "Volunteer2026"),
                ("skills", "理发、家电维修"),
                ("show_name", "true"),
            ],
        )
        .await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.text());
    app.sign_in_with("13712345678", "Volunteer2026").await;
    let me = app.get(&format!("/api/v1/communities/{HS}/volunteers/me")).await.json();
    assert!(me["number"].as_str().unwrap().starts_with(&format!("{HS}-")));
    assert_eq!(me["skills"], json!(["理发", "家电维修"]));
    let again = app.post_json(&format!("/api/v1/communities/{HS}/volunteers/me"), json!({"name": "刘热心"})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "registered once");
    app.cookie = None;
    let taken = app
        .post_raw_form(
            &format!("/c/{HS}/volunteers/join"),
            &[("name", "冒名"), ("phone", "13712345678"), ("password", "Another2026x")],
        )
        .await;
    assert!(visible_text(&taken.text()).contains("这个手机号已注册"));

    // Join a team and leave it again.
    app.sign_in_with("13712345678", "Volunteer2026").await;
    let c = app.community_id(HS).await;
    let team = app.scalar("SELECT id FROM teams WHERE community_id = $1 AND name = '青年志愿者队伍'", c).await;
    let t = team.to_string();
    assert_eq!(
        app.post_form(&format!("/c/{HS}/volunteer/teams"), &[("team_id", &t), ("member", "true")]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get(&format!("/api/v1/communities/{HS}/volunteers/me")).await.json()["teams"][0]["team"],
        "青年志愿者队伍"
    );
    app.post_form(&format!("/c/{HS}/volunteer/teams"), &[("team_id", &t), ("member", "false")]).await;
    assert!(
        app.get(&format!("/api/v1/communities/{HS}/volunteers/me")).await.json()["teams"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let leader = app
        .post_form(&format!("/c/{HS}/volunteer/teams"), &[("team_id", &t), ("member", "true"), ("leader", "true")])
        .await;
    assert_eq!(leader.status, StatusCode::FORBIDDEN, "only staff name leaders");

    // Staff sign an elderly neighbour up and hand over the initial password.
    app.sign_in("staff").await;
    let r = app
        .post_form(
            &format!("/c/{HS}/volunteers"),
            &[("name", "陈大爷"), ("phone", "13698765432"), ("id_number", "11010519491231002X")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    let password = html.split("<dt>初始密码</dt><dd>").nth(1).unwrap().split('<').next().unwrap().to_string();
    app.sign_in_with("13698765432", &password).await;
    let me = app.get(&format!("/api/v1/communities/{HS}/volunteers/me")).await.json();
    assert_eq!(me["id_number"], "110***********002X", "kept masked");
    // A resident registers themselves from their page.
    app.sign_in("resident").await;
    let reg =
        app.post_form(&format!("/c/{HS}/volunteer/register"), &[("name", "居民志愿者"), ("show_name", "false")]).await;
    assert_eq!(reg.status, StatusCode::SEE_OTHER, "{}", reg.text());
    assert!(app.get("/api/v1/me").await.text().contains("volunteer"));
}

#[tokio::test]
async fn a_volunteer_who_resolves_a_ticket_has_served() {
    let mut app = TestApp::demo().await;
    // A resident asks for 帮办代办, which goes to the 红心微聚 pool.
    app.sign_in("resident").await;
    let c = app.community_id(HS).await;
    let category = app.scalar("SELECT id FROM ticket_categories WHERE community_id = $1 AND code = '13'", c).await;
    let t = app
        .post_json(
            &format!("/api/v1/communities/{HS}/tickets"),
            json!({"category_id": category, "description": "帮我代办老年证", "address": "海盛花园"}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.text());
    let ticket = t.json()["id"].as_i64().unwrap();
    app.sign_in("volunteer").await;
    let path = format!("/api/v1/communities/{HS}/tickets/{ticket}/actions");
    let accepted = app.post_json(&path, json!({"action": "accept"})).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text());
    // Taken an hour ago.
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("UPDATE tickets SET accepted_at = accepted_at - 3600000 WHERE id = $1")
        .bind(ticket)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r = app.post_json(&path, json!({"action": "resolve", "note": "已帮老人办好老年证"})).await;
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

#[tokio::test]
async fn the_figures_match_the_records_and_export_to_excel() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let c = app.community_id(HS).await;
    let from = format!("{}-01-01", chrono::Datelike::year(&fmt::today()) - 2);
    let f = app.get(&format!("/api/v1/communities/{HS}/points/stats?from={from}")).await.json();
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let (n, minutes, active): (i64, i64, i64) = query(
        "SELECT COUNT(*), CAST(SUM(minutes) AS BIGINT), COUNT(DISTINCT user_id) FROM service_records WHERE community_id = $1 AND status = 'approved'",
    )
    .bind(c)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let volunteers: i64 =
        query("SELECT COUNT(*) FROM volunteers WHERE community_id = $1").bind(c).scalar(&mut conn).await.unwrap();
    let issued: i64 = query(
        "SELECT CAST(SUM(m.amount) AS BIGINT) FROM ledger_movements m JOIN ledger_accounts a ON a.community_id = m.community_id AND a.id = m.to_account
         WHERE m.community_id = $1 AND a.kind = 'person' AND m.cause IN ('service', 'bonus', 'adjustment')",
    )
    .bind(c)
    .scalar(&mut conn)
    .await
    .unwrap();
    drop(conn);
    assert_eq!(
        (f["records"].as_i64(), f["minutes"].as_i64(), f["active_volunteers"].as_i64()),
        (Some(n), Some(minutes), Some(active))
    );
    assert_eq!(f["volunteers"].as_i64(), Some(volunteers));
    assert_eq!(f["points_issued"].as_i64(), Some(issued));
    assert_eq!(f["points_redeemed"], 20, "the demo's one meal handed over");
    let page = visible_text(&app.get(&format!("/c/{HS}/points/stats?from={from}")).await.text());
    assert!(page.contains("活跃志愿者") && page.contains("队伍排行"));
    let x = app.get(&format!("/c/{HS}/points.xlsx?from={from}")).await;
    let table = linli::capabilities::registry::transfer::read_table(&x.body).unwrap();
    assert_eq!(table.len() as i64 - 1, volunteers);
    assert_eq!(table[0][1], "志愿者编号");
    assert!(table.iter().skip(1).all(|r| r[2].contains('*')), "names masked in the export");
    // The subdistrict sees its communities; others see nothing.
    app.sign_in("street").await;
    let sub = app
        .scalar("SELECT subdistrict_id FROM communities WHERE id = $1", app.community_id("441802005001").await)
        .await;
    assert_eq!(app.get(&format!("/api/v1/subdistricts/{sub}/points/stats")).await.status, StatusCode::OK);
    app.sign_in("volunteer").await;
    assert_eq!(app.get(&format!("/api/v1/communities/{HS}/points/stats")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postings_that_share_a_commit_are_answered_one_by_one() {
    use linli::capabilities::points::ledger::{Acct, Posting, post_grouped};
    let app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let (a, b) = (user_id(&app, "volunteer").await, user_id(&app, "resident").await);
    let before = (balance(&app, a).await, balance(&app, b).await);
    let posting = |to_a: bool, amount: i64, key: String| Posting {
        community_id: c,
        from: if to_a { Acct::ISSUING } else { Acct::person(b) },
        to: if to_a { Acct::person(a) } else { Acct::ISSUING },
        amount,
        cause: linli::capabilities::points::Cause::Adjustment,
        cause_id: None,
        rule_id: None,
        reason: Some("测试".into()),
        author_id: Some(a),
        key,
    };
    let state = Arc::new(app.state.clone());
    let mut tasks = Vec::new();
    for i in 0..60 {
        let p = match i {
            // 40 gifts, the same key five times over, and five takings from an empty account.
            0..40 => posting(true, 2, format!("g{i}")),
            40..45 => posting(true, 2, "twice".into()),
            _ => posting(false, 1_000_000, format!("t{i}")),
        };
        let state = state.clone();
        tasks.push(tokio::spawn(async move { post_grouped(&state, p).await }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert!(results[..40].iter().all(|r| r.is_ok()));
    let twice: Vec<i64> = results[40..45].iter().map(|r| *r.as_ref().unwrap()).collect();
    assert!(twice.windows(2).all(|w| w[0] == w[1]), "one key, one movement: {twice:?}");
    assert!(results[45..].iter().all(|r| matches!(r, Err(linli::error::AppError::Conflict("points.insufficient")))));
    assert_eq!(balance(&app, a).await, before.0 + 82);
    assert_eq!(balance(&app, b).await, before.1);
    sound(&app).await;
}

#[tokio::test]
async fn activities_pay_a_fixed_amount_rejections_say_why_and_no_one_spends_what_they_lack() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let v = user_id(&app, "volunteer").await;
    let vol_id = app.scalar("SELECT id FROM volunteers WHERE user_id = $1", v).await;
    // Each activity pays 20 under the demo's rule, however long it lasts.
    let mut paid = Vec::new();
    for (i, hours) in [(1, 1), (2, 4), (3, 2)] {
        let rec = app
            .post_json(
                &format!("/api/v1/communities/{HS}/service-records"),
                json!({"volunteer_id": vol_id, "service_type": "event", "content": format!("便民集市第{i}场"), "started_at": local(slot(60 - i, 9)), "ended_at": local(slot(60 - i, 9 + hours))}),
            )
            .await;
        assert_eq!(rec.status, StatusCode::CREATED, "{}", rec.text());
        let id = rec.json()["id"].as_i64().unwrap();
        let d = app
            .post_json(&format!("/api/v1/communities/{HS}/service-records/{id}/decision"), json!({"approve": true}))
            .await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text());
        paid.push(d.json()["points"].as_i64().unwrap());
    }
    assert_eq!(paid, [20, 20, 20], "20 an activity, whether it took one hour or four");

    // A rejection gives its reason, and the volunteer sees it.
    let rec = app
        .post_json(
            &format!("/api/v1/communities/{HS}/service-records"),
            json!({"volunteer_id": vol_id, "service_type": "care", "content": "重复登记的探访", "started_at": local(slot(40, 8)), "ended_at": local(slot(40, 9))}),
        )
        .await
        .json();
    let id = rec["id"].as_i64().unwrap();
    let r = app
        .post_json(
            &format!("/api/v1/communities/{HS}/service-records/{id}/decision"),
            json!({"approve": false, "reason": "与 3 月 2 日记录重复"}),
        )
        .await;
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
    let r = app.post_json(&format!("/api/v1/communities/{HS}/shop/{reward}/redemptions"), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("积分余额不足"));
    assert_eq!(balance(&app, v).await, balance_now);
    assert_eq!(app.scalar("SELECT stock FROM rewards WHERE id = $1", reward).await, 1);
    sound(&app).await;
}

/// What a tamperer with the database would do: switch off the guard, change a posted
/// movement and an audit row. The chains show it, naming each row, and a head kept
/// before still matches what came before the change.
#[tokio::test]
async fn a_movement_or_audit_row_changed_behind_the_application_breaks_its_chain() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let v = user_id(&app, "volunteer").await;
    let mut req = Request::post(format!("/api/v1/communities/{HS}/points/movements"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(json!({"user_id": v, "amount": 20, "reason": "义诊帮忙"}).to_string()))
        .unwrap();
    req.headers_mut().insert("idempotency-key", "tamper-1".parse().unwrap());
    let given = app.send(req).await.json();
    let moved = given["id"].as_i64().unwrap();
    let heads = app.get_public(&format!("/api/v1/communities/{HS}/chains")).await.json();
    let kept = heads["ledger"]["length"].as_i64().unwrap();
    assert!(kept > 0 && heads["ledger"]["head"].is_string() && heads["audit"]["length"].as_i64().unwrap() > 0);
    let out = app.cli(&["ledger", "verify"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    // Behind the application's back.
    let c = app.community_id(HS).await;
    let audited = app.scalar("SELECT MAX(id) FROM audit_log WHERE community_id = $1", c).await;
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    let off = if app.state.db.is_citus() {
        // There the guards are privileges, which the tables' owner can take back.
        vec!["GRANT UPDATE ON ledger_movements, audit_log TO CURRENT_USER"]
    } else if app.is_postgres() {
        vec![
            "ALTER TABLE ledger_movements DISABLE TRIGGER ledger_movements_append_only",
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        ]
    } else {
        vec!["DROP TRIGGER ledger_movements_append_only_u", "DROP TRIGGER audit_log_append_only_u"]
    };
    for sql in off {
        query(sql).execute(&mut tx).await.unwrap();
    }
    query("UPDATE ledger_movements SET reason = '改过的理由' WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(moved)
        .execute(&mut tx)
        .await
        .unwrap();
    query("UPDATE audit_log SET actor_name = '别人' WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(audited)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let out = app.cli(&["ledger", "verify"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(&format!("ledger_movements row {moved} ")) && said.contains("changed after it was written"),
        "{said}"
    );
    assert!(said.contains(&format!("audit_log row {audited} ")), "{said}");
    // Someone who kept the head finds it at its place still (the server's check above is
    // what says whether the rows before it are what was hashed).
    let again = app.get_public(&format!("/api/v1/communities/{HS}/chains?ledger={kept}")).await.json();
    assert_eq!(again["ledger"]["at"]["hash"], heads["ledger"]["head"]);
    assert_eq!(
        app.get_public(&format!("/api/v1/communities/{HS}/chains?ledger=0")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}
