//! Import and export pages. An upload is first checked (every bad row listed); the
//! office then confirms, and the file kept aside is imported in one transaction.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::store::{self, Mode, Report};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Permission;
use crate::error::AppError;
use crate::services::audit::By;
use crate::web::AppState;
use crate::web::form::{CsrfMultipart, text};
use crate::web::{PageCtx, PageResult, SignedPage, render};

/// Uploads larger than this are refused.
pub const MAX_UPLOAD: usize = 20 * 1024 * 1024;

#[derive(Template)]
#[template(path = "transfer/import.html")]
struct ImportTemplate {
    ctx: PageCtx,
    title: String,
    community: CommunityRef,
    report: Option<Report>,
    /// The name under which a checked upload waits for confirmation.
    pending: Option<String>,
    columns: String,
}

fn page(ctx: PageCtx, c: CommunityRef, report: Option<Report>, pending: Option<String>) -> PageResult {
    let title = format!("{} · {}", c.name, ctx.t("registry.import"));
    render(&ImportTemplate { title, community: c, report, pending, columns: super::COLUMNS.join("、"), ctx })
}

pub async fn import_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    if !actor.access(c.id, Permission::EditRegistry).all {
        return Err(AppError::Forbidden.into());
    }
    page(ctx, c, None, None)
}

fn pending_path(state: &AppState, name: &str) -> Option<std::path::PathBuf> {
    // Names are ours (hex); anything else is refused rather than joined to a path.
    (name.len() == 32 && name.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| state.config.data_dir.join("imports").join(name))
}

pub async fn import(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfMultipart { fields, files }: CsrfMultipart,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let by = By::from(&actor);
    let file = files.into_iter().find(|f| f.field == "file").map(|f| f.bytes);
    if file.as_ref().is_some_and(|b| b.len() > MAX_UPLOAD) {
        return Err(AppError::PayloadTooLarge.into());
    }
    let pending = fields.get("pending").and_then(|v| v.as_str()).map(str::to_string);
    let skip_invalid = text(&fields, "skip_invalid") == "true";
    match (file, pending) {
        // A new upload: check it, and keep it for confirmation.
        (Some(bytes), _) => {
            let report = store::import(&state.db, &state.pii, Some(&actor), &by, c.id, &bytes, Mode::DryRun).await?;
            let mut name = [0u8; 16];
            getrandom::fill(&mut name).map_err(|e| AppError::Internal(anyhow::anyhow!("random: {e}")))?;
            let name = hex::encode(name);
            let dir = state.config.data_dir.join("imports");
            tokio::fs::create_dir_all(&dir).await?;
            tokio::fs::write(dir.join(&name), &bytes).await?;
            page(ctx, c, Some(report), Some(name))
        }
        // Confirmation of a checked upload.
        (None, Some(name)) => {
            let path = pending_path(&state, &name).ok_or(AppError::NotFound)?;
            let bytes = tokio::fs::read(&path).await.map_err(|_| AppError::NotFound)?;
            let mode = if skip_invalid { Mode::SkipInvalid } else { Mode::Import };
            let report = store::import(&state.db, &state.pii, Some(&actor), &by, c.id, &bytes, mode).await?;
            if report.applied {
                let _ = tokio::fs::remove_file(&path).await;
            }
            let keep = (!report.applied).then_some(name);
            page(ctx, c, Some(report), keep)
        }
        (None, None) => Err(AppError::field("file", "validation.required").into()),
    }
}

pub async fn export(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
) -> Result<Response, crate::web::PageError> {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let rows = store::export_rows(&state.db, &actor, c.id).await?;
    let bytes = crate::services::sheets::xlsx_table("居民登记", &store::EXPORT_COLUMNS, &rows)?;
    Ok(crate::services::sheets::download(&c.name, "居民登记", bytes))
}
