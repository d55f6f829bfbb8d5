//! The public board 公开栏 (no sign-in): the sections the community chose, each with what
//! every capability hangs in it — the notices to the whole community among them —, a
//! public page for each such notice, and the sheet printed for the board in the corridor
//! (A4 or A3) with a QR code to the page.

use axum::extract::{Path, Query, State};
use krilla::geom::Transform;
use krilla::page::PageSettings;

use super::super::store::{self, Notice};
use super::super::{BOARD_SECTIONS, Category};
use crate::auth::guard::{CommunityRef, public_community};
use crate::error::{AppError, AppResult};
use crate::services::pdf::{self, H, LEFT, Pen, RIGHT, W, wrap};
use crate::web::board::{self, BoardLine, BoardPart, BoardSection};
use crate::web::ui::{Block, BlocksPage, Item, Refusal};
use crate::web::{AppState, Page, PageCtx, PageResult, fmt, render};

/// The notices' own parts: those to the whole community and current, by the section
/// their category hangs in (the residents' code in full).
pub fn parts<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    c: &'a CommunityRef,
) -> futures::future::BoxFuture<'a, AppResult<Vec<BoardPart>>> {
    Box::pin(async move {
        let notices = store::public(&mut state.db.read().await?, c.id, crate::db::now_ms(), true).await?;
        let mut out: Vec<BoardPart> = Vec::new();
        for s in BoardSection::ALL {
            let lines: Vec<BoardLine> = notices
                .iter()
                .filter(|n| n.category.section() == s)
                .map(|n| BoardLine {
                    title: n.title.clone(),
                    detail: if n.category == Category::ResidentsCode {
                        n.body.clone()
                    } else {
                        fmt::to_cst(n.publish_at).date_naive().to_string()
                    },
                    href: Some(format!("/p/{}/notices/{}", c.code, n.id)),
                })
                .collect();
            if !lines.is_empty() {
                out.push(BoardPart { section: s, title: ctx.t("notices.board_part"), lines, more: None });
            }
        }
        Ok(out)
    })
}

/// What the board shows: its sections in order, and every part hung in them.
pub struct BoardData {
    pub sections: Vec<BoardSection>,
    pub parts: Vec<BoardPart>,
}

fn section_label(ctx: &PageCtx, s: BoardSection) -> String {
    ctx.t(&format!("board.section.{}", s.as_str()))
}

pub fn board_view(ctx: PageCtx, c: &CommunityRef, d: &BoardData) -> BlocksPage {
    let code = &c.code;
    let print = vec![
        (format!("/p/{code}/board.pdf?size=a4"), ctx.t("board.print_a4")),
        (format!("/p/{code}/board.pdf?size=a3"), ctx.t("board.print_a3")),
    ];
    let mut blocks = vec![Block::Card(ctx.t("board.print"), None, Vec::new(), Some(ctx.t("board.print_hint")), print)];
    for s in &d.sections {
        let label = section_label(&ctx, *s);
        let parts: Vec<&BoardPart> = d.parts.iter().filter(|p| p.section == *s).collect();
        if parts.is_empty() {
            blocks.push(Block::List(label.clone(), Vec::new(), ctx.t("board.nothing")));
        }
        for p in parts {
            let mut items: Vec<Item> = p
                .lines
                .iter()
                .map(|l| Item { title: l.title.clone(), sub: l.detail.clone(), href: l.href.clone(), tag: None })
                .collect();
            if let Some((href, text)) = &p.more {
                items.push(Item { title: text.clone(), sub: String::new(), href: Some(href.clone()), tag: None });
            }
            blocks.push(Block::List(format!("{label} · {}", p.title), items, String::new()));
        }
    }
    let title = ctx.tr("board.title_of", "community", &c.name);
    BlocksPage::new(ctx, title, Vec::new(), blocks, &Refusal::none())
}

async fn read(state: &AppState, ctx: &PageCtx, c: &CommunityRef) -> AppResult<BoardData> {
    let chosen = crate::services::settings::tags(&mut state.db.read().await?, c.id, &BOARD_SECTIONS).await?;
    let sections: Vec<BoardSection> = chosen.iter().filter_map(|t| BoardSection::parse(t)).collect();
    let parts = board::gather(state, ctx, c, &sections).await?;
    Ok(BoardData { sections, parts })
}

/// `GET /p/{code}/board`: anyone.
pub async fn page(State(state): State<AppState>, Page(ctx): Page, Path(code): Path<String>) -> PageResult {
    let c = public_community(&state.db, &code).await?;
    let d = read(&state, &ctx, &c).await?;
    render(&board_view(ctx, &c, &d))
}

/// The sheet for the board in the corridor: the title, the date and a QR code to the
/// page, then each section's lines as far as one page holds them (the rest: scan the
/// code). A3 is the A4 layout drawn larger.
pub fn sheet(
    (community, url): (&str, &str),
    d: &BoardData,
    label: &dyn Fn(BoardSection) -> String,
    a3: bool,
) -> AppResult<Vec<u8>> {
    let title = format!("{community}公开栏");
    let scale = if a3 { std::f32::consts::SQRT_2 } else { 1.0 };
    let (mut doc, _) = pdf::document(title.clone())?;
    let settings =
        PageSettings::from_wh(W * scale, H * scale).ok_or_else(|| AppError::Internal(anyhow::anyhow!("page size")))?;
    let mut page = doc.start_page_with(settings);
    let mut surface = page.surface();
    surface.push_transform(&Transform::from_scale(scale, scale));
    let mut pen = Pen { surface: &mut surface, font: pdf::font()? };
    pen.centred(72.0, 26.0, &title);
    pen.centred(98.0, 11.0, &format!("{} · 扫码查看最新、完整内容", crate::web::fmt::today()));
    pen.qr(RIGHT - 70.0, 24.0, 70.0, url);
    let mut y = 140.0;
    let mut cut = false;
    'sections: for s in &d.sections {
        if y > H - 110.0 {
            cut = true;
            break;
        }
        pen.text(LEFT, y, 16.0, &label(*s));
        pen.rule(y + 6.0);
        y += 28.0;
        for p in d.parts.iter().filter(|p| p.section == *s) {
            pen.text(LEFT, y, 12.5, &format!("【{}】", p.title));
            y += 20.0;
            for l in &p.lines {
                let text = if l.detail.is_empty() { l.title.clone() } else { format!("{}  {}", l.title, l.detail) };
                // The font's GBK set writes the yuan sign full width.
                let text = text.replace('¥', "￥");
                for line in wrap(&text, 11.0, RIGHT - LEFT - 12.0) {
                    if y > H - 70.0 {
                        cut = true;
                        break 'sections;
                    }
                    pen.text(LEFT + 12.0, y, 11.0, &line);
                    y += 17.0;
                }
            }
            y += 6.0;
        }
        y += 10.0;
    }
    if cut {
        pen.centred(H - 45.0, 10.0, "内容较多，其余请扫码查看");
    }
    surface.pop();
    surface.finish();
    page.finish();
    pdf::finish(doc)
}

#[derive(Debug, serde::Deserialize)]
pub struct Size {
    pub size: Option<String>,
}

/// `GET /p/{code}/board.pdf?size=a4|a3`: the sheet to print, for anyone.
pub async fn pdf(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path(code): Path<String>,
    Query(q): Query<Size>,
) -> PageResult {
    let a3 = match q.size.as_deref().unwrap_or("a4") {
        "a4" => false,
        "a3" => true,
        _ => return Err(AppError::field("size", "validation.choice").into()),
    };
    let c = public_community(&state.db, &code).await?;
    let d = read(&state, &ctx, &c).await?;
    let url = format!("{}/p/{code}/board", state.config.public_base());
    let bytes = sheet((&c.name, &url), &d, &|s| section_label(&ctx, s), a3)?;
    let file = format!("board-{code}-{}.pdf", if a3 { "a3" } else { "a4" });
    Ok(pdf::answer("inline", &file, bytes))
}

fn public_notice_view(ctx: PageCtx, c: &CommunityRef, n: &Notice) -> BlocksPage {
    let cells = vec![
        (ctx.t("notices.category"), ctx.t(&format!("notices.category.{}", n.category.as_str()))),
        (ctx.t("notices.publish_at"), fmt::datetime(n.publish_at)),
    ];
    let blocks = vec![Block::Card(n.title.clone(), None, cells, Some(n.body.clone()), Vec::new())];
    let crumbs = vec![(format!("/p/{}/board", c.code), ctx.tr("board.title_of", "community", &c.name))];
    BlocksPage::new(ctx, n.title.clone(), crumbs, blocks, &Refusal::none())
}

/// `GET /p/{code}/notices/{id}`: a notice to the whole community, for anyone.
pub async fn public_notice(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = public_community(&state.db, &code).await?;
    let n = store::notice(&mut state.db.read().await?, c.id, id).await?.ok_or(AppError::NotFound)?;
    if !n.is_public(crate::db::now_ms()) {
        return Err(AppError::NotFound.into());
    }
    render(&public_notice_view(ctx, &c, &n))
}
