//! Service certificates: issuing one (a PDF), what it says, and the public page where
//! anyone holding the paper checks its code.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::community;
use super::staff::volunteer_detail_page;
use super::volunteer::refused_on_mine;
use crate::auth::guard::CommunityRef;
use crate::auth::model::Permission;
use crate::capabilities::points::certificate;
use crate::capabilities::points::store;
use crate::error::{AppError, AppResult};
use crate::time::hours;
use crate::web::AppState;
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Tag, Tone};
use crate::web::{Page, PageCtx, PageResult, SignedPage, render, see_other};

pub async fn issue_certificate(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let (from, to) = (f.date("from"), f.date("to"));
    let result = match f.checked() {
        Ok(()) => store::issue_certificate(&state, &actor, c.id, id, from, to).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(cert) => Ok(see_other(&format!("/c/{code}/certificates/{}.pdf", cert.id))),
        Err(e) => {
            let action = format!("/c/{code}/volunteers/{id}/certificates");
            let mut conn = state.db.read().await?;
            let own = store::volunteer_of(&mut conn, c.id, actor.user_id).await?.is_some_and(|v| v.id == id);
            drop(conn);
            if own && !actor.can(c.id, Permission::ManagePoints) {
                refused_on_mine(&state, ctx, &actor, &c, e, &m, &action).await
            } else {
                ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                    volunteer_detail_page(&state, ctx, &actor, &c, id, &r).await
                })
                .await
            }
        }
    }
}

/// What a certificate says, read from the database.
pub async fn certificate_content(
    state: &AppState,
    c: &CommunityRef,
    cert: &store::Certificate,
) -> AppResult<certificate::Content> {
    let mut conn = state.db.read().await?;
    let v = store::volunteer(&mut conn, c.id, cert.volunteer_id).await?.ok_or(AppError::NotFound)?;
    let records = store::served(&mut conn, c.id, v.id, cert.period_from, cert.period_to).await?;
    let subdistrict: String = crate::db::query("SELECT name FROM subdistricts WHERE id = $1")
        .bind(c.subdistrict_id)
        .scalar(&mut conn)
        .await?;
    Ok(certificate::Content {
        community: c.name.clone(),
        subdistrict,
        name: v.name.clone(),
        number: v.number.clone(),
        id_number_masked: v.id_number_masked.clone(),
        from: cert.period_from.to_string(),
        to: cert.period_to.to_string(),
        lines: records
            .iter()
            .map(|r| {
                let mut what = r.content.clone();
                if let Some(p) = &r.place {
                    what.push_str(&format!("（{p}）"));
                }
                if let Some(t) = &r.team_name {
                    what.push_str(&format!(" · {t}"));
                }
                (crate::time::day_of(r.started_at).to_string(), what, hours(r.minutes))
            })
            .collect(),
        total_hours: hours(cert.minutes),
        issued_on: crate::time::day_of(cert.issued_at).to_string(),
        code: cert.code.clone(),
        verify_url: format!("{}/p/{}/certificates/{}", state.config.public_base(), c.code, cert.code),
    })
}

pub async fn certificate_pdf(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, file)): Path<(String, String)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let id: i64 = file.strip_suffix(".pdf").and_then(|s| s.parse().ok()).ok_or(AppError::NotFound)?;
    let mut conn = state.db.read().await?;
    let cert = store::certificate(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    store::volunteer_for(&mut conn, &actor, c.id, cert.volunteer_id).await?;
    drop(conn);
    let pdf = certificate::pdf(&certificate_content(&state, &c, &cert).await?)?;
    Ok(crate::services::pdf::answer("inline", &format!("志愿服务证明-{}.pdf", cert.code), pdf))
}

/// The check of a certificate's code: valid (and what it says), or unknown.
#[derive(Template)]
#[template(path = "points/verify.html")]
pub struct VerifyPage {
    pub ctx: PageCtx,
    pub title: String,
    pub heading: String,
    pub tag: Option<Tag>,
    /// What an unknown code means.
    pub text: Option<String>,
    pub cells: Vec<(String, String)>,
}

/// A certificate found by its code, as the public may see it (the name masked).
fn verify_view(ctx: PageCtx, issuer: &str, found: Option<(&store::Certificate, &store::Volunteer)>) -> VerifyPage {
    let title = ctx.t("points.verify_title");
    let Some((cert, v)) = found else {
        return VerifyPage {
            title,
            heading: ctx.t("points.verify_unknown"),
            tag: Some(Tag::new(ctx.t("points.not_valid"), Tone::Red)),
            text: Some(ctx.t("points.verify_unknown_hint")),
            cells: Vec::new(),
            ctx,
        };
    };
    VerifyPage {
        title,
        heading: ctx.t("points.verify_valid"),
        tag: Some(Tag::new(ctx.t("points.valid"), Tone::Green)),
        text: None,
        cells: vec![
            (ctx.t("points.volunteer"), crate::services::pii::mask_name(&v.name)),
            (ctx.t("points.number"), v.number.clone()),
            (ctx.t("points.period"), format!("{} — {}", cert.period_from, cert.period_to)),
            (ctx.t("points.records"), cert.records.to_string()),
            (ctx.t("points.hours_total"), hours(cert.minutes)),
            (ctx.t("points.issuer"), issuer.to_string()),
            (ctx.t("points.issued_on"), crate::time::day_of(cert.issued_at).to_string()),
            (ctx.t("points.verify_code"), cert.code.clone()),
        ],
        ctx,
    }
}

/// Anyone holding a certificate can check it here: who, what period, how many hours.
pub async fn verify_certificate(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path((code, cert)): Path<(String, String)>,
) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let mut conn = state.db.read().await?;
    let Some(cert) = store::certificate_by_code(&mut conn, c.id, &cert).await? else {
        drop(conn);
        let mut resp = render(&verify_view(ctx, &c.name, None))?;
        *resp.status_mut() = StatusCode::NOT_FOUND;
        return Ok(resp);
    };
    let v = store::volunteer(&mut conn, c.id, cert.volunteer_id).await?.ok_or(AppError::NotFound)?;
    drop(conn);
    render(&verify_view(ctx, &c.name, Some((&cert, &v))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check drawn from plain data: the name masked and escaped, and an unknown code
    /// said to be not valid.
    #[test]
    fn a_certificate_check_shows_what_it_says_as_text() {
        let cert = store::Certificate {
            community_id: 1,
            id: 3,
            volunteer_id: 7,
            code: "ABC234".into(),
            period_from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            period_to: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            records: 4,
            minutes: 240,
            issued_at: 0,
        };
        let v = store::Volunteer {
            community_id: 1,
            id: 7,
            user_id: 70,
            number: "<script>x</script>".into(),
            name: "郑晓红".into(),
            resident_id: None,
            grid_id: None,
            id_number_masked: None,
            skills: String::new(),
            availability: None,
            show_name: true,
            joined_at: 0,
            archived_at: None,
        };
        let html = verify_view(crate::web::tests::ctx(), "幸福社区", Some((&cert, &v))).render().unwrap();
        assert!(!html.contains("<script>x") && !html.contains("郑晓红"), "{html}");
        assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("ABC234") && html.contains("tag-green"), "{html}");
        let unknown = verify_view(crate::web::tests::ctx(), "幸福社区", None).render().unwrap();
        assert!(unknown.contains("tag-red") && !unknown.contains("ABC234"), "{unknown}");
    }

    /// A certificate refused for its period: the error on the field, on the page it came
    /// from (a volunteer's, as staff see it), the folded form opened.
    #[test]
    fn a_refused_certificate_shows_its_error_on_the_period() {
        let v = store::Volunteer {
            community_id: 1,
            id: 7,
            user_id: 70,
            number: "V0007".into(),
            name: "郑晓红".into(),
            resident_id: None,
            grid_id: None,
            id_number_masked: None,
            skills: String::new(),
            availability: None,
            show_name: true,
            joined_at: 0,
            archived_at: None,
        };
        let d = super::super::staff::VolunteerData {
            volunteer: v,
            balance: 0,
            records: Vec::new(),
            memberships: Vec::new(),
            lines: Vec::new(),
            rules: Vec::new(),
            manages: false,
        };
        let r = ui::Refusal {
            form_id: ui::Form::id_for("/c/1/volunteers/7/certificates"),
            errors: [("to".to_string(), "这段时间没有已通过的服务记录".to_string())].into(),
            alert: Some("有几项需要修改".into()),
            ..ui::Refusal::default()
        };
        let html = super::super::staff::volunteer_view(crate::web::tests::ctx(), "1", &d, &r).render().unwrap();
        assert!(html.contains(r#"id="e-c-1-volunteers-7-certificates-to""#), "{html}");
        assert!(html.contains("这段时间没有已通过的服务记录") && html.contains("有几项需要修改"));
        assert!(!html.contains(r#"<details class="card action">"#), "the folded form opened");
    }
}
