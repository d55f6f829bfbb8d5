//! The ledger stays exact: hand-given points, retries and corrections, accounts of
//! teams and partner units, postings grouped into one commit, and tamper-evident chains.

use std::sync::Arc;

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use super::{HS, balance, points_held, sound};
use crate::helpers::{TestApp, visible_text};

#[tokio::test]
async fn hand_given_points_retries_corrections_and_the_check_keep_the_ledger_exact() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let v = app.user_id("volunteer").await;
    let start = balance(&app, v).await;
    let first = app.give_points_api("k-1", json!({"user_id": v, "amount": 15, "reason": "春节慰问活动帮忙"})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let retry = app.give_points_api("k-1", json!({"user_id": v, "amount": 15, "reason": "春节慰问活动帮忙"})).await;
    assert_eq!(first.json()["id"], retry.json()["id"], "a retry posts once");
    assert_eq!(balance(&app, v).await, start + 15);
    let reused = app.give_points_api("k-1", json!({"user_id": v, "amount": 16, "reason": "另一笔"})).await;
    assert_eq!(reused.status, StatusCode::CONFLICT);
    assert_eq!(
        app.give_points_api("", json!({"user_id": v, "amount": 5, "reason": "x"})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let zero = app.give_points_api("k-2", json!({"user_id": v, "amount": 0, "reason": "x"})).await;
    assert!(zero.field_error("amount").contains("大于零"));
    let no_reason = app.give_points_api("k-3", json!({"user_id": v, "amount": 5, "reason": " "})).await;
    assert!(!no_reason.field_error("reason").is_empty());
    let too_much =
        app.give_points_api("k-4", json!({"user_id": v, "amount": -(start + 10_000), "reason": "扣减"})).await;
    assert_eq!(too_much.status, StatusCode::CONFLICT, "a balance never goes below zero");
    assert!(too_much.json()["error"]["message"].as_str().unwrap().contains("积分余额不足"));
    assert_eq!(balance(&app, v).await, start + 15);

    // A deduction under a rule, then a correction by reversal; a reversal is posted once.
    let rule = app.create_points_rule(json!({"name": "乱扔垃圾扣分", "kind": "deduction", "points": 5})).await.json();
    let d = app.give_points_api("k-5", json!({"user_id": v, "rule_id": rule["id"], "reason": "楼道乱堆杂物"})).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text());
    assert_eq!(balance(&app, v).await, start + 10);
    let id = d.json()["id"].as_i64().unwrap();
    let rev = app.reverse_points_movement(id, "核实后撤销").await;
    assert_eq!(rev.status, StatusCode::CREATED, "{}", rev.text());
    assert_eq!(rev.json()["reverses"], id);
    let twice = app.reverse_points_movement(id, "again").await;
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
    assert_eq!(points_held(&app, "team", team).await, 500, "the demo's commendation");
    let r = app.give_points_api("t-1", json!({"team_id": team, "amount": 120, "reason": "重阳节活动"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app.give_points_api("u-1", json!({"partner_unit_id": unit, "amount": 80, "reason": "共建活动"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!((points_held(&app, "team", team).await, points_held(&app, "unit", unit).await), (620, 80));
    let over = app.give_points_api("t-2", json!({"team_id": team, "amount": -1000, "reason": "扣减"})).await;
    assert_eq!(over.status, StatusCode::CONFLICT, "a team's balance never goes below zero either");
    let both = app.give_points_api("t-3", json!({"team_id": team, "user_id": 1, "amount": 5, "reason": "x"})).await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY, "one holder at a time");
    let elsewhere = app.give_points_api("t-4", json!({"team_id": 999_999, "amount": 5, "reason": "x"})).await;
    assert!(!elsewhere.field_error("team_id").is_empty());
    // By the ledger page's form, too; the page lists what each holds.
    let key = "page-team-1";
    let r = app.give_points_form(&format!("team:{team}"), "30", "队伍例会", key).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(points_held(&app, "team", team).await, 650);
    let page = visible_text(&app.get(&format!("/c/{HS}/points")).await.text());
    assert!(page.contains("队伍和共建单位的积分") && page.contains("650 积分"), "{page}");
    sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postings_that_share_a_commit_are_answered_one_by_one() {
    use linli::capabilities::points::ledger::{Acct, Posting, post_grouped};
    let app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let (a, b) = (app.user_id("volunteer").await, app.user_id("resident").await);
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

/// The ledger's chain checked in parts of `size` places.
async fn in_parts(app: &TestApp, size: i64) -> (usize, Vec<String>) {
    linli::db::chain::verify_in_parts(&app.state.db, &linli::services::ledger::CHAIN, None, size).await.unwrap()
}

/// What a tamperer with the database would do: switch off the guard, change a posted
/// movement and an audit row. The chains show it, naming each row, and a head kept
/// before still matches what came before the change.
#[tokio::test]
async fn a_movement_or_audit_row_changed_behind_the_application_breaks_its_chain() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let v = app.user_id("volunteer").await;
    let given = app.give_points_api("tamper-1", json!({"user_id": v, "amount": 20, "reason": "义诊帮忙"})).await.json();
    let moved = given["id"].as_i64().unwrap();
    let heads = app.get_public(&format!("/api/v1/communities/{HS}/chains")).await.json();
    let kept = heads["ledger"]["length"].as_i64().unwrap();
    assert!(kept > 0 && heads["ledger"]["head"].is_string() && heads["audit"]["length"].as_i64().unwrap() > 0);
    let out = app.cli(&["ledger", "verify"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // A long chain is checked in parts side by side, each from the row before it: cut
    // this one small, it is sound too.
    let (checked, problems) = in_parts(&app, 3).await;
    assert!(checked >= kept as usize && problems.is_empty(), "{problems:?}");

    // Behind the application's back.
    let c = app.community_id(HS).await;
    let audited = app.scalar("SELECT MAX(id) FROM audit_log WHERE community_id = $1", c).await;
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    app.guards_off(&mut tx, &["ledger_movements", "audit_log"]).await;
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
    let (_, problems) = in_parts(&app, 3).await;
    assert_eq!(problems.len(), 1, "the changed row, and only it, in whichever part it is: {problems:?}");
    assert!(problems[0].starts_with(&format!("ledger_movements row {moved} ")), "{problems:?}");
    // Someone who kept the head finds it at its place still (the server's check above is
    // what says whether the rows before it are what was hashed).
    let again = app.get_public(&format!("/api/v1/communities/{HS}/chains?ledger={kept}")).await.json();
    assert_eq!(again["ledger"]["at"]["hash"], heads["ledger"]["head"]);
    assert_eq!(
        app.get_public(&format!("/api/v1/communities/{HS}/chains?ledger=0")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

/// A movement written around the application, with no reason and no place in the chain:
/// the book's check and the chain's each name it.
#[tokio::test]
async fn a_movement_slipped_in_around_the_application_is_named_by_both_checks() {
    let app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    let (from, to): (i64, i64) =
        query("SELECT MIN(id), MAX(id) FROM ledger_accounts WHERE community_id = $1 AND unit = 'points'")
            .bind(c)
            .fetch_one(&mut tx)
            .await
            .unwrap();
    query(
        "INSERT INTO ledger_movements (community_id, id, unit, at, from_account, to_account, amount, cause, idempotency_key)
         VALUES ($1, 999999999, 'points', 0, $2, $3, 5, 'adjustment', 'slipped-in')",
    )
    .bind(c)
    .bind(from)
    .bind(to)
    .execute(&mut tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let book = linli::capabilities::points::ledger::verify(&app.state.db, Some(c)).await.unwrap();
    assert!(
        book.problems.iter().any(|p| p == "1 adjustment movements do not name their cause, reason or author"),
        "{:?}",
        book.problems
    );
    let (_, chain) = linli::db::chain::verify(&app.state.db, &linli::services::ledger::CHAIN, Some(c)).await.unwrap();
    assert!(chain.iter().any(|p| p.contains("row 999999999") && p.contains("not in the chain")), "{chain:?}");
}
