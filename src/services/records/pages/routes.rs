//! The handlers the routes name: each finds the target of its URL (a kind in a community,
//! or at platform level) and hands over to the list, the forms or the record's page.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect};

use super::forms::{create, edit_form, new_form, update};
use super::record::{archive, reveal, show};
use super::{global, in_community};
use crate::web::AppState;
use crate::web::form::CsrfForm;
use crate::web::{PageResult, SignedPage};

// ---------- routes: community records ----------

pub async fn c_new(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((code, path)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    new_form(s, ctx, a, t, q.unwrap_or_default()).await
}

pub async fn c_create(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((code, path)): Path<(String, String)>,
    CsrfForm(form): CsrfForm,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    create(s, ctx, a, t, form).await
}

pub async fn c_show(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((code, path, id)): Path<(String, String, i64)>,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    show(s, ctx, a, t, id).await
}

pub async fn c_edit(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((code, path, id)): Path<(String, String, i64)>,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    edit_form(s, ctx, a, t, id).await
}

pub async fn c_update(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((code, path, id)): Path<(String, String, i64)>,
    CsrfForm(form): CsrfForm,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    update(s, ctx, a, t, id, form).await
}

pub async fn c_archive(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path((code, path, id)): Path<(String, String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    archive(s, a, t, id, true).await
}

pub async fn c_unarchive(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path((code, path, id)): Path<(String, String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    archive(s, a, t, id, false).await
}

pub async fn c_reveal(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((code, path, id, field)): Path<(String, String, i64, String)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let t = in_community(&s, &a, &code, &path).await?;
    reveal(s, ctx, a, t, id, field).await
}

/// `/c/{code}`: the community's page.
pub async fn c_home(State(s): State<AppState>, SignedPage(_, a): SignedPage, Path(code): Path<String>) -> PageResult {
    let c = crate::auth::guard::visible_community(&s.db, &a, &code).await?;
    Ok(Redirect::to(&format!("/communities/{}", c.id)).into_response())
}

// ---------- routes: platform records ----------

pub async fn g_new(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path(path): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult {
    new_form(s, ctx, a, global(&path)?, q.unwrap_or_default()).await
}

pub async fn g_create(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path(path): Path<String>,
    CsrfForm(form): CsrfForm,
) -> PageResult {
    create(s, ctx, a, global(&path)?, form).await
}

pub async fn g_show(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((path, id)): Path<(String, i64)>,
) -> PageResult {
    show(s, ctx, a, global(&path)?, id).await
}

pub async fn g_edit(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((path, id)): Path<(String, i64)>,
) -> PageResult {
    edit_form(s, ctx, a, global(&path)?, id).await
}

pub async fn g_update(
    State(s): State<AppState>,
    SignedPage(ctx, a): SignedPage,
    Path((path, id)): Path<(String, i64)>,
    CsrfForm(form): CsrfForm,
) -> PageResult {
    update(s, ctx, a, global(&path)?, id, form).await
}

pub async fn g_archive(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path((path, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    archive(s, a, global(&path)?, id, true).await
}

/// A subdistrict's own archive and unarchive (see `api::subdistrict_archive`).
pub async fn subdistrict_archive(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    archive(s, a, global("subdistricts")?, id, true).await
}

pub async fn subdistrict_unarchive(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    archive(s, a, global("subdistricts")?, id, false).await
}

pub async fn g_unarchive(
    State(s): State<AppState>,
    SignedPage(_, a): SignedPage,
    Path((path, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    archive(s, a, global(&path)?, id, false).await
}
