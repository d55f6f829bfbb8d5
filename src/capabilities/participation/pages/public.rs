//! Public pages, for anyone without signing in: the needs board and the list of the
//! registered units and members. Each page reads its data, a plain function builds its
//! view, and its template in `templates/participation/` draws it.

use askama::Template;
use axum::extract::{Path, State};

use super::{need_tag, pledge_line, pledge_tag, progress};
use crate::capabilities::participation::store::{self, Need, Pledge};
use crate::capabilities::participation::{NeedStatus, RegistrationKind};
use crate::web::ui::{Item, Tag};
use crate::web::{AppState, Page, PageCtx, PageResult, render};

fn public_links(ctx: &PageCtx, code: &str) -> Vec<(String, String)> {
    vec![
        (format!("/p/{code}/needs"), ctx.t("participation.board")),
        (format!("/p/{code}/registered"), ctx.t("participation.registered_list")),
        (format!("/p/{code}/council"), ctx.t("council.public")),
        (format!("/p/{code}/honor"), ctx.t("points.honor_roll")),
    ]
}

/// A need on the board: what it is, how far it is taken, and by whom.
pub struct BoardNeed {
    pub title: String,
    pub tag: Option<Tag>,
    pub description: String,
    pub cells: Vec<(String, String)>,
    pub pledges: Vec<Item>,
    pub links: Vec<(String, String)>,
}

/// Needs shown together, under a heading or none.
pub struct BoardGroup {
    pub title: Option<String>,
    pub needs: Vec<BoardNeed>,
}

#[derive(Template)]
#[template(path = "participation/board.html")]
pub struct BoardPage {
    pub ctx: PageCtx,
    pub title: String,
    pub community: String,
    pub links: Vec<(String, String)>,
    /// No need is open or under way.
    pub none_open: bool,
    /// Those open or under way, then the latest done.
    pub groups: Vec<BoardGroup>,
}

fn board_need(ctx: &PageCtx, code: &str, n: &Need, pledges: &[Pledge]) -> BoardNeed {
    BoardNeed {
        title: n.title.clone(),
        tag: Some(need_tag(ctx, n.status)),
        description: n.description.clone(),
        cells: vec![
            (ctx.t("participation.need_kind"), ctx.t(&format!("participation.need_kind.{}", n.kind.as_str()))),
            (ctx.t("participation.pledged"), progress(n)),
            (ctx.t("participation.deadline"), n.deadline.map(|d| d.to_string()).unwrap_or_default()),
        ],
        pledges: pledges
            .iter()
            .map(|p| Item {
                title: pledge_line(ctx, p, &n.unit, true),
                tag: Some(pledge_tag(ctx, p.status)),
                ..Item::default()
            })
            .collect(),
        links: vec![(format!("/c/{code}/needs/{}", n.id), ctx.t("participation.take_it"))],
    }
}

/// The board from the community's needs with their pledges: those live, then the last 30 done.
pub fn board_view(ctx: PageCtx, code: &str, name: &str, all: &[(Need, Vec<Pledge>)]) -> BoardPage {
    let live: Vec<BoardNeed> = all
        .iter()
        .filter(|(n, _)| matches!(n.status, NeedStatus::Open | NeedStatus::Pledged | NeedStatus::InProgress))
        .map(|(n, p)| board_need(&ctx, code, n, p))
        .collect();
    let done: Vec<BoardNeed> = all
        .iter()
        .filter(|(n, _)| matches!(n.status, NeedStatus::Fulfilled | NeedStatus::Closed))
        .take(30)
        .map(|(n, p)| board_need(&ctx, code, n, p))
        .collect();
    let done_title = (!done.is_empty()).then(|| ctx.t("participation.done_needs"));
    BoardPage {
        title: format!("{name} · {}", ctx.t("participation.board")),
        community: name.to_string(),
        links: public_links(&ctx, code),
        none_open: live.is_empty(),
        groups: vec![BoardGroup { title: None, needs: live }, BoardGroup { title: done_title, needs: done }],
        ctx,
    }
}

/// The needs board: open needs and who took which, for anyone.
pub async fn public_board(State(state): State<AppState>, Page(ctx): Page, Path(code): Path<String>) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let all = store::board(&mut state.db.read().await?, c.id).await?;
    render(&board_view(ctx, &code, &c.name, &all))
}

/// The public board's 居务公开: the needs still open to pledges (双报到's list), how far
/// each is taken.
pub fn board<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    c: &'a crate::auth::guard::CommunityRef,
) -> futures::future::BoxFuture<'a, crate::error::AppResult<Vec<crate::web::board::BoardPart>>> {
    use crate::web::board::{BoardLine, BoardPart, BoardSection};
    Box::pin(async move {
        let all = store::board(&mut state.db.read().await?, c.id).await?;
        let lines: Vec<BoardLine> = all
            .iter()
            .filter(|(n, _)| matches!(n.status, NeedStatus::Open | NeedStatus::Pledged | NeedStatus::InProgress))
            .take(8)
            .map(|(n, _)| BoardLine {
                title: n.title.clone(),
                detail: ctx.tr("participation.board_taken", "n", format!("{}/{}{}", n.pledged, n.quantity, n.unit)),
                href: Some(format!("/p/{}/needs", c.code)),
            })
            .collect();
        let more = Some((format!("/p/{}/needs", c.code), ctx.t("participation.board")));
        Ok(if lines.is_empty() {
            Vec::new()
        } else {
            vec![BoardPart { section: BoardSection::Affairs, title: ctx.t("participation.board_needs"), lines, more }]
        })
    })
}

#[derive(Template)]
#[template(path = "participation/registered.html")]
pub struct RegisteredPage {
    pub ctx: PageCtx,
    pub title: String,
    pub community: String,
    pub links: Vec<(String, String)>,
    pub units: Vec<Item>,
    pub members: Vec<Item>,
}

/// The units and members listed, by the names the public may see.
pub fn registered_view(ctx: PageCtx, code: &str, name: &str, list: &[store::Registration]) -> RegisteredPage {
    let item = |r: &store::Registration| Item { title: r.public_name(), sub: r.party_org.clone(), ..Item::default() };
    RegisteredPage {
        title: format!("{name} · {}", ctx.t("participation.registered_list")),
        community: name.to_string(),
        links: public_links(&ctx, code),
        units: list.iter().filter(|r| r.kind == RegistrationKind::Unit).map(item).collect(),
        members: list.iter().filter(|r| r.kind == RegistrationKind::Member).map(item).collect(),
        ctx,
    }
}

/// The units and members who registered and agreed to be listed.
pub async fn public_registered(State(state): State<AppState>, Page(ctx): Page, Path(code): Path<String>) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let list = store::listed_publicly(&mut state.db.read().await?, c.id).await?;
    render(&registered_view(ctx, &code, &c.name, &list))
}
