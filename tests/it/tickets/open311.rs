//! Open311 GeoReport v2: clients reading and writing in JSON and XML, answers checked
//! against the spec's schemas, and categories' extra questions.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::{Value, json};

use super::HS;
use crate::helpers::TestApp;

#[tokio::test]
async fn open311_clients_read_and_write_in_json_and_xml() {
    let app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let key = linli::capabilities::tickets::open311::create_key(&app.state, c, "test").await.unwrap();
    let services = app.get(&format!("/open311/v2/services.json?jurisdiction_id={HS}")).await;
    assert_eq!(services.status, StatusCode::OK);
    let list = services.json();
    let codes: Vec<&str> = list.as_array().unwrap().iter().map(|s| s["service_code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"01") && codes.contains(&"13"));
    for s in list.as_array().unwrap() {
        assert!(s["service_name"].is_string() && s["metadata"].is_boolean() && s["type"] == "realtime");
    }
    let xml = app.get(&format!("/open311/v2/services.xml?jurisdiction_id={HS}")).await.text();
    assert!(xml.contains("<services><service><service_code>"), "{xml}");
    let def = app.get(&format!("/open311/v2/services/01.json?jurisdiction_id={HS}")).await.json();
    assert_eq!(def["service_code"], "01");
    assert!(def["attributes"].is_array());

    // What every request of this client sends: its key, the community, a service and a place.
    fn base(key: &str) -> Vec<(&str, &str)> {
        vec![("api_key", key), ("jurisdiction_id", HS), ("service_code", "01"), ("address_string", "海盛路12号")]
    }
    // Clients poll the same list: an answer given before a change is not given after it.
    let open_url = format!("/open311/v2/requests.json?jurisdiction_id={HS}&status=open&service_code=01");
    let before = app.get(&open_url).await.json();
    let mut fields = base(&key);
    fields.push(("description", "路边垃圾，联系13812345678"));
    let created = app.open311_post_request("json", &fields).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let id = created.json()[0]["service_request_id"].as_str().unwrap().to_string();
    let created_xml = app.open311_post_request("xml", &base(&key)).await.text();
    assert!(created_xml.contains("<service_requests><request><service_request_id>"), "{created_xml}");

    let one = app.get(&format!("/open311/v2/requests/{id}.json?jurisdiction_id={HS}")).await.json();
    let r = &one[0];
    assert_eq!(r["service_request_id"], id.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], "01");
    assert!(r["requested_datetime"].as_str().unwrap().ends_with("+08:00"));
    assert_eq!(r["description"], "路边垃圾，联系138****5678", "numbers are masked in public answers");
    let one_xml = app.get(&format!("/open311/v2/requests/{id}.xml?jurisdiction_id={HS}")).await.text();
    assert!(one_xml.contains("<service_requests><request>") && one_xml.contains("<status>open</status>"));
    let open = app.get(&open_url).await.json();
    assert!(open.as_array().unwrap().iter().all(|x| x["status"] == "open" && x["service_code"] == "01"));
    assert!(open.as_array().unwrap().iter().any(|x| x["service_request_id"] == id.as_str()));
    assert!(!before.as_array().unwrap().iter().any(|x| x["service_request_id"] == id.as_str()));
    let closed =
        app.get(&format!("/open311/v2/requests.json?jurisdiction_id={HS}&status=closed&page_size=5")).await.json();
    assert_eq!(closed.as_array().unwrap().len(), 5);
    assert!(closed.as_array().unwrap().iter().all(|x| x["status"] == "closed"));

    // Errors in the spec's format.
    let bad_key = app.open311_post_request("json", &base("nope")).await;
    assert_eq!(bad_key.status, StatusCode::FORBIDDEN);
    assert_eq!(bad_key.json()[0]["code"], 403);
    let bad_key_xml = app.open311_post_request("xml", &base("nope")).await.text();
    assert!(bad_key_xml.contains("<errors><error><code>403</code><description>"));
    let mut unknown = base(&key);
    unknown[2].1 = "99";
    let r = app.open311_post_request("json", &unknown).await;
    assert_eq!((r.status, r.json()[0]["code"].as_i64()), (StatusCode::BAD_REQUEST, Some(400)));
    let mut not_number = base(&key);
    not_number.push(("lat", "north"));
    not_number.push(("long", "113"));
    let answer = app.open311_post_request("json", &not_number).await.json();
    assert!(answer[0]["description"].as_str().unwrap().starts_with("lat"));
    let wrong_place = app.get("/open311/v2/services.json?jurisdiction_id=000000").await;
    assert_eq!(wrong_place.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/open311/v2/requests/999999999.json?jurisdiction_id={HS}")).await.status,
        StatusCode::NOT_FOUND
    );
    let discovery = app.get("/open311/v2/discovery.json").await.json();
    assert!(discovery["endpoints"][0]["url"].as_str().unwrap().ends_with("/open311/v2"));
    assert!(app.get("/open311/v2/discovery.xml").await.text().contains("<discovery>"));
    let no_key = app.open311_post_request("json", &base("")[1..]).await;
    assert_eq!(no_key.status, StatusCode::FORBIDDEN, "posting needs a key");

    // Every answer conforms to the GeoReport v2 JSON Schemas.
    conforms("service.json", list.as_array().unwrap());
    conforms("service-definition.json", std::slice::from_ref(&def));
    for answer in [&one, &open, &closed] {
        conforms("request.json", answer.as_array().unwrap());
    }
    let mut broken = one[0].clone();
    broken["status"] = json!("pending");
    broken["requested_datetime"] = json!("yesterday");
    assert_eq!(violations("request.json", &broken).len(), 2, "the check can fail");
    let by_id =
        app.get(&format!("/open311/v2/requests.json?jurisdiction_id={HS}&service_request_id={id}")).await.json();
    assert_eq!(by_id.as_array().unwrap().len(), 1, "{by_id}");
    let today = linli::web::fmt::today();
    let since = app
        .get(&format!("/open311/v2/requests.json?jurisdiction_id={HS}&start_date={}T00:00:00%2B08:00", today))
        .await
        .json();
    assert!(since.as_array().unwrap().iter().any(|x| x["service_request_id"] == id.as_str()), "today's are in");
    let long_ago = app
        .get(&format!("/open311/v2/requests.json?jurisdiction_id={HS}&end_date=2000-01-01T00:00:00%2B08:00"))
        .await
        .json();
    assert_eq!(long_ago.as_array().unwrap().len(), 0);

    // The token endpoint, and nothing written by refused requests.
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let token: String = query("SELECT token FROM tickets WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(id.parse::<i64>().unwrap())
        .scalar(&mut conn)
        .await
        .unwrap();
    let open311_count: i64 = query("SELECT COUNT(*) FROM tickets WHERE community_id = $1 AND channel = 'open311'")
        .bind(c)
        .scalar(&mut conn)
        .await
        .unwrap();
    assert_eq!(open311_count, 2);
    drop(conn);
    let t = app.get(&format!("/open311/v2/tokens/{token}.json")).await.json();
    assert_eq!(t[0]["service_request_id"], id.as_str());
}

/// What an answer breaks of one of the GeoReport v2 schemas (kept in tests/open311-schemas).
fn violations(schema: &str, item: &Value) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/open311-schemas").join(schema);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let v = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
    v.iter_errors(item).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

fn conforms(schema: &str, items: &[Value]) {
    assert!(!items.is_empty(), "something to check against {schema}");
    for item in items {
        let errors = violations(schema, item);
        assert!(errors.is_empty(), "{item} does not conform to {schema}: {errors:?}");
    }
}

#[tokio::test]
async fn a_category_with_extra_questions_asks_them_of_open311_clients() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let key = linli::capabilities::tickets::open311::create_key(&app.state, c, "test").await.unwrap();
    let cat = app.ticket_category(HS, "14").await;
    app.sign_in("secretary").await;
    let questions = json!([
        {"code": "floor", "datatype": "singlevaluelist", "description": "在几楼", "required": true,
         "values": [{"key": "1", "name": "一楼"}, {"key": "2", "name": "二楼及以上"}]},
        {"code": "since", "datatype": "string", "description": "从什么时候开始", "required": false}
    ]);
    let bad = app.set_ticket_category(cat, json!({"attributes": [{"code": "x"}]})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "a malformed question is refused");
    let set = app.set_ticket_category(cat, json!({"attributes": questions})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());

    let services = app.get(&format!("/open311/v2/services.json?jurisdiction_id={HS}")).await.json();
    let listed = services.as_array().unwrap().iter().find(|s| s["service_code"] == "14").unwrap().clone();
    assert_eq!(listed["metadata"], true, "clients are told to ask for the definition");
    let def = app.get(&format!("/open311/v2/services/14.json?jurisdiction_id={HS}")).await.json();
    conforms("service-definition.json", std::slice::from_ref(&def));
    let attrs = def["attributes"].as_array().unwrap();
    assert_eq!(
        (attrs.len(), attrs[0]["code"].as_str(), attrs[0]["required"].as_bool()),
        (2, Some("floor"), Some(true))
    );
    let xml = app.get(&format!("/open311/v2/services/14.xml?jurisdiction_id={HS}")).await.text();
    assert!(xml.contains("<attributes><attribute>") && xml.contains("<code>floor</code>"), "{xml}");

    let fields = |extra: &[(&'static str, &'static str)]| {
        let mut fields = vec![
            ("api_key", key.as_str()),
            ("jurisdiction_id", HS),
            ("service_code", "14"),
            ("address_string", "海盛花园5栋"),
        ];
        fields.extend_from_slice(extra);
        fields
    };
    let before = app.ticket_count(c).await;
    let missing = app.open311_post_request("json", &fields(&[])).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.json()[0]["description"].as_str().unwrap().contains("attribute[floor]"), "{}", missing.text());
    let not_a_choice = app.open311_post_request("json", &fields(&[("attribute[floor]", "9")])).await;
    assert_eq!(not_a_choice.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.ticket_count(c).await, before, "refusals save nothing");
    let ok =
        app.open311_post_request("json", &fields(&[("attribute[floor]", "1"), ("attribute[since]", "上周")])).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let id: i64 = ok.json()[0]["service_request_id"].as_str().unwrap().parse().unwrap();
    let stored: String = query("SELECT CAST(attributes AS TEXT) FROM tickets WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(id)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert!(stored.contains("floor") && stored.contains("上周"), "the answers are kept with the ticket: {stored}");
}
