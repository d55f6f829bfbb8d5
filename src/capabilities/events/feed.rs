//! The community's calendar feed (iCalendar, RFC 5545): each session of its events as an
//! entry with its station, a link back to the event and its status, a called-off session
//! marked cancelled, for residents' calendar apps to subscribe to.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use icalendar::{Calendar, Component, EventLike};

use super::store::{self, FeedOf};
use crate::error::AppResult;
use crate::web::AppState;

/// One session as the feed shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub session_id: i64,
    pub event_id: i64,
    pub title: String,
    pub station: String,
    pub address: Option<String>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub cancelled: bool,
}

fn utc(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The feed's text: `base` is the site's address, `code` the community's.
pub fn calendar(name: &str, base: &str, code: &str, entries: &[Entry]) -> String {
    let mut cal = Calendar::new();
    cal.name(name);
    for e in entries {
        let mut ev = icalendar::Event::new();
        ev.uid(&format!("session-{}@{code}.linli", e.session_id))
            .summary(&e.title)
            .location(&match &e.address {
                Some(a) if !a.is_empty() => format!("{}（{a}）", e.station),
                _ => e.station.clone(),
            })
            .url(&format!("{base}/c/{code}/events/{}", e.event_id))
            .starts(utc(e.starts_at))
            .ends(utc(e.ends_at))
            .status(if e.cancelled { icalendar::EventStatus::Cancelled } else { icalendar::EventStatus::Confirmed });
        cal.push(ev.done());
    }
    cal.done().to_string()
}

#[derive(serde::Deserialize)]
pub struct FeedQuery {
    brand: Option<String>,
    station: Option<i64>,
}

fn answer(state: &AppState, c: &crate::auth::guard::CommunityRef, name: &str, entries: &[Entry]) -> Response {
    let base = state.config.public_url.clone().unwrap_or_default();
    let text = calendar(&format!("{} · {name}", c.name), base.trim_end_matches('/'), &c.code, entries);
    ([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], text).into_response()
}

/// Sessions from a month back.
fn from() -> i64 {
    crate::db::now_ms() - 30 * crate::time::DAY_MS
}

/// `GET /p/{code}/events.ics`: the community's sessions (or one brand's, `?brand=`, or one
/// station's, `?station=`), for anyone.
pub async fn community_feed(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<FeedQuery>,
) -> AppResult<Response> {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let brand = q.brand.as_deref().map(str::trim).filter(|b| !b.is_empty());
    let (of, name) = match (brand, q.station) {
        (Some(b), _) => (FeedOf::Brand(b), b.to_string()),
        (None, Some(s)) => (FeedOf::Station(s), "分站活动".to_string()),
        (None, None) => (FeedOf::Community, "社区活动".to_string()),
    };
    let entries = store::feed(&mut state.db.read().await?, c.id, from(), of).await?;
    Ok(answer(&state, &c, &name, &entries))
}

/// `GET /p/{code}/events/feed/{token}.ics`: one person's sessions, for their calendar app
/// (the token is the only key; a stopped one is refused naming it).
pub async fn person_feed(
    State(state): State<AppState>,
    Path((code, token)): Path<(String, String)>,
) -> AppResult<Response> {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let token = token.strip_suffix(".ics").unwrap_or(&token);
    let mut conn = state.db.read().await?;
    let user = store::feed_person(&mut conn, c.id, token).await?;
    let entries = store::feed(&mut conn, c.id, from(), FeedOf::Person(user)).await?;
    Ok(answer(&state, &c, "我的活动", &entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_session_is_an_entry_with_its_place_its_link_and_a_cancelled_one_says_so() {
        let entry = |id: i64, cancelled: bool| Entry {
            session_id: id,
            event_id: 9,
            title: "邻聚欢享·中秋游园会".into(),
            station: "南调新村文化室".into(),
            address: Some("南调新村3栋".into()),
            starts_at: 1_765_090_800_000,
            ends_at: 1_765_098_000_000,
            cancelled,
        };
        let text = calendar(
            "海盛社区 · 社区活动",
            "https://linli.example",
            "440804003001",
            &[entry(1, false), entry(2, true)],
        );
        let parsed: Calendar = text.parse().expect("a standard parser reads it");
        assert_eq!(parsed.components.len(), 2);
        assert!(text.contains("URL:https://linli.example/c/440804003001/events/9"));
        assert!(text.contains("LOCATION:南调新村文化室（南调新村3栋）"));
        assert!(text.contains("STATUS:CANCELLED") && text.contains("STATUS:CONFIRMED"));
        assert!(text.contains("DTSTART:20251207T070000Z"), "{text}");
    }
}
