//! "My events" 我的活动: one's sign-ups still to come and those past, and one's private
//! calendar address (a secret in the URL, shown once when made; making a new one or
//! stopping it ends the old one).

use askama::Template;
use axum::extract::{Path, State};

use super::{community, when};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::capabilities::events::SignupStatus;
use crate::capabilities::events::store::{self, Signup};
use crate::web::form::CsrfForm;
use crate::web::ui::{Form, Item, Tag, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, render};

#[derive(Template)]
#[template(path = "events/mine.html")]
pub struct MinePage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub coming: Vec<Item>,
    pub past: Vec<Item>,
    /// The feed's state: its address just made, or since when one works.
    pub feed_lines: Vec<(String, String)>,
    pub feed_forms: Vec<Form>,
}

fn item(ctx: &PageCtx, code: &str, s: &Signup, now: i64) -> Item {
    let tag = if s.checked_in_at.is_some() {
        Tag::new(ctx.t("events.attended"), Tone::Green)
    } else if s.no_show {
        Tag::new(ctx.t("events.no_show"), Tone::Red)
    } else if s.ends_at <= now {
        Tag::new(ctx.t("events.ended"), Tone::Grey)
    } else {
        let tone = if s.status == SignupStatus::Seated { Tone::Green } else { Tone::Orange };
        Tag::new(ctx.t(&format!("events.signup.{}", s.status.as_str())), tone)
    };
    Item {
        title: s.title.clone(),
        sub: format!("{} · {}", when(s.starts_at), s.station),
        href: Some(format!("/c/{code}/events/{}", s.event_id)),
        tag: Some(tag),
    }
}

/// `made`: a feed address just made (shown this once); `since`: when the working one was.
pub fn mine_view(
    ctx: PageCtx,
    c: &CommunityRef,
    list: &[Signup],
    made: Option<&str>,
    since: Option<i64>,
    base_url: &str,
    now: i64,
) -> MinePage {
    let code = &c.code;
    let (coming, past): (Vec<&Signup>, Vec<&Signup>) = list.iter().partition(|s| s.ends_at > now);
    let mut feed_lines = Vec::new();
    if let Some(token) = made {
        feed_lines.push((ctx.t("events.feed_address"), format!("{base_url}/p/{code}/events/feed/{token}.ics")));
        feed_lines.push((String::new(), ctx.t("events.feed_once")));
    } else if let Some(at) = since {
        feed_lines.push((ctx.t("events.feed_made"), when(at)));
    }
    let mut feed_forms = vec![
        Form::new("", format!("/c/{code}/events/mine/feed"), ctx.t("events.feed_new"))
            .confirm(ctx.t("events.feed_new_confirm")),
    ];
    if since.is_some() || made.is_some() {
        feed_forms.push(
            Form::new("", format!("/c/{code}/events/mine/feed/stop"), ctx.t("events.feed_stop"))
                .danger(ctx.t("events.feed_stop_confirm")),
        );
    }
    MinePage {
        title: ctx.t("events.mine"),
        crumbs: vec![(format!("/c/{code}/events"), ctx.t("events.title"))],
        coming: coming.iter().rev().map(|s| item(&ctx, code, s, now)).collect(),
        past: past.iter().map(|s| item(&ctx, code, s, now)).collect(),
        feed_lines,
        feed_forms,
        ctx,
    }
}

async fn show(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, made: Option<&str>) -> PageResult {
    let mut conn = state.db.read().await?;
    let list = store::my_signups(&mut conn, actor, c.id).await?;
    let since = store::feed_since(&mut conn, actor, c.id).await?;
    let base = state.config.public_url.clone().unwrap_or_default();
    render(&mine_view(ctx, c, &list, made, since, base.trim_end_matches('/'), crate::db::now_ms()))
}

pub async fn mine(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show(&state, ctx, &actor, &c, None).await
}

/// Makes a new private feed address and shows it (once; the page is not redirected to, so
/// that the secret stays out of addresses and histories).
pub async fn new_feed(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let token = store::new_feed_token(&state, &actor, &c).await?;
    show(&state, ctx, &actor, &c, Some(&token)).await
}

/// Stops the private feed address.
pub async fn revoke_feed(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    store::revoke_feed_token(&state, &actor, &c).await?;
    Ok(done(&format!("/c/{code}/events/mine"), Notice::Saved))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::events::{SessionStatus, SignupRole};

    fn signup(title: &str, ends_at: i64, checked_in: bool) -> Signup {
        Signup {
            community_id: 1,
            id: 7,
            event_id: 9,
            session_id: 3,
            user_id: Some(5),
            name: "王阿姨".into(),
            household_id: None,
            signed_up_by: None,
            status: SignupStatus::Seated,
            code: "12345678".into(),
            offered_until: None,
            checked_in_at: checked_in.then_some(ends_at - 1),
            created_at: 0,
            starts_at: ends_at - 2,
            ends_at,
            station: "社区广场".into(),
            title: title.into(),
            role: SignupRole::Participant,
            walk_in: false,
            checked_out_at: None,
            no_show: false,
            rating: None,
            comment: None,
            session_status: SessionStatus::Scheduled,
            closed_at: None,
        }
    }

    fn community() -> CommunityRef {
        CommunityRef { id: 1, code: "c1".into(), name: "海盛社区".into(), subdistrict_id: 1, kind: "urban".into() }
    }

    #[test]
    fn my_events_split_coming_from_past_and_show_a_new_feed_address_once() {
        let list = [signup("<b>书画班</b>", 100, false), signup("广场舞", 10, true)];
        let made = mine_view(crate::web::tests::ctx(), &community(), &list, Some("abc"), None, "https://x", 50);
        assert_eq!((made.coming.len(), made.past.len()), (1, 1));
        let html = made.render().unwrap();
        assert!(html.contains("https://x/p/c1/events/feed/abc.ics") && !html.contains("<b>书画班"), "{html}");
        let later = mine_view(crate::web::tests::ctx(), &community(), &list, None, Some(40), "https://x", 50);
        assert!(!later.render().unwrap().contains("/events/feed/"), "the secret is not shown again");
    }
}
