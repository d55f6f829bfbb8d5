//! Discovery and services: what an Open311 client reads before it asks for anything —
//! the endpoint list, the service (category) list and each service's definition.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Format, app_error, attributes_of, error, jurisdiction, oops, params, reply, split};
use crate::capabilities::tickets::store::Category;
use crate::web::AppState;

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

pub(super) fn discovery(state: &AppState, format: Format) -> Response {
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

pub(super) async fn services(state: &AppState, format: Format, p: &BTreeMap<String, String>) -> Response {
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
