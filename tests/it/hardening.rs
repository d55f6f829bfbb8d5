//! What a hostile client tries, and what a careless one sends: control characters, numbers
//! out of range, the wrong JSON types, redirects off the site, races for the next number,
//! spreadsheet formulas, and personal numbers where they must not be. Every answer is a
//! clear refusal naming the field, never a 500 (the helpers fail any test on a 500).

use linli::db::citus::Span;
use std::collections::{BTreeSet, VecDeque};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use linli::db::query;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, calamine_rows};

const HS: &str = "440804003001";

fn json_post(path: &str, content_type: &str, body: &str) -> Request<Body> {
    Request::post(path).header(header::CONTENT_TYPE, content_type).body(Body::from(body.to_string())).unwrap()
}

async fn give_points(app: &TestApp, key: &str, body: Value) -> Resp {
    let mut req =
        json_post(&format!("/api/v1/communities/{HS}/points/movements"), "application/json", &body.to_string());
    req.headers_mut().insert("idempotency-key", key.parse().unwrap());
    app.send(req).await
}

#[tokio::test]
async fn control_characters_are_refused_by_name_wherever_text_comes_in() {
    let mut app = TestApp::demo().await;

    // Signing in, by the page and by the API.
    let page = app.post_raw_form("/login", &[("username", "staff\0"), ("password", "demo1234"), ("next", "/")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().contains("username"), "the page names the field");
    let api = app
        .send(json_post("/api/v1/session", "application/json", r#"{"username":"staff\u0000","password":"x"}"#))
        .await;
    assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(api.field_error("username"), "不能含有控制字符");

    app.sign_in("staff").await;
    // A search, a community code in the path, a filter.
    for path in [
        format!("/c/{HS}/residents?q=%E5%BC%A0%00"),
        format!("/api/v1/communities/{HS}/residents?q=%00"),
        "/c/4408040%0003001/tickets".to_string(),
        format!("/api/v1/communities/{HS}/tickets?q=%1B%5B31m"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", r.text());
    }

    // Every way of making something: a record, a request, a service, a need, a proposal, a
    // field note; by form and by JSON.
    let nul = "路灯坏了\u{0}";
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (format!("/c/{HS}/residents"), vec![("name", nul)]),
        (format!("/c/{HS}/field-notes"), vec![("heard", nul)]),
        (format!("/c/{HS}/council"), vec![("title", nul), ("body", "x")]),
    ];
    for (path, fields) in forms {
        let r = app.post_form(&path, &fields).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", r.text());
    }
    let with_photos = app
        .post_multipart(&format!("/c/{HS}/needs"), &[("title", nul), ("description", "x"), ("kind", "other")], &[])
        .await;
    assert_eq!(with_photos.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bodies = [
        (format!("/api/v1/communities/{HS}/residents"), json!({"name": nul})),
        (format!("/api/v1/communities/{HS}/tickets"), json!({"description": nul})),
        (format!("/api/v1/communities/{HS}/needs"), json!({"title": "x", "description": nul, "kind": "other"})),
        (format!("/api/v1/communities/{HS}/proposals"), json!({"title": nul, "body": "x"})),
        (format!("/api/v1/communities/{HS}/field-notes"), json!({"heard": "x", "place": nul})),
        (format!("/api/v1/communities/{HS}/service-records"), json!({"description": "\u{1b}[2J"})),
    ];
    for (path, body) in bodies {
        let r = app.post_json(&path, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", r.text());
        let fields = r.json()["error"]["fields"].as_object().cloned().unwrap_or_default();
        assert!(fields.values().any(|m| m == "不能含有控制字符"), "{path}: {fields:?}");
    }

    // Tab and newline are text, and a text area's \r\n arrives as \n.
    let c = app.community_id(HS).await;
    let ok = app
        .post_form(&format!("/c/{HS}/field-notes"), &[("heard", "第一行\r\n第二行\t完"), ("place", "小区门口")])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let kept: String = query("SELECT heard FROM field_notes WHERE community_id = $1 ORDER BY id DESC LIMIT 1")
        .bind(c)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert_eq!(kept, "第一行\n第二行\t完");
}

#[tokio::test]
async fn numbers_out_of_range_are_refused_and_the_ledger_stays_whole() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let v = app.user_id("volunteer").await;
    for key in ["max-1", "max-2"] {
        let r = give_points(&app, key, json!({"user_id": v, "amount": i64::MAX, "reason": "试探"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(r.field_error("amount"), "应在 -1000000 到 1000000 之间");
    }
    let r = give_points(&app, "min", json!({"user_id": v, "amount": i64::MIN, "reason": "试探"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = give_points(&app, "fine", json!({"user_id": v, "amount": 1_000_000, "reason": "年度表彰"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // Every stored balance is a whole number; the statement, the shop and the figures
    // answer; the check of the ledger finds nothing wrong.
    if !app.is_postgres() {
        let odd: i64 = query("SELECT COUNT(*) FROM ledger_accounts WHERE typeof(balance) <> 'integer'")
            .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
        assert_eq!(odd, 0);
    }
    for path in ["points/statement", "points/stats", "shop"] {
        assert_eq!(app.get(&format!("/api/v1/communities/{HS}/{path}")).await.status, StatusCode::OK, "{path}");
    }
    let out = app.cli(&["ledger", "verify"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // A rule, a service, a need and a list page each have their range.
    let rule = app
        .post_json(
            &format!("/api/v1/communities/{HS}/points/rules"),
            json!({"name": "巨额", "kind": "bonus", "points": 10_000_000}),
        )
        .await;
    assert_eq!(rule.field_error("points"), "应在 1 到 10000 之间");
    let need = app
        .post_json(
            &format!("/api/v1/communities/{HS}/needs"),
            json!({"title": "捐款", "description": "x", "kind": "money", "quantity": i64::MAX}),
        )
        .await;
    assert_eq!(need.field_error("quantity"), "应在 1 到 100000000 之间");
    for path in [
        format!("/api/v1/communities/{HS}/tickets?page=4294967295"),
        format!("/api/v1/communities/{HS}/residents?page=30000000&per_page=200"),
        format!("/c/{HS}/residents?page=abc"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    }
}

/// A number or a date typed wrong on a page's form is refused on its field, in the page's
/// words, and nothing is written: it is never taken as "none given".
#[tokio::test]
async fn a_number_or_date_that_does_not_parse_is_refused_on_its_field() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("staff").await;
    let v = app.user_id("volunteer").await.to_string();

    // Points given by hand on the ledger page.
    let movements = "SELECT COUNT(*) FROM ledger_movements WHERE community_id = $1";
    let before = app.scalar(movements, c).await;
    let r = app
        .post_form(
            &format!("/c/{HS}/points/give"),
            &[
                ("holder", ""),
                ("user_id", &v),
                ("rule_id", ""),
                ("amount", "abc"),
                ("reason", "试探"),
                ("key", "abc-1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.inline_error("amount"), "应为整数");
    assert_eq!(app.scalar(movements, c).await, before, "no points were given");

    // A need's quantity and deadline, on the form that carries photos.
    let needs = "SELECT COUNT(*) FROM needs WHERE community_id = $1";
    let before = app.scalar(needs, c).await;
    let r = app
        .post_multipart(
            &format!("/c/{HS}/needs"),
            &[
                ("title", "楼道灯更换"),
                ("description", "三栋楼道灯坏了"),
                ("kind", "item"),
                ("quantity", "abc"),
                ("deadline", "2026-13-40"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.inline_error("quantity"), "应为整数");
    assert_eq!(r.inline_error("deadline"), "日期格式应为 2024-01-31");
    assert_eq!(app.scalar(needs, c).await, before, "no need was published");
}

#[tokio::test]
async fn json_is_json_of_the_right_types_only() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let residents = format!("/api/v1/communities/{HS}/residents");
    let r = app.post_json(&residents, json!({"name": {"$ne": null}})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field_error("name"), "应为文字");
    let r = app.post_json(&residents, json!({"name": ["张三", "李四"]})).await;
    assert_eq!(r.field_error("name"), "应为文字");
    let v = app.user_id("volunteer").await;
    let r = give_points(&app, "typed", json!({"user_id": v, "amount": "5", "reason": "x"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field_error("amount"), "应为整数");
    let r = give_points(&app, "unknown", json!({"user_id": v, "amount": 5, "reason": "x", "admin": true})).await;
    assert_eq!(r.field_error("admin"), "不是可用的字段");

    for (content_type, status) in [
        ("application/jsonx", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("text/json", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("application/json-patch", StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("APPLICATION/JSON; charset=utf-8", StatusCode::CREATED),
        ("application/vnd.linli+json", StatusCode::CREATED),
    ] {
        let r = app.send(json_post(&residents, content_type, r#"{"name": "王小明"}"#)).await;
        assert_eq!(r.status, status, "{content_type}: {}", r.text());
    }
}

#[tokio::test]
async fn after_signing_in_only_paths_on_this_site_are_followed() {
    let app = TestApp::demo().await;
    for (next, to) in [
        ("/\\evil.example/", "/"),
        ("/\\/evil.example/", "/"),
        ("/\t/evil.example/", "/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\n/x", "/"),
        ("/x\r\nSet-Cookie: a=b", "/"),
        ("/c/440804003001/tickets?view=mine", "/c/440804003001/tickets?view=mine"),
    ] {
        let r = app.post_raw_form("/login", &[("username", "staff"), ("password", "demo1234"), ("next", next)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next:?}: {}", r.text());
        assert_eq!(r.location(), to, "{next:?}");
    }
    let page = app.get_public("/login?next=%2F%5Cevil.example%2F").await;
    assert!(page.text().contains(r#"name="next" value="/""#), "the form does not carry it on");
    let lang = app.get_public("/lang/en?next=%2F%09%2Fevil.example%2F").await;
    assert_eq!(lang.location(), "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_staff_signing_volunteers_up_at_once_get_eight_numbers() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let cookie = app.cookie.clone().unwrap();
    let posts = (0..8)
        .map(|i| {
            let body =
                json!({"name": format!("同时报名{i}"), "phone": format!("1391111000{i}"), "password": "Together2026"});
            (cookie.clone(), format!("/api/v1/communities/{HS}/volunteers"), body)
        })
        .collect();
    let answers = app.all_at_once(posts).await;
    let mut numbers = BTreeSet::new();
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        let v: Value = serde_json::from_str(body).unwrap();
        numbers.insert(v["number"].as_str().unwrap().to_string());
    }
    assert_eq!(numbers.len(), 8, "{numbers:?}");

    // Their user names are not their phone numbers; they sign in with the phone all the same.
    let names: Vec<String> = query("SELECT username FROM users WHERE display_name LIKE '同时报名%'")
        .scalars(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert_eq!(names.len(), 8);
    assert!(names.iter().all(|n| !linli::services::pii::holds_personal_number(n)), "{names:?}");
    app.sign_in_with("139 1111 0003", "Together2026").await;

    // A rule's new versions at once: each gets its own.
    app.sign_in("staff").await;
    let cookie = app.cookie.clone().unwrap();
    let posts = (0..4)
        .map(|i| {
            let body = json!({"code": "race", "name": format!("同时{i}"), "kind": "bonus", "points": 5 + i});
            (cookie.clone(), format!("/api/v1/communities/{HS}/points/rules"), body)
        })
        .collect();
    for (status, body) in app.all_at_once(posts).await {
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // One after the other, each ending where the next begins.
    let c = app.community_id(HS).await;
    let versions: Vec<(i64, i64, Option<i64>)> = query(
        "SELECT version, effective_from, effective_to FROM points_rules WHERE community_id = $1 AND code = 'race' ORDER BY version",
    )
    .bind(c)
    .fetch_all(&mut app.state.db.span(Span::Maintenance).await.unwrap())
    .await
    .unwrap();
    assert_eq!(versions.iter().map(|v| v.0).collect::<Vec<_>>(), [1, 2, 3, 4]);
    for pair in versions.windows(2) {
        assert!(pair[0].1 <= pair[1].1 && pair[0].2 == Some(pair[1].1), "{versions:?}");
    }
    assert_eq!(versions[3].2, None, "the last is in force");
}

#[tokio::test]
async fn a_user_name_never_holds_a_phone_or_id_number() {
    let mut app = TestApp::demo().await;
    app.sign_in("secretary").await;
    let r = app
        .post_json(
            &format!("/api/v1/communities/{HS}/users"),
            json!({"username": "wang13812340000", "display_name": "新同事", "password": "Colleague2026", "role": "community_staff"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.field_error("username").contains("不能含手机号"), "{}", r.text());

    // An account named by its phone before this rule is renamed at the next start, and its
    // phone still signs it in.
    let id = app.user_id("staff").await;
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("UPDATE users SET username = '13912345670', phone_hash = NULL, phone_enc = NULL, phone_masked = NULL WHERE id = $1")
        .bind(id)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut again = app.restart().await;
    let name: String = query("SELECT username FROM users WHERE id = $1")
        .bind(id)
        .scalar(&mut again.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert_eq!(name, format!("u{id}"));
    again.sign_in_with("13912345670", linli::demo::PASSWORD).await;
}

#[tokio::test]
async fn text_that_looks_like_a_formula_stays_text_in_the_spreadsheet() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let r = app
        .post_json(
            &format!("/api/v1/communities/{HS}/residents"),
            json!({"name": "=HYPERLINK(\"http://evil.example\",\"点我\")"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let book = app.get(&format!("/c/{HS}/export/residents.xlsx")).await;
    assert_eq!(book.status, StatusCode::OK);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(book.body.clone())).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let sheet = read("xl/worksheets/sheet1.xml");
    let styles = read("xl/styles.xml");
    assert!(!sheet.contains("<f>"), "no cell is a formula");
    assert!(styles.contains("quotePrefix=\"1\""), "cells that start like a formula are marked as text");
    let cells = calamine_rows(&book.body);
    assert!(cells.iter().flatten().any(|c| c.starts_with('=')), "the name is there, as text");
}

/// Mainland mobile numbers and ID numbers in full, in a text (with a check digit that
/// holds, so ids and times that happen to look alike are not counted).
/// Hashes (the public ledger's movements) are taken out first: a run of digits inside one
/// is not a number.
fn personal_numbers(text: &str) -> BTreeSet<String> {
    let hashes = regex::Regex::new(r"[0-9a-f]{32,}").unwrap();
    let text = hashes.replace_all(text, " ");
    let text = text.as_ref();
    let phone = regex::Regex::new(r"(?:^|[^0-9])(1[3-9][0-9]{9})(?:[^0-9]|$)").unwrap();
    let id = regex::Regex::new(r"(?:^|[^0-9])([1-9][0-9]{16}[0-9Xx])(?:[^0-9]|$)").unwrap();
    let mut out = BTreeSet::new();
    out.extend(phone.captures_iter(text).map(|c| c[1].to_string()));
    out.extend(
        id.captures_iter(text)
            .map(|c| c[1].to_string())
            .filter(|n| linli::services::pii::normalize_id_number(n).is_ok()),
    );
    out
}

#[test]
fn a_number_is_found_in_words_and_tables_but_not_inside_a_hash() {
    let hash = "a3f16536530177bc".repeat(4);
    let found = personal_numbers(&format!("电话13712340001，\"13812340002\",{hash},phone13912340003"));
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["13712340001", "13812340002", "13912340003"]);
}

/// Everything a signed-in user can reach by following links from home (pages), and the
/// API's lists of their community.
async fn walk(app: &TestApp, community: &str, limit: usize) -> Vec<(String, String)> {
    let href = regex::Regex::new(r##"href="(/[^"#]*)""##).unwrap();
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = VecDeque::from(["/".to_string(), "/me".into(), "/me/data".into()]);
    for kind in ["residents", "households", "users", "volunteers", "tickets", "partner-units", "registrations", "needs"]
    {
        queue.push_back(format!("/api/v1/communities/{community}/{kind}"));
    }
    queue.push_back("/api/v1/me".into());
    let mut out = Vec::new();
    while let Some(path) = queue.pop_front() {
        if out.len() >= limit || !seen.insert(path.clone()) {
            continue;
        }
        if ["/logout", "/lang/", "/assets/", "/api/docs", ".xlsx", ".pdf", "/events", "/media/"]
            .iter()
            .any(|skip| path.contains(skip))
        {
            continue;
        }
        let r = app.get(&path).await;
        let text = r.text();
        for c in href.captures_iter(&text) {
            queue.push_back(c[1].replace("&amp;", "&"));
        }
        out.push((path, text));
    }
    out
}

/// Roles that may not reveal personal data see none in full, on any page or answer they
/// can reach (their own numbers, which they may see, aside).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_or_answer_shows_a_full_phone_or_id_number_to_those_who_may_not_see_it() {
    let mut app = TestApp::demo().await;
    // A volunteer who signed up by phone is among the users listed.
    app.cookie = None;
    let joined = app
        .post_raw_form(
            &format!("/c/{HS}/volunteers/join"),
            &[("name", "手机报名"), ("phone", "13712340001"), ("password", "Volunteer2026")],
        )
        .await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER);
    for user in ["admin", "street", "volunteer", "resident", "unit"] {
        app.sign_in(user).await;
        let own: BTreeSet<String> = {
            let id = app.user_id(user).await;
            let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
            let sealed: Vec<Option<Vec<u8>>> = query(
                "SELECT phone_enc FROM users WHERE id = $1
                 UNION ALL SELECT r.phone_enc FROM residents r JOIN users u ON u.resident_id = r.id WHERE u.id = $1
                 UNION ALL SELECT r.id_number_enc FROM residents r JOIN users u ON u.resident_id = r.id WHERE u.id = $1",
            )
            .bind(id)
            .scalars(&mut conn)
            .await
            .unwrap();
            sealed.into_iter().flatten().filter_map(|s| app.state.pii.decrypt(&s).ok()).collect()
        };
        let pages = walk(&app, HS, 400).await;
        assert!(pages.len() > 10, "{user} reaches pages");
        for (path, body) in pages {
            let body = body.replace(&app.csrf, "");
            let found: Vec<_> = personal_numbers(&body).into_iter().filter(|n| !own.contains(n)).collect();
            assert!(found.is_empty(), "{user} sees {found:?} in full at {path}");
        }
    }
}
