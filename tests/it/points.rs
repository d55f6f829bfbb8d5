//! Volunteer service and the points economy 红心微聚: a volunteer serves and staff
//! approve, points name their cause, rules are versioned and capped, the ledger stays
//! exact through retries, corrections and races, the shop hands rewards over, the honor
//! roll and certificates are public.
//!
//! This file holds the helpers the tests share; the tests are in one file per area.

mod ledger;
mod reports;
mod service;
mod shop;
mod volunteers;

use linli::db::citus::Span;
use linli::db::query;
use linli::web::fmt;

use crate::helpers::TestApp;

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
