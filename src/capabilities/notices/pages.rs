//! The pages of notices: the list (the current ones first, the archive below) with the
//! form to publish one, and the home page's tile and latest notices.

pub mod board;
pub mod notice;

use axum::extract::{Path, State};

use super::store::{self, Notice};
use super::{Audience, Category, Draft, Shown, shown};
use crate::auth::guard::{CommunityRef, visible_community};
use crate::auth::model::{Actor, Permission};
use crate::db::{Exec, query};
use crate::error::AppResult;
use crate::services::media;
use crate::web::capability::{NavEntry, Whereabouts};
use crate::web::form::{CsrfMultipart, Fields};
use crate::web::home::Section;
use crate::web::ui::{self, Block, BlocksPage, Form, Input, InputKind, Item, Refusal, Tag, Tile, Tone};
use crate::web::{AppState, Notice as Saved, PageCtx, PageResult, SignedPage, done, fmt, render};

pub fn nav(actor: &Actor, w: &Whereabouts<'_>) -> Vec<NavEntry> {
    match w.community {
        Some(c) if actor.sees_community(c.id) => vec![NavEntry {
            order: 12,
            href: format!("/c/{}/notices", c.code),
            label_key: "notices.title",
            icon: "bell",
        }],
        _ => Vec::new(),
    }
}

/// A notice's tag: where it stands (and pinned).
pub fn state_tag(ctx: &PageCtx, n: &Notice, now: i64) -> Tag {
    match shown(n.publish_at, n.expires_at, now) {
        Shown::Scheduled => Tag::new(ctx.t("notices.scheduled"), Tone::Orange),
        Shown::Expired => Tag::new(ctx.t("notices.expired"), Tone::Grey),
        Shown::Current if n.pinned => Tag::new(ctx.t("notices.pinned"), Tone::Red),
        Shown::Current => Tag::new(ctx.t(&format!("notices.category.{}", n.category.as_str())), Tone::Blue),
    }
}

fn item(ctx: &PageCtx, code: &str, n: &Notice, now: i64) -> Item {
    let sub =
        [ctx.t(&format!("notices.category.{}", n.category.as_str())), n.author.clone(), fmt::datetime(n.publish_at)];
    Item {
        title: n.title.clone(),
        sub: sub.join(" · "),
        href: Some(format!("/c/{code}/notices/{}", n.id)),
        tag: Some(state_tag(ctx, n, now)),
    }
}

/// What the form offers to address: the grids and buildings the author may reach, the teams.
pub struct Offer {
    pub grids: Vec<(i64, String)>,
    pub buildings: Vec<(i64, String)>,
    pub teams: Vec<(i64, String)>,
    /// Whether the author may address the whole community (not only their grids).
    pub all: bool,
}

fn create_form(ctx: &PageCtx, code: &str, o: &Offer) -> Form {
    let labelled = |prefix: &str, values: &[&str]| -> Vec<(String, String)> {
        values.iter().map(|v| (v.to_string(), ctx.t(&format!("{prefix}.{v}")))).collect()
    };
    let audiences: Vec<(String, String)> = Audience::ALL
        .iter()
        .filter(|a| o.all || matches!(a, Audience::Grids | Audience::Buildings))
        .map(|a| (a.as_str().to_string(), ctx.t(&format!("notices.audience.{}", a.as_str()))))
        .collect();
    let mut targets: Vec<(String, String)> = Vec::new();
    let tagged = |what: &str, rows: &[(i64, String)]| -> Vec<(String, String)> {
        rows.iter().map(|(id, name)| (id.to_string(), format!("{} · {name}", ctx.t(what)))).collect()
    };
    targets.extend(tagged("notices.grid", &o.grids));
    targets.extend(tagged("notices.building", &o.buildings));
    targets.extend(tagged("notices.team", &o.teams));
    Form::new(ctx.t("notices.publish"), format!("/c/{code}/notices"), ctx.t("notices.publish"))
        .input(
            Input::new(
                "category",
                ctx.t("notices.category"),
                InputKind::Select(labelled("notices.category", &Category::TEXTS)),
            )
            .required(),
        )
        .input(Input::new("title", ctx.t("notices.notice_title"), InputKind::Text).required())
        .input(Input::new("body", ctx.t("notices.body"), InputKind::TextArea).required())
        .input(Input::new("audience", ctx.t("notices.audience"), InputKind::Select(audiences)).required())
        .input(
            Input::new("targets", ctx.t("notices.targets"), InputKind::Many(targets))
                .hint(ctx.t("notices.targets_hint")),
        )
        .input(
            Input::new("publish_at", ctx.t("notices.publish_at"), InputKind::DateTime)
                .hint(ctx.t("notices.publish_at_hint")),
        )
        .input(Input::new("expires_at", ctx.t("notices.expires_at"), InputKind::DateTime))
        .input(Input::new("pinned", ctx.t("notices.pin"), InputKind::Checkbox))
        .input(
            Input::new("asks_ack", ctx.t("notices.asks_ack"), InputKind::Checkbox).hint(ctx.t("notices.asks_ack_hint")),
        )
        .input(Input::new("files", ctx.t("notices.files"), InputKind::Document).hint(ctx.t("notices.files_hint")))
        .confirm(ctx.t("notices.publish_confirm"))
        .folded()
}

/// The list: the current notices, those scheduled (for their authors), then the archive.
pub fn list_view(ctx: PageCtx, c: &CommunityRef, notices: &[Notice], offer: Option<&Offer>, r: &Refusal) -> BlocksPage {
    let now = crate::db::now_ms();
    let of = |s: Shown| -> Vec<Item> {
        notices
            .iter()
            .filter(|n| shown(n.publish_at, n.expires_at, now) == s)
            .map(|n| item(&ctx, &c.code, n, now))
            .collect()
    };
    let mut blocks = vec![Block::List(ctx.t("notices.current"), of(Shown::Current), ctx.t("notices.none_current"))];
    let scheduled = of(Shown::Scheduled);
    if !scheduled.is_empty() {
        blocks.push(Block::List(ctx.t("notices.scheduled"), scheduled, String::new()));
    }
    if let Some(o) = offer {
        blocks.insert(0, Block::Form(create_form(&ctx, &c.code, o).refused(r)));
    }
    blocks.push(Block::List(ctx.t("notices.archive"), of(Shown::Expired), ctx.t("notices.none_archived")));
    BlocksPage::new(ctx.clone(), ctx.t("notices.title"), Vec::new(), blocks, r)
}

async fn pairs(ex: &mut impl Exec, sql: &'static str, community_id: i64) -> AppResult<Vec<(i64, String)>> {
    Ok(query(sql).bind(community_id).fetch_all(ex).await?)
}

/// What the author may address: every grid, building and team, or their grids' own.
async fn offer(state: &AppState, actor: &Actor, c: &CommunityRef) -> AppResult<Option<Offer>> {
    let access = actor.access(c.id, Permission::PublishNotices);
    if access.is_none() {
        return Ok(None);
    }
    let mut conn = state.db.read().await?;
    let grids = pairs(&mut conn, "SELECT id, name FROM grids WHERE community_id = $1 ORDER BY id", c.id).await?;
    let buildings: Vec<(i64, String, Option<i64>)> = query(
        "SELECT b.id, COALESCE(p.name, '') || b.name, b.grid_id FROM buildings b \
         LEFT JOIN compounds p ON p.community_id = $1 AND p.id = b.compound_id WHERE b.community_id = $1 ORDER BY b.id",
    )
    .bind(c.id)
    .fetch_all(&mut conn)
    .await?;
    let teams = pairs(&mut conn, "SELECT id, name FROM teams WHERE community_id = $1 ORDER BY id", c.id).await?;
    let mine = |g: Option<i64>| access.all || g.is_some_and(|g| access.grids.contains(&g));
    Ok(Some(Offer {
        grids: grids.into_iter().filter(|(id, _)| mine(Some(*id))).collect(),
        buildings: buildings.into_iter().filter(|b| mine(b.2)).map(|(id, name, _)| (id, name)).collect(),
        teams: if access.all { teams } else { Vec::new() },
        all: access.all,
    }))
}

async fn show_list(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    let notices = store::list(&mut state.db.read().await?, actor, c.id).await?;
    let offer = offer(state, actor, c).await?;
    render(&list_view(ctx, c, &notices, offer.as_ref(), r))
}

/// `GET /c/{code}/notices`: the notices one may see.
pub async fn list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    show_list(&state, ctx, &actor, &c, &Refusal::none()).await
}

/// A draft as the form sends it.
pub fn draft_of(f: &mut Fields<'_>) -> Draft {
    let (publish_at, expires_at) = (f.when("publish_at"), f.when("expires_at"));
    Draft {
        category: f.text("category"),
        title: f.text("title"),
        body: f.text("body"),
        audience: f.text("audience"),
        targets: f.ids("targets"),
        publish_at,
        expires_at,
        pinned: f.yes("pinned"),
        asks_ack: f.yes("asks_ack"),
    }
}

/// `POST /c/{code}/notices`: publishes a notice (with attachments).
pub async fn create(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    form: CsrfMultipart,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let result = async {
        let mut f = Fields::new(&form.fields);
        let d = draft_of(&mut f);
        f.checked()?;
        let files = media::check_documents(&form.files)?;
        store::create(&state, &actor, &c, d, &files).await
    }
    .await;
    match result {
        Ok(id) => Ok(done(&format!("/c/{code}/notices/{id}"), Saved::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/notices");
            ui::refused(
                e,
                ctx,
                &form.fields,
                &action,
                |ctx, r| async move { show_list(&state, ctx, &actor, &c, &r).await },
            )
            .await
        }
    }
}

/// The home page: a tile with the unread count, and the current notices one has not read.
pub fn home<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    actor: &'a Actor,
) -> futures::future::BoxFuture<'a, AppResult<Vec<Section>>> {
    Box::pin(async move {
        let mut communities: Vec<i64> = actor.grants.iter().filter_map(|g| g.community_id).collect();
        communities.sort_unstable();
        communities.dedup();
        let now = crate::db::now_ms();
        let mut out = Vec::new();
        for cid in communities {
            let mut conn = state.db.read().await?;
            let Some(c) = crate::auth::guard::community_by_id(&mut conn, cid).await? else { continue };
            let unread = store::unread(&mut conn, cid, actor.user_id, now).await?;
            let tile =
                Tile::new(ctx.t("notices.title"), format!("/c/{}/notices", c.code), "bell").badge(unread.len() as i64);
            let items: Vec<Item> = unread.iter().take(3).map(|n| item(ctx, &c.code, n, now)).collect();
            out.push(Section { tiles: vec![tile], title: ctx.t("notices.unread"), items, ..Section::default() });
        }
        Ok(out)
    })
}
