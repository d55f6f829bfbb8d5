//! Pages of the participation figures for a community or a subdistrict, and their export
//! to a spreadsheet. The figures are read, a plain function builds the view, and
//! `templates/participation/stats.html` draws it.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::community;
use crate::auth::model::Actor;
use crate::capabilities::participation::store;
use crate::capabilities::participation::{PLEDGE_KINDS, RegistrationKind, stats};
use crate::error::AppResult;
use crate::web::ui::{Bars, Cell, Stat, Table};
use crate::web::{AppState, PageCtx, PageResult, SignedPage, fmt, render};

#[derive(Template)]
#[template(path = "participation/stats.html")]
pub struct StatsPage {
    pub ctx: PageCtx,
    pub title: String,
    pub stats: Vec<Stat>,
    pub export: String,
    pub needs: Bars,
    pub pledges: Bars,
    pub stages: Bars,
    /// Each community's figures, when there are several.
    pub by_community: Option<Table>,
}

/// The figures `f` (and each community's, `each`) drawn as figures, bars and a table;
/// `export` is where their spreadsheet is.
pub fn stats_view(
    ctx: PageCtx,
    title: String,
    export: String,
    f: &stats::Figures,
    each: &[stats::Figures],
) -> StatsPage {
    let pct = |v: Option<f64>| v.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "—".into());
    let needs: Vec<(String, f64)> = f
        .needs
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| (ctx.t(&format!("participation.need_status.{k}")), *n as f64))
        .collect();
    let pledges: Vec<(String, f64)> = PLEDGE_KINDS
        .iter()
        .map(|k| {
            (ctx.t(&format!("participation.pledge_kind.{k}")), f.pledges.get(*k).map(|p| p.count).unwrap_or(0) as f64)
        })
        .collect();
    let stages: Vec<(String, f64)> = f
        .proposals
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| (ctx.t(&format!("council.stage.{k}")), *n as f64))
        .collect();
    let yuan: i64 = f.pledges.values().map(|p| p.yuan).sum();
    let stat = |key: &str, value: String| Stat { label: ctx.t(key), value, href: None };
    let by_community = (each.len() > 1).then(|| {
        let cols = [0, 1, 5, 6, 9, 14, 15, 19, 20, 22];
        Table {
            head: cols.iter().map(|i| stats::COLUMNS[*i].to_string()).collect(),
            rows: each
                .iter()
                .map(|c| {
                    let r = stats::row(c);
                    cols.iter().map(|i| Cell::text(r[*i].clone())).collect()
                })
                .collect(),
            empty: ctx.t("list.empty"),
            sort: Vec::new(),
        }
    });
    StatsPage {
        stats: vec![
            stat("participation.registrations", fmt::thousands(f.registrations)),
            stat("participation.units", fmt::thousands(f.units)),
            stat("participation.members", fmt::thousands(f.members)),
            stat("participation.active", fmt::thousands(f.active)),
            stat("participation.fulfilment_rate", pct(f.fulfilment_pct)),
            stat("participation.yuan", fmt::thousands(yuan)),
            stat("participation.pairs", fmt::thousands(f.pairs)),
            stat("participation.compliance", pct(f.compliance_pct)),
            stat("participation.visits", fmt::thousands(f.visits)),
            stat("council.turnout", pct(f.turnout_pct)),
        ],
        needs: Bars::new(String::new(), &needs, ""),
        pledges: Bars::new(String::new(), &pledges, ""),
        stages: Bars::new(String::new(), &stages, ""),
        by_community,
        title,
        export,
        ctx,
    }
}

async fn show_stats(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    ids: &[i64],
    title: String,
    export: String,
) -> PageResult {
    let (f, each) = stats::figures(&state.db, actor, ids).await?;
    render(&stats_view(ctx, title, export, &f, &each))
}

pub async fn community_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let title = format!("{} · {}", c.name, ctx.t("participation.stats"));
    show_stats(&state, ctx, &actor, &[c.id], title, format!("/c/{code}/participation.xlsx")).await
}

pub async fn subdistrict_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    let (name, ids) = crate::auth::guard::subdistrict_communities(&state.db, &actor, id).await?;
    let title = format!("{name} · {}", ctx.t("participation.stats"));
    show_stats(&state, ctx, &actor, &ids, title, format!("/subdistricts/{id}/participation.xlsx")).await
}

async fn export(state: &AppState, actor: &Actor, ids: &[i64], name: &str) -> AppResult<Response> {
    let (total, each) = stats::figures(&state.db, actor, ids).await?;
    let mut rows: Vec<Vec<String>> = each.iter().map(stats::row).collect();
    if each.len() > 1 {
        let mut t = stats::row(&total);
        t[0] = "合计".into();
        rows.push(t);
    }
    let mut registered = Vec::new();
    let mut conn = state.db.read().await?;
    for c in ids {
        for l in store::registrations(&mut conn, actor, *c).await? {
            let community = each.iter().find(|f| f.community_id == *c).map(|f| f.name.clone()).unwrap_or_default();
            registered.push(vec![
                community,
                if l.r.kind == RegistrationKind::Unit { "单位".into() } else { "党员".into() },
                l.r.name.clone(),
                l.r.party_org.clone(),
                crate::i18n::t(crate::i18n::Lang::Zh, &format!("participation.status.{}", l.r.status.as_str())),
                l.r.contact_phone_masked.clone().unwrap_or_default(),
                l.activity.to_string(),
            ]);
        }
    }
    let bytes = crate::services::sheets::xlsx_book(&[
        ("参与统计", stats::COLUMNS, &rows),
        ("报到台账", &["社区", "类别", "名称", "党组织", "状态", "联系电话", "今年参与次数"], &registered),
    ])?;
    Ok(crate::services::sheets::download(name, "双报到台账", bytes))
}

pub async fn community_export(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    Ok(export(&state, &actor, &[c.id], &c.name).await?)
}

pub async fn subdistrict_export(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    let (name, ids) = crate::auth::guard::subdistrict_communities(&state.db, &actor, id).await?;
    Ok(export(&state, &actor, &ids, &name).await?)
}
