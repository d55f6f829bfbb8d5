//! A page made of blocks (cards, figures, lists, tables, forms, photos, charts, maps,
//! timelines), built by plain functions from loaded data and drawn by one template
//! (`templates/ui/blocks.html`): the pages of money, the directory and what follows use it.

use askama::Template;

use super::{Bars, Form, Item, Kpi, MapView, Photo, Refusal, Step, Table, Tag};
use crate::web::PageCtx;

/// One part of a page.
pub enum Block {
    /// A card: title, tag, cells, text, links.
    Card(String, Option<Tag>, Vec<(String, String)>, Option<String>, Vec<(String, String)>),
    Kpis(Vec<Kpi>),
    /// A progress bar: what, percent, a note.
    Progress(String, i64, String),
    List(String, Vec<Item>, String),
    Table(String, Table),
    Form(Form),
    Photos(String, Vec<Photo>),
    Chart(Bars),
    Timeline(String, Vec<Step>),
    Map(MapView),
}

#[derive(Template)]
#[template(path = "ui/blocks.html")]
pub struct BlocksPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub alert: Option<String>,
    pub blocks: Vec<Block>,
}

impl BlocksPage {
    /// A page of blocks; the refusal's alert goes above them when one of its forms was
    /// refused.
    pub fn new(
        ctx: PageCtx,
        title: String,
        crumbs: Vec<(String, String)>,
        blocks: Vec<Block>,
        r: &Refusal,
    ) -> BlocksPage {
        let forms: Vec<&Form> =
            blocks.iter().filter_map(|b| if let Block::Form(f) = b { Some(f) } else { None }).collect();
        let alert = r.alert_for(&forms);
        BlocksPage { ctx, title, crumbs, alert, blocks }
    }
}
