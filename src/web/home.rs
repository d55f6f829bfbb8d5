//! The home page: each capability's sections for the signed-in user, in the order of
//! `capabilities::ALL`.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};

use super::{AppState, Page, PageCtx, PageResult, render};

pub use super::ui::{Item, Stat, Tile};

/// A part of a home page: figures, a chart or a map, a list, and links onward.
#[derive(Default)]
pub struct Section {
    /// Its main actions, gathered from every section into the icon grid at the top.
    pub tiles: Vec<Tile>,
    pub title: String,
    pub stats: Vec<Stat>,
    pub chart: Option<super::ui::Bars>,
    pub map: Option<super::ui::MapView>,
    pub items: Vec<Item>,
    pub links: Vec<(String, String)>,
}

impl Section {
    /// Nothing to draw beyond its tiles (which the grid at the top shows).
    fn shows_nothing(&self) -> bool {
        self.stats.is_empty()
            && self.items.is_empty()
            && self.links.is_empty()
            && self.chart.is_none()
            && self.map.is_none()
    }
}

#[derive(Template)]
#[template(path = "home/index.html")]
struct HomeTemplate {
    ctx: PageCtx,
    title: String,
    tiles: Vec<Tile>,
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
    let tiles = sections.iter_mut().flat_map(|s| std::mem::take(&mut s.tiles)).collect();
    // A section that only carried tiles has nothing more to show.
    sections.retain(|s| !s.shows_nothing());
    render(&HomeTemplate { ctx, title, tiles, sections })
}
