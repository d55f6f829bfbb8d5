//! Brands 一社区一品牌 (seed 004: 连江营造计划, 红管+, 凤翔"益家人"; seed 000: 红心微聚,
//! 邻聚欢享): a community's named programme with a logo, a story and its people. It
//! gathers by itself the teams and events that carry its name, and the needs, council
//! projects and tickets staff tag with it; its public page shows what it has done in the
//! dictionary's figures, and a subdistrict's page shows its communities' brands side by
//! side, as cases to learn from. A subdistrict has brands of its own, each bringing some
//! of its communities' brands together (`joint`).

pub mod demo;
pub mod joint;
pub mod pages;
pub mod showcase;
pub mod store;

use axum::Router;
use axum::routing::{get, post};

use crate::auth::model::{Actor, Permission};
use crate::error::FieldError;
use crate::web::AppState;
use crate::web::capability::{Capability, NavEntry, Whereabouts};

pub static CAP: Capability =
    Capability { media: &[("brand", store::media_check)], nav: Some(nav), ..Capability::new("brands", routes) };

fn routes() -> Router<AppState> {
    let upload = || axum::extract::DefaultBodyLimit::max(crate::services::media::MAX_BYTES + 64 * 1024);
    Router::new()
        .route("/c/{code}/brands", get(pages::list).post(pages::create).layer(upload()))
        .route("/c/{code}/brands/{id}", get(pages::page).post(pages::edit).layer(upload()))
        .route("/c/{code}/brands/{id}/tags", post(pages::tag))
        .route("/p/{code}/brands/{id}", get(pages::public))
        .route("/p/{code}/brands/{id}/logo", get(pages::logo))
        .route("/subdistricts/{id}/brands", get(showcase::page).post(showcase::create).layer(upload()))
        .route(
            "/subdistricts/{id}/brands/{brand}",
            get(showcase::joint_page).post(showcase::joint_edit).layer(upload()),
        )
        .route("/p/subdistricts/{id}/brands/{brand}", get(showcase::public))
        .route("/p/subdistricts/{id}/brands/{brand}/logo", get(showcase::logo))
}

fn nav(actor: &Actor, at: &Whereabouts<'_>) -> Vec<NavEntry> {
    let href = match (at.subdistrict, at.community) {
        (Some(s), _) if actor.manages_subdistrict(s) => format!("/subdistricts/{s}/brands"),
        (_, Some(c)) if actor.can(c.id, Permission::ManageCommunity) => format!("/c/{}/brands", c.code),
        _ => return Vec::new(),
    };
    vec![NavEntry { order: 80, href, label_key: "nav.brands", icon: "star" }]
}

/// A brand as its form sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub name: String,
    pub story: String,
    pub people: String,
}

pub const MAX_STORY: usize = 4000;

/// A brand's name, story and people, each refused naming its field.
pub fn check(d: &Draft) -> Result<(), Vec<FieldError>> {
    let mut e = Vec::new();
    crate::input::check_text(&mut e, "name", &d.name, 40, true);
    crate::input::check_text(&mut e, "story", &d.story, MAX_STORY, true);
    crate::input::check_text(&mut e, "people", &d.people, 1000, false);
    if e.is_empty() { Ok(()) } else { Err(e) }
}

crate::text_enum! {
    /// What staff tag with a brand (its teams and events carry its name themselves).
    pub enum TagKind {
        Need = "need",
        Project = "project",
        Ticket = "ticket",
    }
}

/// The dictionary's figures a brand's page shows: those counted over what it gathers.
pub const FIGURES: &[&str] = &[
    "service_person_times",
    "service_hours",
    "tickets_received",
    "completion_rate",
    "satisfaction_rate",
    "pledges_made",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_brand_needs_a_name_and_a_story_of_plain_text() {
        let ok =
            Draft { name: "红心微聚".into(), story: "党员带头、居民参与".into(), people: String::new() };
        assert!(check(&ok).is_ok());
        let bad = Draft { name: String::new(), story: "a\u{7}".into(), people: "x".repeat(1001) };
        let fields: Vec<String> = check(&bad).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "story", "people"]);
    }
}
