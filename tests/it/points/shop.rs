//! The rewards shop: redeeming and handing over against a code, cancelling and expiry,
//! and a race for the last units that neither oversells nor double-spends.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::{Value, json};

use super::{HS, balance, points_held, reward_stock, sound};
use crate::helpers::{TestApp, visible_text};

#[tokio::test]
async fn a_volunteer_redeems_and_the_merchant_hands_it_over() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let c = app.community_id(HS).await;
    let unit = app.scalar("SELECT id FROM partner_units WHERE community_id = $1 AND name = '久和医院'", c).await;
    let checkup = json!({"name": "免费体检一次", "kind": "service", "provider_unit_id": unit, "price": 40, "stock": 3, "per_person_limit": 1, "hold_days": 7});
    let made = app.create_reward(checkup).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let reward = made.json()["id"].as_i64().unwrap();
    let v = app.user_id("volunteer").await;
    let before = balance(&app, v).await;
    assert!(before >= 40, "the demo volunteer has points: {before}");

    app.sign_in("volunteer").await;
    let shop = visible_text(&app.get(&format!("/c/{HS}/shop")).await.text());
    assert!(shop.contains("免费体检一次") && shop.contains("久和医院"));
    let r = app.redeem_reward_form(reward, "one-tap").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = app.get(&r.location()).await.text();
    assert!(page.contains("<svg") && visible_text(&page).contains("待领取"), "a code and its QR");
    let mine = app.get(&format!("/api/v1/communities/{HS}/redemptions")).await.json();
    let held = mine["items"].as_array().unwrap().iter().find(|d| d["reward_id"] == reward).unwrap().clone();
    let code = held["code"].as_str().unwrap().to_string();
    assert_eq!(balance(&app, v).await, before - 40);
    let limit = app.redeem_reward_form(reward, "second").await;
    assert_eq!(limit.status, StatusCode::CONFLICT);
    assert!(visible_text(&limit.text()).contains("已达到每人限兑数量"));

    // The hospital's contact hands it over against the code: once, and only the right code.
    app.sign_in("unit").await;
    let desk = visible_text(&app.get(&format!("/c/{HS}/handover")).await.text());
    assert!(desk.contains("免费体检一次"));
    let wrong = app.hand_over_redemption("00000000").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&wrong.text()).contains("兑换码不正确"));
    let done = app.hand_over_redemption(&code).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(visible_text(&done.text()).contains("核销成功"));
    let twice = app.hand_over_redemption(&code).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(visible_text(&twice.text()).contains("已核销"));
    assert_eq!(points_held(&app, "provider", unit).await, 40, "the held points went to the provider");

    // Cancelled, and expired: the points and the unit come back.
    app.sign_in("volunteer").await;
    let meal = app.scalar("SELECT id FROM rewards WHERE community_id = $1 AND name = '社区食堂餐券'", c).await;
    let stock = || reward_stock(&app, meal);
    let (b0, s0) = (balance(&app, v).await, stock().await);
    let d = app.redeem_reward_api(meal).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text());
    assert_eq!((balance(&app, v).await, stock().await), (b0 - 20, s0 - 1));
    let id = d.json()["id"].as_i64().unwrap();
    assert_eq!(app.cancel_redemption(id).await.json()["status"], "cancelled");
    assert_eq!((balance(&app, v).await, stock().await), (b0, s0));
    let d = app.redeem_reward_api(meal).await.json();
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
    // The raw path stays: `all_at_once` sends the 200 redemptions together, each as its own session.
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
    let stock = reward_stock(&app, reward).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
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

/// Staff put up a picture of a reward from its page; the shop's card shows it to the
/// volunteer, who may open it, and one file at a time is what a picture takes.
#[tokio::test]
async fn a_reward_has_a_picture_in_the_shop() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let c = app.community_id(HS).await;
    let meal = app.scalar("SELECT id FROM rewards WHERE community_id = $1 AND name = '社区食堂餐券'", c).await;
    let record = app.get(&format!("/c/{HS}/rewards/{meal}")).await.text();
    assert!(record.contains(&format!("/c/{HS}/rewards/{meal}/picture")), "商品图片 on the reward's page");
    let none = app.put_up_reward_picture(meal, &[]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&none.text()).contains("请选择一张图片"));
    let png = linli::services::media::png_for_tests(64, 48);
    let ok = app.put_up_reward_picture(meal, &[&png]).await;
    assert_eq!(ok.location(), format!("/c/{HS}/shop?ok=saved"));

    app.sign_in("volunteer").await;
    let shop = app.get(&format!("/c/{HS}/shop")).await.text();
    let src = shop.split("class=\"good-pic\" src=\"").nth(1).expect("a picture").split('"').next().unwrap().to_string();
    assert!(shop.contains("alt=\"社区食堂餐券\""), "named for those who cannot see it");
    assert_eq!(app.get(&src).await.status, StatusCode::OK);
    app.sign_in("resident").await;
    assert_eq!(app.put_up_reward_picture(meal, &[&png]).await.status, StatusCode::FORBIDDEN, "staff's to change");
}
