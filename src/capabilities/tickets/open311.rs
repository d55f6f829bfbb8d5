//! Open311 GeoReport v2 under `/open311/v2/`, so that existing Open311 apps read and
//! write linli's tickets: a "service" is a category, a "service request" a ticket, the
//! jurisdiction a community (by its code). Every endpoint answers `.json` and `.xml`.
//!
//! Submissions are committed in groups: requests that arrive while a commit is on its
//! way to disk wait for the next one, which writes them all in one transaction. Each is
//! acknowledged only after its commit.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Status;
use super::store::{self, Category, NewTicket, Prepared};
use crate::auth::guard::CommunityRef;
use crate::db::group::{Batch, Committer};
use crate::db::{Builder, Tx, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// `services.json` → ("services", Json).
fn split(file: &str) -> Option<(&str, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    match ext {
        "json" => Some((name, Format::Json)),
        "xml" => Some((name, Format::Xml)),
        _ => None,
    }
}

/// A list as a JSON array or as `<root><item>…</item></root>`: its content type and text.
fn render<T: Serialize>(format: Format, root: &str, item: &str, items: &[T]) -> Result<(&'static str, String), String> {
    match format {
        Format::Json => {
            Ok(("application/json; charset=utf-8", serde_json::to_string(items).map_err(|e| e.to_string())?))
        }
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            out.push_str(&format!("<{root}>"));
            for i in items {
                out.push_str(&quick_xml::se::to_string_with_root(item, i).map_err(|e| e.to_string())?);
            }
            out.push_str(&format!("</{root}>"));
            Ok(("text/xml; charset=utf-8", out))
        }
    }
}

/// A list answered in the asked format.
fn reply<T: Serialize>(format: Format, root: &str, item: &str, items: &[T]) -> Response {
    match render(format, root, item, items) {
        Ok((content_type, body)) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(e) => oops(format, &e),
    }
}

fn oops(format: Format, detail: &str) -> Response {
    tracing::error!(detail, "open311 serialisation");
    error(format, StatusCode::INTERNAL_SERVER_ERROR, "服务器出错了")
}

#[derive(Serialize)]
struct ErrorItem {
    code: u16,
    description: String,
}

/// Errors as the spec writes them: `[{"code", "description"}]` / `<errors><error>`.
fn error(format: Format, status: StatusCode, description: &str) -> Response {
    let mut r =
        reply(format, "errors", "error", &[ErrorItem { code: status.as_u16(), description: description.to_string() }]);
    *r.status_mut() = status;
    r
}

fn app_error(format: Format, e: AppError) -> Response {
    let lang = crate::i18n::current();
    let description = match &e {
        AppError::Invalid(fields) => {
            fields.iter().map(|f| format!("{}: {}", f.field, f.message(lang))).collect::<Vec<_>>().join("; ")
        }
        other => {
            other.log();
            other.message(lang)
        }
    };
    let status = match e.status() {
        StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
        s => s,
    };
    error(format, status, &description)
}

/// `a=1&attribute[x]=2` from the query string and a form body, the body winning.
fn params(query_string: Option<&str>, body: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(query_string.unwrap_or("").as_bytes()).chain(form_urlencoded::parse(body)) {
        out.insert(k.into_owned(), v.into_owned());
    }
    out
}

/// The community named by `jurisdiction_id` (or the only one there is).
async fn jurisdiction(
    state: &AppState,
    p: &BTreeMap<String, String>,
) -> Result<CommunityRef, (StatusCode, &'static str)> {
    let unavailable = |_| (StatusCode::SERVICE_UNAVAILABLE, "数据库暂不可用");
    match p.get("jurisdiction_id").filter(|j| !j.is_empty()) {
        Some(code) => super::runtime(state)
            .community(&state.db, code)
            .await
            .map_err(unavailable)?
            .ok_or((StatusCode::NOT_FOUND, "jurisdiction_id: 没有这个社区代码")),
        None => {
            let mut conn = state.db.read().await.map_err(|_| (StatusCode::SERVICE_UNAVAILABLE, "数据库暂不可用"))?;
            let all: Vec<String> = query("SELECT code FROM communities WHERE archived_at IS NULL LIMIT 2")
                .scalars(&mut conn)
                .await
                .unwrap_or_default();
            match all.as_slice() {
                [only] => super::runtime(state)
                    .community(&state.db, only)
                    .await
                    .map_err(unavailable)?
                    .ok_or((StatusCode::NOT_FOUND, "jurisdiction_id")),
                _ => Err((StatusCode::BAD_REQUEST, "jurisdiction_id: 必填（社区代码）")),
            }
        }
    }
}

// ---------- discovery and services ----------

#[derive(Serialize)]
struct Formats {
    format: Vec<&'static str>,
}

#[derive(Serialize)]
struct Endpoint {
    specification: &'static str,
    url: String,
    changeset: String,
    #[serde(rename = "type")]
    kind: &'static str,
    formats: Formats,
}

#[derive(Serialize)]
struct Endpoints {
    endpoint: Vec<Endpoint>,
}

#[derive(Serialize)]
struct Discovery {
    changeset: String,
    contact: String,
    key_service: String,
    endpoints: Endpoints,
}

#[derive(Serialize)]
struct ServiceItem {
    service_code: String,
    service_name: String,
    description: Option<String>,
    metadata: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    keywords: Option<String>,
    group: Option<String>,
}

fn attributes_of(c: &Category) -> Vec<Value> {
    c.attributes.as_ref().and_then(|a| a.0.as_array().cloned()).unwrap_or_default()
}

fn service(c: &Category) -> ServiceItem {
    ServiceItem {
        service_code: c.code.clone(),
        service_name: c.name.clone(),
        description: c.description.clone(),
        metadata: !attributes_of(c).is_empty(),
        kind: "realtime",
        keywords: None,
        group: Some(if c.grp == "urban" { "城市管理".into() } else { "社区服务".into() }),
    }
}

#[derive(Serialize)]
struct AttributeValue {
    key: String,
    name: String,
}

#[derive(Serialize)]
struct Values {
    value: Vec<AttributeValue>,
}

#[derive(Serialize)]
struct Attribute {
    variable: bool,
    code: String,
    datatype: String,
    required: bool,
    datatype_description: Option<String>,
    order: i64,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    values: Option<Values>,
}

#[derive(Serialize)]
struct AttributesXml {
    attribute: Vec<Attribute>,
}

fn attribute(v: &Value, i: usize) -> Attribute {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let values: Vec<AttributeValue> = v
        .get("values")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .map(|x| AttributeValue {
                    key: x.get("key").map(|k| k.to_string().trim_matches('"').to_string()).unwrap_or_default(),
                    name: x.get("name").and_then(Value::as_str).unwrap_or("").into(),
                })
                .collect()
        })
        .unwrap_or_default();
    Attribute {
        variable: v.get("variable").and_then(Value::as_bool).unwrap_or(true),
        code: s("code"),
        datatype: s("datatype"),
        required: v.get("required").and_then(Value::as_bool).unwrap_or(false),
        datatype_description: v.get("datatype_description").and_then(Value::as_str).map(String::from),
        order: v.get("order").and_then(Value::as_i64).unwrap_or(i as i64 + 1),
        description: s("description"),
        values: (!values.is_empty()).then_some(Values { value: values }),
    }
}

/// `/open311/v2/{file}`: discovery, services, requests (GET and POST).
pub async fn root(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    method: axum::http::Method,
    body: Bytes,
) -> Response {
    let Some((name, format)) = split(&file) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "没有这个接口");
    };
    let p = params(q.as_deref(), if method == axum::http::Method::POST { &body } else { &[] });
    match (name, method.as_str()) {
        ("discovery", "GET") => discovery(&state, format),
        ("services", "GET") => services(&state, format, &p).await,
        ("requests", "GET") => requests(&state, format, &p).await,
        ("requests", "POST") => submit(&state, format, &p, &headers).await,
        ("discovery" | "services" | "requests", _) => {
            error(format, StatusCode::METHOD_NOT_ALLOWED, "不支持这个请求方法")
        }
        _ => error(format, StatusCode::NOT_FOUND, "没有这个接口"),
    }
}

fn discovery(state: &AppState, format: Format) -> Response {
    let base = state.config.public_url.clone().unwrap_or_else(|| format!("http://{}", state.config.listen));
    let d = Discovery {
        changeset: "2026-11-23T00:00:00+08:00".into(),
        contact: "请联系所在社区党群服务中心".into(),
        key_service: "API 密钥由社区管理员用 linli api-key create 生成".into(),
        endpoints: Endpoints {
            endpoint: vec![Endpoint {
                specification: "http://wiki.open311.org/GeoReport_v2",
                url: format!("{base}/open311/v2"),
                changeset: "2026-11-23T00:00:00+08:00".into(),
                kind: "production",
                formats: Formats { format: vec!["text/xml", "application/json"] },
            }],
        },
    };
    match format {
        Format::Json => {
            let mut v = serde_json::to_value(&d).unwrap_or_default();
            // JSON lists are plain arrays; the wrappers are for XML's element names.
            v["endpoints"] = json!([{"specification": "http://wiki.open311.org/GeoReport_v2", "url": format!("{base}/open311/v2"), "changeset": d.changeset, "type": "production", "formats": ["text/xml", "application/json"]}]);
            ([(header::CONTENT_TYPE, "application/json; charset=utf-8")], v.to_string()).into_response()
        }
        Format::Xml => match quick_xml::se::to_string_with_root("discovery", &d) {
            Ok(x) => (
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>{x}"),
            )
                .into_response(),
            Err(e) => oops(format, &e.to_string()),
        },
    }
}

async fn services(state: &AppState, format: Format, p: &BTreeMap<String, String>) -> Response {
    let c = match jurisdiction(state, p).await {
        Ok(c) => c,
        Err((s, m)) => return error(format, s, m),
    };
    match super::runtime(state).directory(&state.db, c.id).await {
        Ok(d) => reply(format, "services", "service", &d.categories.iter().map(service).collect::<Vec<_>>()),
        Err(e) => app_error(format, e),
    }
}

/// `/open311/v2/services/{code}.{format}`: a service definition.
pub async fn definition(State(state): State<AppState>, Path(file): Path<String>, RawQuery(q): RawQuery) -> Response {
    let Some((code, format)) = split(&file) else {
        return error(Format::Json, StatusCode::NOT_FOUND, "没有这个接口");
    };
    let p = params(q.as_deref(), &[]);
    let c = match jurisdiction(&state, &p).await {
        Ok(c) => c,
        Err((s, m)) => return error(format, s, m),
    };
    let dir = match super::runtime(&state).directory(&state.db, c.id).await {
        Ok(d) => d,
        Err(e) => return app_error(format, e),
    };
    let Some(cat) = dir.categories.iter().find(|x| x.code == code) else {
        return error(format, StatusCode::NOT_FOUND, "service_code: 没有这个服务类别");
    };
    let attrs: Vec<Attribute> = attributes_of(cat).iter().enumerate().map(|(i, v)| attribute(v, i)).collect();
    match format {
        Format::Json => {
            // XML wraps each value in <value>; JSON lists them.
            let attrs: Vec<Value> = attrs
                .iter()
                .map(|a| {
                    let mut v = json!(a);
                    if let Some(list) = v.get_mut("values").and_then(|x| x.get_mut("value")).map(Value::take) {
                        v["values"] = list;
                    }
                    v
                })
                .collect();
            let v = json!({"service_code": cat.code, "attributes": attrs});
            ([(header::CONTENT_TYPE, "application/json; charset=utf-8")], v.to_string()).into_response()
        }
        Format::Xml => {
            #[derive(Serialize)]
            struct Def<'a> {
                service_code: &'a str,
                attributes: AttributesXml,
            }
            match quick_xml::se::to_string_with_root(
                "service_definition",
                &Def { service_code: &cat.code, attributes: AttributesXml { attribute: attrs } },
            ) {
                Ok(x) => (
                    [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>{x}"),
                )
                    .into_response(),
                Err(e) => oops(format, &e.to_string()),
            }
        }
    }
}

// ---------- requests ----------

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

async fn requests(state: &AppState, format: Format, p: &BTreeMap<String, String>) -> Response {
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

// ---------- submitting, with group commit ----------

fn hash_key(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

/// Creates an API key for a community's Open311 clients; answers the key (shown once).
pub async fn create_key(state: &AppState, community_id: i64, label: &str) -> AppResult<String> {
    let mut raw = [0u8; 24];
    getrandom::fill(&mut raw).map_err(|e| AppError::Internal(anyhow::anyhow!("random: {e}")))?;
    let key = format!("lk_{}", hex::encode(raw));
    let mut tx = state.db.begin().await?;
    let id = tx.next_id().await?;
    query("INSERT INTO api_keys (id, community_id, key_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(community_id)
        .bind(hash_key(&key))
        .bind(label)
        .bind(now_ms())
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(key)
}

async fn key_community(state: &AppState, key: &str) -> AppResult<Option<i64>> {
    super::runtime(state).api_key(&state.db, hash_key(key)).await
}

/// Submissions written together: all the tickets of a batch in a few multi-row inserts.
pub struct Submissions {
    pii: std::sync::Arc<crate::services::pii::Pii>,
    bus: std::sync::Arc<crate::services::notify::Bus>,
}

impl Batch for Submissions {
    type Item = Prepared;
    type Out = i64;

    fn write<'a>(&'a self, tx: &'a mut Tx, items: &'a [Prepared]) -> BoxFuture<'a, AppResult<Vec<AppResult<i64>>>> {
        Box::pin(async move { Ok(store::write(tx, &self.pii, &self.bus, items).await?.into_iter().map(Ok).collect()) })
    }
}

/// Submits through the group commit; answers the ticket's id once it is on disk.
pub async fn submit_grouped(state: &AppState, prepared: Prepared) -> AppResult<i64> {
    let committer = super::runtime(state)
        .submissions
        .get_or_init(|| async {
            let batch = Submissions { pii: state.pii.clone(), bus: state.bus.clone() };
            Committer::start(state.db.clone(), batch, 2000)
        })
        .await;
    committer.submit(prepared).await
}

#[derive(Serialize)]
struct Created {
    service_request_id: String,
    service_notice: Option<String>,
    account_id: Option<String>,
}

/// Checks the answers to a category's extra questions (`attribute[code]=value`).
fn check_attributes(cat: &Category, p: &BTreeMap<String, String>) -> Result<Option<Value>, String> {
    let defs = attributes_of(cat);
    let mut answers = serde_json::Map::new();
    for (k, v) in p {
        let Some(code) = k.strip_prefix("attribute[").and_then(|r| r.strip_suffix(']')) else { continue };
        let Some(def) = defs.iter().find(|d| d.get("code").and_then(Value::as_str) == Some(code)) else {
            return Err(format!("attribute[{code}]: 不是这个服务类别的问题"));
        };
        if let Some(values) = def.get("values").and_then(Value::as_array) {
            let keys: Vec<String> = values
                .iter()
                .filter_map(|x| x.get("key"))
                .map(|k| k.to_string().trim_matches('"').to_string())
                .collect();
            if !v.split(',').all(|one| keys.iter().any(|k| k == one.trim())) {
                return Err(format!("attribute[{code}]: 不是可选的值"));
            }
        }
        answers.insert(code.to_string(), Value::String(v.clone()));
    }
    for d in &defs {
        let code = d.get("code").and_then(Value::as_str).unwrap_or("");
        if d.get("required").and_then(Value::as_bool) == Some(true) && !answers.contains_key(code) {
            return Err(format!("attribute[{code}]: 必填"));
        }
    }
    Ok((!answers.is_empty()).then_some(Value::Object(answers)))
}

async fn submit(state: &AppState, format: Format, p: &BTreeMap<String, String>, headers: &HeaderMap) -> Response {
    let Some(key) = p.get("api_key").filter(|k| !k.is_empty()) else {
        return error(format, StatusCode::FORBIDDEN, "api_key: 必填");
    };
    let c = match jurisdiction(state, p).await {
        Ok(c) => c,
        Err((s, m)) => return error(format, s, m),
    };
    match key_community(state, key).await {
        Ok(Some(k)) if k == c.id => {}
        Ok(_) => return error(format, StatusCode::FORBIDDEN, "api_key: 无效，或不属于这个社区"),
        Err(e) => return app_error(format, e),
    }
    let dir = match super::runtime(state).directory(&state.db, c.id).await {
        Ok(d) => d,
        Err(e) => return app_error(format, e),
    };
    let Some(code) = p.get("service_code").filter(|s| !s.is_empty()) else {
        return error(format, StatusCode::BAD_REQUEST, "service_code: 必填");
    };
    let Some(cat) = dir.categories.iter().find(|x| &x.code == code) else {
        return error(format, StatusCode::BAD_REQUEST, "service_code: 没有这个服务类别");
    };
    let number = |k: &str| -> Result<Option<f64>, String> {
        match p.get(k).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(v) => {
                v.parse::<f64>().ok().filter(|x| x.is_finite()).map(Some).ok_or_else(|| format!("{k}: 应为数字"))
            }
        }
    };
    let (lat, lng) = match (number("lat"), number("long")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return error(format, StatusCode::BAD_REQUEST, &e),
    };
    let attributes = match check_attributes(cat, p) {
        Ok(a) => a,
        Err(e) => return error(format, StatusCode::BAD_REQUEST, &e),
    };
    let name = [p.get("first_name"), p.get("last_name")]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let description = p.get("description").cloned().unwrap_or_default();
    let idempotency_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(String::from);
    let new = NewTicket {
        category_id: Some(cat.id),
        description: if description.trim().is_empty() { cat.name.clone() } else { description },
        channel: Some(super::Channel::Open311),
        household_id: None,
        lat,
        lng,
        address: p.get("address_string").or(p.get("address_id")).cloned(),
        submitter_name: (!name.is_empty()).then_some(name),
        caller_phone: p.get("phone").cloned(),
        attributes,
        idempotency_key: idempotency_key.clone(),
    };
    if let Some(k) = idempotency_key.as_deref()
        && let Ok(mut conn) = state.db.read().await
        && let Ok(Some(t)) = store::by_idempotency_key(&mut conn, c.id, k).await
    {
        return created(format, &t.id.to_string(), cat);
    }
    let prepared = match store::prepare(state, c.id, None, new).await {
        Ok(p) => p,
        Err(e) => return app_error(format, e),
    };
    match submit_grouped(state, prepared).await {
        Ok(id) => created(format, &id.to_string(), cat),
        // A retry that raced its first attempt: answer the first.
        Err(AppError::Invalid(f)) if f.iter().any(|f| f.field == "idempotency_key") => {
            let key = idempotency_key.unwrap_or_default();
            match state.db.read().await.map_err(AppError::from) {
                Ok(mut conn) => match store::by_idempotency_key(&mut conn, c.id, &key).await {
                    Ok(Some(t)) => created(format, &t.id.to_string(), cat),
                    Ok(None) => error(format, StatusCode::CONFLICT, "idempotency_key: 请重试"),
                    Err(e) => app_error(format, e),
                },
                Err(e) => app_error(format, e),
            }
        }
        Err(e) => app_error(format, e),
    }
}

fn created(format: Format, id: &str, cat: &Category) -> Response {
    let notice = format!("已受理，将在 {} 小时内处理", cat.deadline_hours);
    reply(
        format,
        "service_requests",
        "request",
        &[Created { service_request_id: id.to_string(), service_notice: Some(notice), account_id: None }],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_the_file_name() {
        assert_eq!(split("services.json"), Some(("services", Format::Json)));
        assert_eq!(split("requests.xml"), Some(("requests", Format::Xml)));
        assert_eq!(split("123.xml"), Some(("123", Format::Xml)));
        assert_eq!(split("services.csv"), None);
        assert_eq!(split("services"), None);
    }

    #[test]
    fn xml_uses_the_spec_element_names() {
        let r = reply(Format::Xml, "errors", "error", &[ErrorItem { code: 403, description: "bad <key>".into() }]);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/xml; charset=utf-8");
        let x = quick_xml::se::to_string_with_root("error", &ErrorItem { code: 403, description: "bad <key>".into() })
            .unwrap();
        assert_eq!(x, "<error><code>403</code><description>bad &lt;key&gt;</description></error>");
    }

    #[test]
    fn dates_are_read_as_iso_8601() {
        assert_eq!(parse_time("2026-11-23T08:00:00+08:00"), Some(1_795_392_000_000));
        // A bare date is midnight in China.
        assert_eq!(parse_time("2026-11-23"), Some(1_795_363_200_000));
        assert_eq!(parse_time("yesterday"), None);
    }
}
