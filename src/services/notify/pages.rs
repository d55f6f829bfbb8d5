//! The inbox (page and API) and the stream of live news. Its tabs are the groups the
//! capabilities put their notifications in (督办, 办事进度, 志愿积分…); a line stays
//! unread until it is opened or the user marks them all read.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::{InboxLine, Read, Sort};
use crate::error::AppResult;
use crate::web::capability::SubjectLink;
use crate::web::form::CsrfForm;
use crate::web::ui::Tab;
use crate::web::{AppState, Notice, PageCtx, PageResult, Signed, SignedPage, done, fmt, render, see_other};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(inbox_page))
        .route("/inbox/read", post(read_all_page))
        .route("/inbox/{community_id}/{id}", get(open_line))
        .route("/events", get(events))
        .route("/api/v1/inbox", get(inbox_api))
        .route("/api/v1/inbox/read", post(read_all_api))
}

/// The group a line is under: the tab key of the first capability entry that claims it.
fn group_of<'a>(links: &[&'a SubjectLink], kind: Option<&str>, action: &str) -> &'a str {
    links.iter().find(|l| l.matches(kind, action)).map_or("inbox.group.other", |l| l.group)
}

/// The tabs in the order the capabilities declare them, each with its unread count, and
/// the sorts of line under each.
pub fn groups(links: &[&SubjectLink], tally: &[(Sort, i64, i64)]) -> Vec<(String, i64, Vec<Sort>)> {
    let mut order: Vec<&str> = links.iter().map(|l| l.group).collect();
    order.push("inbox.group.other");
    let mut out: Vec<(String, i64, Vec<Sort>)> = Vec::new();
    for key in order {
        if out.iter().any(|(k, _, _)| k == key) {
            continue;
        }
        let mine: Vec<&(Sort, i64, i64)> =
            tally.iter().filter(|((k, a), _, _)| group_of(links, k.as_deref(), a) == key).collect();
        if !mine.is_empty() {
            let unread = mine.iter().map(|(_, _, u)| u).sum();
            out.push((key.to_string(), unread, mine.into_iter().map(|(s, _, _)| s.clone()).collect()));
        }
    }
    out
}

fn subject_links(state: &AppState) -> Vec<&'static SubjectLink> {
    state.caps.iter().flat_map(|c| c.links.iter()).collect()
}

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    /// The tab: its key without the `inbox.group.` prefix.
    g: Option<String>,
}

/// One line as the page shows it.
pub struct LineView {
    pub href: String,
    pub text: String,
    pub at: String,
    pub unread: bool,
    pub group: String,
}

#[derive(Template)]
#[template(path = "notify/inbox.html")]
pub struct InboxTemplate {
    pub ctx: PageCtx,
    pub title: String,
    pub tabs: Vec<Tab>,
    /// The tab shown, for the mark-all-read form; empty for all.
    pub group: String,
    pub unread: i64,
    pub lines: Vec<LineView>,
}

/// The page drawn from plain data: the tabs with their unread counts, then the lines.
pub fn inbox_view(
    ctx: PageCtx,
    groups: &[(String, i64, Vec<Sort>)],
    shown: Option<&str>,
    lines: Vec<LineView>,
) -> InboxTemplate {
    let label = |key: &str, unread: i64| {
        let name = ctx.t(key);
        if unread > 0 { format!("{name} {unread}") } else { name }
    };
    let total: i64 = groups.iter().map(|(_, u, _)| u).sum();
    let mut tabs = vec![Tab { href: "/inbox".into(), label: label("inbox.all", total), on: shown.is_none() }];
    for (key, unread, _) in groups {
        let short = key.trim_start_matches("inbox.group.");
        tabs.push(Tab { href: format!("/inbox?g={short}"), label: label(key, *unread), on: shown == Some(key) });
    }
    let unread = match shown {
        Some(k) => groups.iter().find(|(g, _, _)| g == k).map_or(0, |(_, u, _)| *u),
        None => total,
    };
    let group = shown.map(|k| k.trim_start_matches("inbox.group.").to_string()).unwrap_or_default();
    InboxTemplate { title: ctx.t("ticket.inbox"), tabs, group, unread, lines, ctx }
}

/// The tab asked for, if the user has lines under it.
fn chosen<'a>(groups: &'a [(String, i64, Vec<Sort>)], g: Option<&str>) -> Option<&'a (String, i64, Vec<Sort>)> {
    let g = g.filter(|g| !g.is_empty())?;
    groups.iter().find(|(k, _, _)| k.trim_start_matches("inbox.group.") == g)
}

async fn inbox_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Query(q): Query<InboxQuery>,
) -> PageResult {
    let links = subject_links(&state);
    let groups = groups(&links, &super::tally(&state.db, &actor).await?);
    let shown = chosen(&groups, q.g.as_deref());
    let lines = super::inbox(&state.db, &actor, 100, shown.map(|(_, _, s)| s.as_slice())).await?;
    let lines = lines
        .into_iter()
        .map(|n| LineView {
            href: format!("/inbox/{}/{}", n.community_id, n.id),
            group: ctx.t(group_of(&links, n.subject_kind.as_deref(), &n.kind)),
            text: n.text,
            at: fmt::datetime(n.at),
            unread: n.read_at.is_none(),
        })
        .collect();
    render(&inbox_view(ctx, &groups, shown.map(|(k, _, _)| k.as_str()), lines))
}

/// Opening a line reads it and goes to its subject's page (the inbox when it has none).
async fn open_line(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((community_id, id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let Some(line) = super::line(&state.db, &actor, community_id, id).await? else {
        return Ok(see_other("/inbox"));
    };
    if line.read_at.is_none() {
        super::mark_read(&state.db, &actor, Read::One { community_id, id }).await?;
    }
    let to = subject_page(&state, &line).await?.unwrap_or_else(|| "/inbox".into());
    Ok(see_other(&to))
}

/// Where a line leads: the page of its subject, as the capability that names the subject
/// kind declares it (`/c/{code}/tickets/{id}`).
async fn subject_page(state: &AppState, line: &InboxLine) -> AppResult<Option<String>> {
    let link = subject_links(state).into_iter().find(|l| l.matches(line.subject_kind.as_deref(), &line.kind));
    let (Some(link), Some(id)) = (link, line.subject_id) else { return Ok(None) };
    let code: Option<String> = crate::db::query("SELECT code FROM communities WHERE id = $1")
        .bind(line.community_id)
        .fetch_optional(&mut state.db.read().await?)
        .await?
        .map(|(c,): (String,)| c);
    Ok(code.map(|code| link.path.replace("{code}", &code).replace("{id}", &id.to_string())))
}

async fn read_all_page(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let g = m.get("g").and_then(Value::as_str).filter(|g| !g.is_empty());
    let groups = groups(&subject_links(&state), &super::tally(&state.db, &actor).await?);
    let shown = chosen(&groups, g);
    let n = super::mark_read(&state.db, &actor, Read::All(shown.map(|(_, _, s)| s.as_slice()))).await?;
    let back = match shown {
        Some((k, _, _)) => format!("/inbox?g={}&n={n}", k.trim_start_matches("inbox.group.")),
        None => format!("/inbox?n={n}"),
    };
    Ok(done(&back, Notice::AllRead))
}

async fn inbox_api(State(s): State<AppState>, a: Signed) -> AppResult<Json<Value>> {
    let links = subject_links(&s);
    let lines = super::inbox(&s.db, a.actor(), 200, None).await?;
    let items: Vec<Value> = lines
        .iter()
        .map(|n| {
            let subject = n.subject_kind.as_ref().map(|k| json!({"kind": k, "id": n.subject_id}));
            // `ticket_id` is kept for the clients written when only tickets notified.
            let ticket_id = n.subject_id.filter(|_| n.subject_kind.as_deref() == Some("ticket"));
            let group = group_of(&links, n.subject_kind.as_deref(), &n.kind).trim_start_matches("inbox.group.");
            json!({"community_id": n.community_id, "id": n.id, "at": fmt::rfc3339(n.at), "subject": subject,
                   "ticket_id": ticket_id, "kind": n.kind, "group": group, "text": n.text, "read": n.read_at.is_some()})
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `POST /api/v1/inbox/read`: marks every line read, answering how many were unread.
async fn read_all_api(State(s): State<AppState>, a: Signed) -> AppResult<Response> {
    let n = super::mark_read(&s.db, a.actor(), Read::All(None)).await?;
    Ok(Json(json!({ "marked": n })).into_response())
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

#[cfg(test)]
mod tests {
    use super::*;

    const LINKS: [SubjectLink; 3] = [
        SubjectLink::new("ticket", "/t/{id}", "inbox.group.escalate").of("escalate"),
        SubjectLink::new("ticket", "/t/{id}", "inbox.group.tickets"),
        SubjectLink::new("need", "/n/{id}", "inbox.group.participation"),
    ];

    fn sort(kind: Option<&str>, action: &str) -> Sort {
        (kind.map(String::from), action.to_string())
    }

    /// 督办 apart from a ticket's other news, a tab only for what the user has, in the
    /// order the capabilities declare, and lines nobody claims under 其他.
    #[test]
    fn the_inbox_is_grouped_by_kind_with_unread_counts() {
        let links: Vec<&SubjectLink> = LINKS.iter().collect();
        let tally = vec![
            (sort(Some("ticket"), "accept"), 3, 1),
            (sort(Some("ticket"), "escalate"), 41, 41),
            (sort(Some("ticket"), "resolve"), 2, 0),
            (sort(None, "welcome"), 1, 1),
        ];
        let g = groups(&links, &tally);
        let keys: Vec<(&str, i64)> = g.iter().map(|(k, u, _)| (k.as_str(), *u)).collect();
        assert_eq!(keys, [("inbox.group.escalate", 41), ("inbox.group.tickets", 1), ("inbox.group.other", 1)]);
        assert_eq!(g[1].2, [sort(Some("ticket"), "accept"), sort(Some("ticket"), "resolve")]);

        let page = inbox_view(crate::web::tests::ctx(), &g, Some("inbox.group.escalate"), Vec::new());
        let html = page.render().unwrap();
        assert!(html.contains(r#"href="/inbox?g=escalate" class="on" aria-current="page">督办 41</a>"#), "{html}");
        assert!(html.contains(">全部 43</a>"), "{html}");
        assert!(html.contains(r#"name="g" value="escalate""#), "mark all read covers the tab shown: {html}");
        let none = inbox_view(crate::web::tests::ctx(), &g[2..], None, Vec::new()).render().unwrap();
        assert!(none.contains("全部已读"));
        let read = inbox_view(crate::web::tests::ctx(), &[], None, Vec::new()).render().unwrap();
        assert!(!read.contains("全部已读"), "nothing to mark");
    }
}
