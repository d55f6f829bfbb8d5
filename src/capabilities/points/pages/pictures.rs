//! A reward's picture for the shop: staff put one up (a photo of the goods, the partner
//! unit's service), and the shop's card shows it.

use askama::Template;
use axum::extract::{Path, State};

use super::community;
use crate::auth::guard;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::points::store;
use crate::error::{AppError, AppResult, FieldError};
use crate::services::media;
use crate::web::AppState;
use crate::web::form::CsrfMultipart;
use crate::web::ui::{self, Form, Input, InputKind, Photo, Refusal};
use crate::web::{Notice, PageCtx, PageResult, SignedPage, done, render};

#[derive(Template)]
#[template(path = "points/picture.html")]
pub struct PicturePage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub crumbs: Vec<(String, String)>,
    pub picture: Vec<Photo>,
    pub upload: Form,
}

pub fn picture_view(ctx: PageCtx, code: &str, reward: &store::Reward, picture: Vec<Photo>, r: &Refusal) -> PicturePage {
    let upload = Form::new(
        ctx.t("points.picture_upload"),
        format!("/c/{code}/rewards/{}/picture", reward.id),
        ctx.t("common.save"),
    )
    .input(
        Input::new("picture", ctx.t("points.picture"), InputKind::File).required().hint(ctx.t("points.picture_hint")),
    )
    .refused(r);
    PicturePage {
        title: format!("{} · {}", reward.name, ctx.t("points.picture")),
        alert: r.alert_for(&[&upload]),
        crumbs: vec![
            (format!("/c/{code}/rewards/{}", reward.id), reward.name.clone()),
            (format!("/c/{code}/shop"), ctx.t("points.shop")),
        ],
        picture,
        upload,
        ctx,
    }
}

async fn show(state: &AppState, ctx: PageCtx, actor: &Actor, code: &str, id: i64, r: &Refusal) -> PageResult {
    let c = community(state, actor, code).await?;
    guard::require(actor, c.id, Permission::ManagePoints)?;
    let mut conn = state.db.read().await?;
    let reward = store::reward(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    let picture = store::pictures(&mut conn, c.id, &[id]).await?;
    drop(conn);
    let shown = media::thumbnails(&picture.into_values().collect::<Vec<_>>(), &c.code);
    render(&picture_view(ctx, &c.code, &reward, shown, r))
}

pub async fn picture_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    show(&state, ctx, &actor, &code, id, &Refusal::none()).await
}

/// Puts up one picture; the newest is the one the shop shows.
async fn put_up(state: &AppState, actor: &Actor, community_id: i64, id: i64, form: &CsrfMultipart) -> AppResult<()> {
    guard::require(actor, community_id, Permission::ManagePoints)?;
    let photos = media::check_uploads(&form.files)?;
    if photos.len() != 1 {
        return Err(AppError::Invalid(vec![FieldError::new("picture", "points.picture_one")]));
    }
    let mut tx = state.db.begin().await?;
    store::reward(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    media::attach(state, &mut tx, community_id, "reward", id, Some(actor.user_id), &photos).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_picture(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    form: CsrfMultipart,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match put_up(&state, &actor, c.id, id, &form).await {
        Ok(()) => Ok(done(&format!("/c/{code}/shop"), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/rewards/{id}/picture");
            ui::refused(e, ctx, &form.fields, &action, |ctx, r| async move {
                show(&state, ctx, &actor, &code, id, &r).await
            })
            .await
        }
    }
}
