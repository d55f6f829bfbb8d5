//! Keeping the registry: households and residents created, found, changed and archived,
//! with personal values encrypted, masked, revealed only with reason, and every write
//! in the record's history.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use crate::helpers::{TestApp, visible_text};

const HS: &str = "440804003001";

fn id_number(seq: u32) -> String {
    linli::services::pii::make_id_number("440804", chrono::NaiveDate::from_ymd_opt(1952, 8, 9).unwrap(), seq, false)
}

/// Staff create a household through the page; answers its id.
async fn new_household(app: &TestApp, address: &str) -> i64 {
    let grid =
        app.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", app.community_id(HS).await).await.to_string();
    let r = app
        .post_form(&format!("/c/{HS}/households"), &[("address", address), ("grid_id", &grid), ("room", "101")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    r.location().split('?').next().unwrap().rsplit('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn staff_register_a_resident_and_bad_fields_are_named_in_chinese() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let h = new_household(&app, "海盛花园9栋1单元101").await;
    let before = app.scalar("SELECT COUNT(*) FROM residents WHERE community_id = $1", app.community_id(HS).await).await;

    let bad = app
        .post_form(
            &format!("/c/{HS}/residents"),
            &[
                ("name", ""),
                ("phone", "12345"),
                ("id_number", "110105194912310021"),
                ("household_id", &h.to_string()),
                ("care_tags", "火星人"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = visible_text(&bad.text());
    for msg in ["必填", "手机号码格式不正确", "身份证号校验位不正确", "“火星人”不是本社区的关怀标签"]
    {
        assert!(text.contains(msg), "missing {msg}: {text}");
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM residents WHERE community_id = $1", app.community_id(HS).await).await,
        before,
        "nothing written"
    );

    let id = id_number(77);
    let ok = app
        .post_form(
            &format!("/c/{HS}/residents"),
            &[
                ("name", "林秀英"),
                ("phone", "13812345678"),
                ("id_number", &id),
                ("household_id", &h.to_string()),
                ("care_tags", "独居老人"),
                ("party_member", "false"),
                ("party_member", "true"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let page = app.get(&ok.location()).await;
    let text = visible_text(&page.text());
    assert!(text.contains("林秀英") && text.contains("138****5678") && text.contains("440***********"), "{text}");
    assert!(!text.contains("13812345678") && !text.contains(&id), "full values never appear on the page");
    assert!(text.contains("1952-08-09") && text.contains("女"), "birth date and gender come from the ID number");
    assert!(text.contains("操作记录") && text.contains("创建"), "the history is on the record's page");

    // Stored encrypted: the full values are nowhere in the table.
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let (enc, masked): (Vec<u8>, String) = query("SELECT phone_enc, phone_masked FROM residents WHERE name = '林秀英'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(masked, "138****5678");
    assert!(!String::from_utf8_lossy(&enc).contains("13812345678"));
    assert_eq!(app.state.pii.decrypt(&enc).unwrap(), "13812345678");
}

#[tokio::test]
async fn the_registry_is_found_by_name_masked_phone_last_digits_and_full_numbers() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let h = new_household(&app, "海景苑1栋1单元101").await;
    let id = id_number(5);
    let r = app
        .post_json(
            &format!("/api/v1/communities/{HS}/residents"),
            json!({"name": "欧阳娜娜", "phone": "13998765432", "id_number": id, "household_id": h}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let rid = r.json()["id"].as_i64().unwrap();
    for q in [
        "欧阳",
        "欧阳娜娜",
        "139****5432",
        "5432",
        "13998765432",
        id.as_str(),
        &linli::services::pii::mask_id_number(&id),
    ] {
        let found =
            app.get(&format!("/api/v1/communities/{HS}/residents?q={}", linli::web::fmt::urlencode(q))).await.json();
        let ids: Vec<i64> = found["items"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert!(ids.contains(&rid), "search {q} finds the resident: {found}");
    }
    let none = app.get(&format!("/api/v1/communities/{HS}/residents?q=%E6%AC%A7%E9%98%B3X")).await.json();
    assert_eq!(none["total"], 0);
    // Filters: care tag, party member, grid.
    let tagged = app
        .get(&format!("/api/v1/communities/{HS}/residents?care_tags=%E7%8B%AC%E5%B1%85%E8%80%81%E4%BA%BA&per_page=200"))
        .await
        .json();
    assert!(
        tagged["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["care_tags"].as_array().unwrap().contains(&json!("独居老人")))
    );
    let members = app.get(&format!("/api/v1/communities/{HS}/residents?party_member=true&per_page=200")).await.json();
    assert!(members["total"].as_i64().unwrap() > 0);
    assert!(members["items"].as_array().unwrap().iter().all(|r| r["party_member"] == true));
    let page = app.get(&format!("/c/{HS}/residents?q=%E6%AC%A7%E9%98%B3")).await;
    assert!(visible_text(&page.text()).contains("欧阳娜娜"));
}

#[tokio::test]
async fn changes_and_archiving_are_audited_and_nothing_is_deleted() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let h = new_household(&app, "测试路8号301").await;
    let url = format!("/c/{HS}/households/{h}");
    let grid =
        app.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", app.community_id(HS).await).await.to_string();
    let r = app.post_form(&url, &[("address", "测试路8号302"), ("grid_id", &grid), ("room", "302")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let archived = app.post_form(&format!("{url}/archive"), &[]).await;
    assert_eq!(archived.status, StatusCode::SEE_OTHER);
    let list = app
        .get(&format!("/api/v1/communities/{HS}/households?q=%E6%B5%8B%E8%AF%95%E8%B7%AF8%E5%8F%B7302"))
        .await
        .json();
    assert_eq!(list["total"], 0, "archived records leave the list");
    let with = app
        .get(&format!("/api/v1/communities/{HS}/households?archived=1&q=%E6%B5%8B%E8%AF%95%E8%B7%AF8%E5%8F%B7302"))
        .await
        .json();
    assert_eq!(with["total"], 1);
    let page = visible_text(&app.get(&url).await.text());
    assert!(page.contains("测试路8号301") && page.contains("测试路8号302"), "before and after: {page}");
    assert!(page.contains("归档") && page.contains("已归档"));
    let c = app.community_id(HS).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let actions: Vec<String> = query(
        "SELECT action FROM audit_log WHERE community_id = $1 AND entity = 'household' AND entity_id = $2 ORDER BY id",
    )
    .bind(c)
    .bind(h)
    .scalars(&mut conn)
    .await
    .unwrap();
    assert_eq!(actions, ["create", "update", "archive"]);
    // The log refuses to be rewritten, even by the database's own users.
    drop(conn);
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    let rewrite = query("UPDATE audit_log SET actor_name = 'x' WHERE community_id = $1").bind(c);
    assert!(rewrite.execute(&mut tx).await.is_err());
    drop(tx);
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    assert!(query("DELETE FROM audit_log WHERE community_id = $1").bind(c).execute(&mut tx).await.is_err());
}

#[tokio::test]
async fn reveals_are_allowed_by_role_and_logged_for_the_secretary() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let grid0 = app.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", c).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let rid: i64 =
        query("SELECT MIN(id) FROM residents WHERE community_id = $1 AND grid_id = $2 AND phone_hash IS NOT NULL")
            .bind(c)
            .bind(grid0)
            .scalar(&mut conn)
            .await
            .unwrap();
    drop(conn);
    let reveal = format!("/api/v1/communities/{HS}/residents/{rid}/reveal");

    app.sign_in("grid").await;
    let shown = app.post_json(&reveal, json!({"field": "phone"})).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    let full = shown.json()["value"].as_str().unwrap().to_string();
    assert!(linli::services::pii::normalize_phone(&full).is_ok());

    app.sign_in("staff").await;
    let page_reveal = app.post_form(&format!("/c/{HS}/residents/{rid}/reveal/id_number"), &[]).await;
    assert_eq!(page_reveal.status, StatusCode::OK);
    assert!(linli::services::pii::normalize_id_number(&visible_text(&page_reveal.text())).is_ok());
    // Staff may not read the log of reveals.
    assert_eq!(app.get(&format!("/c/{HS}/access-log")).await.status, StatusCode::FORBIDDEN);

    app.sign_in("street").await;
    assert_eq!(
        app.post_json(&reveal, json!({"field": "phone"})).await.status,
        StatusCode::NOT_FOUND,
        "not in their subdistrict"
    );

    app.sign_in("admin").await;
    assert_eq!(
        app.post_json(&reveal, json!({"field": "phone"})).await.status,
        StatusCode::FORBIDDEN,
        "platform admins never reveal"
    );

    app.sign_in("secretary").await;
    let log = app.get(&format!("/api/v1/communities/{HS}/access-log")).await.json();
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["field"], "id_number");
    assert_eq!(items[1]["field"], "phone");
    assert_eq!(items[1]["user"], "第一网格 周网格员");
    let page = visible_text(&app.get(&format!("/c/{HS}/access-log")).await.text());
    assert!(page.contains("吴社工") && page.contains("身份证号"), "{page}");
}

#[tokio::test]
async fn a_grid_worker_cannot_move_a_household_out_of_their_grid() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let grids: Vec<i64> =
        query("SELECT id FROM grids WHERE community_id = $1 ORDER BY id").bind(c).scalars(&mut conn).await.unwrap();
    let h: i64 = query("SELECT MIN(id) FROM households WHERE community_id = $1 AND grid_id = $2")
        .bind(c)
        .bind(grids[0])
        .scalar(&mut conn)
        .await
        .unwrap();
    drop(conn);
    app.sign_in("grid").await;
    let url = format!("/api/v1/communities/{HS}/households/{h}");
    assert_eq!(app.patch_json(&url, json!({"notes": "独居老人已走访"})).await.status, StatusCode::OK);
    let moved = app.patch_json(&url, json!({"grid_id": grids[1]})).await;
    assert_eq!(moved.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&url).await.json()["grid_id"].as_i64(), Some(grids[0]));
    // Moving a household as staff moves its residents' grid too.
    app.sign_in("staff").await;
    assert_eq!(app.patch_json(&url, json!({"grid_id": grids[1]})).await.status, StatusCode::OK);
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let left: i64 =
        query("SELECT COUNT(*) FROM residents WHERE community_id = $1 AND household_id = $2 AND grid_id <> $3")
            .bind(c)
            .bind(h)
            .bind(grids[1])
            .scalar(&mut conn)
            .await
            .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn concurrent_writes_all_succeed() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.post_json(&format!("/api/v1/communities/{HS}/zones"), json!({"name": format!("并发片区{i}")}))
                .await
                .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    let c = app.community_id(HS).await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM zones WHERE community_id = $1", c).await, 40);
}

/// How many of 海盛's partner units start with "海盛便民" (with the archived ones, or not).
async fn units_named(app: &TestApp, archived: bool) -> i64 {
    let url = format!(
        "/api/v1/communities/{HS}/partner_units?q=%E6%B5%B7%E7%9B%9B%E4%BE%BF%E6%B0%91{}",
        if archived { "&archived=1" } else { "" }
    );
    app.get(&url).await.json()["total"].as_i64().unwrap()
}

#[tokio::test]
async fn staff_register_a_partner_unit_find_it_archive_it_and_bring_it_back_through_the_api() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let base = format!("/api/v1/communities/{HS}/partner_units");
    let bad = app.post_json(&base, json!({"name": "", "kind": "bank"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.field_error("name"), "必填");
    assert_eq!(bad.field_error("kind"), "不是可选的值");
    let landline = app
        .post_json(&base, json!({"name": "海盛便民药房", "kind": "enterprise", "contact_phone": "0759-2233445"}))
        .await;
    assert_eq!(landline.field_error("contact_phone"), "手机号码格式不正确（应为 11 位大陆手机号）");
    let made = app
        .post_json(
            &base,
            json!({"name": "海盛便民药房", "kind": "enterprise", "contact_name": "郑店长", "contact_phone": "13812345678", "address": "南调路18号"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    assert_eq!(made.json()["contact_phone"], "138****5678", "the contact's mobile is masked");
    let id = made.json()["id"].as_i64().unwrap();
    let shown = app.post_json(&format!("{base}/{id}/reveal"), json!({"field": "contact_phone"})).await;
    assert_eq!(shown.json()["value"], "13812345678", "{}", shown.text());
    let stored: i64 = app
        .scalar("SELECT COUNT(*) FROM partner_units WHERE id = $1 AND contact_phone_enc IS NOT NULL AND contact_phone_unsealed IS NULL", id)
        .await;
    assert_eq!(stored, 1, "encrypted at rest, no plain copy");
    assert_eq!(units_named(&app, false).await, 1, "found by the start of its name");
    let changed = app.patch_json(&format!("{base}/{id}"), json!({"contact_name": "郑经理"})).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.json()["contact_name"], "郑经理");

    let archived = app.post_json(&format!("{base}/{id}/archive"), json!({})).await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text());
    assert_eq!(units_named(&app, false).await, 0);
    assert_eq!(units_named(&app, true).await, 1, "archived, never deleted");
    let back = app.post_json(&format!("{base}/{id}/unarchive"), json!({})).await;
    assert_eq!(back.status, StatusCode::OK);
    assert_eq!(units_named(&app, false).await, 1);
    let c = app.community_id(HS).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let actions: Vec<String> = query(
        "SELECT action FROM audit_log WHERE community_id = $1 AND entity = 'partner_unit' AND entity_id = $2 ORDER BY id",
    )
    .bind(c)
    .bind(id)
    .scalars(&mut conn)
    .await
    .unwrap();
    assert_eq!(actions, ["create", "update", "archive", "unarchive"]);
    drop(conn);
    // Another community's staff do not see it.
    app.sign_in("grid2").await;
    assert_eq!(app.get(&format!("{base}/{id}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_upgrade_seals_partner_units_plain_contact_phones_and_keeps_landlines_in_the_notes() {
    let app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    // Two units as an earlier version stored them: the phone in plain text.
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    let ids = tx.next_ids(2).await.unwrap();
    for (id, phone) in ids.iter().zip(["13900001111", "0759-2233445"]) {
        query("INSERT INTO partner_units (community_id, id, name, kind, contact_phone_unsealed, notes, created_at, updated_at) VALUES ($1, $2, $3, 'enterprise', $4, '老客户', 0, 0)")
            .bind(c)
            .bind(*id)
            .bind(format!("旧单位{id}"))
            .bind(phone)
            .execute(&mut tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let after = app.restart().await;
    let mut conn = after.state.db.span(Span::Maintenance).await.unwrap();
    let rows: Vec<(Option<String>, Option<String>, String)> = query(
        "SELECT contact_phone_unsealed, contact_phone_masked, notes FROM partner_units WHERE community_id = $1 AND id IN ($2, $3) ORDER BY id",
    )
    .bind(c)
    .bind(ids[0])
    .bind(ids[1])
    .fetch_all(&mut conn)
    .await
    .unwrap();
    drop(conn);
    assert_eq!(
        rows,
        [
            (None, Some("139****1111".to_string()), "老客户".to_string()),
            (None, None, "老客户\n联系电话：0759-2233445".to_string()),
        ]
    );
    let staff = linli::demo::actor_named(&after.state, "staff").await.unwrap().unwrap();
    let value = linli::services::records::store::reveal(
        &after.state.db,
        &after.state.pii,
        &staff,
        &linli::capabilities::registry::org::PARTNER_UNIT,
        c,
        ids[0],
        "contact_phone",
    )
    .await
    .unwrap();
    assert_eq!(value.as_deref(), Some("13900001111"));
}
