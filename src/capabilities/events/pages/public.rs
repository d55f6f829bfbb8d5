//! What everyone sees of a community's events, signed in or not: those to come and those
//! past, and an event with its sessions, its report, how many came and how they rated it,
//! and who came with names masked (张*).

use askama::Template;
use axum::extract::{Path, State};

use super::stats::figure_kpis;
use super::{status_tag, when};
use crate::capabilities::events::EventStatus;
use crate::capabilities::events::figures;
use crate::capabilities::events::store::{self, Event, Session, Signup};
use crate::error::AppError;
use crate::web::ui::{Item, Kpi, Tag, Tone};
use crate::web::{AppState, Page, PageCtx, PageResult, render};

#[derive(Template)]
#[template(path = "events/public_list.html")]
pub struct PublicEventsPage {
    pub ctx: PageCtx,
    pub title: String,
    pub links: Vec<(String, String)>,
    pub coming: Vec<Item>,
    pub past: Vec<Item>,
}

fn listed(ctx: &PageCtx, code: &str, e: &Event, first: i64, last: i64) -> Item {
    let span = if crate::time::day_of(first) == crate::time::day_of(last) {
        when(first)
    } else {
        format!("{} – {}", when(first), when(last))
    };
    let mut sub = vec![span, e.organiser.clone()];
    if let Some(b) = &e.brand {
        sub.insert(0, b.clone());
    }
    Item {
        title: e.title.clone(),
        sub: sub.join(" · "),
        href: Some(format!("/p/{code}/events/{}", e.id)),
        tag: Some(status_tag(ctx, e.status)),
    }
}

pub fn public_events_view(
    ctx: PageCtx,
    name: &str,
    code: &str,
    list: &[(Event, i64, i64)],
    now: i64,
) -> PublicEventsPage {
    let (mut coming, past): (Vec<_>, Vec<_>) =
        list.iter().partition(|(e, _, last)| *last > now && e.status == EventStatus::Published);
    coming.sort_by_key(|(_, first, _)| *first);
    PublicEventsPage {
        title: format!("{name} · {}", ctx.t("events.title")),
        links: vec![
            (format!("/p/{code}/events.ics"), ctx.t("events.feed")),
            (format!("/c/{code}/events"), ctx.t("events.take_part")),
        ],
        coming: coming.iter().map(|(e, f, l)| listed(&ctx, code, e, *f, *l)).collect(),
        past: past.iter().map(|(e, f, l)| listed(&ctx, code, e, *f, *l)).collect(),
        ctx,
    }
}

/// `GET /p/{code}/events`: anyone.
pub async fn public_events(State(state): State<AppState>, Page(ctx): Page, Path(code): Path<String>) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let list = store::public_events(&mut state.db.read().await?, c.id).await?;
    render(&public_events_view(ctx, &c.name, &c.code, &list, crate::db::now_ms()))
}

#[derive(Template)]
#[template(path = "events/public_event.html")]
pub struct PublicEventPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub tag: Tag,
    pub cells: Vec<(String, String)>,
    pub description: Option<String>,
    pub report: Option<String>,
    pub sessions: Vec<Item>,
    pub kpis: Vec<Kpi>,
    /// Who came, names masked.
    pub came: Vec<String>,
    pub links: Vec<(String, String)>,
}

pub fn public_event_view(
    ctx: PageCtx,
    code: &str,
    e: &Event,
    sessions: &[Session],
    roll: &[Signup],
    f: &figures::Figures,
) -> PublicEventPage {
    let mut cells = vec![
        (ctx.t("events.kind"), ctx.t(&format!("events.kind.{}", e.kind.as_str()))),
        (ctx.t("events.organiser"), e.organiser.clone()),
    ];
    if let Some(b) = &e.brand {
        cells.insert(0, (ctx.t("events.brand"), b.clone()));
    }
    let sessions = sessions
        .iter()
        .map(|s| Item {
            title: when(s.starts_at),
            sub: s.station.clone(),
            href: None,
            tag: (s.status == crate::capabilities::events::SessionStatus::Cancelled)
                .then(|| Tag::new(ctx.t("events.session.cancelled"), Tone::Grey)),
        })
        .collect();
    let mut came: Vec<String> = roll
        .iter()
        .filter(|u| u.checked_in_at.is_some() && u.role == crate::capabilities::events::SignupRole::Participant)
        .map(|u| crate::services::pii::mask_name(&u.name))
        .collect();
    came.sort();
    let kpis = figure_kpis(&ctx, f, true);
    PublicEventPage {
        title: e.title.clone(),
        crumbs: vec![(format!("/p/{code}/events"), ctx.t("events.title"))],
        tag: status_tag(&ctx, e.status),
        cells,
        description: e.description.clone(),
        report: e.report.clone(),
        sessions,
        kpis,
        came,
        links: vec![(format!("/c/{code}/events/{}", e.id), ctx.t("events.take_part"))],
        ctx,
    }
}

/// `GET /p/{code}/events/{id}`: anyone, of a published or finished event.
pub async fn public_event(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let mut conn = state.db.read().await?;
    let e = store::event(&mut conn, c.id, id)
        .await?
        .filter(|e| e.status != EventStatus::Draft)
        .ok_or(AppError::NotFound)?;
    let sessions = store::sessions(&mut conn, c.id, id).await?;
    let roll = store::roll(&mut conn, c.id, id).await?;
    let lines = store::figure_lines(&mut conn, c.id, store::Lines::Event(id)).await?;
    render(&public_event_view(ctx, &c.code, &e, &sessions, &roll, &figures::total(&lines)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::events::{Audience, EventKind, SessionStatus, SignupRole, SignupStatus};

    #[test]
    fn the_public_sees_who_came_with_names_masked_and_not_who_stayed_away() {
        let e = Event {
            community_id: 1,
            id: 9,
            kind: EventKind::Activity,
            title: "广场舞比赛".into(),
            description: None,
            organiser: "文体队".into(),
            brand: None,
            audience: Audience::Everyone,
            per_household: None,
            claim_hours: 2,
            status: EventStatus::Finished,
            created_at: 0,
            needs_approval: false,
            team_id: None,
            report: Some("<script>x</script>".into()),
            attendance_rule: None,
        };
        let person = |name: &str, came: bool| Signup {
            community_id: 1,
            id: 1,
            event_id: 9,
            session_id: 3,
            user_id: None,
            name: name.into(),
            household_id: None,
            signed_up_by: None,
            status: SignupStatus::Seated,
            code: "1".into(),
            offered_until: None,
            checked_in_at: came.then_some(5),
            created_at: 0,
            starts_at: 0,
            ends_at: 10,
            station: "广场".into(),
            title: "广场舞比赛".into(),
            role: SignupRole::Participant,
            walk_in: false,
            checked_out_at: None,
            no_show: !came,
            rating: None,
            comment: None,
            session_status: SessionStatus::Scheduled,
            closed_at: Some(20),
        };
        let roll = [person("欧阳娜娜", true), person("李伯", false)];
        let f = figures::Figures { attended: 1, no_shows: 1, ..Default::default() };
        let html = public_event_view(crate::web::tests::ctx(), "c1", &e, &[], &roll, &f).render().unwrap();
        assert!(html.contains("欧***") && !html.contains("欧阳娜娜") && !html.contains("李*"), "{html}");
        assert!(!html.contains("<script>x") && !html.contains("缺席率"), "escaped; no rates of who stayed away");
    }
}
