//! Getting in as a volunteer: from the sign-in page, find one's community, then sign up
//! there and be signed in at once.

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::db::{Builder, escape_like};
use crate::web::AppState;
use crate::web::ui::{Form, Input, InputKind, Item};
use crate::web::{Page, PageCtx, PageResult, render};

#[derive(Deserialize)]
pub struct FindQuery {
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "points/join_find.html")]
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
        .input(Input::new("q", ctx.t("points.find_community"), InputKind::Text).value(q));
    let items = found
        .into_iter()
        .map(|(code, name, subdistrict)| Item::link(name, subdistrict, format!("/c/{code}/volunteers/join")))
        .collect();
    JoinFindPage {
        title: ctx.t("points.join_page"),
        search,
        heading: ctx.t("points.pick_community"),
        items,
        empty: ctx.t("points.no_community_found"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_community_found_links_to_its_sign_up_and_names_stay_text() {
        let found = vec![("441802005001".into(), "<b>连江</b>社区".into(), "洲心街道".into())];
        let html = join_find_view(crate::web::tests::ctx(), "连江", found).render().unwrap();
        assert!(html.contains("href=\"/c/441802005001/volunteers/join\""), "{html}");
        assert!(!html.contains("<b>连江") && html.contains("洲心街道"));
        assert!(html.contains("value=\"连江\""));
        let none = join_find_view(crate::web::tests::ctx(), "无此社区", vec![]).render().unwrap();
        assert!(none.contains("class=\"empty\""));
    }
}
