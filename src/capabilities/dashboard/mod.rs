//! The dashboard 数据看板: the dictionary's figures of a month side by side — a
//! subdistrict's communities (seed 004's 洲心街道, 22 of them, urban and rural) or a
//! community's grids — ranked by the figure chosen, with its trend over twelve months, and
//! from any number down to the grid and to the ticket, record or pledge behind it. The
//! month's report in Excel and PDF is the same table (`files`), and the API answers it too.
//! Every number comes from `web::dictionary`: this capability only arranges them.

pub mod api;
pub mod archive;
pub mod files;
pub mod pages;
pub mod store;

use std::cmp::Ordering;

use axum::Router;
use axum::routing::get;
use serde::Deserialize;

use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
use crate::web::capability::{Capability, Job, NavEntry, Whereabouts};
use crate::web::dictionary::{self, FigureDef, Period, Tally, Values};

pub static CAP: Capability = Capability {
    api: Some(api::routes),
    nav: Some(nav),
    jobs: &[Job { name: "dashboard: monthly reports archived", run: archive::job }],
    ..Capability::new("dashboard", routes)
};

fn routes() -> Router<AppState> {
    Router::new()
        .route("/subdistricts/{id}/dashboard", get(pages::subdistrict))
        .route("/subdistricts/{id}/dashboard/trend", get(pages::subdistrict_trend))
        .route("/subdistricts/{id}/dashboard.xlsx", get(files::subdistrict_xlsx))
        .route("/subdistricts/{id}/dashboard.pdf", get(files::subdistrict_pdf))
        .route("/subdistricts/{id}/dashboard/reports", get(archive::subdistrict_list))
        .route("/subdistricts/{id}/dashboard/reports/{file}", get(archive::subdistrict_file))
        .route("/c/{code}/dashboard", get(pages::community))
        .route("/c/{code}/dashboard/trend", get(pages::community_trend))
        .route("/c/{code}/dashboard.xlsx", get(files::community_xlsx))
        .route("/c/{code}/dashboard.pdf", get(files::community_pdf))
        .route("/c/{code}/dashboard/reports", get(archive::community_list))
        .route("/c/{code}/dashboard/reports/{file}", get(archive::community_file))
        .route("/c/{code}/dashboard/figures/{figure}", get(pages::behind))
}

fn nav(actor: &Actor, at: &Whereabouts<'_>) -> Vec<NavEntry> {
    let href = match (at.subdistrict, at.community) {
        (Some(s), _) if actor.manages_subdistrict(s) => format!("/subdistricts/{s}/dashboard"),
        (_, Some(c)) if actor.can(c.id, Permission::ViewFigures) => format!("/c/{}/dashboard", c.code),
        _ => return Vec::new(),
    };
    vec![NavEntry { order: 85, href, label_key: "dashboard.title", icon: "chart" }]
}

crate::text_enum! {
    /// Which of a subdistrict's communities (seed 004: 11 urban, 11 rural).
    pub enum Area {
        All = "all",
        Urban = "urban",
        Rural = "rural",
    }
}

crate::text_enum! {
    /// A league table's order: the best first, or the worst (those to visit).
    pub enum Order {
        Best = "best",
        Worst = "worst",
    }
}

/// The dashboard's question as the address asks it: all text, read by `Asked::read`.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Ask {
    /// The month, `2026-11` (this month when none; never a month to come).
    pub month: Option<String>,
    /// The figure ranked by (a code of `/api/v1/figures`; 办结率 `completion_rate` when none).
    pub figure: Option<String>,
    /// `all`, `urban` or `rural` (a subdistrict's communities).
    pub area: Option<String>,
    /// `best` first (when none) or `worst`.
    pub order: Option<String>,
    /// A grid's id (`0`: outside every grid), for what stands behind a figure.
    pub grid: Option<String>,
}

/// The question read: each bad part refused naming its field.
#[derive(Debug, Clone)]
pub struct Asked {
    pub period: Period,
    pub figure: &'static FigureDef,
    pub area: Area,
    pub order: Order,
    pub grid: Option<i64>,
}

pub const DEFAULT_FIGURE: &str = "completion_rate";

/// A choice of the address: the default when none, refused naming `field` when unknown.
fn choice<T>(
    v: &Option<String>,
    field: &str,
    parse: impl Fn(&str) -> Option<T>,
    default: T,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Some(default),
        Some(v) => {
            let found = parse(v);
            if found.is_none() {
                errors.push(FieldError::new(field, "validation.choice"));
            }
            found
        }
    }
}

impl Asked {
    pub fn read(state: &AppState, q: &Ask) -> AppResult<Asked> {
        let mut errors = Vec::new();
        let period = match Period::parse(q.month.as_deref()) {
            Ok(p) => Some(p),
            Err(AppError::Invalid(e)) => {
                errors.extend(e);
                None
            }
            Err(e) => return Err(e),
        };
        let figure =
            choice(&q.figure, "figure", |v| dictionary::find(state, v).map(|(f, _)| Some(f)), None, &mut errors);
        let figure = figure.map(|f| f.or_else(|| dictionary::find(state, DEFAULT_FIGURE).map(|(f, _)| f)));
        let area = choice(&q.area, "area", Area::parse, Area::All, &mut errors);
        let order = choice(&q.order, "order", Order::parse, Order::Best, &mut errors);
        let grid = choice(&q.grid, "grid", |v| v.parse::<i64>().ok().filter(|g| *g >= 0).map(Some), None, &mut errors);
        match (period, figure, area, order, grid) {
            (Some(period), Some(Some(figure)), Some(area), Some(order), Some(grid)) if errors.is_empty() => {
                Ok(Asked { period, figure, area, order, grid })
            }
            _ => Err(AppError::Invalid(errors)),
        }
    }

    /// The address's query for this question with another figure (a column's head).
    pub fn query_with(&self, figure: &str) -> String {
        format!("?month={}&figure={figure}&area={}&order={}", self.period.month, self.area, self.order)
    }
}

/// A row of the dashboard: a community (of a subdistrict) or a grid (of a community),
/// with where a click on it leads.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The community's or grid's id (`0`: outside every grid).
    pub id: i64,
    pub name: String,
    /// Where its own figures are (a community's page of grids; a grid: none).
    pub href: Option<String>,
    /// Urban or rural (communities).
    pub area: Option<Area>,
    pub values: Values,
}

impl Place {
    pub fn tally(&self, code: &str) -> Tally {
        self.values.get(code).copied().unwrap_or_default()
    }

    pub fn value(&self, f: &FigureDef) -> Option<f64> {
        f.value(self.tally(f.code))
    }
}

/// Whether a community is of the area asked.
pub fn in_area(c: &CommunityRef, area: Area) -> bool {
    area == Area::All || Area::parse(&c.kind) == Some(area)
}

/// The league table: by the figure, the best first (more or less, as the figure is
/// better) or the worst; places with nothing to show last, ties by name.
pub fn rank(places: &mut [Place], f: &FigureDef, order: Order) {
    places.sort_by(|a, b| {
        let by_value = match (a.value(f), b.value(f)) {
            (Some(x), Some(y)) => {
                let better = if f.more_is_better { y.total_cmp(&x) } else { x.total_cmp(&y) };
                if order == Order::Worst { better.reverse() } else { better }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_value.then_with(|| a.name.cmp(&b.name))
    });
}

/// The map's shade of each place with a value (0 lightest … 4 darkest): by its rank among
/// them, in five equal parts — the larger the value, the darker.
pub fn tones(places: &[Place], f: &FigureDef) -> std::collections::BTreeMap<i64, u8> {
    let mut valued: Vec<(f64, i64)> = places.iter().filter_map(|p| p.value(f).map(|v| (v, p.id))).collect();
    valued.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = valued.len().max(1);
    valued.iter().enumerate().map(|(i, (_, id))| (*id, (i * 5 / n) as u8)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::dictionary::Unit;

    fn place(name: &str, done: i64, of: i64) -> Place {
        let values = Values::from([("completion_rate", Tally::ratio(done, of))]);
        Place { id: 0, name: name.into(), href: None, area: None, values }
    }

    #[test]
    fn the_league_puts_the_best_first_or_the_worst_and_the_empty_last() {
        let rate = FigureDef { code: "completion_rate", unit: Unit::Percent, more_is_better: true, of: None };
        let mut places = vec![place("甲", 9, 10), place("乙", 0, 0), place("丙", 5, 10), place("丁", 10, 10)];
        rank(&mut places, &rate, Order::Best);
        let names = |p: &[Place]| p.iter().map(|p| p.name.clone()).collect::<Vec<_>>().join("");
        assert_eq!(names(&places), "丁甲丙乙");
        rank(&mut places, &rate, Order::Worst);
        assert_eq!(names(&places), "丙甲丁乙");
        let overdue = FigureDef { code: "completion_rate", unit: Unit::Count, more_is_better: false, of: None };
        rank(&mut places, &overdue, Order::Best);
        assert_eq!(names(&places), "乙丙甲丁");
    }

    #[test]
    fn the_map_shades_places_in_five_parts_by_their_value() {
        let rate = FigureDef { code: "completion_rate", unit: Unit::Percent, more_is_better: true, of: None };
        let mut places: Vec<Place> = (0..10).map(|i| Place { id: i, ..place("网格", i, 10) }).collect();
        places.push(Place { id: 99, ..place("空", 0, 0) });
        let shades = tones(&places, &rate);
        assert_eq!(shades.len(), 10, "a place with nothing to show is not shaded");
        assert_eq!((shades[&0], shades[&1], shades[&2], shades[&5], shades[&9]), (0, 0, 1, 2, 4));
    }
}
