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

use axum::http::{Request, header};
use linli::db::citus::Span;
use linli::db::query;
use linli::web::fmt;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp};

const HS: &str = "440804003001";

/// One helper per thing a volunteer, staff or a merchant does, so the tests read as stories.
impl TestApp {
    /// Someone signs up as a volunteer on the public page (no session, so no form token).
    pub async fn join_as_volunteer(&self, fields: &[(&str, &str)]) -> Resp {
        self.post_raw_form(&format!("/c/{HS}/volunteers/join"), fields).await
    }

    /// The signed-in person registers as a volunteer through the API.
    pub async fn register_volunteer_api(&self, volunteer: Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/volunteers/me"), volunteer).await
    }

    /// The signed-in person registers as a volunteer from their page.
    pub async fn register_volunteer_form(&self, name: &str, show_name: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/volunteer/register"), &[("name", name), ("show_name", show_name)]).await
    }

    /// Staff sign someone up as a volunteer and are shown the initial password.
    pub async fn register_volunteer_by_staff(&self, name: &str, phone: &str, id_number: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/volunteers"), &[("name", name), ("phone", phone), ("id_number", id_number)])
            .await
    }

    /// A volunteer joins a team.
    pub async fn join_volunteer_team(&self, team: i64) -> Resp {
        let t = team.to_string();
        self.post_form(&format!("/c/{HS}/volunteer/teams"), &[("team_id", &t), ("member", "true")]).await
    }

    /// A volunteer leaves a team.
    pub async fn leave_volunteer_team(&self, team: i64) -> Resp {
        let t = team.to_string();
        self.post_form(&format!("/c/{HS}/volunteer/teams"), &[("team_id", &t), ("member", "false")]).await
    }

    /// A volunteer joins a team as its leader.
    pub async fn lead_volunteer_team(&self, team: i64) -> Resp {
        let t = team.to_string();
        self.post_form(&format!("/c/{HS}/volunteer/teams"), &[("team_id", &t), ("member", "true"), ("leader", "true")])
            .await
    }

    /// A volunteer records a service on the page's form, with its photos.
    pub async fn record_service_form(&self, fields: &[(&str, &str)], photos: &[&[u8]]) -> Resp {
        let files: Vec<(&str, &[u8])> = photos.iter().map(|p| ("photos", *p)).collect();
        self.post_multipart(&format!("/c/{HS}/service-records"), fields, &files).await
    }

    /// A volunteer (or staff, for one) records a service through the API.
    pub async fn record_service_api(&self, record: Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/service-records"), record).await
    }

    /// Staff approve a service record on its page.
    pub async fn approve_service_record_form(&self, id: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/service-records/{id}/decide"), &[("decision", "approve")]).await
    }

    /// Staff approve the records they picked in the queue, in one go.
    pub async fn approve_picked_records(&self, ids: &[i64]) -> Resp {
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        let fields: Vec<(&str, &str)> = ids.iter().map(|i| ("ids", i.as_str())).collect();
        self.post_form(&format!("/c/{HS}/service-records/approve"), &fields).await
    }

    /// Staff reject a service record on its page, with a reason or (left blank) none.
    pub async fn reject_service_record_form(&self, id: i64, reason: Option<&str>) -> Resp {
        let mut fields = vec![("decision", "reject")];
        fields.extend(reason.map(|r| ("reason", r)));
        self.post_form(&format!("/c/{HS}/service-records/{id}/decide?reject=1"), &fields).await
    }

    /// Staff approve a service record through the API.
    pub async fn approve_service_record_api(&self, id: i64) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/service-records/{id}/decision"), json!({"approve": true}))
            .await
    }

    /// Staff reject a service record through the API, saying why.
    pub async fn reject_service_record_api(&self, id: i64, reason: &str) -> Resp {
        self.post_json(
            &format!("/api/v1/communities/{HS}/service-records/{id}/decision"),
            json!({"approve": false, "reason": reason}),
        )
        .await
    }

    /// Staff create a points rule, or a new version of one (same `code`).
    pub async fn create_points_rule(&self, rule: Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/points/rules"), rule).await
    }

    /// Staff give (or, negative, take) points by hand through the API; `key` is the
    /// idempotency key, and an empty one sends none.
    pub async fn give_points_api(&self, key: &str, movement: Value) -> Resp {
        let mut req = Request::post(format!("/api/v1/communities/{HS}/points/movements"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(movement.to_string()))
            .unwrap();
        if !key.is_empty() {
            req.headers_mut().insert("idempotency-key", key.parse().unwrap());
        }
        self.send(req).await
    }

    /// Staff give points by hand on the ledger page's form (`holder` like `team:7`).
    pub async fn give_points_form(&self, holder: &str, amount: &str, reason: &str, key: &str) -> Resp {
        self.post_form(
            &format!("/c/{HS}/points/give"),
            &[("holder", holder), ("amount", amount), ("reason", reason), ("key", key)],
        )
        .await
    }

    /// Staff correct a points movement by reversing it.
    pub async fn reverse_points_movement(&self, id: i64, reason: &str) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/points/movements/{id}/reversal"), json!({"reason": reason}))
            .await
    }

    /// A volunteer asks for a service certificate for a period, on the page.
    pub async fn request_service_certificate_form(&self, volunteer: i64, from: &str, to: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/volunteers/{volunteer}/certificates"), &[("from", from), ("to", to)]).await
    }

    /// A volunteer asks for a service certificate for a period, through the API.
    pub async fn request_service_certificate_api(&self, volunteer: i64, from: &str, to: &str) -> Resp {
        self.post_json(
            &format!("/api/v1/communities/{HS}/volunteers/{volunteer}/certificates"),
            json!({"from": from, "to": to}),
        )
        .await
    }

    /// Staff put a reward in the shop.
    pub async fn create_reward(&self, reward: Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/rewards"), reward).await
    }

    /// Staff put up a reward's picture (the newest is the one shown).
    pub async fn put_up_reward_picture(&self, reward: i64, photos: &[&[u8]]) -> Resp {
        let files: Vec<(&str, &[u8])> = photos.iter().map(|p| ("picture", *p)).collect();
        self.post_multipart(&format!("/c/{HS}/rewards/{reward}/picture"), &[], &files).await
    }

    /// A volunteer redeems a reward with one tap on the shop page (`key` makes a retry one).
    pub async fn redeem_reward_form(&self, reward: i64, key: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/shop/{reward}/redeem"), &[("key", key)]).await
    }

    /// A volunteer redeems a reward through the API.
    pub async fn redeem_reward_api(&self, reward: i64) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/shop/{reward}/redemptions"), json!({})).await
    }

    /// A volunteer cancels a redemption that is still held.
    pub async fn cancel_redemption(&self, id: i64) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/redemptions/{id}/cancel"), json!({})).await
    }

    /// The provider's contact hands a redeemed reward over against its code.
    pub async fn hand_over_redemption(&self, code: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/handover"), &[("code", code)]).await
    }
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

/// The volunteer record of an account.
async fn volunteer_of(app: &TestApp, user: i64) -> i64 {
    app.scalar("SELECT id FROM volunteers WHERE user_id = $1", user).await
}

/// The points an account of a team, partner unit or provider holds.
async fn points_held(app: &TestApp, kind: &str, owner: i64) -> i64 {
    let c = app.community_id(HS).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    query("SELECT balance FROM ledger_accounts WHERE community_id = $1 AND kind = $2 AND owner_id = $3")
        .bind(c)
        .bind(kind)
        .bind(owner)
        .scalar(&mut conn)
        .await
        .unwrap()
}

/// The units of a reward left in stock.
async fn reward_stock(app: &TestApp, reward: i64) -> i64 {
    app.scalar("SELECT stock FROM rewards WHERE id = $1", reward).await
}
