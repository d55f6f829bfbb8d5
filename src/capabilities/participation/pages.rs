//! Pages of participation: registering with the community 报到 and staff's list with
//! reminders; the needs list with its pledges, their evidence and confirmation; pairs
//! and their visits; the figures; and the public board and list of the registered.
//! This file holds the helpers the pages share and the home page's part; each area's
//! pages are in a child module, which loads its data, builds its view from `web::ui`
//! parts, and draws it with its template in `templates/participation/`.

mod figures;
mod needs_list;
mod pairing;
mod public;
mod registrants;

pub use figures::{community_export, community_stats, subdistrict_export, subdistrict_stats};
pub use needs_list::{NeedsQuery, add_need, confirm_pledge, fulfil, need_act, need_page, needs, pledge};
pub use pairing::{add_pair, add_visit, pair_page, pairs, visit_ticket};
pub use public::{board, public_board, public_registered};
pub use registrants::{
    RegistrationSort, decide_registration, register, register_page, registration_page, registrations, remind,
    sort_registrations,
};

use super::store::{self, Need, Pledge};
use super::{NeedStatus, PledgeStatus, RegistrationStatus};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::db::query;
use crate::error::AppResult;
use crate::web::ui::{Tag, Tone};
use crate::web::{AppState, PageCtx, fmt};

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&state.db, actor, code).await
}

fn staff(actor: &Actor, c: &CommunityRef) -> bool {
    actor.can(c.id, Permission::ManageParticipation)
}

fn choices(ctx: &PageCtx, prefix: &str, values: &[&str]) -> Vec<(String, String)> {
    values.iter().map(|v| (v.to_string(), ctx.t(&format!("{prefix}.{v}")))).collect()
}

fn need_tag(ctx: &PageCtx, s: NeedStatus) -> Tag {
    let tone = match s {
        NeedStatus::Open | NeedStatus::Suggested => Tone::Orange,
        NeedStatus::Pledged | NeedStatus::InProgress => Tone::Blue,
        NeedStatus::Fulfilled | NeedStatus::Closed => Tone::Green,
        NeedStatus::Declined | NeedStatus::Withdrawn => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("participation.need_status.{}", s.as_str())), tone)
}

/// A registration's status as a tag.
fn registration_tag(ctx: &PageCtx, s: RegistrationStatus) -> Tag {
    let tone = match s {
        RegistrationStatus::Accepted => Tone::Green,
        RegistrationStatus::Pending => Tone::Orange,
        RegistrationStatus::Declined => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("participation.status.{}", s.as_str())), tone)
}

/// A pledge's status as a tag.
fn pledge_tag(ctx: &PageCtx, s: PledgeStatus) -> Tag {
    let tone = match s {
        PledgeStatus::Fulfilled => Tone::Green,
        PledgeStatus::Submitted => Tone::Orange,
        PledgeStatus::Pledged => Tone::Blue,
        PledgeStatus::Cancelled => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("participation.status.{}", s.as_str())), tone)
}

fn progress(n: &Need) -> String {
    format!("{} / {} {}", fmt::thousands(n.pledged), fmt::thousands(n.quantity), n.unit)
}

fn pledge_line(ctx: &PageCtx, p: &Pledge, unit: &str, public: bool) -> String {
    let who = if public { p.public_name() } else { p.registrant.clone() };
    let kind = ctx.t(&format!("participation.pledge_kind.{}", p.kind.as_str()));
    format!("{who} · {kind} {}{unit}", fmt::thousands(p.amount))
}

// ---------- home ----------

/// What the home page shows of participation: for staff the registrations waiting, pledges
/// to confirm and overdue pairs; for everyone the needs board, registering, their pairs.
/// This capability's part of a user's home page.
pub fn home<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    actor: &'a Actor,
) -> futures::future::BoxFuture<'a, AppResult<Vec<crate::web::home::Section>>> {
    Box::pin(home_sections(state, ctx, actor))
}

async fn home_sections(state: &AppState, ctx: &PageCtx, actor: &Actor) -> AppResult<Vec<crate::web::home::Section>> {
    use crate::web::home::{Section, Stat as HomeStat};
    let mut communities: Vec<i64> = actor.grants.iter().filter_map(|g| g.community_id).collect();
    communities.sort_unstable();
    communities.dedup();
    let mut out = Vec::new();
    for cid in communities {
        let mut conn = state.db.read().await?;
        let Some(c) = crate::auth::guard::community_by_id(&mut conn, cid).await? else { continue };
        let code = &c.code;
        let mut stats = Vec::new();
        let mut links = vec![
            (format!("/c/{code}/needs"), ctx.t("participation.needs")),
            (format!("/c/{code}/council"), ctx.t("council.title")),
        ];
        if actor.can(cid, Permission::ManageParticipation) {
            let pending: i64 =
                query("SELECT COUNT(*) FROM registrations WHERE community_id = $1 AND status = 'pending'")
                    .bind(cid)
                    .scalar(&mut conn)
                    .await?;
            let submitted: i64 = query("SELECT COUNT(*) FROM pledges WHERE community_id = $1 AND status = 'submitted'")
                .bind(cid)
                .scalar(&mut conn)
                .await?;
            let overdue = store::overdue_pairs(&mut conn, actor, cid).await?;
            stats.push(HomeStat {
                label: ctx.t("participation.registrations_waiting"),
                value: pending.to_string(),
                href: Some(format!("/c/{code}/registrations")),
            });
            stats.push(HomeStat {
                label: ctx.t("participation.to_confirm"),
                value: submitted.to_string(),
                href: Some(format!("/c/{code}/registrations")),
            });
            stats.push(HomeStat {
                label: ctx.t("participation.overdue"),
                value: overdue.to_string(),
                href: Some(format!("/c/{code}/pairs")),
            });
            links.push((format!("/c/{code}/registrations"), ctx.t("participation.registrations")));
            links.push((format!("/c/{code}/pairs"), ctx.t("participation.pairs")));
            links.push((format!("/c/{code}/participation/stats"), ctx.t("participation.stats")));
        } else {
            links.push((format!("/c/{code}/register"), ctx.t("participation.dual_registration")));
            if !store::pairs(&mut conn, actor, cid).await?.is_empty() {
                links.push((format!("/c/{code}/pairs"), ctx.t("participation.my_pairs")));
            }
        }
        links.push((format!("/p/{code}/needs"), ctx.t("participation.board")));
        out.push(Section {
            title: format!("{} · {}", c.name, ctx.t("participation.title")),
            stats,
            links,
            ..Section::default()
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::services::media::Media;
    use askama::Template;
    use serde_json::Value;

    use super::*;
    use crate::capabilities::participation::{NeedKind, PairKind, PledgeKind, RegistrationKind};
    use crate::web::ui::{Form, Refusal};

    const X: &str = "<script>x</script>";

    /// The text came out as text: no live script, the escaped form instead.
    fn escaped(html: &str) -> bool {
        !html.contains("<script>x") && (html.contains("&lt;script&gt;x") || html.contains("&#60;script&#62;x"))
    }

    fn actor() -> Actor {
        Actor {
            user_id: 7,
            username: "u7".into(),
            display_name: X.into(),
            grants: Vec::new(),
            subdistrict_communities: Default::default(),
        }
    }

    fn hs() -> CommunityRef {
        CommunityRef { id: 1, code: "hs".into(), name: X.into(), subdistrict_id: 1, kind: "community".into() }
    }

    fn need(status: NeedStatus) -> Need {
        Need {
            community_id: 1,
            id: 3,
            title: X.into(),
            description: X.into(),
            kind: NeedKind::Money,
            quantity: 10_000,
            unit: "元".into(),
            pledged: 6000,
            fulfilled: 0,
            deadline: None,
            status,
            reason: None,
            suggested_by: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn pledge(user_id: i64) -> Pledge {
        Pledge {
            community_id: 1,
            id: 5,
            need_id: 3,
            need_title: X.into(),
            registration_id: 2,
            registrant: "海盛物业服务中心".into(),
            registrant_kind: RegistrationKind::Unit,
            show_name: false,
            user_id,
            partner_unit_id: Some(4),
            kind: PledgeKind::Sponsor,
            amount: 6000,
            status: PledgeStatus::Pledged,
            note: Some(X.into()),
            evidence: None,
            evidence_amount: None,
            served_on: None,
            minutes: None,
            confirmed_at: None,
            service_record_id: None,
            created_at: 0,
        }
    }

    fn registration(id: i64) -> store::Registration {
        store::Registration {
            community_id: 1,
            id,
            kind: RegistrationKind::Member,
            user_id: 7,
            partner_unit_id: None,
            name: X.into(),
            party_org: X.into(),
            relation: None,
            skills: String::new(),
            offers: None,
            contact_name: None,
            contact_phone_masked: None,
            show_name: true,
            status: RegistrationStatus::Accepted,
            reason: None,
            reminded_at: None,
            registered_at: 0,
        }
    }

    fn photo(id: i64) -> Media {
        Media {
            community_id: 1,
            id,
            owner_kind: "need".into(),
            owner_id: 3,
            mime: "image/png".into(),
            bytes: 10,
            width: None,
            height: None,
            created_at: 0,
        }
    }

    #[test]
    fn the_board_draws_user_text_as_text() {
        let page = public::board_view(crate::web::tests::ctx(), "hs", X, &[(need(NeedStatus::Open), vec![pledge(8)])]);
        let html = page.render().unwrap();
        assert!(escaped(&html), "{html}");
        assert!(html.contains("海盛物业服务中心") && html.contains("6,000元"), "who took it: {html}");
        assert!(html.contains("6,000 / 10,000 元"), "how far: {html}");
        assert!(html.contains(r#"href="/c/hs/needs/3""#) && html.contains("class=\"tag tag-"));
    }

    #[test]
    fn a_refused_pledge_shows_its_error_on_its_field_and_keeps_what_was_typed() {
        let d = needs_list::NeedData {
            n: need(NeedStatus::Open),
            pledges: vec![pledge(7)],
            history: Vec::new(),
            photos: vec![photo(11)],
            evidence: Vec::new(),
            mine: vec![registration(2)],
            related: Vec::new(),
        };
        let r = Refusal {
            form_id: Form::id_for("/c/hs/needs/3/pledges"),
            typed: [("amount".to_string(), Value::from("99999"))].into_iter().collect(),
            errors: [("amount".to_string(), "最多还能认领 4000".to_string())].into(),
            alert: Some("有几项需要修改".into()),
        };
        let html = needs_list::need_view(crate::web::tests::ctx(), &actor(), &hs(), &d, &r).render().unwrap();
        assert!(escaped(&html), "{html}");
        assert!(html.contains(r#"id="e-c-hs-needs-3-pledges-amount""#), "the error sits on its field: {html}");
        assert!(html.contains("最多还能认领 4000") && html.contains(r#"value="99999""#), "{html}");
        assert!(html.contains(r#"role="alert""#) && html.contains("有几项需要修改"));
        assert!(html.contains(r#"action="/c/hs/pledges/5/fulfil""#), "their own pledge can be reported done");
        assert!(html.contains(r#"src="/c/hs/media/11/thumb""#), "the need's photos");
    }

    #[test]
    fn a_refused_need_opens_its_folded_form() {
        let r = Refusal {
            form_id: Form::id_for("/c/hs/needs"),
            errors: [("title".to_string(), X.to_string())].into(),
            alert: Some("有几项需要修改".into()),
            ..Refusal::default()
        };
        let shown =
            needs_list::needs_view(crate::web::tests::ctx(), &actor(), &hs(), &[need(NeedStatus::Open)], None, &r);
        let html = shown.render().unwrap();
        assert!(escaped(&html), "{html}");
        assert!(html.contains(r#"id="e-c-hs-needs-title""#) && !html.contains("<details"), "{html}");
        let plain = needs_list::needs_view(crate::web::tests::ctx(), &actor(), &hs(), &[], None, &Refusal::none());
        let html = plain.render().unwrap();
        assert!(html.contains("<details") && !html.contains(r#"role="alert""#), "folded until refused");
    }

    #[test]
    fn the_figures_draw_bars_from_numbers() {
        let mut f = crate::capabilities::participation::stats::Figures::default();
        f.needs.insert("open".into(), 2);
        f.registrations = 122;
        let page = figures::stats_view(crate::web::tests::ctx(), X.into(), "/c/hs/participation.xlsx".into(), &f, &[]);
        let html = page.render().unwrap();
        assert!(escaped(&html), "{html}");
        assert!(html.contains(r#"<svg class="chart""#) && html.contains("122"), "{html}");
        assert!(html.contains(r#"href="/c/hs/participation.xlsx""#));
    }

    #[test]
    fn a_refused_pair_shows_its_error_and_the_late_pairs_come_first() {
        let pair = |id: i64, overdue_days: Option<i64>| store::PairView {
            pair: store::Pair {
                community_id: 1,
                id,
                kind: PairKind::Party,
                user_id: 7,
                name: X.into(),
                starts_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                ends_on: None,
                every_days: 7,
                note: None,
                last_visit: None,
                visits: 0,
            },
            households: vec![(4, X.into())],
            overdue_days,
        };
        let d = pairing::PairsData {
            list: vec![pair(1, None), pair(2, Some(3))],
            uncovered: Some(pairing::Uncovered {
                households: vec![(4, X.into(), "独居".into())],
                people: vec![(7, X.into(), "party".into())],
            }),
        };
        let r = Refusal {
            form_id: Form::id_for("/c/hs/pairs"),
            errors: [("ends_on".to_string(), "结束日期不能早于开始日期".to_string())].into(),
            alert: Some("有几项需要修改".into()),
            ..Refusal::default()
        };
        let html = pairing::pairs_view(crate::web::tests::ctx(), &hs(), d, &r).render().unwrap();
        assert!(escaped(&html), "{html}");
        assert!(html.contains(r#"id="e-c-hs-pairs-ends_on""#) && html.contains("结束日期不能早于开始日期"), "{html}");
        let late = html.find(r#"href="/c/hs/pairs/2""#).expect("the late pair is listed");
        assert!(late < html.find(r#"href="/c/hs/pairs/1""#).expect("the other too"), "the late pair first");
        assert!(html.contains(r#"href="/c/hs/households/4""#), "the uncovered household is listed");
    }
}
