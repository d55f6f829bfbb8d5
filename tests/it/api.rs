//! The JSON API: sign-in, records, and errors that always name what is wrong.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::helpers::TestApp;

const HS: &str = "440804003001";

#[tokio::test]
async fn an_api_client_signs_in_and_keeps_the_places_of_a_community() {
    let mut app = TestApp::demo().await;
    let r = app.post_json("/api/v1/session", json!({"username": "staff", "password": "demo1234"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    app.cookie = Some(cookie.split(';').next().unwrap().to_string());

    let polygon = json!({"type": "Polygon", "coordinates": [[[110.45, 21.24], [110.46, 21.24], [110.46, 21.25], [110.45, 21.24]]]});
    let grid = app
        .post_json(&format!("/api/v1/communities/{HS}/grids"), json!({"name": "第五网格", "polygon": polygon}))
        .await;
    assert_eq!(grid.status, StatusCode::CREATED, "{}", grid.text());
    let grid_id = grid.json()["id"].as_i64().unwrap();
    assert!(grid.location().ends_with(&format!("/grids/{grid_id}")));
    let compound = app
        .post_json(&format!("/api/v1/communities/{HS}/compounds"), json!({"name": "新苑", "grid_id": grid_id}))
        .await
        .json();
    let building = app
        .post_json(
            &format!("/api/v1/communities/{HS}/buildings"),
            json!({"name": "1栋", "compound_id": compound["id"], "floors": 6}),
        )
        .await;
    assert_eq!(building.status, StatusCode::CREATED, "{}", building.text());
    let patched = app
        .patch_json(&format!("/api/v1/communities/{HS}/buildings/{}", building.json()["id"]), json!({"floors": 7}))
        .await;
    assert_eq!(patched.json()["floors"], 7);
    assert_eq!(patched.json()["name"], "1栋", "PATCH leaves other fields alone");
    let team = app
        .post_json(&format!("/api/v1/communities/{HS}/teams"), json!({"name": "红色巡逻队", "kind": "patrol"}))
        .await;
    assert_eq!(team.status, StatusCode::CREATED);
    let org = app
        .post_json(&format!("/api/v1/communities/{HS}/party_orgs"), json!({"name": "新党小组", "level": "grid_group"}))
        .await
        .json();
    let up = app
        .post_json(
            &format!("/api/v1/communities/{HS}/party_orgs"),
            json!({"name": "上级", "level": "lead_household", "parent_id": org["id"]}),
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED);
    let wrong = app
        .post_json(
            &format!("/api/v1/communities/{HS}/party_orgs"),
            json!({"name": "倒置", "level": "committee", "parent_id": org["id"]}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.field_error("parent_id"), "上级组织的层级必须更高");
}

#[tokio::test]
async fn bad_requests_get_clear_errors_in_one_format_and_change_nothing() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let url = format!("/api/v1/communities/{HS}/grids");

    let invalid = app
        .post_json(
            &url,
            json!({"name": "", "polygon": {"type": "Polygon", "coordinates": [[[1, 2], [3, 4]]]}, "colour": "red"}),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = invalid.json();
    assert_eq!(body["error"]["code"], "invalid");
    assert_eq!(body["error"]["fields"]["name"], "必填");
    assert_eq!(body["error"]["fields"]["polygon"], "多边形的边界应闭合且至少有 4 个点");
    assert_eq!(body["error"]["fields"]["colour"], "不是可用的字段");

    let malformed = app
        .send(
            Request::post(&url)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"name\": "))
                .unwrap(),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["error"]["code"], "bad_request");

    let wrong_type = app
        .send(Request::post(&url).header(header::CONTENT_TYPE, "text/plain").body(Body::from("name=x")).unwrap())
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(wrong_type.json()["error"]["code"], "unsupported_media_type");

    let huge = "x".repeat(3 * 1024 * 1024);
    let too_big = app.post_json(&url, json!({"name": huge})).await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_big.json()["error"]["code"], "payload_too_large");

    let unknown = app.get("/api/v1/nothing/here/at/all").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["error"]["code"], "not_found");

    let c = app.community_id(HS).await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM grids WHERE community_id = $1", c).await, 4, "no grid was added");

    // English on request.
    let req = Request::post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
        .body(Body::from("{}"))
        .unwrap();
    let en = app.send(req).await;
    assert_eq!(en.json()["error"]["fields"]["name"], "is required");

    // Not signed in.
    app.cookie = None;
    let anon = app.get(&url).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anon.json()["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn the_platform_admin_opens_a_subdistrict_and_a_community() {
    let mut app = TestApp::demo().await;
    app.sign_in("admin").await;
    let s = app.post_json("/api/v1/subdistricts", json!({"name": "测试街道", "code": "999999001"})).await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.text());
    let dup = app.post_json("/api/v1/subdistricts", json!({"name": "重复", "code": "999999001"})).await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(dup.field_error("code"), "已被使用");
    let c = app
        .post_json(
            "/api/v1/communities",
            json!({"subdistrict_id": s.json()["id"], "name": "测试社区", "code": "999999001001", "kind": "rural"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text());
    assert_eq!(c.location(), "/api/v1/communities/999999001001");
    let patched =
        app.patch_json("/api/v1/communities/999999001001", json!({"care_tags": ["独居老人", "留守儿童"]})).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    assert_eq!(patched.json()["care_tags"], json!(["独居老人", "留守儿童"]));

    // Secretaries manage their community's users; a grid worker needs a grid.
    let users = app.post_json("/api/v1/communities/999999001001/users", json!({"username": "newsec", "display_name": "新书记", "password": "secret123", "role": "community_secretary"})).await;
    assert_eq!(users.status, StatusCode::CREATED, "{}", users.text());
    app.sign_in_with("newsec", "secret123").await;
    let no_grid = app
        .post_json(
            "/api/v1/communities/999999001001/users",
            json!({"username": "gw", "display_name": "网格员", "password": "secret123", "role": "grid_worker"}),
        )
        .await;
    assert_eq!(no_grid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_grid.field_error("grid_id"), "必填");
    let not_sec = app.post_json("/api/v1/communities/999999001001/users", json!({"username": "sec2", "display_name": "二书记", "password": "secret123", "role": "community_secretary"})).await;
    assert_eq!(not_sec.status, StatusCode::FORBIDDEN, "only the platform makes secretaries");
}

#[tokio::test]
async fn the_openapi_document_and_docs_are_served() {
    let app = TestApp::empty().await;
    let doc = app.get("/api/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/communities/{code}/households"]["get"].is_object());
    let docs = app.get("/api/docs").await;
    assert!(docs.text().contains("/assets/vendor/swagger-ui/swagger-ui-bundle.js"));
    assert!(!docs.text().contains("http://") && !docs.text().contains("https://"), "nothing from the internet");
    let js = app
        .get(&format!("/assets/vendor/swagger-ui/swagger-ui-bundle.js?v={}", linli::web::assets::VERSION.as_str()))
        .await;
    assert_eq!(js.status, StatusCode::OK);
}

/// Puts on each answer the route the router matched (for the two tests below): a path
/// nobody routes has none.
async fn matched_route(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let route = req.extensions().get::<axum::extract::MatchedPath>().map(|m| m.as_str().to_string());
    let mut resp = next.run(req).await;
    if let Some(v) = route.and_then(|r| header::HeaderValue::from_str(&r).ok()) {
        resp.headers_mut().insert("x-test-route", v);
    }
    resp
}

fn route_of(r: &crate::helpers::Resp) -> Option<&str> {
    r.headers.get("x-test-route").and_then(|v| v.to_str().ok())
}

/// Whether a documented path is a route: segment by segment the same, except that the
/// record engine's `{path}` stands for the path of a record kind (and nothing else).
fn is_route(documented: &str, route: &str) -> bool {
    let (d, r): (Vec<&str>, Vec<&str>) = (documented.split('/').collect(), route.split('/').collect());
    d.len() == r.len()
        && d.iter().zip(&r).all(|(d, r)| {
            d == r || (*r == "{path}" && !d.starts_with('{') && linli::services::records::by_path(d).is_some())
        })
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The document and the router agree: every operation the document lists is routed, by
/// the route the document names and for its method. Signed out, the answer alone cannot
/// tell: a kind nobody serves reaches the record engine's `{path}` route and is refused
/// 401 like any real route, so the check asks the router which route it matched.
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let mut app = TestApp::demo().await;
    app.router = app.router.clone().layer(axum::middleware::from_fn(matched_route));
    let nowhere = app.get(&format!("/api/v1/communities/{HS}/no-such-thing/1/else")).await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert!(nowhere.headers.get("x-linli-unrouted").is_some() && route_of(&nowhere).is_none(), "the check can fail");
    let kindless = app.get(&format!("/api/v1/communities/{HS}/no-such-kind")).await;
    assert_eq!(kindless.status, StatusCode::UNAUTHORIZED, "signed out, a kind nobody serves looks routed");
    assert_eq!(route_of(&kindless), Some("/api/v1/communities/{code}/{path}"));
    assert!(!is_route("/api/v1/communities/{code}/no-such-kind", "/api/v1/communities/{code}/{path}"));
    assert!(is_route("/api/v1/communities/{code}/households", "/api/v1/communities/{code}/{path}"));
    let tickets = app.get(&format!("/api/v1/communities/{HS}/tickets")).await;
    assert_eq!(tickets.status, StatusCode::UNAUTHORIZED);
    assert_eq!(route_of(&tickets), Some("/api/v1/communities/{code}/tickets"));
    let wrong = Request::delete(format!("/api/v1/communities/{HS}/tickets")).body(Body::empty()).unwrap();
    assert_eq!(app.send(wrong).await.status, StatusCode::METHOD_NOT_ALLOWED, "a method not routed");

    let doc = app.get("/api/openapi.json").await.json();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() > 60, "the whole API is documented: {}", paths.len());
    let mut checked = 0;
    for (path, ops) in paths {
        let file = if path == "/open311/v2/{file}" { "requests.json" } else { "1.json" };
        let concrete =
            path.replace("{code}", HS).replace("{id}", "1").replace("{file}", file).replace("{day}", "2026-10-01");
        assert!(!concrete.contains('{'), "{path}: a parameter this test does not fill in");
        for method in ops.as_object().unwrap().keys().filter(|m| METHODS.contains(&m.as_str())) {
            let req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&concrete)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let r = app.send(req).await;
            let what = format!("{method} {path} (as {concrete}) answered {}", r.status);
            assert!(r.headers.get("x-linli-unrouted").is_none(), "documented, not routed: {what}");
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "documented, not routed for the method: {what}");
            let route = route_of(&r).unwrap_or_default();
            assert!(is_route(path, route), "documented, but reaches the route {route}: {what}");
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// What follows a route's path inside `.route(`, up to the parenthesis that closes it.
fn route_call(rest: &str) -> &str {
    let mut depth = 1;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &rest[..i];
                }
            }
            _ => {}
        }
    }
    rest
}

/// Every API route in the source is in the document, with each of its methods: the routes
/// written `.route("/api/v1…", get(…).post(…))` and those declared on their handlers with
/// `#[utoipa::path(method, path = "/api/v1…")]` (which are in the document only if a
/// capability's `routes!` serves them). The record engine's `{path}` routes are in it as
/// the record kinds' paths.
#[tokio::test]
async fn every_api_route_in_the_source_is_documented() {
    let app = TestApp::empty().await;
    let doc = app.get("/api/openapi.json").await.json();
    let paths = doc["paths"].as_object().unwrap();
    let mut files = Vec::new();
    rust_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let routed = regex::Regex::new(r#"\.route\(\s*"(/api/v1[^"]*)""#).unwrap();
    let method = regex::Regex::new(r"(?:^|[\s.(,])(get|post|put|patch|delete)\(").unwrap();
    let declared =
        regex::Regex::new(r##"#\[utoipa::path\(\s*(get|post|put|patch|delete)\s*,\s*path\s*=\s*"(/api/v1[^"]*)""##)
            .unwrap();
    let mut found: Vec<(String, String, String)> = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let file = f.display().to_string();
        for c in routed.captures_iter(&text) {
            let call = route_call(&text[c.get(0).unwrap().end()..]);
            let methods: Vec<&str> = method.captures_iter(call).map(|m| m.get(1).unwrap().as_str()).collect();
            assert!(!methods.is_empty(), "{file}: no method found for {}", &c[1]);
            found.extend(methods.into_iter().map(|m| (file.clone(), m.to_string(), c[1].to_string())));
        }
        for c in declared.captures_iter(&text) {
            found.push((file.clone(), c[1].to_string(), c[2].to_string()));
        }
    }
    assert!(found.len() > 80, "the search finds the routes: {}", found.len());
    for must in ["/api/v1/communities/{code}/{path}", "/api/v1/communities/{code}/tickets", "/api/v1/session"] {
        assert!(found.iter().any(|(_, _, r)| r == must), "the search finds {must}");
    }
    for (file, m, route) in &found {
        let documented = paths.iter().any(|(p, item)| is_route(p, route) && item[m.as_str()].is_object());
        assert!(documented, "{m} {route} ({file}) is routed but not in the document");
    }
}

/// A subdistrict's own archive and unarchive reach it (its second path segment is not a
/// kind of record under it), by the API and by the page.
#[tokio::test]
async fn the_platform_admin_archives_a_subdistrict_and_brings_it_back() {
    let mut app = TestApp::demo().await;
    app.sign_in("admin").await;
    let made = app.post_json("/api/v1/subdistricts", json!({"name": "试点街道", "code": "440804999"})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let id = made.json()["id"].as_i64().unwrap();
    let archived = app.post_json(&format!("/api/v1/subdistricts/{id}/archive"), json!({})).await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text());
    assert_eq!(archived.json()["archived"], true);
    let back = app.post_form(&format!("/subdistricts/{id}/unarchive"), &[]).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text());
    let now = app.get(&format!("/api/v1/subdistricts/{id}")).await.json();
    assert_eq!(now["archived"], false, "{now}");
}
