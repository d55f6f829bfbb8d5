//! Keeping the registry: households and residents created, found, changed and archived,
//! with personal values encrypted, masked, revealed only with reason, and every write
//! in the record's history.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// The id of a community's first grid (the demo's 第一网格).
    pub(crate) async fn first_grid_id(&self, code: &str) -> i64 {
        self.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", self.community_id(code).await).await
    }

    /// The ids of a community's grids, in order.
    pub(crate) async fn grid_ids(&self, code: &str) -> Vec<i64> {
        let c = self.community_id(code).await;
        let mut conn = self.state.db.span(Span::Maintenance).await.unwrap();
        query("SELECT id FROM grids WHERE community_id = $1 ORDER BY id").bind(c).scalars(&mut conn).await.unwrap()
    }

    /// The first household of a grid of a community.
    pub(crate) async fn first_household_in_grid(&self, code: &str, grid: i64) -> i64 {
        let c = self.community_id(code).await;
        let mut conn = self.state.db.span(Span::Maintenance).await.unwrap();
        query("SELECT MIN(id) FROM households WHERE community_id = $1 AND grid_id = $2")
            .bind(c)
            .bind(grid)
            .scalar(&mut conn)
            .await
            .unwrap()
    }

    /// What was done to a record of 海盛's registry, in order, as the audit log tells.
    async fn registry_audit_actions(&self, entity: &str, id: i64) -> Vec<String> {
        let c = self.community_id(HS).await;
        let mut conn = self.state.db.span(Span::Maintenance).await.unwrap();
        query("SELECT action FROM audit_log WHERE community_id = $1 AND entity = $2 AND entity_id = $3 ORDER BY id")
            .bind(c)
            .bind(entity)
            .bind(id)
            .scalars(&mut conn)
            .await
            .unwrap()
    }

    /// Staff create a household through the page form.
    async fn create_household(&self, address: &str, grid: i64, room: &str) -> Resp {
        let (path, grid) = (format!("/c/{HS}/households"), grid.to_string());
        self.post_form(&path, &[("address", address), ("grid_id", &grid), ("room", room)]).await
    }

    /// Staff change a household's address, grid and room through its page form.
    async fn update_household(&self, id: i64, address: &str, grid: i64, room: &str) -> Resp {
        let (path, grid) = (format!("/c/{HS}/households/{id}"), grid.to_string());
        self.post_form(&path, &[("address", address), ("grid_id", &grid), ("room", room)]).await
    }

    /// Staff archive a household from its page.
    async fn archive_household(&self, id: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/households/{id}/archive"), &[]).await
    }

    /// Someone moves a household to another grid through the API.
    async fn move_household(&self, id: i64, grid: i64) -> Resp {
        self.patch_json(&format!("/api/v1/communities/{HS}/households/{id}"), json!({"grid_id": grid})).await
    }

    /// Someone writes notes on a household through the API.
    pub(crate) async fn write_household_notes(&self, code: &str, id: i64, notes: &str) -> Resp {
        self.patch_json(&format!("/api/v1/communities/{code}/households/{id}"), json!({"notes": notes})).await
    }

    /// Staff register a resident through the page form.
    async fn add_resident_form(&self, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/residents"), fields).await
    }

    /// Staff register a resident through the API.
    async fn add_resident_api(&self, body: Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/residents"), body).await
    }

    /// Someone reveals a resident's full personal value (`phone`, `id_number`) through the API.
    async fn reveal_resident_api(&self, id: i64, field: &str) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/residents/{id}/reveal"), json!({"field": field})).await
    }

    /// Someone reveals a resident's full personal value on the record's page.
    async fn reveal_resident_form(&self, id: i64, field: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/residents/{id}/reveal/{field}"), &[]).await
    }

    /// Staff create a zone 片区 through the API.
    async fn create_zone_api(&self, name: &str) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/zones"), json!({"name": name})).await
    }

    /// Staff register a partner unit 共建单位 through the API.
    async fn register_partner_unit(&self, body: Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/partner_units"), body).await
    }

    /// Staff reveal a partner unit's full contact value through the API.
    async fn reveal_partner_unit(&self, id: i64, field: &str) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/partner_units/{id}/reveal"), json!({"field": field})).await
    }

    /// Staff change a partner unit through the API.
    async fn update_partner_unit(&self, id: i64, body: Value) -> Resp {
        self.patch_json(&format!("/api/v1/communities/{HS}/partner_units/{id}"), body).await
    }

    /// Staff archive a partner unit through the API.
    async fn archive_partner_unit(&self, id: i64) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/partner_units/{id}/archive"), json!({})).await
    }

    /// Staff bring an archived partner unit back through the API.
    async fn unarchive_partner_unit(&self, id: i64) -> Resp {
        self.post_json(&format!("/api/v1/communities/{HS}/partner_units/{id}/unarchive"), json!({})).await
    }
}

fn id_number(seq: u32) -> String {
    linli::services::pii::make_id_number("440804", chrono::NaiveDate::from_ymd_opt(1952, 8, 9).unwrap(), seq, false)
}

/// Staff create a household through the page; answers its id.
async fn new_household(app: &TestApp, address: &str) -> i64 {
    let r = app.create_household(address, app.first_grid_id(HS).await, "101").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    r.location().split('?').next().unwrap().rsplit('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn staff_register_a_resident_and_bad_fields_are_named_in_chinese() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let h = new_household(&app, "海盛花园9栋1单元101").await;
    let before = app.resident_count(HS).await;

    let bad = app
        .add_resident_form(&[
            ("name", ""),
            ("phone", "12345"),
            ("id_number", "110105194912310021"),
            ("household_id", &h.to_string()),
            ("care_tags", "火星人"),
        ])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = visible_text(&bad.text());
    for msg in ["必填", "电话号码格式不正确", "身份证号校验位不正确", "“火星人”不是本社区的关怀标签"]
    {
        assert!(text.contains(msg), "missing {msg}: {text}");
    }
    assert_eq!(app.resident_count(HS).await, before, "nothing written");

    let id = id_number(77);
    let ok = app
        .add_resident_form(&[
            ("name", "林秀英"),
            ("phone", "13812345678"),
            ("id_number", &id),
            ("household_id", &h.to_string()),
            ("care_tags", "独居老人"),
            ("party_member", "false"),
            ("party_member", "true"),
        ])
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

/// Many elderly residents have only a landline: it is taken with its area code, sealed and
/// masked like a mobile, revealed in full only on request, and found by.
#[tokio::test]
async fn an_elderly_resident_with_only_a_landline_is_registered_masked_and_found_by_it() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let h = new_household(&app, "海景苑2栋1单元102").await;
    let r = app
        .add_resident_api(
            json!({"name": "陈阿婆", "phone": "(0759) 338-1678", "id_number": id_number(31), "household_id": h}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["phone"], "075*****1678", "masked like a mobile");
    let rid = r.json()["id"].as_i64().unwrap();
    assert_eq!(app.reveal_resident_api(rid, "phone").await.json()["value"], "0759-3381678");
    for q in ["0759-3381678", "07593381678", "1678"] {
        let found =
            app.get(&format!("/api/v1/communities/{HS}/residents?q={}", linli::web::fmt::urlencode(q))).await.json();
        assert!(found["items"].as_array().unwrap().iter().any(|r| r["id"] == rid), "search {q} finds her: {found}");
    }
    let no_area_code = app
        .add_resident_api(json!({"name": "陈阿公", "phone": "3381678", "id_number": id_number(33), "household_id": h}))
        .await;
    assert_eq!(no_area_code.field_error("phone"), "电话号码格式不正确（手机为 11 位；座机请带区号，如 0759-3381678）");
}

#[tokio::test]
async fn the_registry_is_found_by_name_masked_phone_last_digits_and_full_numbers() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let h = new_household(&app, "海景苑1栋1单元101").await;
    let id = id_number(5);
    let r = app
        .add_resident_api(json!({"name": "欧阳娜娜", "phone": "13998765432", "id_number": id, "household_id": h}))
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
    let r = app.update_household(h, "测试路8号302", app.first_grid_id(HS).await, "302").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let archived = app.archive_household(h).await;
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
    assert_eq!(app.registry_audit_actions("household", h).await, ["create", "update", "archive"]);
    // The log refuses to be rewritten, even by the database's own users.
    let c = app.community_id(HS).await;
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
    let grid0 = app.first_grid_id(HS).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let rid: i64 =
        query("SELECT MIN(id) FROM residents WHERE community_id = $1 AND grid_id = $2 AND phone_hash IS NOT NULL")
            .bind(c)
            .bind(grid0)
            .scalar(&mut conn)
            .await
            .unwrap();
    drop(conn);

    app.sign_in("grid").await;
    let shown = app.reveal_resident_api(rid, "phone").await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    let full = shown.json()["value"].as_str().unwrap().to_string();
    assert!(linli::services::pii::normalize_phone(&full).is_ok());

    app.sign_in("staff").await;
    let page_reveal = app.reveal_resident_form(rid, "id_number").await;
    assert_eq!(page_reveal.status, StatusCode::OK);
    assert!(linli::services::pii::normalize_id_number(&visible_text(&page_reveal.text())).is_ok());
    // Staff may not read the log of reveals.
    assert_eq!(app.get(&format!("/c/{HS}/access-log")).await.status, StatusCode::FORBIDDEN);

    app.sign_in("street").await;
    assert_eq!(app.reveal_resident_api(rid, "phone").await.status, StatusCode::NOT_FOUND, "not in their subdistrict");

    app.sign_in("admin").await;
    assert_eq!(
        app.reveal_resident_api(rid, "phone").await.status,
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
    let grids = app.grid_ids(HS).await;
    let h = app.first_household_in_grid(HS, grids[0]).await;
    app.sign_in("grid").await;
    let url = format!("/api/v1/communities/{HS}/households/{h}");
    assert_eq!(app.write_household_notes(HS, h, "独居老人已走访").await.status, StatusCode::OK);
    let moved = app.move_household(h, grids[1]).await;
    assert_eq!(moved.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&url).await.json()["grid_id"].as_i64(), Some(grids[0]));
    // Moving a household as staff moves its residents' grid too.
    app.sign_in("staff").await;
    assert_eq!(app.move_household(h, grids[1]).await.status, StatusCode::OK);
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
        let name = format!("并发片区{i}");
        tasks.push(tokio::spawn(async move { app.create_zone_api(&name).await.status }));
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
    let bad = app.register_partner_unit(json!({"name": "", "kind": "bank"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.field_error("name"), "必填");
    assert_eq!(bad.field_error("kind"), "不是可选的值");
    let no_area_code = app
        .register_partner_unit(json!({"name": "海盛便民药房", "kind": "enterprise", "contact_phone": "2233445"}))
        .await;
    assert_eq!(
        no_area_code.field_error("contact_phone"),
        "电话号码格式不正确（手机为 11 位；座机请带区号，如 0759-3381678）"
    );
    let made = app
        .register_partner_unit(
            json!({"name": "海盛便民药房", "kind": "enterprise", "contact_name": "郑店长", "contact_phone": "13812345678", "address": "南调路18号"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    assert_eq!(made.json()["contact_phone"], "138****5678", "the contact's mobile is masked");
    let id = made.json()["id"].as_i64().unwrap();
    let shown = app.reveal_partner_unit(id, "contact_phone").await;
    assert_eq!(shown.json()["value"], "13812345678", "{}", shown.text());
    let stored: i64 = app
        .scalar("SELECT COUNT(*) FROM partner_units WHERE id = $1 AND contact_phone_enc IS NOT NULL AND contact_phone_unsealed IS NULL", id)
        .await;
    assert_eq!(stored, 1, "encrypted at rest, no plain copy");
    assert_eq!(units_named(&app, false).await, 1, "found by the start of its name");
    let changed = app.update_partner_unit(id, json!({"contact_name": "郑经理"})).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.json()["contact_name"], "郑经理");

    let archived = app.archive_partner_unit(id).await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text());
    assert_eq!(units_named(&app, false).await, 0);
    assert_eq!(units_named(&app, true).await, 1, "archived, never deleted");
    let back = app.unarchive_partner_unit(id).await;
    assert_eq!(back.status, StatusCode::OK);
    assert_eq!(units_named(&app, false).await, 1);
    assert_eq!(app.registry_audit_actions("partner_unit", id).await, ["create", "update", "archive", "unarchive"]);
    // Another community's staff do not see it.
    app.sign_in("grid2").await;
    assert_eq!(app.get(&format!("/api/v1/communities/{HS}/partner_units/{id}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_upgrade_seals_partner_units_plain_contact_phones_and_keeps_what_is_no_number_in_the_notes() {
    let app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    // Three units as an earlier version stored them: the phone in plain text.
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    let ids = tx.next_ids(3).await.unwrap();
    for (id, phone) in ids.iter().zip(["13900001111", "0759-2233445", "见名片"]) {
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
        "SELECT contact_phone_unsealed, contact_phone_masked, notes FROM partner_units WHERE community_id = $1 AND id IN ($2, $3, $4) ORDER BY id",
    )
    .bind(c)
    .bind(ids[0])
    .bind(ids[1])
    .bind(ids[2])
    .fetch_all(&mut conn)
    .await
    .unwrap();
    drop(conn);
    assert_eq!(
        rows,
        [
            (None, Some("139****1111".to_string()), "老客户".to_string()),
            (None, Some("075*****3445".to_string()), "老客户".to_string()),
            (None, None, "老客户\n联系电话：见名片".to_string()),
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

/// The options of the select named `name` on a page, as shown.
fn select_options(html: &str, name: &str) -> Vec<String> {
    let start = html.find(&format!("<select name=\"{name}\"")).unwrap_or_else(|| panic!("no select {name}"));
    let select = &html[start..start + html[start..].find("</select>").unwrap()];
    select
        .split("<option")
        .skip(1)
        .map(|o| o.split('>').nth(1).unwrap().split('<').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn grids_come_in_counting_order_and_buildings_are_told_apart_by_their_compound() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    // By code points 第三 (U+4E09) would come before 第二 (U+4E8C).
    let grids = select_options(&app.get(&format!("/c/{HS}/tickets?view=all")).await.text(), "grid_id");
    assert_eq!(grids[1..], ["第一网格", "第二网格", "第三网格", "第四网格"]);
    // The households' building filter: each building once, with its compound's name.
    let buildings = select_options(&app.get(&format!("/c/{HS}/households")).await.text(), "building_id");
    let named = &buildings[1..];
    assert!(named.len() > 4, "{named:?}");
    let unique: std::collections::BTreeSet<&String> = named.iter().collect();
    assert_eq!(unique.len(), named.len(), "no two alike: {named:?}");
    assert!(named.iter().all(|b| b.contains(' ') && b.ends_with('栋')), "{named:?}");
    let numbers: Vec<u32> = named
        .iter()
        .filter(|b| b.starts_with(named[0].split(' ').next().unwrap()))
        .map(|b| b.rsplit(' ').next().unwrap().trim_end_matches('栋').parse().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "2栋 before 10栋: {numbers:?}");
}
