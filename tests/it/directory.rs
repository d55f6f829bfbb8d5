//! The 15-minute service circle: staff list a free haircut and a barber kept open on
//! holidays, with their hours; a resident, not signed in, finds the haircut open now
//! within 15 minutes' walk; the platform admin declares today a holiday and the haircut
//! closes while the barber stays open; a listing nobody verified for 180 days leaves the
//! public page until staff verify it. And every bad field named.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

/// 海盛社区's square, and a place 2 km north of it.
const HOME: (f64, f64) = (21.2700, 110.3600);

impl TestApp {
    /// Staff add a record of the directory through the API; answers its id.
    pub(crate) async fn add_directory_record(&self, path: &str, body: serde_json::Value) -> i64 {
        let r = self.post_json(&format!("/api/v1/communities/{HS}/{path}"), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["id"].as_i64().unwrap()
    }

    /// Staff add a weekly rule to a listing's hours.
    pub(crate) async fn add_listing_hours(&self, listing: i64, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/directory/listings/{listing}/hours"), fields).await
    }

    /// Anyone searches the public directory.
    pub(crate) async fn search_services(&self, query: &str) -> Resp {
        self.get_public(&format!("/p/{HS}/services?{query}")).await
    }

    /// The platform admin sets a day of the holiday calendar.
    pub(crate) async fn set_holiday(&self, day: &str, special: &str, name: &str) -> Resp {
        let body = json!({"special": special, "name": name, "provisional": false});
        self.put_json(&format!("/api/v1/holidays/{day}"), body).await
    }
}

fn every_day(opens: &'static str, closes: &'static str, on_holidays: bool) -> Vec<(&'static str, &'static str)> {
    let mut f: Vec<(&str, &str)> = ["1", "2", "3", "4", "5", "6", "7"].iter().map(|d| ("weekdays", *d)).collect();
    f.extend([("opens", opens), ("closes", closes), ("on_holidays", if on_holidays { "true" } else { "false" })]);
    f
}

/// Staff list the haircut near home and the barber 2 km away; answers their ids.
async fn two_listings(app: &mut TestApp) -> (i64, i64) {
    app.sign_in("staff").await;
    let salon = app.add_directory_record("providers", json!({"name": "怡馨理发店", "kind": "merchant"})).await;
    let near = app
        .add_directory_record(
            "service-locations",
            json!({"name": "理发店", "address": "海盛路8号", "lat": HOME.0 + 0.003, "lng": HOME.1}),
        )
        .await;
    let far = app
        .add_directory_record(
            "service-locations",
            json!({"name": "北门店", "address": "海滨大道200号", "lat": HOME.0 + 0.018, "lng": HOME.1}),
        )
        .await;
    let haircut = app
        .add_directory_record(
            "listings",
            json!({"name": "老人义剪", "provider_id": salon, "location_id": near, "need": "haircut", "price": "free",
                "eligibility": "60岁以上老人", "bring": "身份证"}),
        )
        .await;
    let barber = app
        .add_directory_record(
            "listings",
            json!({"name": "便民理发", "provider_id": salon, "location_id": far, "need": "haircut", "price": "discounted"}),
        )
        .await;
    let r = app.add_listing_hours(haircut, &every_day("00:00", "24:00", false)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app.add_listing_hours(barber, &every_day("00:00", "24:00", true)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    (haircut, barber)
}

fn today() -> String {
    linli::web::fmt::today().to_string()
}

fn near_home(extra: &str) -> String {
    format!("need=haircut&lat={}&lng={}{extra}", HOME.0, HOME.1)
}

#[tokio::test]
async fn a_resident_finds_a_free_haircut_open_now_within_fifteen_minutes_and_not_on_a_holiday() {
    let mut app = TestApp::demo().await;
    app.sign_in("admin").await;
    // Today is an ordinary day whatever the calendar says of it.
    let _ = app.delete(&format!("/api/v1/holidays/{}", today())).await;
    let (haircut, barber) = two_listings(&mut app).await;

    let page = app.search_services(&near_home("&open_now=true&walk=15")).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = visible_text(&page.text());
    assert!(text.contains("老人义剪") && text.contains("营业中") && text.contains("步行约"), "{text}");
    assert!(!text.contains("便民理发"), "2 km is not 15 minutes' walk: {text}");
    let api = app.get_public(&format!("/api/v1/public/{HS}/services?{}", near_home("&open_now=true&walk=15"))).await;
    assert_eq!(api.json()["items"][0]["id"], haircut);
    assert_eq!(api.json()["items"][0]["open_now"], true);
    assert_eq!(api.json()["total"], 1);
    let listing = visible_text(&app.get_public(&format!("/p/{HS}/services/{haircut}")).await.text());
    assert!(
        listing.contains("60岁以上老人") && listing.contains("身份证") && listing.contains("未来七天"),
        "{listing}"
    );
    assert!(!listing.contains("在线预约"), "not bookable yet");

    // Staff make it bookable: its page leads to the booking.
    app.sign_in("staff").await;
    let kind = app
        .add_directory_record("appointment-types", json!({"name": "义剪预约", "desk": "理发店", "kind": "booked"}))
        .await;
    let r = app
        .patch_json(&format!("/api/v1/communities/{HS}/listings/{haircut}"), json!({"appointment_type_id": kind}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = app.get_public(&format!("/p/{HS}/services/{haircut}")).await.text();
    assert!(page.contains(&format!("/c/{HS}/appointments/types/{kind}")), "the booking is linked");
    let r = app
        .patch_json(&format!("/api/v1/communities/{HS}/listings/{haircut}"), json!({"appointment_type_id": 99999999}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!r.field_error("appointment_type_id").is_empty(), "{}", r.text());

    // The platform admin declares today a holiday: the haircut closes, the barber kept
    // open on holidays does not.
    app.sign_in("admin").await;
    let r = app.set_holiday(&today(), "off", "临时放假").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let text = visible_text(&app.search_services(&near_home("&open_now=true")).await.text());
    assert!(!text.contains("老人义剪") && text.contains("便民理发"), "{text}");
    let listing = visible_text(&app.get_public(&format!("/p/{HS}/services/{haircut}")).await.text());
    assert!(listing.contains("临时放假假期") && listing.contains("休息"), "{listing}");
    let api = app.get_public(&format!("/api/v1/public/{HS}/services?{}", near_home(""))).await;
    let items = api.json()["items"].as_array().unwrap().clone();
    let of = |id: i64| items.iter().find(|i| i["id"] == id).unwrap().clone();
    assert_eq!((of(haircut)["open_now"].clone(), of(barber)["open_now"].clone()), (json!(false), json!(true)));
    let days = app.get_public("/api/v1/holidays").await;
    assert!(days.json()["items"].as_array().unwrap().iter().any(|d| d["name"] == "临时放假"), "{}", days.text());

    // Staff close the barber for today: the search, which keeps hours between requests,
    // says so at once.
    app.sign_in("staff").await;
    let closing = [("day", today()), ("note", "停电".to_string())];
    let closing: Vec<(&str, &str)> = closing.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app.post_form(&format!("/c/{HS}/directory/listings/{barber}/exceptions"), &closing).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let api = app.get_public(&format!("/api/v1/public/{HS}/services?{}", near_home("&open_now=true"))).await;
    assert_eq!(api.json()["total"], 0, "{}", api.text());
}

#[tokio::test]
async fn a_listing_not_verified_for_180_days_leaves_the_public_page_until_staff_verify_it() {
    let mut app = TestApp::demo().await;
    let (haircut, _) = two_listings(&mut app).await;
    let c = app.community_id(HS).await;
    let long_ago = linli::db::now_ms() - 181 * 86_400_000;
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("UPDATE listings SET created_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(long_ago)
        .bind(c)
        .bind(haircut)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(app.get_public(&format!("/p/{HS}/services/{haircut}")).await.status, StatusCode::NOT_FOUND);
    assert!(!visible_text(&app.search_services("need=haircut").await.text()).contains("老人义剪"));
    let desk = visible_text(&app.get(&format!("/c/{HS}/directory")).await.text());
    let stale = desk.split("待核实：").nth(1).unwrap().split("按类别").next().unwrap().to_string();
    assert!(stale.contains("老人义剪") && !stale.contains("便民理发"), "{stale}");

    let r = app.post_form(&format!("/c/{HS}/directory/listings/{haircut}/verify"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let listing = visible_text(&app.get_public(&format!("/p/{HS}/services/{haircut}")).await.text());
    assert!(listing.contains("最近核实") && listing.contains("社区已核实") && !listing.contains("吴社工"), "{listing}");
    let staff_page = visible_text(&app.get(&format!("/c/{HS}/directory/listings/{haircut}")).await.text());
    assert!(staff_page.contains("海盛社区 吴社工") && staff_page.contains("已核实"), "{staff_page}");
    assert!(visible_text(&app.search_services("need=haircut").await.text()).contains("老人义剪"));
}

#[tokio::test]
async fn bad_hours_searches_and_places_are_refused_naming_the_field() {
    let mut app = TestApp::demo().await;
    let (haircut, _) = two_listings(&mut app).await;
    let r = app.add_listing_hours(haircut, &every_day("18:00", "09:00", false)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.inline_error("closes").contains("结束时间应晚于开始时间"), "{}", r.text());
    let r = app.add_listing_hours(haircut, &[("opens", "8:30"), ("closes", "25:00")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["weekdays", "opens", "closes"] {
        assert!(!r.inline_error(field).is_empty(), "{field}: {}", r.text());
    }
    let page = visible_text(&app.get(&format!("/c/{HS}/directory/listings/{haircut}")).await.text());
    let rules = page.split("每周开放时间").nth(1).unwrap().split("特殊日期").next().unwrap().to_string();
    assert_eq!(rules.matches("00:00–24:00").count(), 1, "one rule, and nothing half-written: {rules}");
    let r = app
        .post_form(
            &format!("/c/{HS}/directory/listings/{haircut}/exceptions"),
            &[("day", "2026-13-01"), ("opens", "09:00")],
        )
        .await;
    assert!(!r.inline_error("day").is_empty() && !r.inline_error("closes").is_empty(), "{}", r.text());

    for (query, field) in
        [("walk=7", "walk"), ("lat=999&lng=1", "lat"), ("need=spa", "need"), ("from=99999999", "from")]
    {
        let r = app.get_public(&format!("/api/v1/public/{HS}/services?{query}")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(!r.field_error(field).is_empty(), "{query}: {}", r.text());
        let page = app.search_services(query).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
    }

    // A location on a grid of another community.
    let other = app.community_id("321111005001").await;
    let grid: i64 = query("SELECT id FROM grids WHERE community_id = $1 ORDER BY id LIMIT 1")
        .bind(other)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    let r = app
        .post_json(
            &format!("/api/v1/communities/{HS}/service-locations"),
            json!({"name": "别处", "address": "某路", "grid_id": grid}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(!r.field_error("grid_id").is_empty(), "{}", r.text());

    // Residents do not keep the directory; the platform admin alone keeps the calendar.
    app.sign_in("resident").await;
    let r = app.add_listing_hours(haircut, &every_day("09:00", "10:00", false)).await;
    assert!(matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", r.status);
    let r = app.set_holiday(&today(), "off", "假").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/admin/holidays").await.status, StatusCode::FORBIDDEN);
    app.sign_in("admin").await;
    let page = visible_text(&app.get("/admin/holidays?year=2026").await.text());
    assert!(page.contains("2026-02-16") && page.contains("春节") && page.contains("调休上班"), "{page}");
    let r = app.set_holiday("2026-10-08", "holiday", "").await;
    assert!(!r.field_error("special").is_empty() && !r.field_error("name").is_empty(), "{}", r.text());
}

#[tokio::test]
async fn the_demo_circle_of_yixin_lists_sixteen_enterprises_and_hides_the_one_left_unverified() {
    let app = TestApp::demo().await;
    let all = app.get_public("/api/v1/public/110113003001/services").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    assert_eq!(all.json()["total"], 15, "sixteen listed, one stale: {}", all.text());
    let needs: Vec<String> =
        all.json()["items"].as_array().unwrap().iter().map(|i| i["need"].as_str().unwrap().to_string()).collect();
    for need in ["medical", "legal", "talk", "pedicure", "haircut"] {
        assert!(needs.iter().any(|n| n == need), "{need}");
    }
    let page = visible_text(&app.get_public("/p/110113003001/services?need=legal").await.text());
    assert!(page.contains("免费法律咨询") && page.contains("怡馨法律服务所"), "{page}");
}

#[tokio::test]
async fn a_partner_units_service_is_also_a_points_reward_and_each_use_is_counted() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let unit = app.scalar("SELECT id FROM partner_units WHERE community_id = $1 ORDER BY id LIMIT 1", c).await;
    app.sign_in("staff").await;
    let hospital = app
        .add_directory_record("providers", json!({"name": "久和医院", "kind": "partner_unit", "partner_unit_id": unit}))
        .await;
    let clinic = app
        .add_directory_record(
            "service-locations",
            json!({"name": "义诊点", "address": "海盛路3号", "lat": HOME.0, "lng": HOME.1}),
        )
        .await;
    let checkup = app
        .add_directory_record(
            "listings",
            json!({"name": "免费体检", "provider_id": hospital, "location_id": clinic, "need": "medical", "price": "free"}),
        )
        .await;

    // The shop has the hospital's check-up as a service, and towels that are not it.
    let reward = app
        .create_reward(json!({"name": "体检套餐", "kind": "service", "provider_unit_id": unit, "price": 10,
            "stock": 5, "hold_days": 7}))
        .await;
    assert_eq!(reward.status, StatusCode::CREATED, "{}", reward.text());
    let reward = reward.json()["id"].as_i64().unwrap();
    let towels =
        app.create_reward(json!({"name": "毛巾", "kind": "goods", "price": 5, "stock": 5, "hold_days": 7})).await;
    let towels = towels.json()["id"].as_i64().unwrap();
    let listing = format!("/api/v1/communities/{HS}/listings/{checkup}");
    let r = app.patch_json(&listing, json!({"reward_id": towels})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["error"]["fields"]["reward_id"], "积分兑换奖品须是本服务商提供的服务");
    let r = app.patch_json(&listing, json!({"reward_id": reward})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // Anyone reads on its public page that it can be had for points, and where.
    let page = visible_text(&app.get_public(&format!("/p/{HS}/services/{checkup}")).await.text());
    assert!(page.contains("可用积分兑换") && page.contains("10 积分") && page.contains("去积分超市兑换"), "{page}");

    // A volunteer redeems it and the hospital's contact hands it over.
    app.sign_in("volunteer").await;
    let held = app.redeem_reward_api(reward).await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.text());
    app.sign_in("unit").await;
    let r = app.hand_over_redemption(held.json()["code"].as_str().unwrap()).await;
    assert!(r.status.is_success() || r.status.is_redirection(), "{}", r.text());

    // The figures count the listing by need and freshness, and its use through the shop.
    app.sign_in("staff").await;
    let page = visible_text(&app.get(&format!("/c/{HS}/directory/stats")).await.text());
    assert!(page.contains("服务圈统计") && page.contains("医疗保健") && page.contains("本年服务人次 1"), "{page}");
    let sheet = app.get(&format!("/c/{HS}/directory/stats.xlsx")).await;
    assert_eq!(sheet.status, StatusCode::OK);
    let rows = crate::helpers::calamine_rows(&sheet.body);
    let line = rows.iter().find(|r| r.get(1).is_some_and(|s| s == "医疗保健")).unwrap();
    // listings, fresh, stale, never verified, bookable, for points, bookings served, redeemed
    assert_eq!(&line[2..10], ["1", "1", "0", "1", "0", "1", "0", "1"], "{rows:?}");

    // Over the subdistrict, community by community; not for another's admin or a resident.
    let sub = app.scalar("SELECT subdistrict_id FROM communities WHERE id = $1", c).await;
    app.sign_in("admin").await;
    let page = visible_text(&app.get(&format!("/subdistricts/{sub}/directory/stats")).await.text());
    assert!(page.contains("海盛社区") && page.contains("医疗保健"), "{page}");
    app.sign_in("street").await;
    assert_eq!(app.get(&format!("/subdistricts/{sub}/directory/stats.xlsx")).await.status, StatusCode::NOT_FOUND);
    app.sign_in("resident").await;
    assert!(app.get(&format!("/c/{HS}/directory/stats")).await.status.is_client_error());
    assert_eq!(app.get(&format!("/subdistricts/{sub}/directory/stats")).await.status, StatusCode::NOT_FOUND);
}
