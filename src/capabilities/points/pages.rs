//! Pages of the volunteer service: a volunteer's own page (register, teams, report a
//! service, balance, redemptions, certificate), staff's review queue and volunteers,
//! the ledger with rules and hand-given points, the shop and its handover desk, the
//! public honor roll and certificate check, and the figures.
//!
//! This file holds the small pieces several pages share; each area has its own file.

mod accounts;
mod certificates;
mod figures;
mod homepage;
mod honor_roll;
mod pictures;
mod rewards;
mod staff;
mod volunteer;

pub use accounts::{add_rule, give, ledger_page, reverse};
pub use certificates::{certificate_content, certificate_pdf, issue_certificate, verify_certificate};
pub use figures::{StatsQuery, community_export, community_stats, subdistrict_export, subdistrict_stats};
pub use homepage::home;
pub use honor_roll::{HonorQuery, board, honor};
pub use pictures::{picture_page, set_picture};
pub use rewards::{cancel, handover, handover_page, redeem, redemption_page, shop};
pub use staff::{
    SearchQuery, StatusQuery, VolunteerSort, approve_picked, decide, record_page, review, staff_sign_up,
    volunteer_list, volunteer_page,
};
pub use volunteer::{add_record, join, join_page, my_service, register, team_members, teams, update_profile};

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::store::{self, Registration};
use super::{RedemptionStatus, SERVICE_TYPES, ServiceStatus};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::error::AppResult;
use crate::time::hours;
use crate::web::AppState;
use crate::web::form::{list, opt, text, yes};
use crate::web::ui::{Form, Input, InputKind, Item, Tag, Tone};
use crate::web::{PageCtx, fmt};

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&state.db, actor, code).await
}

/// A service record's status as a tag.
fn record_tag(ctx: &PageCtx, status: ServiceStatus) -> Tag {
    let tone = match status {
        ServiceStatus::Approved => Tone::Green,
        ServiceStatus::Pending => Tone::Orange,
        ServiceStatus::Rejected => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("points.status.{}", status.as_str())), tone)
}

/// A redemption's status as a tag.
fn redemption_tag(ctx: &PageCtx, status: RedemptionStatus) -> Tag {
    let tone = match status {
        RedemptionStatus::Confirmed => Tone::Green,
        RedemptionStatus::Held => Tone::Orange,
        RedemptionStatus::Cancelled | RedemptionStatus::Expired => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("points.status.{}", status.as_str())), tone)
}

fn type_label(ctx: &PageCtx, t: &str) -> String {
    ctx.t(&format!("choice.service_record.service_type.{t}"))
}

fn type_options(ctx: &PageCtx) -> Vec<(String, String)> {
    SERVICE_TYPES.iter().map(|t| (t.to_string(), type_label(ctx, t))).collect()
}

fn record_item(ctx: &PageCtx, code: &str, r: &store::ServiceRecord, with_name: bool) -> Item {
    let who = if with_name { format!("{} · ", r.volunteer_name) } else { String::new() };
    let points = r.points.map(|p| format!(" · {}", ctx.tr("points.n_points", "n", p))).unwrap_or_default();
    Item {
        title: format!("{} {}", type_label(ctx, &r.service_type), r.content),
        sub: format!("{who}{} · {} {}{points}", fmt::datetime(r.started_at), hours(r.minutes), ctx.t("points.hours")),
        href: Some(format!("/c/{code}/service-records/{}", r.id)),
        tag: Some(record_tag(ctx, r.status)),
    }
}

/// The form a volunteer (or staff, for someone) records a service with.
fn service_form(ctx: &PageCtx, code: &str, teams: &[(i64, String)], volunteers: Option<Vec<(String, String)>>) -> Form {
    let now = crate::db::now_ms();
    let mut f =
        Form::new(ctx.t("points.record_service"), format!("/c/{code}/service-records"), ctx.t("points.submit_record"));
    if let Some(v) = volunteers {
        f = f.input(Input::new("volunteer_id", ctx.t("points.volunteer"), InputKind::Select(v)).required());
    }
    let mut team_options = vec![(String::new(), ctx.t("common.none"))];
    team_options.extend(teams.iter().map(|(id, n)| (id.to_string(), n.clone())));
    f.input(
        Input::new("service_type", ctx.t("points.service_type"), InputKind::Select(type_options(ctx)))
            .required()
            .value("care"),
    )
    .input(Input::new("content", ctx.t("points.content"), InputKind::TextArea).required())
    .input(Input::new("place", ctx.t("points.place"), InputKind::Text))
    .input(Input::new("team_id", ctx.t("entity.team"), InputKind::Select(team_options)))
    .input(
        Input::new("started_at", ctx.t("points.started_at"), InputKind::DateTime)
            .required()
            .value(fmt::local_input(now - 2 * crate::time::HOUR_MS)),
    )
    .input(
        Input::new("ended_at", ctx.t("points.ended_at"), InputKind::DateTime).required().value(fmt::local_input(now)),
    )
    .input(Input::new("minutes", ctx.t("points.minutes"), InputKind::Number).hint(ctx.t("points.minutes_hint")))
    .input(Input::new("photos", ctx.t("points.photo"), InputKind::File))
}

fn certificate_form(ctx: &PageCtx, code: &str, volunteer_id: i64, from: NaiveDate) -> Form {
    Form::new(
        ctx.t("points.certificate"),
        format!("/c/{code}/volunteers/{volunteer_id}/certificates"),
        ctx.t("points.certificate_issue"),
    )
    .input(Input::new("from", ctx.t("points.period_from"), InputKind::Date).required().value(from))
    .input(Input::new("to", ctx.t("points.period_to"), InputKind::Date).required().value(fmt::today()))
}

fn line_item(ctx: &PageCtx, l: &crate::services::ledger::store::Line) -> Item {
    let sign = if l.amount > 0 { "+" } else { "" };
    Item {
        title: format!("{sign}{} {}", l.amount, ctx.t(&format!("points.cause.{}", l.cause))),
        sub: format!(
            "{} · {}{}",
            fmt::datetime(l.at),
            l.counterpart,
            l.reason.as_deref().map(|r| format!(" · {r}")).unwrap_or_default()
        ),
        href: None,
        tag: None,
    }
}

fn registration(m: &Map<String, Value>) -> Registration {
    Registration {
        name: text(m, "name"),
        id_number: opt(m, "id_number"),
        skills: list(m, "skills"),
        availability: opt(m, "availability"),
        show_name: yes(m, "show_name"),
    }
}
