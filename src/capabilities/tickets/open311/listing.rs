//! Reading service requests: the public lists (with answers cached until a ticket
//! changes), a single request, and a request found by its token.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{Format, app_error, error, jurisdiction, oops, params, render, reply, split};
use crate::auth::guard::CommunityRef;
use crate::capabilities::tickets::Status;
use crate::capabilities::tickets::store::{self, Category};
use crate::db::{Builder, query};
use crate::web::AppState;
use crate::web::fmt;

#[derive(Serialize)]
struct RequestItem {
    service_request_id: String,
    status: &'static str,
    status_notes: Option<String>,
    service_name: Option<String>,
    service_code: String,
    description: Option<String>,
    agency_responsible: Option<String>,
    service_notice: Option<String>,
    requested_datetime: String,
    updated_datetime: Option<String>,
    expected_datetime: Option<String>,
    address: Option<String>,
    address_id: Option<String>,
    zipcode: Option<String>,
    lat: Option<f64>,
    long: Option<f64>,
    media_url: Option<String>,
}

/// What a public listing reads of a ticket (fewer columns read is a faster list).
#[derive(sqlx::FromRow)]
struct Listed {
    id: i64,
    category_id: i64,
    status: String,
    description: String,
    household_id: Option<i64>,
    grid_id: Option<i64>,
    lat: Option<f64>,
    lng: Option<f64>,
    duplicate_of: Option<i64>,
    due_at: i64,
    created_at: i64,
    updated_at: i64,
}

const LISTED: &str = "id, category_id, status, description, household_id, grid_id, lat, lng, duplicate_of, due_at, created_at, updated_at";

impl Listed {
    fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Submitted)
    }
}

fn status_notes(t: &Listed) -> Option<String> {
    let s = t.status();
    let note = match s {
        Status::Submitted => "已受理，等待派单",
        Status::Dispatched => "已派单，等待接单",
        Status::Accepted => "已接单",
        Status::InProgress => "办理中",
        Status::Resolved => "已办结，等待评价",
        Status::Closed => "已办结",
        Status::Reopened => "已重新办理",
        Status::Rejected => "不予受理",
        Status::Duplicate => "重复诉求，已合并",
    };
    Some(match t.duplicate_of {
        Some(d) if s == Status::Duplicate => format!("{note}（见 #{d}）"),
        _ => note.to_string(),
    })
}

/// What anyone may read of a ticket: no names or numbers, no household address, a point
/// only to about 10 m and only when one was given.
fn public_item(
    t: &Listed,
    categories: &[Category],
    grid_name: Option<&String>,
    community: &CommunityRef,
) -> RequestItem {
    let cat = categories.iter().find(|c| c.id == t.category_id);
    let round = |x: f64| (x * 10_000.0).round() / 10_000.0;
    let point = t.household_id.is_none();
    RequestItem {
        service_request_id: t.id.to_string(),
        status: t.status().open311(),
        status_notes: status_notes(t),
        service_name: cat.map(|c| c.name.clone()),
        service_code: cat.map(|c| c.code.clone()).unwrap_or_default(),
        description: Some(super::mask_numbers(&t.description)),
        agency_responsible: Some(community.name.clone()),
        service_notice: None,
        requested_datetime: fmt::rfc3339(t.created_at),
        updated_datetime: Some(fmt::rfc3339(t.updated_at)),
        expected_datetime: Some(fmt::rfc3339(t.due_at)),
        address: Some(match grid_name {
            Some(g) => format!("{} {}", community.name, g),
            None => community.name.clone(),
        }),
        address_id: None,
        zipcode: None,
        lat: t.lat.filter(|_| point).map(round),
        long: t.lng.filter(|_| point).map(round),
        media_url: None,
    }
}

fn parse_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|d| d.timestamp_millis()).or_else(|| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc().timestamp_millis() - 8 * 3_600_000)
    })
}

/// How long a listing may be answered again when another process could have changed
/// tickets (this process's own changes drop it at once).
const ANSWER_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// Listings already answered, by their query: Open311 clients poll the same few lists,
/// and a list is the same until a ticket changes.
#[derive(Default)]
pub struct Answers(std::sync::Mutex<HashMap<String, (std::time::Instant, u64, &'static str, Bytes)>>);

impl Answers {
    fn get(&self, key: &str, changes: u64) -> Option<(&'static str, Bytes)> {
        let map = self.0.lock().expect("lock");
        let (at, seen, content_type, body) = map.get(key)?;
        (*seen == changes && at.elapsed() < ANSWER_TTL).then(|| (*content_type, body.clone()))
    }

    fn put(&self, key: String, changes: u64, content_type: &'static str, body: Bytes) {
        let mut map = self.0.lock().expect("lock");
        if map.len() >= 256 {
            map.clear();
        }
        map.insert(key, (std::time::Instant::now(), changes, content_type, body));
    }
}

pub(super) async fn requests(state: &AppState, format: Format, p: &BTreeMap<String, String>) -> Response {
    // Read before the tickets are: a change that lands meanwhile makes this answer stale
    // at once.
    let changes = store::CHANGES.load(std::sync::atomic::Ordering::Relaxed);
    let key = format!("{format:?}?{}", p.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"));
    let (content_type, body) = match super::runtime(state).lists.get(&key, changes) {
        Some(hit) => hit,
        None => {
            let items = match find_requests(state, format, p).await {
                Ok(items) => items,
                Err(r) => return r,
            };
            match render(format, "service_requests", "request", &items) {
                Ok((content_type, text)) => {
                    let body = Bytes::from(text);
                    super::runtime(state).lists.put(key, changes, content_type, body.clone());
                    (content_type, body)
                }
                Err(e) => return oops(format, &e),
            }
        }
    };
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The requests a query asks for, or the error answer.
async fn find_requests(
    state: &AppState,
    format: Format,
    p: &BTreeMap<String, String>,
) -> Result<Vec<RequestItem>, Response> {
    let c = jurisdiction(state, p).await.map_err(|(s, m)| error(format, s, m))?;
    let dir = super::runtime(state).directory(&state.db, c.id).await.map_err(|e| app_error(format, e))?;
    let mut b = Builder::new(format!("SELECT {LISTED} FROM tickets WHERE community_id = "));
    b.arg(c.id);
    if let Some(ids) = p.get("service_request_id").filter(|s| !s.is_empty()) {
        let parsed: Result<Vec<i64>, _> = ids.split(',').map(|x| x.trim().parse::<i64>()).collect();
        match parsed {
            Ok(ids) => {
                b.push(" AND id IN ").list(ids);
            }
            Err(_) => return Err(error(format, StatusCode::BAD_REQUEST, "service_request_id: 应为以逗号分隔的编号")),
        }
    }
    if let Some(code) = p.get("service_code").filter(|s| !s.is_empty()) {
        match dir.categories.iter().find(|x| &x.code == code) {
            Some(cat) => {
                b.push(" AND category_id = ").arg(cat.id);
            }
            None => return Err(error(format, StatusCode::BAD_REQUEST, "service_code: 没有这个服务类别")),
        }
    }
    for (key, op) in [("start_date", ">="), ("end_date", "<")] {
        if let Some(v) = p.get(key).filter(|s| !s.is_empty()) {
            match parse_time(v) {
                Some(ms) => {
                    b.push(&format!(" AND created_at {op} ")).arg(ms);
                }
                None => {
                    return Err(error(
                        format,
                        StatusCode::BAD_REQUEST,
                        &format!("{key}: 应为 ISO 8601 时间，如 2026-11-23T08:00:00+08:00"),
                    ));
                }
            }
        }
    }
    if let Some(st) = p.get("status").filter(|s| !s.is_empty()) {
        let want: Vec<&str> = st.split(',').map(str::trim).collect();
        if want.iter().any(|s| *s != "open" && *s != "closed") {
            return Err(error(format, StatusCode::BAD_REQUEST, "status: 应为 open 或 closed"));
        }
        let states: Vec<&str> =
            Status::ALL.iter().filter(|s| want.contains(&s.open311())).map(|s| s.as_str()).collect();
        b.push(" AND status IN ").list(states);
    }
    let page_size = match p.get("page_size").map(|s| s.parse::<u32>()) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => return Err(error(format, StatusCode::BAD_REQUEST, "page_size: 应为 1 到 1000")),
    };
    let page = match p.get("page").map(|s| s.parse::<u32>()) {
        None => 1,
        Some(Ok(n)) if (1..=100_000).contains(&n) => n,
        Some(_) => return Err(error(format, StatusCode::BAD_REQUEST, "page: 应为 1 到 100000")),
    };
    let offset = u64::from(page - 1) * u64::from(page_size);
    b.push(&format!(" ORDER BY created_at DESC, id DESC LIMIT {page_size} OFFSET {offset}"));
    let mut conn = state.db.read().await.map_err(|e| app_error(format, e.into()))?;
    let rows: Vec<Listed> = b.build().fetch_all(&mut conn).await.map_err(|e| app_error(format, e.into()))?;
    Ok(rows
        .iter()
        .map(|t| public_item(t, &dir.categories, t.grid_id.and_then(|g| dir.grid(g)).map(|g| &g.name), &c))
        .collect())
}

/// `/open311/v2/requests/{id}.{format}` (and the swagger file's `/request/…` spelling).
pub async fn one(State(state): State<AppState>, Path(file): Path<String>, RawQuery(q): RawQuery) -> Response {
    let Some((id, format)) = split(&file) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "没有这个接口");
    };
    let mut p = params(q.as_deref(), &[]);
    p.insert("service_request_id".into(), id.to_string());
    if id.parse::<i64>().is_err() {
        return error(format, StatusCode::NOT_FOUND, "service_request_id: 没有这个诉求");
    }
    match find_requests(&state, format, &p).await {
        Ok(items) if items.is_empty() => error(format, StatusCode::NOT_FOUND, "service_request_id: 没有这个诉求"),
        Ok(items) => reply(format, "service_requests", "request", &items),
        Err(r) => r,
    }
}

/// `/open311/v2/tokens/{token}.{format}`.
pub async fn token(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((token, format)) = split(&file) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "没有这个接口");
    };
    // A token names no community: looked up over all of them.
    let found: Option<i64> = match state.db.span(crate::db::citus::Span::Platform).await {
        Ok(mut conn) => query("SELECT id FROM tickets WHERE token = $1")
            .bind(token)
            .scalar_optional(&mut conn)
            .await
            .unwrap_or(None),
        Err(_) => None,
    };
    #[derive(Serialize)]
    struct TokenItem {
        service_request_id: String,
        token: String,
    }
    match found {
        Some(id) => reply(
            format,
            "service_requests",
            "request",
            &[TokenItem { service_request_id: id.to_string(), token: token.to_string() }],
        ),
        None => error(format, StatusCode::NOT_FOUND, "token: 没有这个凭证"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_iso_8601() {
        assert_eq!(parse_time("2026-11-23T08:00:00+08:00"), Some(1_795_392_000_000));
        // A bare date is midnight in China.
        assert_eq!(parse_time("2026-11-23"), Some(1_795_363_200_000));
        assert_eq!(parse_time("yesterday"), None);
    }
}
