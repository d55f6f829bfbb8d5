//! Open311 GeoReport v2 under `/open311/v2/`, so that existing Open311 apps read and
//! write linli's tickets: a "service" is a category, a "service request" a ticket, the
//! jurisdiction a community (by its code). Every endpoint answers `.json` and `.xml`.
//!
//! Submissions are committed in groups: requests that arrive while a commit is on its
//! way to disk wait for the next one, which writes them all in one transaction. Each is
//! acknowledged only after its commit.

mod catalog;
mod listing;
mod submitting;

pub use catalog::definition;
pub use listing::{Answers, one, token};
pub use submitting::{Submissions, create_key, submit_grouped};

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use catalog::{discovery, services};
use listing::requests;
use submitting::submit;
// The children name these as `super::runtime`, `super::mask_numbers`, `super::Channel`.
use super::store::Category;
use super::{Channel, mask_numbers, runtime};
use crate::auth::guard::CommunityRef;
use crate::db::query;
use crate::error::AppError;
use crate::web::AppState;

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

fn attributes_of(c: &Category) -> Vec<Value> {
    c.attributes.as_ref().and_then(|a| a.0.as_array().cloned()).unwrap_or_default()
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
}
