//! The pages of a resident's registration: the newcomer's form, and the list the office
//! (or the grid worker) checks, binding each account to a household.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;

use super::joining::{self, Decision, ResidentRequest, SignUp};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::web::form::{CsrfForm, Fields, PlainForm, opt, text};
use crate::web::joining::{SignUpPage, account_form, sign_up_view};
use crate::web::ui::{self, Form, Input, InputKind, Refusal};
use crate::web::{AppState, Notice, Page, PageCtx, PageResult, SignedPage, done, fmt, render};

pub fn join_view(ctx: PageCtx, code: &str, community: &str, r: &Refusal) -> SignUpPage {
    let action = format!("/c/{code}/residents/join");
    let form = account_form(&ctx, ctx.t("joining.resident_form"), action, ctx.t("joining.submit"))
        .input(
            Input::new("address", ctx.t("joining.address"), InputKind::Text)
                .required()
                .hint(ctx.t("joining.address_hint")),
        )
        .input(Input::new("note", ctx.t("joining.note"), InputKind::TextArea).hint(ctx.t("joining.note_hint")))
        .refused(r);
    let (title, intro) = (ctx.t("joining.resident_form"), ctx.t("joining.resident_intro"));
    sign_up_view(ctx, title, intro, community, form, r)
}

pub async fn join_page(State(state): State<AppState>, Page(ctx): Page, Path(code): Path<String>) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    render(&join_view(ctx, &c.code, &c.name, &Refusal::none()))
}

/// Signs the newcomer up and in: their home page then says where the request stands.
pub async fn join(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path(code): Path<String>,
    headers: HeaderMap,
    PlainForm(m): PlainForm,
) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let s = SignUp {
        name: text(&m, "name"),
        phone: text(&m, "phone"),
        address: text(&m, "address"),
        note: opt(&m, "note"),
        password: text(&m, "password"),
    };
    match joining::sign_up(&state, &c, s).await {
        Ok(user_id) => {
            let to = format!("/?ok={}", Notice::Applied.as_str());
            Ok(crate::auth::pages::signed_in_to(&state, &headers, user_id, &to).await?)
        }
        Err(e) => {
            let action = format!("/c/{code}/residents/join");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { render(&join_view(ctx, &c.code, &c.name, &r)) })
                .await
        }
    }
}

/// One request as the checker sees it: who, what they typed, and the two decisions.
pub struct RequestLine {
    pub title: String,
    pub cells: Vec<(String, String)>,
    pub approve: Form,
    pub decline: Form,
}

#[derive(Template)]
#[template(path = "people/requests.html")]
pub struct RequestsPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub empty: String,
    pub lines: Vec<RequestLine>,
}

/// The waiting requests drawn from plain data; the household picker offers the
/// checker's households, the one matching the typed address chosen.
pub fn requests_view(
    ctx: PageCtx,
    code: &str,
    requests: &[ResidentRequest],
    households: &[(i64, String)],
    r: &Refusal,
) -> RequestsPage {
    let lines: Vec<RequestLine> = requests
        .iter()
        .map(|q| {
            let base = format!("/c/{code}/resident-requests/{}", q.id);
            let mut choices = vec![(String::new(), ctx.t("joining.pick_household"))];
            choices.extend(households.iter().map(|(id, a)| (id.to_string(), a.clone())));
            let likely = joining::likely_household(&q.address, households).map(|h| h.to_string()).unwrap_or_default();
            let approve = Form::new("", format!("{base}/approve"), ctx.t("joining.approve"))
                .input(
                    Input::new("household_id", ctx.t("joining.bind_household"), InputKind::Select(choices))
                        .required()
                        .value(likely),
                )
                .refused(r);
            let decline = Form::new(ctx.t("joining.decline"), format!("{base}/decline"), ctx.t("joining.decline"))
                .input(Input::new("reason", ctx.t("participation.reason"), InputKind::TextArea).required())
                .danger(ctx.t("joining.decline_confirm"))
                .folded()
                .refused(r);
            RequestLine {
                title: q.name.clone(),
                cells: vec![
                    (ctx.t("joining.mobile"), q.phone_masked.clone().unwrap_or_default()),
                    (ctx.t("joining.address"), q.address.clone()),
                    (ctx.t("joining.note"), q.note.clone().unwrap_or_default()),
                    (ctx.t("joining.applied_at"), fmt::datetime(q.created_at)),
                ],
                approve,
                decline,
            }
        })
        .collect();
    let forms: Vec<&Form> = lines.iter().flat_map(|l| [&l.approve, &l.decline]).collect();
    RequestsPage {
        title: ctx.t("joining.requests"),
        alert: r.alert_for(&forms),
        empty: ctx.t("joining.none_waiting"),
        lines,
        ctx,
    }
}

async fn requests_page(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    let mut conn = state.db.read().await?;
    let requests = joining::waiting(&mut conn, actor, c.id).await?;
    let households =
        crate::capabilities::registry::places::households_within(&mut conn, actor, c.id, Permission::EditRegistry)
            .await?;
    drop(conn);
    render(&requests_view(ctx, &c.code, &requests, &households, r))
}

pub async fn requests(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    requests_page(&state, ctx, &actor, &c, &Refusal::none()).await
}

async fn decided(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    code: String,
    id: i64,
    m: serde_json::Map<String, serde_json::Value>,
    approve: bool,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let reason = f.text("reason");
    let result = match (approve, f.id("household_id")) {
        (true, household_id) => match f.checked() {
            Ok(()) => joining::decide(&state, &actor, c.id, id, Decision::Approve { household_id }).await,
            Err(e) => Err(e),
        },
        (false, _) => joining::decide(&state, &actor, c.id, id, Decision::Decline { reason: &reason }).await,
    };
    match result {
        Ok(()) => {
            Ok(done(&format!("/c/{code}/resident-requests"), if approve { Notice::Bound } else { Notice::Declined }))
        }
        Err(e) => {
            let what = if approve { "approve" } else { "decline" };
            let action = format!("/c/{code}/resident-requests/{id}/{what}");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { requests_page(&state, ctx, &actor, &c, &r).await })
                .await
        }
    }
}

pub async fn approve(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    decided(state, ctx, actor, code, id, m, true).await
}

pub async fn decline(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    decided(state, ctx, actor, code, id, m, false).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::registry::people::joining::RequestStatus;

    fn request(address: &str) -> ResidentRequest {
        ResidentRequest {
            community_id: 1,
            id: 9,
            user_id: 90,
            name: "<b>李桂英</b>".into(),
            address: address.into(),
            note: Some("独居".into()),
            status: RequestStatus::Pending,
            household_id: None,
            reason: None,
            decided_at: None,
            created_at: 0,
            phone_masked: Some("139****5678".into()),
        }
    }

    /// The checker sees the name as text, the mobile masked, the typed address's
    /// household chosen, and declining asks first.
    #[test]
    fn a_waiting_request_offers_its_household_and_asks_before_declining() {
        let households = vec![(1, "海盛花园3栋2单元301".to_string()), (2, "海盛花园3栋2单元302".to_string())];
        let page =
            requests_view(crate::web::tests::ctx(), "hs", &[request("3栋2单元302")], &households, &Refusal::none());
        let html = page.render().unwrap();
        assert!(!html.contains("<b>李桂英") && html.contains("139****5678"), "{html}");
        assert!(html.contains(r#"<option value="2" selected>海盛花园3栋2单元302</option>"#), "{html}");
        assert!(
            html.contains(r#"action="/c/hs/resident-requests/9/decline""#) && html.contains("data-confirm"),
            "{html}"
        );
        let none = requests_view(crate::web::tests::ctx(), "hs", &[], &households, &Refusal::none()).render().unwrap();
        assert!(none.contains("没有待审核的注册"), "{none}");
    }
}
