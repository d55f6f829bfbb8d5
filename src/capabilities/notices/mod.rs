//! Notices 公告 (seed 003's two boards, "公开、透明"): a notice of a category, to an
//! audience of the community (some grids, some buildings, a team, the party members, the
//! partner units, or everyone), published at a time — now or later, by itself — until an
//! expiry, perhaps pinned, perhaps asking each reader to acknowledge it. Its readers are
//! fixed when it is published, so that staff see who has read and acknowledged it, by
//! grid and building, and print the list of those to visit. Every edit is a version, with
//! what changed.
//!
//! This module holds the rules: plain types and functions, no I/O.

pub mod api;
pub mod demo;
pub mod pages;
pub mod store;

use axum::Router;
use axum::routing::{get, post};

use crate::error::FieldError;
use crate::services::settings::Setting;
use crate::time::DAY_MS;
use crate::web::AppState;
use crate::web::board::BoardSection;
use crate::web::capability::{Capability, Job, SubjectLink};

pub static CAP: Capability = Capability {
    links: &[SubjectLink::new("notice", "/c/{code}/notices/{id}", "inbox.group.notices")],
    api: Some(api::routes),
    nav: Some(pages::nav),
    home: Some(pages::home),
    media: &[("notice", store::media_check)],
    jobs: &[Job { name: "notices: publish those due", run: store::publish_due_job }],
    settings: &[&BOARD_SECTIONS],
    board: Some(pages::board::parts),
    ..Capability::new("notices", routes)
};

/// The sections of the community's public board, in the order they hang.
pub static BOARD_SECTIONS: Setting =
    Setting::tags("notices:board_sections", "board_sections", "|party_affairs|affairs|finance|honours|code|")
        .on_record();

fn routes() -> Router<AppState> {
    let files = || axum::extract::DefaultBodyLimit::max(3 * crate::services::media::MAX_BYTES + 64 * 1024);
    Router::new()
        .route("/c/{code}/notices", get(pages::list).post(pages::create).layer(files()))
        .route("/c/{code}/notices/{id}", get(pages::notice::page).post(pages::notice::edit))
        .route("/c/{code}/notices/{id}/ack", post(pages::notice::ack))
        .route("/c/{code}/notices/{id}/to-visit.pdf", get(pages::notice::to_visit_pdf))
        .route("/p/{code}/board", get(pages::board::page))
        .route("/p/{code}/board.pdf", get(pages::board::pdf))
        .route("/p/{code}/notices/{id}", get(pages::board::public_notice))
}

crate::text_enum! {
    /// What a notice is about: the sections of the boards.
    pub enum Category {
        PartyAffairs = "party_affairs",
        Finance = "finance",
        Honours = "honours",
        Services = "services",
        Safety = "safety",
        DailyLife = "daily_life",
        /// The residents' code 居规民约.
        ResidentsCode = "residents_code",
    }
}

impl Category {
    /// The section of the public board a notice of the category hangs in.
    pub fn section(self) -> BoardSection {
        match self {
            Category::PartyAffairs => BoardSection::PartyAffairs,
            Category::Finance => BoardSection::Finance,
            Category::Honours => BoardSection::Honours,
            Category::ResidentsCode => BoardSection::Code,
            Category::Services | Category::Safety | Category::DailyLife => BoardSection::Affairs,
        }
    }
}

crate::text_enum! {
    /// Whom a notice is for.
    pub enum Audience {
        /// Everyone with a role in the community.
        Community = "community",
        /// The residents and workers of some grids.
        Grids = "grids",
        /// The residents of some buildings.
        Buildings = "buildings",
        /// The members of a team.
        Team = "team",
        PartyMembers = "party_members",
        PartnerUnits = "partner_units",
    }
}

impl Audience {
    /// Whether the audience names grids, buildings or a team (`targets`).
    pub fn needs_targets(self) -> bool {
        matches!(self, Audience::Grids | Audience::Buildings | Audience::Team)
    }
}

/// Longest body, in characters.
pub const MAX_BODY: usize = 5000;
/// How far ahead a notice may be scheduled.
pub const MAX_AHEAD_MS: i64 = 366 * DAY_MS;

/// A notice as its author writes it; times in ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub category: String,
    pub title: String,
    pub body: String,
    pub audience: String,
    pub targets: Vec<i64>,
    /// None: now.
    pub publish_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub pinned: bool,
    pub asks_ack: bool,
}

/// A draft that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub category: Category,
    pub audience: Audience,
    pub publish_at: i64,
}

/// Checks a draft written at `now`: every bad field at once.
pub fn check(d: &Draft, now: i64) -> Result<Checked, Vec<FieldError>> {
    let mut e = Vec::new();
    let category = Category::parse(&d.category);
    if category.is_none() {
        e.push(FieldError::new("category", "validation.choice"));
    }
    let audience = Audience::parse(&d.audience);
    if audience.is_none() {
        e.push(FieldError::new("audience", "validation.choice"));
    }
    crate::input::check_text(&mut e, "title", &d.title, 80, true);
    crate::input::check_text(&mut e, "body", &d.body, MAX_BODY, true);
    match audience {
        Some(a) if a.needs_targets() && d.targets.is_empty() => {
            e.push(FieldError::new("targets", "validation.required"))
        }
        Some(a) if !a.needs_targets() && !d.targets.is_empty() => {
            e.push(FieldError::new("targets", "notices.no_targets_for_audience"))
        }
        Some(Audience::Team) if d.targets.len() > 1 => e.push(FieldError::new("targets", "notices.one_team")),
        _ => crate::input::check_count(&mut e, "targets", d.targets.len()),
    }
    let publish_at = d.publish_at.unwrap_or(now);
    if publish_at > now + MAX_AHEAD_MS {
        e.push(FieldError::new("publish_at", "notices.too_far_ahead"));
    }
    if d.expires_at.is_some_and(|x| x <= publish_at) {
        e.push(FieldError::new("expires_at", "notices.expires_before_publishing"));
    }
    match (category, audience) {
        (Some(category), Some(audience)) if e.is_empty() => Ok(Checked { category, audience, publish_at }),
        _ => Err(e),
    }
}

/// Where a notice stands at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Waiting for its publication time.
    Scheduled,
    /// On the front page.
    Current,
    /// Past its expiry: in the archive only.
    Expired,
}

pub fn shown(publish_at: i64, expires_at: Option<i64>, now: i64) -> Shown {
    if publish_at > now {
        Shown::Scheduled
    } else if expires_at.is_some_and(|x| x <= now) {
        Shown::Expired
    } else {
        Shown::Current
    }
}

/// What a notice says, as one version keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wording {
    pub category: String,
    pub title: String,
    pub body: String,
    pub expires_at: Option<i64>,
    pub pinned: bool,
}

/// The fields an edit changes, in a fixed order (empty: nothing to keep).
pub fn changes(before: &Wording, after: &Wording) -> Vec<&'static str> {
    let mut out = Vec::new();
    if before.category != after.category {
        out.push("category");
    }
    if before.title != after.title {
        out.push("title");
    }
    if before.body != after.body {
        out.push("body");
    }
    if before.expires_at != after.expires_at {
        out.push("expires_at");
    }
    if before.pinned != after.pinned {
        out.push("pinned");
    }
    out
}

/// A reader's progress, for the counts by grid and building.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    pub readers: i64,
    pub read: i64,
    pub acked: i64,
}

impl Reach {
    pub fn add(&mut self, read: bool, acked: bool) {
        self.readers += 1;
        self.read += i64::from(read || acked);
        self.acked += i64::from(acked);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft {
            category: "safety".into(),
            title: "燃气安全检查通知".into(),
            body: "本周六上门检查燃气管道。".into(),
            audience: "buildings".into(),
            targets: vec![1, 2],
            publish_at: None,
            expires_at: Some(10_000),
            pinned: true,
            asks_ack: true,
        }
    }

    #[test]
    fn a_notice_names_its_readers_and_expires_after_it_is_published() {
        assert_eq!(check(&draft(), 1_000).map(|c| c.publish_at), Ok(1_000));
        let late = Draft { publish_at: Some(20_000), ..draft() };
        assert_eq!(check(&late, 1_000).unwrap_err()[0].field, "expires_at");
        let nobody = Draft { targets: Vec::new(), ..draft() };
        assert_eq!(check(&nobody, 1_000).unwrap_err()[0].field, "targets");
        let everyone = Draft { audience: "community".into(), ..draft() };
        assert_eq!(check(&everyone, 1_000).unwrap_err()[0].field, "targets", "everyone names no buildings");
        let teams = Draft { audience: "team".into(), ..draft() };
        assert_eq!(check(&teams, 1_000).unwrap_err()[0].field, "targets", "one team");
        let far = Draft { publish_at: Some(1_000 + MAX_AHEAD_MS + 1), expires_at: None, ..draft() };
        assert_eq!(check(&far, 1_000).unwrap_err()[0].field, "publish_at");
        let bad = Draft { category: "gossip".into(), title: String::new(), ..draft() };
        let fields: Vec<String> = check(&bad, 1_000).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["category", "title"]);
    }

    #[test]
    fn a_notice_is_scheduled_then_current_then_in_the_archive() {
        assert_eq!(shown(100, Some(200), 50), Shown::Scheduled);
        assert_eq!(shown(100, Some(200), 100), Shown::Current);
        assert_eq!(shown(100, None, 10_000), Shown::Current, "no expiry: stays");
        assert_eq!(shown(100, Some(200), 200), Shown::Expired);
    }

    #[test]
    fn an_edit_keeps_what_it_changed() {
        let w =
            Wording { category: "safety".into(), title: "a".into(), body: "b".into(), expires_at: None, pinned: false };
        assert!(changes(&w, &w).is_empty());
        let after = Wording { body: "c".into(), pinned: true, ..w.clone() };
        assert_eq!(changes(&w, &after), ["body", "pinned"]);
    }

    #[test]
    fn reading_counts_once_and_acknowledging_counts_as_reading() {
        let mut r = Reach::default();
        r.add(false, false);
        r.add(true, false);
        r.add(false, true);
        assert_eq!(r, Reach { readers: 3, read: 2, acked: 1 });
    }
}
