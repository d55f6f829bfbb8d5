//! The inbox (page and API) and the stream of live news.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use futures::Stream;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::InboxLine;
use crate::error::AppResult;
use crate::web::{AppState, PageCtx, PageResult, Signed, SignedPage, fmt, render};

pub fn routes() -> Router<AppState> {
    Router::new().route("/inbox", get(inbox_page)).route("/events", get(events)).route("/api/v1/inbox", get(inbox_api))
}

#[derive(Template)]
#[template(path = "notify/inbox.html")]
struct InboxTemplate {
    ctx: PageCtx,
    title: String,
    items: Vec<(String, String, String, bool)>,
}

/// Where a line leads: the page of its subject, as the capability that names the subject
/// kind declares it (`/c/{code}/tickets/{id}`).
async fn links(state: &AppState, lines: &[InboxLine]) -> AppResult<Vec<String>> {
    let mut b = crate::db::Builder::new("SELECT id, code FROM communities WHERE id IN ");
    b.list(lines.iter().map(|n| n.community_id));
    let codes: HashMap<i64, String> =
        b.build().fetch_all::<(i64, String)>(&mut state.db.read().await?).await?.into_iter().collect();
    let patterns: HashMap<&str, &str> = state.caps.iter().flat_map(|c| c.links.iter().copied()).collect();
    Ok(lines
        .iter()
        .map(|n| {
            match (n.subject_kind.as_deref().and_then(|k| patterns.get(k)), n.subject_id, codes.get(&n.community_id)) {
                (Some(p), Some(id), Some(code)) => p.replace("{code}", code).replace("{id}", &id.to_string()),
                _ => String::new(),
            }
        })
        .collect())
}

async fn inbox_page(State(state): State<AppState>, SignedPage(ctx, actor): SignedPage) -> PageResult {
    let lines = super::inbox(&state.db, &actor, 100).await?;
    let hrefs = links(&state, &lines).await?;
    let items = lines
        .into_iter()
        .zip(hrefs)
        .map(|(n, href)| (href, n.text, fmt::datetime(n.at), n.read_at.is_none()))
        .collect();
    render(&InboxTemplate { title: ctx.t("ticket.inbox"), items, ctx })
}

async fn inbox_api(State(s): State<AppState>, a: Signed) -> AppResult<Json<Value>> {
    let lines = super::inbox(&s.db, a.actor(), 200).await?;
    let items: Vec<Value> = lines
        .iter()
        .map(|n| {
            let subject = n.subject_kind.as_ref().map(|k| json!({"kind": k, "id": n.subject_id}));
            // `ticket_id` is kept for the clients written when only tickets notified.
            let ticket_id = n.subject_id.filter(|_| n.subject_kind.as_deref() == Some("ticket"));
            json!({"at": fmt::rfc3339(n.at), "subject": subject, "ticket_id": ticket_id, "kind": n.kind,
                   "text": n.text, "read": n.read_at.is_some()})
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `GET /events`: the signed-in user's news as server-sent events.
pub async fn events(State(state): State<AppState>, s: Signed) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let me = s.actor().user_id;
    let rx = state.bus.subscribe(&state.db).await;
    let stopping = state.stopping.subscribe();
    // The stream ends when the server shuts down (the page's EventSource reconnects to
    // whichever server answers next).
    let stream = futures::stream::unfold((rx, stopping), move |(mut rx, mut stopping)| async move {
        loop {
            let news = tokio::select! {
                _ = stopping.wait_for(|s| *s) => return None,
                news = rx.recv() => news,
            };
            match news {
                Ok(news) if news.users.contains(&me) => {
                    let data = serde_json::to_string(&news).unwrap_or_default();
                    return Some((Ok(Event::default().event("news").data(data)), (rx, stopping)));
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
}
