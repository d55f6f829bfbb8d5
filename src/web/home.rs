//! The home page: each capability's sections for the signed-in user, in the order of
//! `capabilities::ALL`.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};

use super::{AppState, Page, PageCtx, PageResult, render};

pub use super::ui::{Item, Stat};

/// A part of a home page: figures, a chart or a map, a list, and links onward.
#[derive(Default)]
pub struct Section {
    pub title: String,
    pub stats: Vec<Stat>,
    pub chart: Option<super::ui::Bars>,
    pub map: Option<super::ui::MapView>,
    pub items: Vec<Item>,
    pub links: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "home/index.html")]
struct HomeTemplate {
    ctx: PageCtx,
    title: String,
    sections: Vec<Section>,
}

pub async fn page(State(state): State<AppState>, Page(ctx): Page) -> PageResult {
    let Some(actor) = ctx.user.clone() else {
        return Ok(Redirect::to("/login").into_response());
    };
    let mut sections = Vec::new();
    for cap in state.caps {
        if let Some(home) = cap.home {
            sections.extend(home(&state, &ctx, &actor).await?);
        }
    }
    let title = ctx.t("nav.home");
    render(&HomeTemplate { ctx, title, sections })
}
