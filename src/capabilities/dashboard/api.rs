//! The dashboard's JSON API: the dictionary itself, and a month's figures of a
//! subdistrict's communities or of a community's grids — each figure's `value` (as the
//! dashboard, the Excel and the PDF write it, in `text`) with what it was counted from.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Ask, Asked, Place, in_area, store};
use crate::auth::guard;
use crate::error::{AppResult, Problem};
use crate::i18n::{self, Lang};
use crate::web::api::{Code, SubdistrictId};
use crate::web::dictionary::{self, Values};
use crate::web::{AppState, Signed};

fn figures_json(state: &AppState, v: &Values) -> Value {
    let mut out = Map::new();
    for (_, f) in dictionary::all(state) {
        let t = v.get(f.code).copied().unwrap_or_default();
        out.insert(f.code.into(), json!({"value": f.value(t), "text": f.show(t), "num": t.num, "den": t.den}));
    }
    Value::Object(out)
}

fn place_json(state: &AppState, p: &Place) -> Value {
    json!({"id": p.id, "name": p.name, "area": p.area, "figures": figures_json(state, &p.values)})
}

/// The dictionary of figures
///
/// Every figure the dashboard, the monthly report and this API show: its code, names in
/// Chinese and English, definition, unit and the capability it comes from.
#[utoipa::path(get, path = "/api/v1/figures", tag = "dashboard", responses((status = 200, description = "The figures")))]
pub async fn list_figures(State(s): State<AppState>, _a: Signed) -> AppResult<Json<Value>> {
    let items: Vec<Value> = dictionary::all(&s)
        .into_iter()
        .map(|(source, f)| {
            let (name, def) = (format!("figure.name.{}", f.code), format!("figure.definition.{}", f.code));
            json!({"code": f.code, "name_zh": i18n::t(Lang::Zh, &name), "name_en": i18n::t(Lang::En, &name),
                "definition_zh": i18n::t(Lang::Zh, &def), "definition_en": i18n::t(Lang::En, &def),
                "unit": f.unit, "source": source, "more_is_better": f.more_is_better})
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// A month's figures of a subdistrict's communities
///
/// For its administrators: each community (of the `area` asked) with every figure, and
/// their total.
#[utoipa::path(get, path = "/api/v1/subdistricts/{id}/figures", tag = "dashboard", params(SubdistrictId, Ask),
    responses((status = 200, description = "The communities' figures"),
        (status = 422, description = "A month to come, or an unknown figure, area or order, named", body = Problem),
        (status = 404, description = "Not one's subdistrict", body = Problem)))]
pub async fn subdistrict_figures(
    State(s): State<AppState>,
    a: Signed,
    Path(id): Path<i64>,
    Query(q): Query<Ask>,
) -> AppResult<Json<Value>> {
    let (name, cs) = guard::subdistrict_community_refs(&s.db, a.actor(), id).await?;
    let asked = Asked::read(&s, &q)?;
    let cs: Vec<_> = cs.into_iter().filter(|c| in_area(c, asked.area)).collect();
    let mut places = store::communities(&s, &cs, &asked.period).await?;
    let total = dictionary::total(&s, places.iter().map(|p| &p.values));
    super::rank(&mut places, asked.figure, asked.order);
    let items: Vec<Value> = places
        .iter()
        .map(|p| {
            let mut v = place_json(&s, p);
            v["code"] = json!(cs.iter().find(|c| c.id == p.id).map(|c| &c.code));
            v
        })
        .collect();
    Ok(Json(json!({"subdistrict": name, "month": asked.period.month, "ranked_by": asked.figure.code,
        "communities": items, "total": figures_json(&s, &total)})))
}

/// A month's figures of a community's grids
///
/// For its staff (a grid worker: their own grids): each grid with every figure, what
/// belongs to no grid (`id` 0), and the total.
#[utoipa::path(get, path = "/api/v1/communities/{code}/figures", tag = "dashboard", params(Code, Ask),
    responses((status = 200, description = "The grids' figures"),
        (status = 422, description = "A month to come, or an unknown figure, named", body = Problem),
        (status = 404, description = "Not one's community", body = Problem)))]
pub async fn community_figures(
    State(s): State<AppState>,
    a: Signed,
    Path(code): Path<String>,
    Query(q): Query<Ask>,
) -> AppResult<Json<Value>> {
    let (c, access) = store::community(&s, a.actor(), &code).await?;
    let asked = Asked::read(&s, &q)?;
    let (mut grids, total) = store::grids(&s, &c, &access, &asked.period).await?;
    super::rank(&mut grids, asked.figure, asked.order);
    let items: Vec<Value> = grids.iter().map(|p| place_json(&s, p)).collect();
    Ok(Json(json!({"community": c.name, "month": asked.period.month, "ranked_by": asked.figure.code,
        "grids": items, "total": figures_json(&s, &total)})))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_figures))
        .routes(routes!(subdistrict_figures))
        .routes(routes!(community_figures))
}
