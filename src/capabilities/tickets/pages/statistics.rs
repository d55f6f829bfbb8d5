//! Ticket statistics pages with charts, and the ticket ledger 工单台账 as a spreadsheet,
//! for a community or a subdistrict.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::{status_label, subdistrict_communities};
use crate::auth::model::Actor;
use crate::capabilities::tickets::stats::{self, Scope};
use crate::capabilities::tickets::{self, Status};
use crate::db::query;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::ui::Bars;
use crate::web::{PageCtx, PageResult, SignedPage, fmt, render};

#[derive(Template)]
#[template(path = "tickets/stats.html")]
struct StatsTemplate {
    ctx: PageCtx,
    title: String,
    f: stats::Figures,
    completion: String,
    on_time: String,
    satisfaction: String,
    response: String,
    resolution: String,
    status_chart: Bars,
    category_chart: Bars,
    place_chart: Bars,
    place_label: String,
    places: Vec<PlaceLine>,
    grids: Vec<(String, String, bool)>,
    export: String,
}

/// A place's line in the comparison: its counts and its three rates, shown.
struct PlaceLine {
    name: String,
    total: i64,
    completed: i64,
    completion: String,
    on_time: String,
    satisfaction: String,
}

async fn stats_page(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    scope: Scope,
    name: String,
    base: String,
    export: String,
) -> PageResult {
    let f = stats::figures(&state.db, &actor, &scope).await?;
    let place_label = ctx.t(if scope.community_ids.len() > 1 { "entity.community" } else { "entity.grid" });
    let status_chart = Bars::new(
        ctx.t("ticket.by_status"),
        &Status::ALL
            .iter()
            .filter_map(|s| f.by_status.get(s.as_str()).map(|n| (status_label(&ctx, s.as_str()), *n as f64)))
            .collect::<Vec<_>>(),
        "",
    );
    let totals = |rows: &[stats::Row]| rows.iter().map(|r| (r.name.clone(), r.total as f64)).collect::<Vec<_>>();
    let category_chart = Bars::new(ctx.t("ticket.by_category"), &totals(&f.by_category), "");
    // Places are compared by how well they do, not by how many asked: a community of
    // 20,000 has more tickets than one of 3,000.
    let mut by_rate: Vec<(String, f64)> = f
        .by_place
        .iter()
        .filter_map(|r| r.completion_rate().map(|x| (r.name.clone(), (x * 1000.0).round() / 10.0)))
        .collect();
    by_rate.sort_by(|a, b| b.1.total_cmp(&a.1));
    let place_chart = Bars::new(format!("{} · {}", place_label, ctx.t("ticket.completion_rate")), &by_rate, "%");
    let places = f
        .by_place
        .iter()
        .map(|r| PlaceLine {
            name: r.name.clone(),
            total: r.total,
            completed: r.completed,
            completion: fmt::percent(r.completion_rate()),
            on_time: fmt::percent(r.on_time_rate()),
            satisfaction: fmt::percent(r.satisfaction_rate()),
        })
        .collect();
    let mut grids = Vec::new();
    if let [c] = scope.community_ids.as_slice() {
        let mut conn = state.db.read().await?;
        grids.push((base.clone(), ctx.t("common.all"), scope.grid_id.is_none()));
        let rows = crate::capabilities::registry::places::grid_names(&mut conn, *c).await?;
        grids.extend(rows.into_iter().map(|(id, n)| (format!("{base}?grid_id={id}"), n, scope.grid_id == Some(id))));
    }
    let tmpl = StatsTemplate {
        title: format!("{name} · {}", ctx.t("ticket.stats")),
        completion: fmt::percent(f.completion_rate),
        on_time: fmt::percent(f.on_time_rate),
        satisfaction: fmt::percent(f.satisfaction_rate),
        response: stats::human_duration(f.median_response_ms),
        resolution: stats::human_duration(f.median_resolution_ms),
        status_chart,
        category_chart,
        place_chart,
        place_label,
        places,
        grids,
        export,
        f,
        ctx,
    };
    render(&tmpl)
}

#[derive(Deserialize)]
pub struct GridQuery {
    grid_id: Option<i64>,
}

pub async fn community_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<GridQuery>,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let scope = Scope { community_ids: vec![c.id], grid_id: q.grid_id };
    stats_page(
        state,
        ctx,
        actor,
        scope,
        c.name.clone(),
        format!("/c/{}/tickets/stats", c.code),
        format!("/c/{}/tickets.xlsx", c.code),
    )
    .await
}

pub async fn subdistrict_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    let communities = subdistrict_communities(&state, &actor, id).await?;
    let mut conn = state.db.read().await?;
    let name: String = query("SELECT name FROM subdistricts WHERE id = $1").bind(id).scalar(&mut conn).await?;
    drop(conn);
    let scope = Scope { community_ids: communities.iter().map(|c| c.id).collect(), grid_id: None };
    stats_page(
        state,
        ctx,
        actor,
        scope,
        name,
        format!("/subdistricts/{id}/tickets/stats"),
        format!("/subdistricts/{id}/tickets.xlsx"),
    )
    .await
}

#[derive(sqlx::FromRow)]
struct LedgerRow {
    id: i64,
    community: String,
    category: String,
    channel: String,
    status: String,
    description: String,
    address: Option<String>,
    grid: Option<String>,
    owner: Option<String>,
    created_at: i64,
    due_at: i64,
    accepted_at: Option<i64>,
    resolved_at: Option<i64>,
    closed_at: Option<i64>,
    rating: Option<i64>,
    escalation_level: i64,
    reopen_count: i64,
}

/// The ticket ledger 工单台账 as rows (staff and overseers only).
pub async fn ledger_rows(state: &AppState, actor: &Actor, community_ids: &[i64]) -> AppResult<Vec<Vec<String>>> {
    if !stats::may_see(actor, &Scope { community_ids: community_ids.to_vec(), grid_id: None }) {
        return Err(AppError::NotFound);
    }
    let mut b = crate::db::Builder::new(
        "SELECT t.id, c.name AS community, k.name AS category, t.channel, t.status, t.description, t.address, g.name AS grid, u.display_name AS owner, t.created_at, t.due_at, t.accepted_at, t.resolved_at, t.closed_at, t.rating, t.escalation_level, t.reopen_count
         FROM tickets t JOIN communities c ON c.id = t.community_id
         JOIN ticket_categories k ON k.community_id = t.community_id AND k.id = t.category_id
         LEFT JOIN grids g ON g.community_id = t.community_id AND g.id = t.grid_id
         LEFT JOIN users u ON u.id = t.owner_user_id WHERE t.community_id IN ",
    );
    b.list(community_ids.iter().copied()).push(" ORDER BY t.created_at, t.id");
    let mut conn = state.db.read().await?;
    let rows: Vec<LedgerRow> = b.build().fetch_all(&mut conn).await?;
    let zh = crate::i18n::Lang::Zh;
    let t = |ms: Option<i64>| ms.map(fmt::datetime).unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.community,
                r.category,
                crate::i18n::t(zh, &format!("ticket.channel.{}", r.channel)),
                crate::i18n::t(zh, &format!("ticket.status.{}", r.status)),
                tickets::mask_numbers(&r.description),
                r.address.unwrap_or_default(),
                r.grid.unwrap_or_default(),
                r.owner.unwrap_or_default(),
                fmt::datetime(r.created_at),
                fmt::datetime(r.due_at),
                t(r.accepted_at),
                t(r.resolved_at),
                t(r.closed_at),
                r.rating.map(|x| x.to_string()).unwrap_or_default(),
                if r.escalation_level > 0 { format!("{}级", r.escalation_level) } else { String::new() },
                r.reopen_count.to_string(),
            ]
        })
        .collect())
}

pub const LEDGER_COLUMNS: [&str; 17] = [
    "编号",
    "社区",
    "类别",
    "来源",
    "状态",
    "诉求内容",
    "地点",
    "网格",
    "承办人",
    "受理时间",
    "办理时限",
    "接单时间",
    "办结时间",
    "关闭时间",
    "评价",
    "督办",
    "重办次数",
];

async fn ledger(state: &AppState, actor: &Actor, community_ids: &[i64], name: &str) -> PageResult {
    let rows = ledger_rows(state, actor, community_ids).await?;
    let bytes = crate::services::sheets::xlsx_table("工单台账", &LEDGER_COLUMNS, &rows)?;
    Ok(crate::services::sheets::download(name, "工单台账", bytes))
}

pub async fn community_ledger(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    ledger(&state, &actor, &[c.id], &c.name).await
}

pub async fn subdistrict_ledger(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    let communities = subdistrict_communities(&state, &actor, id).await?;
    let ids: Vec<i64> = communities.iter().map(|c| c.id).collect();
    ledger(&state, &actor, &ids, "街道").await
}
