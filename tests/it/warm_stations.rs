//! Warm stations: staff open a station by the square, kept every day and on holidays; a
//! rider, not signed in, finds it as the nearest open one on the subdistrict's map; a
//! volunteer takes a shift, checks in, counts visitors with a tap, marks the station full,
//! checks out, and the hours become a service record. Two people race for the last
//! place: one wins. A shift nobody took tells staff a day ahead. And bad input named.

use axum::http::StatusCode;
use linli::auth::model::{Grant, Role};
use linli::capabilities::warm_stations::{ShiftPlan, store};
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";
const SQUARE: (f64, f64) = (21.2700, 110.3600);

impl TestApp {
    /// Staff open a warm station (hours: every day, all day, holidays too, when `open`).
    pub(crate) async fn open_warm_station(&self, name: &str, at: (f64, f64), open: bool) -> i64 {
        let body = json!({"name": name, "address": "海盛路1号", "lat": at.0, "lng": at.1,
            "amenities": ["water", "charging", "microwave"]});
        let r = self.post_json(&format!("/api/v1/communities/{HS}/warm-stations"), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let id = r.json()["id"].as_i64().unwrap();
        if open {
            let mut f: Vec<(&str, &str)> =
                ["1", "2", "3", "4", "5", "6", "7"].iter().map(|d| ("weekdays", *d)).collect();
            f.extend([("opens", "00:00"), ("closes", "24:00"), ("on_holidays", "true")]);
            let r = self.post_form(&format!("/c/{HS}/roster/{id}/hours"), &f).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        }
        id
    }

    /// Staff add shifts to a station's roster.
    pub(crate) async fn add_duty_shifts(&self, station: i64, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/roster/{station}/shifts"), fields).await
    }

    pub(crate) async fn duty_action(&self, shift: i64, what: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/duty-shifts/{shift}/{what}"), &[]).await
    }

    pub(crate) async fn tap_visitor(&self, station: i64, kind: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/roster/{station}/visits"), &[("kind", kind)]).await
    }
}

fn at(hours_ahead: i64) -> String {
    linli::web::fmt::local_input(linli::db::now_ms() + hours_ahead * 3_600_000)
}

async fn shifts_of(app: &TestApp, station: i64) -> Vec<i64> {
    let c = app.community_id(HS).await;
    query("SELECT id FROM duty_shifts WHERE community_id = $1 AND station_id = $2 ORDER BY starts_at")
        .bind(c)
        .bind(station)
        .scalars(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap()
}

/// Time passes: the shift began two hours ago and the one on it checked in then.
async fn shift_under_way(app: &TestApp, shift: i64) {
    let c = app.community_id(HS).await;
    let now = linli::db::now_ms();
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("UPDATE duty_shifts SET starts_at = $1, ends_at = $2 WHERE community_id = $3 AND id = $4")
        .bind(now - 2 * 3_600_000)
        .bind(now + 3_600_000)
        .bind(c)
        .bind(shift)
        .execute(&mut tx)
        .await
        .unwrap();
    query("UPDATE duty_signups SET checked_in_at = $1 WHERE community_id = $2 AND shift_id = $3")
        .bind(now - 2 * 3_600_000)
        .bind(c)
        .bind(shift)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_rider_finds_the_nearest_open_station_and_a_volunteer_serves_a_shift_that_becomes_service() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let near = app.open_warm_station("海盛驿站", (SQUARE.0 + 0.004, SQUARE.1), true).await;
    app.open_warm_station("海滨驿站", (SQUARE.0 + 0.02, SQUARE.1), true).await;
    app.open_warm_station("未开放驿站", (SQUARE.0 + 0.001, SQUARE.1), false).await;
    let sub = app.scalar("SELECT subdistrict_id FROM communities WHERE id = $1", app.community_id(HS).await).await;

    // A rider, not signed in, asks for the open stations near where they stand.
    let page = app
        .get_public(&format!("/p/subdistricts/{sub}/warm-stations?open_now=true&lat={}&lng={}", SQUARE.0, SQUARE.1))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let text = visible_text(&page.text());
    let (first, second) = (text.find("海盛驿站").unwrap(), text.find("海滨驿站").unwrap());
    assert!(first < second && !text.contains("未开放驿站"), "nearest open first, closed left out: {text}");
    assert!(text.contains("开放中") && text.contains("充电") && text.contains("步行约"), "{text}");

    // Staff put a shift on the roster; the volunteer takes it and checks in.
    let r = app.add_duty_shifts(near, &[("starts_at", &at(2)), ("ends_at", &at(6)), ("needed", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let shift = shifts_of(&app, near).await[0];
    app.sign_in("volunteer").await;
    let duty = visible_text(&app.get(&format!("/c/{HS}/duty")).await.text());
    assert!(duty.contains("待报名的班次") && duty.contains("海盛驿站") && duty.contains("缺 1 人"), "{duty}");
    assert_eq!(app.duty_action(shift, "take").await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.duty_action(shift, "check-in").await.status, StatusCode::CONFLICT, "too early");
    shift_under_way(&app, shift).await;

    // On duty: one tap a visitor, and the station full for now.
    for kind in ["rider", "rider", "driver"] {
        assert_eq!(app.tap_visitor(near, kind).await.status, StatusCode::SEE_OTHER);
    }
    let r = app.post_form(&format!("/c/{HS}/roster/{near}/state"), &[("state", "full")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let duty = visible_text(&app.get(&format!("/c/{HS}/duty")).await.text());
    assert!(duty.contains("今日已登记 3 人次") && duty.contains("值班中"), "{duty}");
    let public = visible_text(&app.get_public(&format!("/p/{HS}/warm-stations")).await.text());
    assert!(public.contains("已满"), "{public}");

    let r = app.duty_action(shift, "check-out").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let c = app.community_id(HS).await;
    let (minutes, source, status): (i64, String, String) =
        query("SELECT minutes, source, status FROM service_records WHERE community_id = $1 AND source = 'duty'")
            .bind(c)
            .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    assert!((119..=121).contains(&minutes), "{minutes}");
    assert_eq!((source.as_str(), status.as_str()), ("duty", "pending"), "waits for staff like any service");
    assert_eq!(app.duty_action(shift, "check-out").await.status, StatusCode::SEE_OTHER, "again: nothing more");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM service_records WHERE community_id = $1 AND source = 'duty'", c).await,
        1
    );

    // Staff see the visits by day and hour on the station's page, and open it again.
    app.sign_in("staff").await;
    let r = app.post_form(&format!("/c/{HS}/roster/{near}/state"), &[("state", "open"), ("from", "roster")]).await;
    assert_eq!(r.location(), format!("/c/{HS}/roster/{near}?ok=saved"));
    assert!(!visible_text(&app.get_public(&format!("/p/{HS}/warm-stations")).await.text()).contains("已满"));
    let page = visible_text(&app.get(&format!("/c/{HS}/roster/{near}")).await.text());
    assert!(page.contains("近七天来访人次 3") && page.contains("来访时段"), "{page}");
    // A resident neither counts visitors nor serves.
    app.sign_in("resident").await;
    assert_eq!(app.tap_visitor(near, "rider").await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/c/{HS}/duty")).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_people_taking_the_last_place_of_a_shift_one_wins() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let station = app.open_warm_station("海盛驿站", SQUARE, true).await;
    let c = linli::auth::guard::community_by_id(&mut app.state.db.read().await.unwrap(), app.community_id(HS).await)
        .await
        .unwrap()
        .unwrap();
    let staff = linli::demo::actor_of(&app.state, app.user_id("staff").await).await.unwrap();
    let start = linli::db::now_ms() + 48 * 3_600_000;
    let plan = ShiftPlan { starts_at: start, ends_at: start + 4 * 3_600_000, needed: 1 };
    let shifts = store::add_shifts(&app.state, &staff, &c, station, plan, 5).await.unwrap();
    // People who may serve, invented for the race: volunteers of the community.
    let people = app.invented(10, "duty", "志愿者", vec![Grant::community(Role::Volunteer, c.id)]).await;
    for shift in shifts {
        let tasks: Vec<_> = people
            .iter()
            .take(2)
            .map(|a| {
                let (state, a, c) = (app.state.clone(), a.clone(), c.clone());
                tokio::spawn(async move { store::take(&state, &a, &c, shift).await })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => won += 1,
                Err(linli::error::AppError::Conflict("warm.shift_full")) => {}
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(won, 1, "the last place goes to one");
        let taken = app.scalar("SELECT taken FROM duty_shifts WHERE id = $1", shift).await;
        assert_eq!(taken, 1);
    }
    // Ten race for a shift of three places: exactly three.
    let plan = ShiftPlan { starts_at: start + 100 * 3_600_000, ends_at: start + 104 * 3_600_000, needed: 3 };
    let shift = store::add_shifts(&app.state, &staff, &c, station, plan, 1).await.unwrap()[0];
    let tasks: Vec<_> = people
        .iter()
        .map(|a| {
            let (state, a, c) = (app.state.clone(), a.clone(), c.clone());
            tokio::spawn(async move { store::take(&state, &a, &c, shift).await.is_ok() })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += i64::from(t.await.unwrap());
    }
    assert_eq!(won, 3);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM duty_signups WHERE shift_id = $1 AND left_at IS NULL", shift).await, 3);
}

#[tokio::test]
async fn a_shift_not_covered_a_day_ahead_tells_staff_and_bad_shifts_are_named() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let station = app.open_warm_station("海盛驿站", SQUARE, true).await;
    let r = app.add_duty_shifts(station, &[("starts_at", &at(5)), ("ends_at", &at(9)), ("needed", "2")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app.add_duty_shifts(station, &[("starts_at", &at(30)), ("ends_at", &at(33)), ("needed", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let shifts = shifts_of(&app, station).await;

    // The volunteer takes the first; a second shift at the same time is refused by name.
    app.sign_in("volunteer").await;
    assert_eq!(app.duty_action(shifts[0], "take").await.status, StatusCode::SEE_OTHER);
    app.sign_in("staff").await;
    let r = app.add_duty_shifts(station, &[("starts_at", &at(6)), ("ends_at", &at(8)), ("needed", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let overlapping = *shifts_of(&app, station).await.iter().find(|s| !shifts.contains(s)).unwrap();
    app.sign_in("volunteer").await;
    let r = app.duty_action(overlapping, "take").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(visible_text(&r.text()).contains("时间重叠"), "{}", r.text());

    // The job: the first still needs one more within 24 hours; the second is further off.
    linli::capabilities::warm_stations::store::uncovered(&app.state, linli::db::now_ms()).await.unwrap();
    linli::capabilities::warm_stations::store::uncovered(&app.state, linli::db::now_ms()).await.unwrap();
    app.sign_in("staff").await;
    let inbox = app.get("/api/v1/inbox").await.json();
    let lines: Vec<String> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap_or("").to_string())
        .filter(|t| t.contains("值班还差"))
        .collect();
    // The first (one of two places taken) and the overlapping one, each told once; the
    // one 30 hours off not yet.
    assert_eq!(lines.len(), 2, "each told once: {lines:?}");
    let far = linli::web::fmt::datetime(linli::db::now_ms() + 30 * 3_600_000);
    assert!(lines.iter().all(|l| l.contains("海盛驿站") && l.contains("还差 1 人") && !l.contains(&far)), "{lines:?}");

    // Bad shifts, each field named; nothing written.
    let before = shifts_of(&app, station).await.len();
    let r = app
        .add_duty_shifts(station, &[("starts_at", &at(-3)), ("ends_at", &at(-5)), ("needed", "0"), ("days", "30")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["starts_at", "ends_at", "needed", "days"] {
        assert!(!r.inline_error(field).is_empty() || r.text().contains(field), "{field}: {}", r.text());
    }
    assert_eq!(shifts_of(&app, station).await.len(), before);
    // An amenity nobody offers, and a point off the Earth.
    let r = app
        .post_json(
            &format!("/api/v1/communities/{HS}/warm-stations"),
            json!({"name": "x", "address": "y", "amenities": ["sauna"], "lat": 91.0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.field_error("amenities").contains("sauna") && !r.field_error("lat").is_empty(), "{}", r.text());
    let r = app.get_public(&format!("/p/{HS}/warm-stations?lat=500&lng=1")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_demo_station_of_zhennan_has_a_week_of_roster_and_visits() {
    let app = TestApp::demo().await;
    let c = app.community_id("441802005002").await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM warm_stations WHERE community_id = $1", c).await, 1);
    assert_eq!(app.scalar("SELECT COUNT(*) FROM duty_shifts WHERE community_id = $1", c).await, 14);
    assert!(app.scalar("SELECT COUNT(*) FROM station_visits WHERE community_id = $1", c).await > 200);
    let page = visible_text(&app.get_public("/p/441802005002/warm-stations").await.text());
    assert!(page.contains("振南社区暖心驿站") && page.contains("微波炉"), "{page}");
}

#[tokio::test]
async fn a_volunteer_serves_from_the_app_and_staff_read_visits_and_coverage_in_the_figures() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let station = app.open_warm_station("海盛驿站", SQUARE, true).await;
    let r = app.add_duty_shifts(station, &[("starts_at", &at(2)), ("ends_at", &at(6)), ("needed", "2")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let shift = shifts_of(&app, station).await[0];

    // The volunteer's app reads the shift still needing people, takes it and is on it.
    app.sign_in("volunteer").await;
    let duty = app.get(&format!("/api/v1/communities/{HS}/duty")).await.json();
    assert_eq!(duty["open"][0]["id"], shift, "{duty}");
    let api = |what: &str| format!("/api/v1/communities/{HS}/duty-shifts/{shift}/{what}");
    let r = app.post_json(&api("take"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["mine"][0]["id"], shift);
    assert_eq!(r.json()["mine"][0]["may_check_in"], false, "not yet");
    assert_eq!(app.post_json(&api("check-in"), json!({})).await.status, StatusCode::CONFLICT, "too early");
    shift_under_way(&app, shift).await;

    // One call a visitor; an unknown kind or state is named.
    let visits = format!("/api/v1/communities/{HS}/warm-stations/{station}/visits");
    for kind in ["rider", "sanitation", "rider"] {
        let r = app.post_json(&visits, json!({"kind": kind})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let r = app.post_json(&visits, json!({"kind": "sauna"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["kind"].is_string(), "{}", r.text());
    let state = format!("/api/v1/communities/{HS}/warm-stations/{station}/state");
    assert_eq!(app.put_json(&state, json!({"state": "full"})).await.status, StatusCode::OK);
    assert_eq!(app.put_json(&state, json!({"state": "busy"})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let duty = app.get(&format!("/api/v1/communities/{HS}/duty")).await.json();
    assert_eq!(duty["mine"][0]["counted_today"], 3, "{duty}");
    let out = app.post_json(&api("check-out"), json!({})).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.text());
    assert!(out.json()["service_record_id"].is_i64(), "the hours became service: {}", out.text());

    // A resident's app may not take shifts or count visitors.
    app.sign_in("resident").await;
    assert_eq!(app.get(&format!("/api/v1/communities/{HS}/duty")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post_json(&visits, json!({"kind": "rider"})).await.status, StatusCode::FORBIDDEN);

    // Staff's figures: visitors by kind, the roster and the hours served, in Excel too.
    app.sign_in("staff").await;
    let page = visible_text(&app.get(&format!("/c/{HS}/warm-stations/stats")).await.text());
    assert!(page.contains("驿站统计") && page.contains("海盛驿站") && page.contains("到访人次 3"), "{page}");
    let sheet = app.get(&format!("/c/{HS}/warm-stations/stats.xlsx")).await;
    assert_eq!(sheet.status, StatusCode::OK);
    let rows = crate::helpers::calamine_rows(&sheet.body);
    let line = rows.iter().find(|r| r.get(1).is_some_and(|s| s == "海盛驿站")).unwrap();
    // rider, sanitation, driver, other, visitors, shifts, places needed, places taken
    assert_eq!(&line[2..10], ["2", "1", "0", "0", "3", "1", "2", "1"], "{rows:?}");
    let served: f64 = line[10].parse().unwrap();
    assert!((1.9..=2.1).contains(&served), "two hours served: {line:?}");
    let coverage = line[12].trim_end_matches('%').parse::<f64>().unwrap();
    assert!(coverage > 0.0 && coverage < 100.0, "some of the open hours covered: {line:?}");

    // The platform admin reads it over the subdistrict; another subdistrict's admin does not.
    let sub = app.scalar("SELECT subdistrict_id FROM communities WHERE id = $1", app.community_id(HS).await).await;
    app.sign_in("admin").await;
    let page = visible_text(&app.get(&format!("/subdistricts/{sub}/warm-stations/stats")).await.text());
    assert!(page.contains("海盛社区") && page.contains("海盛驿站"), "{page}");
    app.sign_in("street").await;
    assert_eq!(app.get(&format!("/subdistricts/{sub}/warm-stations/stats")).await.status, StatusCode::NOT_FOUND);
}
