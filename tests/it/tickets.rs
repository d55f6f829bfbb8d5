//! Residents' requests: 群众点单 → 平台派单 → 接单 → 办结 → 群众评单, with escalation,
//! whistles, statistics that match the tickets, and Open311.

mod deadlines;
mod intake;
mod lifecycle;
mod open311;
mod stats;

use axum::body::Body;
use axum::http::Request;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp};

const HS: &str = "440804003001";
const LIANJIANG: &str = "441802005001";

async fn resident_household(app: &TestApp) -> i64 {
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    query("SELECT g.household_id FROM grants g JOIN users u ON u.id = g.user_id WHERE u.username = 'resident'")
        .scalar(&mut conn)
        .await
        .unwrap()
}

fn id_from(location: &str) -> i64 {
    location.split('?').next().unwrap().rsplit('/').next().unwrap().parse().unwrap()
}

impl TestApp {
    /// Someone submits a ticket to a community through the API.
    pub async fn submit_ticket(&self, code: &str, ticket: Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{code}/tickets"), ticket).await
    }

    /// Someone submits a ticket through the API and goes on with its id.
    pub async fn submit_ticket_id(&self, code: &str, ticket: Value) -> i64 {
        self.submit_ticket(code, ticket).await.json()["id"].as_i64().unwrap()
    }

    /// A phone submits a ticket through the API with an idempotency key (and may retry it).
    pub async fn submit_ticket_with_key(&self, code: &str, key: &str, ticket: Value) -> Resp {
        let req = Request::post(format!("/api/v1/communities/{code}/tickets"))
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(Body::from(ticket.to_string()))
            .unwrap();
        self.send(req).await
    }

    /// Someone submits a ticket through the page's form, with a photo.
    pub async fn submit_ticket_form(&self, fields: &[(&str, &str)], photo: &[u8]) -> Resp {
        self.post_multipart(&format!("/c/{HS}/tickets"), fields, &[("photos", photo)]).await
    }

    /// A passer-by submits a ticket through the form a household plate's QR code opens.
    pub async fn submit_ticket_by_plate(&self, token: &str, fields: &[(&str, &str)]) -> Resp {
        self.post_raw_form(&format!("/plate/{token}"), fields).await
    }

    /// Someone takes a step on a ticket through the API (any action, as JSON).
    pub async fn ticket_action(&self, id: i64, action: Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/tickets/{id}/actions"), action).await
    }

    /// A handler takes the ticket on (接单).
    pub async fn take_ticket(&self, id: i64) -> Resp {
        self.ticket_action(id, json!({"action": "accept"})).await
    }

    /// The handler starts work on a taken ticket.
    pub async fn start_ticket(&self, id: i64) -> Resp {
        self.ticket_action(id, json!({"action": "start"})).await
    }

    /// The handler resolves the ticket (办结) with a note.
    pub async fn resolve_ticket(&self, id: i64, note: &str) -> Resp {
        self.ticket_action(id, json!({"action": "resolve", "note": note})).await
    }

    /// The handler resolves the ticket through the page's form, with a photo of the work done.
    pub async fn resolve_ticket_form(&self, id: i64, note: &str, photo: &[u8]) -> Resp {
        let fields = [("action", "resolve"), ("note", note)];
        self.post_multipart(&format!("/c/{HS}/tickets/{id}/act"), &fields, &[("photos", photo)]).await
    }

    /// The handler takes the ticket on with the button on its page.
    pub async fn take_ticket_form(&self, id: i64) -> Resp {
        self.post_multipart(&format!("/c/{HS}/tickets/{id}/act"), &[("action", "accept")], &[]).await
    }

    /// The submitter rates the resolved ticket on its page; `stars` empty is no star chosen.
    pub async fn rate_ticket_form(&self, id: i64, stars: &str, note: &str) -> Resp {
        let mut fields = vec![("action", "rate"), ("note", note)];
        if !stars.is_empty() {
            fields.push(("rating", stars));
        }
        self.post_multipart(&format!("/c/{HS}/tickets/{id}/act"), &fields, &[]).await
    }

    /// Someone opens the ticket's page (its HTML).
    pub async fn ticket_page(&self, id: i64) -> String {
        self.get(&format!("/c/{HS}/tickets/{id}")).await.text()
    }

    /// The submitter rates the resolved ticket (评单).
    pub async fn rate_ticket(&self, id: i64, rating: i64, note: &str) -> Resp {
        self.ticket_action(id, json!({"action": "rate", "rating": rating, "note": note})).await
    }

    /// Staff dispatch the ticket to a handler (派单).
    pub async fn dispatch_ticket(&self, id: i64, owner_user_id: i64) -> Resp {
        self.ticket_action(id, json!({"action": "dispatch", "owner_user_id": owner_user_id})).await
    }

    /// Staff hand the ticket over to another handler, saying why.
    pub async fn reassign_ticket(&self, id: i64, owner_user_id: i64, note: &str) -> Resp {
        self.ticket_action(id, json!({"action": "reassign", "owner_user_id": owner_user_id, "note": note})).await
    }

    /// Staff reject the ticket with a reason.
    pub async fn reject_ticket(&self, id: i64, note: &str) -> Resp {
        self.ticket_action(id, json!({"action": "reject", "note": note})).await
    }

    /// Staff merge the ticket into the one it repeats.
    pub async fn mark_ticket_duplicate(&self, id: i64, duplicate_of: i64, note: &str) -> Resp {
        self.ticket_action(id, json!({"action": "duplicate", "duplicate_of": duplicate_of, "note": note})).await
    }

    /// Staff reopen the ticket, saying why.
    pub async fn reopen_ticket(&self, id: i64, note: &str) -> Resp {
        self.ticket_action(id, json!({"action": "reopen", "note": note})).await
    }

    /// Staff record the follow-up call on a resolved ticket (回访): was the caller satisfied.
    pub async fn follow_up_ticket(&self, id: i64, satisfied: bool, note: &str) -> Resp {
        self.ticket_action(id, json!({"action": "follow_up", "satisfied": satisfied, "note": note})).await
    }

    /// Staff blow the whistle on a ticket (吹哨): a partner unit is called in.
    pub async fn whistle_on_ticket(&self, id: i64, unit_id: i64, note: &str) -> Resp {
        self.ticket_action(id, json!({"action": "whistle", "unit_id": unit_id, "note": note})).await
    }

    /// The called-in partner unit reports in on the ticket (报到) with what it did.
    pub async fn respond_to_ticket(&self, id: i64, note: &str) -> Resp {
        self.ticket_action(id, json!({"action": "respond", "note": note})).await
    }

    /// An Open311 client posts a service request (a form, answered in `json` or `xml`).
    pub async fn open311_post_request(&self, format: &str, fields: &[(&str, &str)]) -> Resp {
        self.post_raw_form(&format!("/open311/v2/requests.{format}"), fields).await
    }

    /// The secretary changes the community's ticket settings (reopen limit, auto-close days).
    pub async fn set_ticket_settings(&self, settings: Value) -> Resp {
        self.patch_json(&format!("/api/v1/communities/{HS}"), settings).await
    }

    /// The secretary changes a ticket category (its handler, its extra questions).
    pub async fn set_ticket_category(&self, category_id: i64, changes: Value) -> Resp {
        self.patch_json(&format!("/api/v1/communities/{HS}/ticket_categories/{category_id}"), changes).await
    }

    /// An administrator opens an account (password `secret123`) for someone who will handle tickets.
    pub async fn create_ticket_handler_account(
        &self,
        code: &str,
        username: &str,
        display_name: &str,
        role: &str,
    ) -> Resp {
        self.post_json(
            &format!("/api/v1/communities/{code}/users"),
            json!({"username": username, "display_name": display_name, "password": "secret123", "role": role}),
        )
        .await
    }

    /// The secretary creates a volunteer team, to take a category's pooled tickets.
    pub async fn create_ticket_pool_team(&self, name: &str) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/teams"), json!({"name": name, "kind": "volunteer"})).await
    }

    /// The id of a community's ticket category by its code.
    pub async fn ticket_category(&self, code: &str, category: &str) -> i64 {
        let c = self.community_id(code).await;
        let mut conn = self.state.db.span(Span::Maintenance).await.unwrap();
        query("SELECT id FROM ticket_categories WHERE community_id = $1 AND code = $2")
            .bind(c)
            .bind(category)
            .scalar(&mut conn)
            .await
            .unwrap()
    }

    /// How many tickets a community has.
    pub async fn ticket_count(&self, community_id: i64) -> i64 {
        self.scalar("SELECT COUNT(*) FROM tickets WHERE community_id = $1", community_id).await
    }

    /// A ticket's status as stored.
    pub async fn ticket_status(&self, id: i64) -> String {
        let mut conn = self.state.db.span(Span::Maintenance).await.unwrap();
        query("SELECT status FROM tickets WHERE id = $1").bind(id).scalar::<String>(&mut conn).await.unwrap()
    }

    /// The levels a ticket has been escalated to, lowest first.
    pub async fn ticket_escalation_levels(&self, community_id: i64, id: i64) -> Vec<i64> {
        let mut conn = self.state.db.span(Span::Maintenance).await.unwrap();
        query("SELECT level FROM ticket_escalations WHERE community_id = $1 AND ticket_id = $2 ORDER BY level")
            .bind(community_id)
            .bind(id)
            .scalars::<i64>(&mut conn)
            .await
            .unwrap()
    }
}
