//! The council's own page: the community's proposals, raising one, and (for staff) the
//! rules of its votes and the roster of members.

use askama::Template;
use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::{community, proposal_item, staff};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::capabilities::council::store::{self, Proposal};
use crate::db::query;
use crate::error::{AppError, AppResult};
use crate::web::form::{CsrfForm, Fields, opt, text, yes};
use crate::web::ui::{self, Form, Input, InputKind, Item, Refusal};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, render};

async fn scopes(state: &AppState, c: &CommunityRef) -> AppResult<Vec<(String, String)>> {
    let mut conn = state.db.read().await?;
    let rows: Vec<(String, i64, String)> = query(
        "SELECT 'grid', id, name FROM grids WHERE community_id = $1 AND archived_at IS NULL
         UNION ALL SELECT 'compound', id, name FROM compounds WHERE community_id = $1 AND archived_at IS NULL ORDER BY 1, 3",
    )
    .bind(c.id)
    .fetch_all(&mut conn)
    .await?;
    let mut out = vec![("community".to_string(), c.name.clone())];
    out.extend(rows.into_iter().map(|(k, id, n)| (format!("{k}:{id}"), n)));
    Ok(out)
}

/// The scope a form names: `community`, `grid:ID` or `compound:ID`.
fn scope_of(m: &Map<String, Value>) -> (String, Option<i64>) {
    let s = text(m, "scope");
    match s.split_once(':') {
        Some((k, id)) => (k.to_string(), id.parse().ok()),
        None => (s, None),
    }
}

/// What the council's page shows, as read from the database.
pub struct ListData {
    pub proposals: Vec<Proposal>,
    pub roster: Vec<store::Member>,
    /// Who votes, quorum, majority, secret ballots.
    pub rules: (String, i64, i64, bool),
    /// The scopes a proposal may have: (value, name).
    pub scopes: Vec<(String, String)>,
    pub staff: bool,
}

async fn load(state: &AppState, actor: &Actor, c: &CommunityRef) -> AppResult<ListData> {
    let mut conn = state.db.read().await?;
    let proposals = store::proposals(&mut conn, Some(actor), c.id).await?;
    let roster = store::roster(&mut conn, c.id).await?;
    let rules = store::rules(&mut conn, c.id).await?;
    drop(conn);
    Ok(ListData { proposals, roster, rules, scopes: scopes(state, c).await?, staff: staff(actor, c) })
}

/// What staff see besides: the roster and the forms for the rules and the members.
pub struct StaffPart {
    pub roster_title: String,
    pub roster: Vec<Item>,
    pub rules: Form,
    pub member: Form,
}

#[derive(Template)]
#[template(path = "council/list.html")]
pub struct ProposalsPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub name: String,
    pub rules: Vec<(String, String)>,
    pub links: Vec<(String, String)>,
    pub total: String,
    pub proposals: Vec<Item>,
    pub raise: Form,
    pub staff: Option<StaffPart>,
}

impl ProposalsPage {
    fn forms(&self) -> Vec<&Form> {
        let mut out = vec![&self.raise];
        if let Some(s) = &self.staff {
            out.extend([&s.rules, &s.member]);
        }
        out
    }
}

fn staff_part(ctx: &PageCtx, code: &str, d: &ListData, r: &Refusal) -> StaffPart {
    let (voters, quorum, majority, secret) = &d.rules;
    let voter_options = ["household", "resident", "council"]
        .iter()
        .map(|v| (v.to_string(), ctx.t(&format!("council.voters.{v}"))))
        .collect();
    StaffPart {
        roster_title: ctx.tr("council.roster", "n", d.roster.len()),
        roster: d
            .roster
            .iter()
            .map(|m| Item { title: m.name.clone(), sub: m.title.clone().unwrap_or_default(), ..Item::default() })
            .collect(),
        rules: Form::new(ctx.t("council.rules"), format!("/c/{code}/council/settings"), ctx.t("common.save"))
            .input(
                Input::new("voters", ctx.t("council.voters"), InputKind::Select(voter_options))
                    .required()
                    .value(voters),
            )
            .input(
                Input::new("quorum_pct", ctx.t("council.quorum"), InputKind::Number)
                    .required()
                    .value(quorum)
                    .hint(ctx.t("council.quorum_hint")),
            )
            .input(
                Input::new("majority_pct", ctx.t("council.majority"), InputKind::Number)
                    .required()
                    .value(majority)
                    .hint(ctx.t("council.majority_hint")),
            )
            .input(Input::new("secret", ctx.t("council.secret"), InputKind::Checkbox).value(secret))
            .folded()
            .refused(r),
        member: Form::new(ctx.t("council.member"), format!("/c/{code}/council/members"), ctx.t("common.save"))
            .input(
                Input::new("user", ctx.t("council.member_login"), InputKind::Text)
                    .required()
                    .hint(ctx.t("council.member_hint")),
            )
            .input(Input::new("title", ctx.t("council.member_title"), InputKind::Text))
            .input(Input::new("remove", ctx.t("council.remove_member"), InputKind::Checkbox))
            .folded()
            .refused(r),
    }
}

fn proposals_view(ctx: PageCtx, c: &CommunityRef, d: &ListData, r: &Refusal) -> ProposalsPage {
    let code = &c.code;
    let (voters, quorum, majority, secret) = &d.rules;
    let raise = Form::new(ctx.t("council.raise"), format!("/c/{code}/council"), ctx.t("council.raise_submit"))
        .input(Input::new("title", ctx.t("council.proposal_title"), InputKind::Text).required())
        .input(Input::new("body", ctx.t("council.body"), InputKind::TextArea).required())
        .input(
            Input::new("scope", ctx.t("council.scope"), InputKind::Select(d.scopes.clone()))
                .required()
                .value("community"),
        )
        .refused(r);
    let mut page = ProposalsPage {
        title: ctx.t("council.title"),
        alert: None,
        name: c.name.clone(),
        rules: vec![
            (ctx.t("council.voters"), ctx.t(&format!("council.voters.{voters}"))),
            (ctx.t("council.quorum"), format!("{quorum}%")),
            (ctx.t("council.majority"), format!("> {majority}%")),
            (ctx.t("council.secret"), ctx.t(if *secret { "common.yes" } else { "common.no" })),
        ],
        links: vec![(format!("/p/{code}/council"), ctx.t("council.public"))],
        total: ctx.tr("list.total", "n", d.proposals.len()),
        proposals: d
            .proposals
            .iter()
            .map(|p| proposal_item(&ctx, format!("/c/{code}/council/{}", p.id), p, None, false))
            .collect(),
        raise,
        staff: d.staff.then(|| staff_part(&ctx, code, d, r)),
        ctx,
    };
    page.alert = r.alert_for(&page.forms());
    page
}

async fn proposals_page(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    let d = load(state, actor, c).await?;
    render(&proposals_view(ctx, c, &d, r))
}

pub async fn proposals(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    proposals_page(&state, ctx, &actor, &c, &Refusal::none()).await
}

/// A form of the council's page refused: the page again, the form filled in.
async fn refused_on_proposals(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    e: AppError,
    m: &Map<String, Value>,
    action: &str,
) -> PageResult {
    ui::refused(e, ctx, m, action, |ctx, r| async move { proposals_page(state, ctx, actor, c, &r).await }).await
}

pub async fn raise(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let (kind, id) = scope_of(&m);
    match store::raise(&state, &actor, c.id, &text(&m, "title"), &text(&m, "body"), &kind, id).await {
        Ok(p) => Ok(done(&format!("/c/{code}/council/{}", p.id), Notice::Raised)),
        Err(e) => refused_on_proposals(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/council")).await,
    }
}

pub async fn settings(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let (quorum, majority) = (f.int("quorum_pct"), f.int("majority_pct"));
    let result = match (f.checked(), quorum, majority) {
        (Err(e), _, _) => Err(e),
        (Ok(()), Some(q), Some(mj)) => {
            store::set_rules(&state, &actor, c.id, &f.text("voters"), q, mj, f.yes("secret")).await
        }
        (Ok(()), q, _) => {
            Err(AppError::field(if q.is_none() { "quorum_pct" } else { "majority_pct" }, "validation.required"))
        }
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/council"), Notice::Saved)),
        Err(e) => refused_on_proposals(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/council/settings")).await,
    }
}

/// Adds (or removes) a council member by their sign-in name or mobile number.
pub async fn members(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let login = text(&m, "user");
    let user = store::user_in(&mut state.db.read().await?, c.id, login.trim()).await?;
    let result = match user {
        Some(u) => store::set_member(&state, &actor, c.id, u, opt(&m, "title"), !yes(&m, "remove")).await,
        None => Err(AppError::field("user", "validation.reference")),
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/council"), Notice::Saved)),
        Err(e) => refused_on_proposals(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/council/members")).await,
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample_proposal;
    use super::*;
    use crate::capabilities::council::Stage;

    fn data(staff: bool) -> ListData {
        ListData {
            proposals: vec![sample_proposal("<script>x</script>", Stage::Submitted)],
            roster: vec![store::Member { user_id: 3, name: "<b>李</b>".into(), title: None }],
            rules: ("household".into(), 50, 50, true),
            scopes: vec![("community".into(), "海盛".into())],
            staff,
        }
    }

    fn community() -> CommunityRef {
        CommunityRef { id: 1, code: "1".into(), name: "海盛".into(), subdistrict_id: 1, kind: "community".into() }
    }

    #[test]
    fn the_council_page_escapes_proposals_and_shows_staff_their_forms() {
        let page = proposals_view(crate::web::tests::ctx(), &community(), &data(true), &Refusal::none());
        let html = page.render().unwrap();
        assert!(!html.contains("<script>x") && !html.contains("<b>李"), "{html}");
        assert!(html.contains("&#60;script&#62;x") || html.contains("&lt;script&gt;x"), "{html}");
        assert!(html.contains(r#"action="/c/1/council/settings""#), "{html}");
        assert!(html.contains(r#"action="/c/1/council/members""#), "{html}");
        let resident = proposals_view(crate::web::tests::ctx(), &community(), &data(false), &Refusal::none());
        assert!(resident.staff.is_none(), "residents see no rules form");
    }

    #[test]
    fn a_refused_member_is_named_on_its_field_and_its_form_opens() {
        let r = Refusal {
            form_id: Form::id_for("/c/1/council/members"),
            typed: [("user".to_string(), Value::String("nobody".into()))].into_iter().collect(),
            errors: [("user".to_string(), "找不到这个用户".to_string())].into(),
            alert: Some("有几项需要修改".into()),
        };
        let page = proposals_view(crate::web::tests::ctx(), &community(), &data(true), &r);
        assert_eq!(page.alert.as_deref(), Some("有几项需要修改"));
        let html = page.render().unwrap();
        assert!(html.contains(r#"id="e-c-1-council-members-user""#) && html.contains("找不到这个用户"), "{html}");
        assert!(html.contains(r#"value="nobody""#), "what was typed comes back");
    }
}
