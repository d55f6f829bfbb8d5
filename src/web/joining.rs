//! Getting in: from the sign-in page, find one's community, then choose a way in that the
//! capabilities offer there (a resident's registration, a volunteer's sign-up…).

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use crate::db::{Builder, escape_like};
use crate::web::AppState;
use crate::web::capability::WayIn;
use crate::web::ui::{Form, Input, InputKind, Item, Refusal};
use crate::web::{Page, PageCtx, PageResult, render};

#[derive(Deserialize)]
pub struct FindQuery {
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "joining/find.html")]
pub struct JoinFindPage {
    pub ctx: PageCtx,
    pub title: String,
    pub search: Form,
    pub heading: String,
    pub items: Vec<Item>,
    pub empty: String,
}

/// The communities to sign up in, as (code, name, subdistrict), from what was read.
fn join_find_view(ctx: PageCtx, q: &str, found: Vec<(String, String, String)>) -> JoinFindPage {
    let search = Form::new("", "/join", ctx.t("common.search"))
        .get()
        .input(Input::new("q", ctx.t("joining.find_community"), InputKind::Text).value(q));
    let items = found
        .into_iter()
        .map(|(code, name, subdistrict)| Item::link(name, subdistrict, format!("/c/{code}/join")))
        .collect();
    JoinFindPage {
        title: ctx.t("joining.title"),
        search,
        heading: ctx.t("joining.pick_community"),
        items,
        empty: ctx.t("joining.no_community_found"),
        ctx,
    }
}

/// Finds communities by their name or their subdistrict's (at most 50 at a time).
pub async fn join_find(State(state): State<AppState>, Page(ctx): Page, Query(f): Query<FindQuery>) -> PageResult {
    let q = f.q.unwrap_or_default().trim().chars().take(30).collect::<String>();
    let mut b = Builder::new(
        "SELECT c.code, c.name, s.name FROM communities c JOIN subdistricts s ON s.id = c.subdistrict_id WHERE c.archived_at IS NULL",
    );
    if !q.is_empty() {
        let like = format!("%{}%", escape_like(&q));
        b.push(" AND (c.name LIKE ")
            .arg(like.clone())
            .push(" ESCAPE '\\' OR s.name LIKE ")
            .arg(like)
            .push(" ESCAPE '\\')");
    }
    b.push(" ORDER BY s.name, c.name LIMIT 50");
    let mut conn = state.db.read().await?;
    let mut found: Vec<(String, String, String)> = b.build().fetch_all(&mut conn).await?;
    found.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| crate::natural::cmp(&a.1, &b.1)));
    render(&join_find_view(ctx, &q, found))
}

/// A community's ways in, each a line with what it asks of the newcomer.
pub fn ways_view(ctx: PageCtx, code: &str, community: &str, ways: &[&WayIn]) -> JoinFindPage {
    let items =
        ways.iter().map(|w| Item::link(ctx.t(w.label), ctx.t(w.hint), w.path.replace("{code}", code))).collect();
    JoinFindPage {
        title: ctx.t("joining.title"),
        search: Form::new("", "/join", ctx.t("joining.other_community")).get(),
        heading: format!("{community} · {}", ctx.t("joining.how")),
        items,
        empty: String::new(),
        ctx,
    }
}

/// `/c/{code}/join`: the ways into one community.
pub async fn ways_in(State(state): State<AppState>, Page(ctx): Page, Path(code): Path<String>) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let ways: Vec<&WayIn> = state.caps.iter().flat_map(|cap| cap.ways_in.iter()).collect();
    render(&ways_view(ctx, &c.code, &c.name, &ways))
}

/// A sign-up form's account fields: the name, the mobile that signs the newcomer in, and
/// the password.
pub fn account_form(ctx: &PageCtx, title: String, action: String, submit: String) -> Form {
    Form::new(title, action, submit)
        .input(Input::new("name", ctx.t("field.resident.name"), InputKind::Text).required())
        .input(
            Input::new("phone", ctx.t("joining.mobile"), InputKind::Tel)
                .required()
                .hint(ctx.t("points.phone_signs_in")),
        )
        .input(
            Input::new("password", ctx.t("auth.password"), InputKind::Password)
                .required()
                .hint(ctx.t("validation.password_mix")),
        )
}

/// A way in's own form, public: what the community is, a line on what follows, the form.
#[derive(Template)]
#[template(path = "joining/sign_up.html")]
pub struct SignUpPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub community: String,
    pub intro: String,
    pub links: Vec<(String, String)>,
    pub form: Form,
}

/// The page of a sign-up form (its refusal shown on it); those with an account are
/// pointed to the sign-in page. A public form: no session's form token, the origin check is.
pub fn sign_up_view(
    ctx: PageCtx,
    title: String,
    intro: String,
    community: &str,
    form: Form,
    r: &Refusal,
) -> SignUpPage {
    SignUpPage {
        title,
        alert: r.alert_for(&[&form]),
        community: community.to_string(),
        intro,
        links: vec![("/login".into(), ctx.t("joining.have_account"))],
        form,
        ctx,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_community_found_links_to_its_sign_up_and_names_stay_text() {
        let found = vec![("441802005001".into(), "<b>连江</b>社区".into(), "洲心街道".into())];
        let html = join_find_view(crate::web::tests::ctx(), "连江", found).render().unwrap();
        assert!(html.contains("href=\"/c/441802005001/join\""), "{html}");
        assert!(!html.contains("<b>连江") && html.contains("洲心街道"));
        assert!(html.contains("value=\"连江\""));
        let none = join_find_view(crate::web::tests::ctx(), "无此社区", vec![]).render().unwrap();
        assert!(none.contains("class=\"empty\""));
    }

    #[test]
    fn a_community_offers_each_capabilitys_way_in() {
        let ways = [
            WayIn { path: "/c/{code}/residents/join", label: "joining.resident", hint: "joining.resident_hint" },
            WayIn { path: "/c/{code}/volunteers/join", label: "joining.volunteer", hint: "joining.volunteer_hint" },
        ];
        let html =
            ways_view(crate::web::tests::ctx(), "hs", "海盛社区", &ways.iter().collect::<Vec<_>>()).render().unwrap();
        assert!(html.contains("href=\"/c/hs/residents/join\"") && html.contains("href=\"/c/hs/volunteers/join\""));
        assert!(html.contains("居民注册") && html.contains("海盛社区"), "{html}");
    }
}
