//! One notice: what it says with its attachments and the button to acknowledge it; for its
//! author and those who run notices, who has read and acknowledged it by grid and
//! building, the list of those to visit (PDF), the form to change its wording and every
//! version with what changed.

use std::collections::BTreeMap;

use axum::extract::{Path, State};

use super::super::store::{self, Acked, Notice, Reader, Version};
use super::super::{Reach, Wording};
use super::state_tag;
use crate::auth::guard::{CommunityRef, visible_community};
use crate::auth::model::Actor;
use crate::error::AppError;
use crate::services::media::{self, Media};
use crate::services::pdf::Report;
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Block, BlocksPage, Cell, Form, Input, InputKind, Kpi, Refusal, Table, Tag, Tone};
use crate::web::{AppState, Notice as Saved, PageCtx, PageResult, SignedPage, done, fmt, render};

/// What the page shows.
pub struct NoticeData {
    pub notice: Notice,
    pub files: Vec<Media>,
    /// Whether the viewer is a reader, and has acknowledged.
    pub acked: Option<bool>,
    /// For its author and those who run notices: its readers and versions.
    pub readers: Option<Vec<Reader>>,
    pub versions: Vec<Version>,
}

/// Counts of readers by (grid, building).
pub fn reach_by_place(readers: &[Reader]) -> BTreeMap<(String, String), Reach> {
    let mut out: BTreeMap<(String, String), Reach> = BTreeMap::new();
    for r in readers {
        let at = (r.grid.clone().unwrap_or_default(), r.building.clone().unwrap_or_default());
        out.entry(at).or_default().add(r.read_at.is_some(), r.acked_at.is_some());
    }
    out
}

fn reach_blocks(ctx: &PageCtx, code: &str, n: &Notice, readers: &[Reader]) -> Vec<Block> {
    let mut all = Reach::default();
    readers.iter().for_each(|r| all.add(r.read_at.is_some(), r.acked_at.is_some()));
    let kpi = |label: &str, value: i64, tone: Tone| Kpi {
        label: ctx.t(label),
        value: value.to_string(),
        tone,
        ..Kpi::default()
    };
    let mut kpis = vec![kpi("notices.readers", all.readers, Tone::Blue), kpi("notices.read", all.read, Tone::Green)];
    if n.asks_ack {
        kpis.push(kpi("notices.acked", all.acked, Tone::Green));
        kpis.push(kpi("notices.not_acked", all.readers - all.acked, Tone::Red));
    }
    let head = ["notices.grid", "notices.building", "notices.readers", "notices.read", "notices.acked"];
    let rows = reach_by_place(readers)
        .into_iter()
        .map(|((grid, building), r)| {
            [grid, building, r.readers.to_string(), r.read.to_string(), r.acked.to_string()]
                .into_iter()
                .map(Cell::text)
                .collect()
        })
        .collect();
    let table = Table {
        head: head.iter().map(|k| ctx.t(k)).collect(),
        rows,
        empty: ctx.t("notices.no_readers"),
        sort: Vec::new(),
    };
    let links = vec![(format!("/c/{code}/notices/{}/to-visit.pdf", n.id), ctx.t("notices.to_visit"))];
    vec![
        Block::Kpis(kpis),
        Block::Table(ctx.t("notices.by_place"), table),
        Block::Card(ctx.t("notices.to_visit"), None, Vec::new(), Some(ctx.t("notices.to_visit_hint")), links),
    ]
}

fn edit_form(ctx: &PageCtx, code: &str, n: &Notice) -> Form {
    let categories = super::super::Category::TEXTS
        .iter()
        .map(|v| (v.to_string(), ctx.t(&format!("notices.category.{v}"))))
        .collect();
    let expires = Input::new("expires_at", ctx.t("notices.expires_at"), InputKind::DateTime);
    let pinned = Input::new("pinned", ctx.t("notices.pin"), InputKind::Checkbox);
    Form::new(ctx.t("notices.edit"), format!("/c/{code}/notices/{}", n.id), ctx.t("common.save"))
        .input(
            Input::new("category", ctx.t("notices.category"), InputKind::Select(categories))
                .required()
                .value(n.category),
        )
        .input(Input::new("title", ctx.t("notices.notice_title"), InputKind::Text).required().value(&n.title))
        .input(Input::new("body", ctx.t("notices.body"), InputKind::TextArea).required().value(&n.body))
        .input(match n.expires_at {
            Some(x) => expires.value(fmt::local_input(x)),
            None => expires,
        })
        .input(if n.pinned { pinned.value("true") } else { pinned })
        .folded()
}

fn versions_block(ctx: &PageCtx, versions: &[Version]) -> Block {
    let steps = versions
        .iter()
        .map(|v| {
            let changed: Vec<String> =
                v.changed.split(',').filter(|c| !c.is_empty()).map(|c| ctx.t(&format!("notices.field.{c}"))).collect();
            let what = if changed.is_empty() {
                ctx.t("notices.first_version")
            } else {
                ctx.tr("notices.changed", "what", changed.join("、"))
            };
            ui::Step {
                title: ctx.tr("notices.version_n", "n", v.version),
                at: fmt::datetime(v.at),
                note: format!("{} · {what} · {}", v.who, v.title),
                state: ui::StepState::Done,
            }
        })
        .collect();
    Block::Timeline(ctx.t("notices.versions"), steps)
}

pub fn notice_view(ctx: PageCtx, c: &CommunityRef, d: &NoticeData, r: &Refusal) -> BlocksPage {
    let n = &d.notice;
    let now = crate::db::now_ms();
    let mut cells = vec![
        (ctx.t("notices.category"), ctx.t(&format!("notices.category.{}", n.category.as_str()))),
        (ctx.t("notices.author"), n.author.clone()),
        (ctx.t("notices.publish_at"), fmt::datetime(n.publish_at)),
    ];
    if let Some(x) = n.expires_at {
        cells.push((ctx.t("notices.expires_at"), fmt::datetime(x)));
    }
    if n.version > 1 {
        cells.push((ctx.t("notices.edited"), ctx.tr("notices.version_n", "n", n.version)));
    }
    let mut blocks =
        vec![Block::Card(n.title.clone(), Some(state_tag(&ctx, n, now)), cells, Some(n.body.clone()), Vec::new())];
    if !d.files.is_empty() {
        blocks.push(Block::Photos(ctx.t("notices.files"), media::thumbnails(&d.files, &c.code)));
    }
    match d.acked {
        Some(false) if n.asks_ack => {
            let f = Form::new(
                ctx.t("notices.ack_title"),
                format!("/c/{}/notices/{}/ack", c.code, n.id),
                ctx.t("notices.ack"),
            );
            blocks.push(Block::Form(f.refused(r)));
        }
        Some(true) if n.asks_ack => {
            let done = Tag::new(ctx.t("notices.acked"), Tone::Green);
            blocks.push(Block::Card(ctx.t("notices.you_acked"), Some(done), Vec::new(), None, Vec::new()));
        }
        _ => {}
    }
    if let Some(readers) = &d.readers {
        blocks.extend(reach_blocks(&ctx, &c.code, n, readers));
        blocks.push(Block::Form(edit_form(&ctx, &c.code, n).refused(r)));
        blocks.push(versions_block(&ctx, &d.versions));
    }
    let crumbs = vec![(format!("/c/{}/notices", c.code), ctx.t("notices.title"))];
    BlocksPage::new(ctx.clone(), n.title.clone(), crumbs, blocks, r)
}

/// Whether the actor manages the notice (its author, or one who runs notices).
fn manages(actor: &Actor, c: &CommunityRef, n: &Notice) -> bool {
    n.created_by == actor.user_id || store::runs_all(actor, c.id)
}

async fn read(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64) -> Result<NoticeData, AppError> {
    let mut conn = state.db.read().await?;
    let notice = store::visible(&mut conn, actor, c.id, id).await?;
    let files = media::of(&mut conn, c.id, "notice", id).await?;
    let acked = store::acked_by(&mut conn, c.id, id, actor.user_id).await?;
    let (readers, versions) = if manages(actor, c, &notice) {
        (Some(store::readers_of(&mut conn, c.id, id).await?), store::versions(&mut conn, c.id, id).await?)
    } else {
        (None, Vec::new())
    };
    Ok(NoticeData { notice, files, acked, readers, versions })
}

async fn show(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, id: i64, r: &Refusal) -> PageResult {
    let d = read(state, actor, c, id).await?;
    render(&notice_view(ctx, c, &d, r))
}

/// `GET /c/{code}/notices/{id}`: a reader who opens it has read it.
pub async fn page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let d = read(&state, &actor, &c, id).await?;
    if d.acked.is_some() {
        store::mark_read(&state, &actor, c.id, id).await?;
    }
    render(&notice_view(ctx, &c, &d, &Refusal::none()))
}

/// `POST /c/{code}/notices/{id}`: its wording changed, kept as a new version.
pub async fn edit(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let expires_at = f.when("expires_at");
    let w = Wording {
        category: f.text("category"),
        title: f.text("title"),
        body: f.text("body"),
        expires_at,
        pinned: f.yes("pinned"),
    };
    let result = match f.checked() {
        Ok(()) => store::edit(&state, &actor, &c, id, w).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/notices/{id}"), Saved::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/notices/{id}");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show(&state, ctx, &actor, &c, id, &r).await }).await
        }
    }
}

/// `POST /c/{code}/notices/{id}/ack`: a reader acknowledges (again: said, not twice).
pub async fn ack(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    match store::ack(&state, &actor, c.id, id).await {
        Ok(Acked::Now) => Ok(done(&format!("/c/{code}/notices/{id}"), Saved::Saved)),
        Ok(Acked::Before) => Err(AppError::Conflict("notices.acked_before").into()),
        Err(e) => {
            let action = format!("/c/{code}/notices/{id}/ack");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show(&state, ctx, &actor, &c, id, &r).await }).await
        }
    }
}

/// The list of readers to visit — those who have not acknowledged (or not read, when it
/// asks nothing) — grid by grid and building by building, with room to write.
pub fn to_visit(community: &str, n: &Notice, readers: &[Reader]) -> crate::error::AppResult<Vec<u8>> {
    let left: Vec<&Reader> =
        readers.iter().filter(|r| if n.asks_ack { r.acked_at.is_none() } else { r.read_at.is_none() }).collect();
    let mut r = Report::new();
    let heading = format!("{community} · {} · 待走访名单", n.title);
    r.title(&heading);
    let what = if n.asks_ack { "未确认知悉" } else { "未阅读" };
    r.paragraph(&format!("共 {} 人收到，{what} {} 人。请上门告知并记录。", readers.len(), left.len()));
    let head: Vec<String> =
        ["序号", "楼栋", "门牌", "姓名", "走访时间", "情况"].iter().map(|s| s.to_string()).collect();
    let mut grids: Vec<String> = left.iter().map(|x| x.grid.clone().unwrap_or_default()).collect();
    grids.dedup();
    for grid in grids {
        r.heading(if grid.is_empty() { "其他" } else { &grid });
        let rows: Vec<Vec<String>> = left
            .iter()
            .filter(|x| x.grid.clone().unwrap_or_default() == grid)
            .enumerate()
            .map(|(i, x)| {
                vec![
                    (i + 1).to_string(),
                    x.building.clone().unwrap_or_default(),
                    x.address.clone().unwrap_or_default(),
                    x.name.clone(),
                    String::new(),
                    String::new(),
                ]
            })
            .collect();
        r.table(&[0.0, 0.07, 0.25, 0.5, 0.66, 0.8], &head, &rows);
    }
    r.finish(heading)
}

/// `GET /c/{code}/notices/{id}/to-visit.pdf`: for its author and those who run notices.
pub async fn to_visit_pdf(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let mut conn = state.db.read().await?;
    let n = store::visible(&mut conn, &actor, c.id, id).await?;
    if !manages(&actor, &c, &n) {
        return Err(AppError::Forbidden.into());
    }
    let readers = store::readers_of(&mut conn, c.id, id).await?;
    drop(conn);
    let bytes = to_visit(&c.name, &n, &readers)?;
    Ok(crate::services::pdf::answer("inline", &format!("notice-{id}-to-visit.pdf"), bytes))
}
