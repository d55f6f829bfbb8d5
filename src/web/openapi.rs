//! The OpenAPI 3.1 document: each capability's operations as its handlers declare them
//! (`#[utoipa::path]`), and the record kinds' paths and schemas built from the same
//! definitions that drive their store and pages, so neither can drift from what the API
//! accepts.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use utoipa::PartialSchema;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required,
};

use crate::services::records::model::{EntityDef, Kind, Tenancy};

/// The document: what the handlers declare, with the record kinds' paths and schemas.
pub fn document_json(declared: OpenApi) -> String {
    let mut doc = document();
    doc.merge(declared);
    serde_json::to_string_pretty(&doc).expect("the document serialises")
}

/// `GET /api/openapi.json`
pub async fn serve(document: std::sync::Arc<String>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document.as_str().to_string()).into_response()
}

/// Swagger UI, embedded.
pub async fn docs() -> Html<String> {
    let v = crate::web::assets::VERSION.as_str();
    Html(format!(
        r##"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>linli API</title><link rel="stylesheet" href="/assets/vendor/swagger-ui/swagger-ui.css?v={v}"></head>
<body><div id="ui"></div><script src="/assets/vendor/swagger-ui/swagger-ui-bundle.js?v={v}"></script>
<script>window.ui = SwaggerUIBundle({{ url: "/api/openapi.json", dom_id: "#ui", deepLinking: true }});</script></body></html>"##
    ))
}

fn pascal(kind: &str) -> String {
    kind.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn field_schema(kind: Kind, output: bool) -> Schema {
    let b = ObjectBuilder::new();
    let b = match kind {
        Kind::Text { max } | Kind::LongText { max } => b.schema_type(Type::String).max_length(Some(max)),
        Kind::Digits { min, max } => b.schema_type(Type::String).pattern(Some(format!("^[0-9]{{{min},{max}}}$"))),
        Kind::Int { min, max } => b.schema_type(Type::Integer).minimum(Some(min as f64)).maximum(Some(max as f64)),
        Kind::Float { min, max } => b.schema_type(Type::Number).minimum(Some(min)).maximum(Some(max)),
        Kind::Date => b.schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
        Kind::Bool => b.schema_type(Type::Boolean),
        Kind::Choice(values) => b.schema_type(Type::String).enum_values(Some(values.iter().copied())),
        Kind::Ref(target) => b.schema_type(Type::Integer).description(Some(format!("id of a {target}"))),
        Kind::UserRef => b.schema_type(Type::Integer).description(Some("id of a user")),
        Kind::Tags | Kind::FreeTags => {
            return ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)).into();
        }
        Kind::Set(values) => {
            let item = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied()));
            return ArrayBuilder::new().items(item).into();
        }
        Kind::Polygon => b.schema_type(Type::Object).description(Some("GeoJSON Polygon or MultiPolygon (WGS 84)")),
        Kind::Questions => {
            return ArrayBuilder::new()
                .items(
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .description(Some("an Open311 attribute: code, datatype, required, description, values")),
                )
                .into();
        }
        Kind::Phone => b.schema_type(Type::String).description(Some(if output {
            "masked, e.g. 138****1234; reveal to see in full"
        } else {
            "mainland mobile number"
        })),
        Kind::IdNumber => b.schema_type(Type::String).description(Some(if output {
            "masked, e.g. 110***********002X; reveal to see in full"
        } else {
            "18-character ID number (GB 11643)"
        })),
    };
    b.into()
}

fn record_schemas(def: &EntityDef) -> (Schema, Schema) {
    let mut out = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("id", ObjectBuilder::new().schema_type(Type::Integer))
        .required("id")
        .property(
            "created_at",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .property(
            "updated_at",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .property("archived", ObjectBuilder::new().schema_type(Type::Boolean));
    if def.tenancy == Tenancy::Community {
        out = out.property("community_id", ObjectBuilder::new().schema_type(Type::Integer));
    }
    let mut input = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for f in def.fields {
        out = out.property(f.name, field_schema(f.kind, true));
        input = input.property(f.name, field_schema(f.kind, false));
        if f.required {
            input = input.required(f.name);
        }
    }
    (out.into(), input.into())
}

/// A path with several operations.
pub(crate) fn item(ops: Vec<(HttpMethod, OperationBuilder)>) -> PathItem {
    let mut ops = ops.into_iter();
    let (m, o) = ops.next().expect("at least one operation");
    let mut out = PathItem::new(m, o);
    for (m, o) in ops {
        out.merge_operations(PathItem::new(m, o));
    }
    out
}

pub(crate) fn json_content(schema: impl Into<RefOr<Schema>>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

pub(crate) fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

pub(crate) fn op(tag: &str, summary: &str) -> OperationBuilder {
    OperationBuilder::new()
        .tag(tag)
        .summary(Some(summary))
        .response(
            "400",
            ResponseBuilder::new()
                .description("Unreadable request")
                .content("application/json", json_content(schema_ref("Error"))),
        )
        .response(
            "401",
            ResponseBuilder::new()
                .description("Not signed in")
                .content("application/json", json_content(schema_ref("Error"))),
        )
        .response(
            "404",
            ResponseBuilder::new()
                .description("Not found, or outside your scope")
                .content("application/json", json_content(schema_ref("Error"))),
        )
}

pub(crate) fn path_param(name: &str, integer: bool) -> utoipa::openapi::path::Parameter {
    let t = if integer { Type::Integer } else { Type::String };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(ObjectBuilder::new().schema_type(t)))
        .build()
}

pub(crate) fn query_param(name: &str, t: Type, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(t)))
        .build()
}

pub(crate) fn ok(schema: impl Into<RefOr<Schema>>) -> utoipa::openapi::Response {
    ResponseBuilder::new().description("OK").content("application/json", json_content(schema)).build()
}

pub(crate) fn invalid() -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description("Invalid input: `fields` names each bad field")
        .content("application/json", json_content(schema_ref("Error")))
        .build()
}

pub(crate) fn body(schema: impl Into<RefOr<Schema>>) -> utoipa::openapi::request_body::RequestBody {
    RequestBodyBuilder::new().required(Some(Required::True)).content("application/json", json_content(schema)).build()
}

fn list_of(name: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("items", ArrayBuilder::new().items(schema_ref(name)))
        .property("total", ObjectBuilder::new().schema_type(Type::Integer))
        .property("page", ObjectBuilder::new().schema_type(Type::Integer))
        .property("per_page", ObjectBuilder::new().schema_type(Type::Integer))
        .into()
}

fn error_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "error",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("code", ObjectBuilder::new().schema_type(Type::String).examples(["invalid"]))
                .property("message", ObjectBuilder::new().schema_type(Type::String).examples(["输入有误"]))
                .property(
                    "fields",
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .examples([serde_json::json!({"phone": "手机号码格式不正确"})]),
                )
                .required("code")
                .required("message")
                .required("fields"),
        )
        .required("error")
        .into()
}

fn entity_paths(paths: &mut Paths, def: &EntityDef) {
    let name = pascal(def.kind);
    let input = format!("{name}Input");
    let tag = def.path;
    let (collection, item_path, key_params): (String, String, Vec<utoipa::openapi::path::Parameter>) =
        match (def.tenancy, def.kind) {
            (Tenancy::Community, _) => (
                format!("/api/v1/communities/{{code}}/{}", def.path),
                format!("/api/v1/communities/{{code}}/{}/{{id}}", def.path),
                vec![path_param("code", false)],
            ),
            (Tenancy::Global, "community") => {
                ("/api/v1/communities".into(), "/api/v1/communities/{code}".into(), vec![])
            }
            (Tenancy::Global, _) => (format!("/api/v1/{}", def.path), format!("/api/v1/{}/{{id}}", def.path), vec![]),
        };
    let item_params: Vec<_> = match def.kind {
        "community" => vec![path_param("code", false)],
        _ => key_params.iter().cloned().chain([path_param("id", true)]).collect(),
    };
    let list_op = |summary: String, params: Vec<utoipa::openapi::path::Parameter>| {
        let mut list = op(tag, &summary)
            .parameters(Some(params))
            .parameter(query_param("q", Type::String, "search text"))
            .parameter(query_param("page", Type::Integer, "page, from 1"))
            .parameter(query_param("per_page", Type::Integer, "up to 200"))
            .parameter(query_param("archived", Type::String, "1 to include archived records"));
        for f in def.filters {
            list = list.parameter(query_param(f.column, Type::String, "filter"));
        }
        list.response("200", ok(list_of(&name)))
    };
    let list = list_op(format!("List {} (search, filters, pages)", def.path), key_params.clone());
    if def.tenancy == Tenancy::Community {
        let across = list_op(
            format!("List {} across every community of a subdistrict (as its administrator sees them)", def.path),
            vec![path_param("id", true)],
        );
        paths.paths.insert(format!("/api/v1/subdistricts/{{id}}/{}", def.path), PathItem::new(HttpMethod::Get, across));
    }
    let create = op(tag, &format!("Create a {}", def.kind))
        .parameters(Some(key_params.clone()))
        .request_body(Some(body(schema_ref(&input))))
        .response("201", ok(schema_ref(&name)))
        .response("403", ResponseBuilder::new().description("Not allowed").build())
        .response("422", invalid());
    paths.paths.insert(collection, item(vec![(HttpMethod::Get, list), (HttpMethod::Post, create)]));
    let get = op(tag, &format!("One {}", def.kind))
        .parameters(Some(item_params.clone()))
        .response("200", ok(schema_ref(&name)));
    let patch = op(tag, &format!("Change some fields of a {}", def.kind))
        .parameters(Some(item_params.clone()))
        .request_body(Some(body(schema_ref(&input))))
        .response("200", ok(schema_ref(&name)))
        .response("422", invalid());
    paths.paths.insert(item_path.clone(), item(vec![(HttpMethod::Get, get), (HttpMethod::Patch, patch)]));
    for (action, summary) in
        [("archive", "Archive (records are never deleted)"), ("unarchive", "Bring back from the archive")]
    {
        let o = op(tag, summary).parameters(Some(item_params.clone())).response("200", ok(schema_ref(&name)));
        paths.paths.insert(format!("{item_path}/{action}"), PathItem::new(HttpMethod::Post, o));
    }
    if def.has_personal_fields() {
        let o = op(tag, "Show a personal value in full (logged for the secretary)")
            .parameters(Some(item_params))
            .request_body(Some(body(crate::services::records::api::RevealBody::schema())))
            .response(
                "200",
                ok(ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property("value", ObjectBuilder::new().schema_type(Type::String))),
            )
            .response("403", ResponseBuilder::new().description("Your role may not reveal").build());
        paths.paths.insert(format!("{item_path}/reveal"), PathItem::new(HttpMethod::Post, o));
    }
}

pub fn document() -> OpenApi {
    let mut paths = Paths::new();
    let signin = op("session", "Sign in (sets the session cookie)")
        .request_body(Some(body(crate::auth::api::SignIn::schema())))
        .response("201", ok(ObjectBuilder::new().schema_type(Type::Object)))
        .response("422", invalid())
        .response("429", ResponseBuilder::new().description("Too many failed sign-ins: wait 15 minutes").build());
    let signout = op("session", "Sign out").response("204", ResponseBuilder::new().description("Signed out").build());
    paths.paths.insert("/api/v1/session".into(), item(vec![(HttpMethod::Post, signin), (HttpMethod::Delete, signout)]));
    paths.paths.insert(
        "/api/v1/me".into(),
        PathItem::new(
            HttpMethod::Get,
            op("session", "Who is signed in, with roles")
                .response("200", ok(ObjectBuilder::new().schema_type(Type::Object))),
        ),
    );
    // The house's own services route these (not a capability's API router), so they are
    // described here: the inbox of `services::notify`, the chains' heads of `services::chains`.
    paths.paths.insert(
        "/api/v1/inbox".into(),
        PathItem::new(
            HttpMethod::Get,
            op("inbox", "The signed-in user's inbox, newest first (each line with its group and whether it is read)")
                .response("200", ok(ObjectBuilder::new().schema_type(Type::Object))),
        ),
    );
    paths.paths.insert(
        "/api/v1/inbox/read".into(),
        PathItem::new(
            HttpMethod::Post,
            op("inbox", "Mark every line of the inbox read (answers how many were unread)")
                .response("200", ok(ObjectBuilder::new().schema_type(Type::Object))),
        ),
    );
    paths.paths.insert(
        "/api/v1/communities/{code}/chains".into(),
        PathItem::new(
            HttpMethod::Get,
            op(
                "chains",
                "The heads of the community's ledger and audit chains, public (ledger, audit: a place's hash)",
            )
            .parameter(path_param("code", false))
            .parameter(query_param("ledger", Type::Integer, "a place in the ledger's chain, to give its hash"))
            .parameter(query_param("audit", Type::Integer, "a place in the audit log's chain, to give its hash"))
            .response("200", ok(ObjectBuilder::new().schema_type(Type::Object)))
            .response("422", invalid()),
        ),
    );
    let mut components = ComponentsBuilder::new().schema("Error", error_schema());
    for def in crate::services::records::all() {
        let (out, input) = record_schemas(def);
        components = components.schema(pascal(def.kind), out).schema(format!("{}Input", pascal(def.kind)), input);
        entity_paths(&mut paths, def);
    }
    let components = components
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::session::COOKIE))),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("linli 邻里 API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("Places, people and organisation of residents' communities, their tickets, volunteer service and points, and field work. Sign in with POST /api/v1/session; errors are {\"error\": {\"code\", \"message\", \"fields\"}}."))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .build()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::Value;

    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

    /// The document as the router builds it, from every capability's declarations.
    fn served() -> Value {
        crate::services::records::register(crate::capabilities::ALL.iter().flat_map(|c| c.records.iter().copied()));
        let mut api = utoipa_axum::router::OpenApiRouter::<crate::web::AppState>::new();
        for cap in crate::capabilities::ALL {
            if let Some(routes) = cap.api {
                api = api.merge(routes());
            }
        }
        let declared = api.split_for_parts().1;
        serde_json::from_str(&super::document_json(declared)).unwrap()
    }

    #[test]
    fn the_document_is_openapi_3_1_and_covers_every_record_kind() {
        let doc = served();
        assert_eq!(doc["openapi"], "3.1.0");
        for def in crate::services::records::all() {
            let name = super::pascal(def.kind);
            assert!(doc["components"]["schemas"][&name].is_object(), "{name}");
        }
        assert!(doc["paths"]["/api/v1/communities/{code}/residents/{id}/reveal"]["post"].is_object());
        assert!(doc["paths"]["/api/v1/session"]["post"].is_object());
        assert!(doc["paths"]["/api/v1/subdistricts/{id}/residents"]["get"].is_object());
        assert_eq!(doc["components"]["schemas"]["ResidentInput"]["additionalProperties"], false);
        // That each route is in the document, and each operation routed, is checked against
        // the router and the source in `tests/it/api.rs`.
    }

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    out.push(r);
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }

    /// What the handlers declare holds together: each operation has a summary, a tag and
    /// its answers, names each parameter of its path, and has its own operation id; every
    /// reference leads to a schema; no two capabilities give one schema name to two bodies.
    #[test]
    fn the_declared_operations_hold_together() {
        let mut names: BTreeMap<String, (&str, Value)> = BTreeMap::new();
        for cap in crate::capabilities::ALL {
            let Some(routes) = cap.api else { continue };
            let own = routes().split_for_parts().1;
            for (name, schema) in own.components.iter().flat_map(|c| c.schemas.iter()) {
                let schema = serde_json::to_value(schema).unwrap();
                if let Some((other, before)) = names.get(name) {
                    assert_eq!(before, &schema, "{name} names a body of {other} and another of {}", cap.name);
                }
                names.insert(name.clone(), (cap.name, schema));
            }
        }
        let doc = served();
        let mut ids = BTreeSet::new();
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            let in_path: Vec<&str> =
                path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
            for (method, op) in item.as_object().unwrap().iter().filter(|(m, _)| METHODS.contains(&m.as_str())) {
                operations += 1;
                assert!(op["summary"].as_str().is_some_and(|s| !s.trim().is_empty()), "{method} {path}: no summary");
                assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path}: no tag");
                assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path}: no responses");
                for name in &in_path {
                    let named = op["parameters"]
                        .as_array()
                        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "path" && p["name"] == *name));
                    assert!(named, "{method} {path}: the path parameter {name} is not declared");
                }
                if let Some(id) = op["operationId"].as_str() {
                    assert!(ids.insert(id.to_string()), "{method} {path}: the operation id {id} is taken");
                }
            }
        }
        assert!(operations > 100, "{operations}");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r} is not a schema"));
            assert!(schemas.contains_key(name), "{r} leads nowhere");
        }
    }
}
