//! The archive of monthly reports: after a month ends (from 01:00 on the 1st, China time)
//! the job writes each subdistrict's and each community's report of it, Excel and PDF,
//! under the data directory (`reports/subdistrict-{id}/2026-11.xlsx`,
//! `reports/community-{code}/…`), as it stood then; the archive page lists them. A file
//! is written under a temporary name and renamed, so several servers writing the same
//! month leave one whole file.

use std::path::PathBuf;

use axum::extract::{Path, State};
use chrono::{Datelike, Timelike};
use futures::future::BoxFuture;

use super::files::{self, MonthReport};
use super::{Asked, store};
use crate::auth::guard::{self, CommunityRef};
use crate::db::query;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::web::dictionary::Period;
use crate::web::ui::{Block, BlocksPage, Cell, Refusal, Table};
use crate::web::{AppState, PageCtx, PageResult, SignedPage, render};

/// Whose reports a folder keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whose {
    Subdistrict(i64),
    Community(String),
}

impl Whose {
    fn folder(&self, state: &AppState) -> PathBuf {
        let name = match self {
            Whose::Subdistrict(id) => format!("subdistrict-{id}"),
            Whose::Community(code) => format!("community-{code}"),
        };
        state.config.data_dir.join("reports").join(name)
    }
}

/// The month whose reports are due at `now`: the one before, once its 1st's first hour
/// has passed.
pub fn due(now: i64) -> Option<Period> {
    let t = crate::web::fmt::to_cst(now);
    let first = t.date_naive().with_day(1)?;
    if t.day() == 1 && t.hour() < 1 {
        return None;
    }
    Some(Period::of(first.checked_sub_months(chrono::Months::new(1))?))
}

async fn write(folder: &std::path::Path, month: &str, ext: &str, bytes: &[u8]) -> AppResult<()> {
    tokio::fs::create_dir_all(folder).await?;
    let part = folder.join(format!(".{month}.{ext}.{}", std::process::id()));
    tokio::fs::write(&part, bytes).await?;
    tokio::fs::rename(&part, folder.join(format!("{month}.{ext}"))).await?;
    Ok(())
}

/// Writes one report's two files.
async fn keep(state: &AppState, whose: &Whose, r: &MonthReport) -> AppResult<()> {
    let ctx = PageCtx::plain(Lang::Zh);
    let folder = whose.folder(state);
    let xlsx = files::xlsx(&ctx, r).map_err(AppError::from)?;
    write(&folder, &r.period.month, "xlsx", &xlsx).await?;
    write(&folder, &r.period.month, "pdf", &files::pdf(&ctx, r)?).await
}

/// Writes the reports of the month due that are not yet kept.
pub async fn run_once(state: &AppState, now: i64) -> AppResult<usize> {
    let Some(period) = due(now) else { return Ok(0) };
    let asked = Asked::read(state, &super::Ask { month: Some(period.month.clone()), ..Default::default() })?;
    let subdistricts: Vec<(i64, String)> =
        query("SELECT id, name FROM subdistricts ORDER BY id").fetch_all(&mut state.db.read().await?).await?;
    let mut written = 0;
    for (id, name) in subdistricts {
        let cs: Vec<CommunityRef> =
            query("SELECT id, code, name, subdistrict_id, kind FROM communities WHERE subdistrict_id = $1 AND archived_at IS NULL ORDER BY id")
                .bind(id)
                .fetch_all(&mut state.db.read().await?)
                .await?;
        let whose = Whose::Subdistrict(id);
        let kept = |w: &Whose| w.folder(state).join(format!("{}.pdf", period.month)).exists();
        let missing: Vec<&CommunityRef> = cs.iter().filter(|c| !kept(&Whose::Community(c.code.clone()))).collect();
        if cs.is_empty() || (kept(&whose) && missing.is_empty()) {
            continue;
        }
        let r = files::read(state, name, &cs, &asked).await?;
        // Each community's own report is its part of the subdistrict's.
        for (c, grids, total) in &r.communities {
            if missing.iter().any(|m| m.id == c.id) {
                let own = MonthReport {
                    title: c.name.clone(),
                    period: r.period.clone(),
                    figures: r.figures.clone(),
                    communities: vec![(c.clone(), grids.clone(), total.clone())],
                    total: total.clone(),
                };
                keep(state, &Whose::Community(c.code.clone()), &own).await?;
                written += 1;
            }
        }
        if !kept(&whose) {
            keep(state, &whose, &r).await?;
            written += 1;
        }
    }
    Ok(written)
}

pub fn job(state: &AppState, now: i64) -> BoxFuture<'_, anyhow::Result<()>> {
    Box::pin(async move {
        let n = run_once(state, now).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        if n > 0 {
            tracing::info!(reports = n, "monthly reports archived");
        }
        Ok(())
    })
}

/// The months kept in a folder, newest first.
async fn months(state: &AppState, whose: &Whose) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    let Ok(mut dir) = tokio::fs::read_dir(whose.folder(state)).await else { return Ok(out) };
    while let Some(e) = dir.next_entry().await? {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(month) = name.strip_suffix(".pdf").filter(|m| !m.starts_with('.')) {
            out.push(month.to_string());
        }
    }
    out.sort_by(|a, b| b.cmp(a));
    Ok(out)
}

pub fn archive_view(ctx: PageCtx, title: String, base: &str, months: &[String]) -> BlocksPage {
    let rows = months
        .iter()
        .map(|m| {
            vec![
                Cell::text(m.clone()),
                Cell::link("PDF", format!("{base}/reports/{m}.pdf")),
                Cell::link("Excel", format!("{base}/reports/{m}.xlsx")),
            ]
        })
        .collect();
    let head = vec![ctx.t("dashboard.month"), "PDF".to_string(), "Excel".to_string()];
    let table = Table { head, rows, empty: ctx.t("dashboard.archive_none"), sort: Vec::new() };
    let blocks = vec![Block::Table(ctx.t("dashboard.archive_hint"), table)];
    let crumbs = vec![(base.to_string(), ctx.t("dashboard.title"))];
    BlocksPage::new(ctx.clone(), format!("{title} · {}", ctx.t("dashboard.archive")), crumbs, blocks, &Refusal::none())
}

/// `GET /subdistricts/{id}/dashboard/reports`.
pub async fn subdistrict_list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
) -> PageResult {
    let (name, _) = guard::subdistrict_community_refs(&state.db, &actor, id).await?;
    let months = months(&state, &Whose::Subdistrict(id)).await?;
    render(&archive_view(ctx, name, &format!("/subdistricts/{id}/dashboard"), &months))
}

/// `GET /c/{code}/dashboard/reports`: the community's staff.
pub async fn community_list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = store::whole_community(&state, &actor, &code).await?;
    let months = months(&state, &Whose::Community(c.code.clone())).await?;
    render(&archive_view(ctx, c.name, &format!("/c/{code}/dashboard"), &months))
}

/// A kept file by its name (`2026-11.pdf`), only a month's name and a known kind.
async fn kept_file(state: &AppState, whose: &Whose, place: &str, file: &str) -> PageResult {
    let (month, ext) = file.rsplit_once('.').ok_or(AppError::NotFound)?;
    let month_ok = Period::parse(Some(month)).is_ok_and(|p| p.month == month);
    if !month_ok || !matches!(ext, "xlsx" | "pdf") {
        return Err(AppError::NotFound.into());
    }
    let bytes = tokio::fs::read(whose.folder(state).join(file)).await.map_err(|_| AppError::NotFound)?;
    let name = crate::i18n::t(crate::i18n::current(), "dashboard.report");
    Ok(match ext {
        "pdf" => crate::services::pdf::answer("attachment", &format!("{place}-{name}-{month}.pdf"), bytes),
        _ => crate::services::sheets::download(place, &format!("{name}-{month}"), bytes),
    })
}

/// `GET /subdistricts/{id}/dashboard/reports/{file}`.
pub async fn subdistrict_file(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((id, file)): Path<(i64, String)>,
) -> PageResult {
    let (name, _) = guard::subdistrict_community_refs(&state.db, &actor, id).await?;
    kept_file(&state, &Whose::Subdistrict(id), &name, &file).await
}

/// `GET /c/{code}/dashboard/reports/{file}`.
pub async fn community_file(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, file)): Path<(String, String)>,
) -> PageResult {
    let c = store::whole_community(&state, &actor, &code).await?;
    kept_file(&state, &Whose::Community(c.code.clone()), &c.name, &file).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_archived_from_the_first_hour_of_the_next() {
        let at = |s: &str| crate::web::fmt::parse_local(s).unwrap();
        assert_eq!(due(at("2026-12-01T00:30")), None);
        assert_eq!(due(at("2026-12-01T01:00")).unwrap().month, "2026-11");
        assert_eq!(due(at("2027-01-15T09:00")).unwrap().month, "2026-12");
    }
}
