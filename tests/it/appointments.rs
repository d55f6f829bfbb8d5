//! Appointments at the service centre: staff open after-hours service on weekday evenings;
//! an elderly resident's grid worker books a slot for her; she is reminded the day before
//! and two hours before; staff see her on the day's grid, check her in and mark it done.
//! A caller booked by phone has no account: the reminder is listed for staff to call. A
//! hundred race for three seats: exactly three. Cancelled and moved bookings are kept.

use axum::http::StatusCode;
use linli::auth::model::{Grant, Role};
use linli::capabilities::appointments::store::{self, Whom};
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

fn tomorrow() -> chrono::NaiveDate {
    linli::web::fmt::today().succ_opt().unwrap()
}

/// Tomorrow at `hh:mm`, as a form types it.
fn tomorrow_at(hm: &str) -> String {
    format!("{}T{hm}", tomorrow())
}

impl TestApp {
    /// Staff add an appointment type with evening hours every day; answers its id.
    pub(crate) async fn open_appointments(&self, seats: i64, notice_hours: i64) -> i64 {
        let body = json!({"name": "预约延时服务", "desk": "便民窗口", "kind": "after_hours", "duration_minutes": 30,
            "interval_minutes": 30, "seats": seats, "min_notice_hours": notice_hours, "max_ahead_days": 14,
            "proxy_allowed": true, "documents": "身份证"});
        let r = self.post_json(&format!("/api/v1/communities/{HS}/appointment-types"), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let id = r.json()["id"].as_i64().unwrap();
        let mut f: Vec<(&str, &str)> = ["1", "2", "3", "4", "5", "6", "7"].iter().map(|d| ("weekdays", *d)).collect();
        f.extend([("opens", "17:30"), ("closes", "20:00")]);
        let r = self.post_form(&format!("/c/{HS}/appointments/types/{id}/hours"), &f).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        id
    }

    pub(crate) async fn book_slot(&self, kind: i64, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/appointments/types/{kind}"), fields).await
    }
}

/// Tomorrow is an ordinary day whatever the calendar says of it.
async fn ordinary_tomorrow(app: &mut TestApp) {
    app.sign_in("admin").await;
    let _ = app.delete(&format!("/api/v1/holidays/{}", tomorrow())).await;
}

fn id_in(location: &str) -> i64 {
    location.split("/appointments/").nth(1).unwrap().split(['?', '/']).next().unwrap().parse().unwrap()
}

async fn inbox_lines(app: &TestApp, word: &str) -> Vec<String> {
    app.get("/api/v1/inbox").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["text"].as_str().map(String::from))
        .filter(|t| t.contains(word))
        .collect()
}

#[tokio::test]
async fn a_grid_worker_books_an_evening_slot_for_an_elderly_resident_who_is_reminded_and_served() {
    let mut app = TestApp::demo().await;
    ordinary_tomorrow(&mut app).await;
    app.sign_in("staff").await;
    let kind = app.open_appointments(3, 2).await;

    // The grid worker books 18:00 tomorrow for a resident of the grid.
    app.sign_in("grid").await;
    let resident = app.user_id("resident").await;
    let page = app.get(&format!("/c/{HS}/appointments/types/{kind}?day={}", tomorrow())).await.text();
    assert!(page.contains(&format!("value=\"{resident}\"")), "the resident is one the grid worker may book for");
    let r = app.book_slot(kind, &[("starts_at", &tomorrow_at("18:00")), ("for", &resident.to_string())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let booked = id_in(&r.location());
    let page = visible_text(&app.get(&r.location()).await.text());
    assert!(page.contains("已预约") && page.contains("代约"), "{page}");

    // Staff take a caller's booking by phone: no account to remind.
    app.sign_in("staff").await;
    let r = app
        .book_slot(kind, &[("starts_at", &tomorrow_at("18:30")), ("name", "傅大爷"), ("phone", "13905110001")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let caller_page = visible_text(&app.get(&r.location()).await.text());
    assert!(caller_page.contains("139****0001") && !caller_page.contains("13905110001"), "{caller_page}");

    // The day before, and two hours before.
    let c = app.community_id(HS).await;
    let starts_at: i64 = app.scalar("SELECT starts_at FROM appointments WHERE id = $1", booked).await;
    store::remind(&app.state, starts_at - 20 * 3_600_000).await.unwrap();
    store::remind(&app.state, starts_at - 20 * 3_600_000).await.unwrap();
    store::remind(&app.state, starts_at - 3_600_000).await.unwrap();
    app.sign_in("resident").await;
    let lines = inbox_lines(&app, "预约延时服务").await;
    assert_eq!(lines.len(), 2, "the day before and two hours before, each once: {lines:?}");
    let mine = visible_text(&app.get(&format!("/c/{HS}/appointments")).await.text());
    assert!(mine.contains("预约延时服务"), "she sees it among hers: {mine}");

    // Staff's grid of the day: who is coming, and the reminder they must make by phone.
    app.sign_in("staff").await;
    let day = visible_text(&app.get(&format!("/c/{HS}/appointments/day?day={}", tomorrow())).await.text());
    assert!(day.contains("18:00–18:30") && day.contains("1/3") && day.contains("已预约·代"), "{day}");
    let failed = day.split("提醒未送达").nth(1).unwrap_or("").to_string();
    assert!(failed.contains("傅大爷"), "the caller's reminder is listed: {day}");
    for to in ["checked_in", "done"] {
        let r = app.post_form(&format!("/c/{HS}/appointments/{booked}/status"), &[("status", to)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{to}: {}", r.text());
    }
    let status: String = query("SELECT status FROM appointments WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(booked)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert_eq!(status, "done");
}

#[tokio::test]
async fn cancelled_and_moved_bookings_are_kept_and_a_no_show_is_corrected() {
    let mut app = TestApp::demo().await;
    ordinary_tomorrow(&mut app).await;
    app.sign_in("staff").await;
    let kind = app.open_appointments(1, 2).await;
    app.sign_in("resident").await;
    let r = app.book_slot(kind, &[("starts_at", &tomorrow_at("17:30"))]).await;
    let first = id_in(&r.location());
    // Moved to 19:00: a new booking, the first kept and linked.
    let r = app
        .post_form(&format!("/c/{HS}/appointments/{first}/reschedule"), &[("starts_at", &tomorrow_at("19:00"))])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let second = id_in(&r.location());
    let old = visible_text(&app.get(&format!("/c/{HS}/appointments/{first}")).await.text());
    assert!(old.contains("已改约") && old.contains("改约后的预约"), "{old}");
    // 17:30 is free again: another books it.
    app.sign_in("volunteer").await;
    assert_eq!(app.book_slot(kind, &[("starts_at", &tomorrow_at("17:30"))]).await.status, StatusCode::SEE_OTHER);
    // Cancelling needs a reason, and keeps the line.
    app.sign_in("resident").await;
    let r = app.post_form(&format!("/c/{HS}/appointments/{second}/cancel"), &[("reason", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!r.inline_error("reason").is_empty(), "{}", r.text());
    let r = app.post_form(&format!("/c/{HS}/appointments/{second}/cancel"), &[("reason", "家里有事")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = visible_text(&app.get(&format!("/c/{HS}/appointments/{second}")).await.text());
    assert!(page.contains("已取消") && page.contains("家里有事"), "{page}");

    // A no-show corrected when a colleague served instead.
    app.sign_in("volunteer").await;
    let r = app.book_slot(kind, &[("starts_at", &tomorrow_at("19:30"))]).await;
    let third = id_in(&r.location());
    app.sign_in("staff").await;
    for to in ["no_show", "done"] {
        let r = app.post_form(&format!("/c/{HS}/appointments/{third}/status"), &[("status", to)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{to}: {}", r.text());
    }
    let r = app.post_form(&format!("/c/{HS}/appointments/{third}/status"), &[("status", "no_show")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "done is done");

    // The figures: four booked (the moved one counted once), one cancelled, none missed.
    let page = visible_text(&app.get(&format!("/c/{HS}/appointments/stats")).await.text());
    assert!(page.contains("预约延时服务") && page.contains("延时与周末服务占比 100.0%"), "{page}");
    let sheet = app.get(&format!("/c/{HS}/appointments/stats.xlsx")).await;
    assert_eq!(sheet.status, StatusCode::OK);
    let rows = crate::helpers::calamine_rows(&sheet.body);
    let line = rows.iter().find(|r| r.get(1).is_some_and(|s| s == "预约延时服务")).unwrap();
    assert_eq!(&line[3..8], ["3", "1", "0", "0.0%", "33.3%"], "{rows:?}");
}

#[tokio::test]
async fn bad_slots_are_refused_naming_the_field() {
    let mut app = TestApp::demo().await;
    ordinary_tomorrow(&mut app).await;
    app.sign_in("staff").await;
    let kind = app.open_appointments(1, 2).await;
    let strict = app.open_appointments(1, 48).await;
    app.sign_in("resident").await;
    for (k, at, key) in [
        (kind, tomorrow_at("12:00"), "不是可预约的时段"),
        (kind, tomorrow_at("17:45"), "不是可预约的时段"),
        (strict, tomorrow_at("18:00"), "请至少提前 48 小时预约"),
        (kind, format!("{}T18:00", tomorrow() + chrono::Duration::days(20)), "最多提前 14 天预约"),
    ] {
        let r = app.book_slot(k, &[("starts_at", &at)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{at}");
        assert!(r.inline_error("starts_at").contains(key), "{at}: {}", r.inline_error("starts_at"));
    }
    assert_eq!(app.book_slot(kind, &[("starts_at", &tomorrow_at("18:00"))]).await.status, StatusCode::SEE_OTHER);
    app.sign_in("volunteer").await;
    let r = app.book_slot(kind, &[("starts_at", &tomorrow_at("18:00"))]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "beyond the seats: {}", r.text());
    // Tomorrow a holiday: no evening service.
    app.sign_in("admin").await;
    let r =
        app.put_json(&format!("/api/v1/holidays/{}", tomorrow()), json!({"special": "off", "name": "临时放假"})).await;
    assert_eq!(r.status, StatusCode::OK);
    app.sign_in("volunteer").await;
    let r = app.book_slot(kind, &[("starts_at", &tomorrow_at("19:00"))]).await;
    assert!(r.inline_error("starts_at").contains("节假日"), "{}", r.text());
    // A resident books for no one else; a caller needs a real mobile number.
    app.sign_in("staff").await;
    let r = app
        .book_slot(
            kind,
            &[
                ("starts_at", &format!("{}T18:00", tomorrow() + chrono::Duration::days(2))),
                ("name", "王奶奶"),
                ("phone", "123"),
            ],
        )
        .await;
    assert!(!r.inline_error("phone").is_empty(), "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_residents_race_for_a_slot_with_three_seats_and_exactly_three_win() {
    let mut app = TestApp::demo().await;
    ordinary_tomorrow(&mut app).await;
    app.sign_in("staff").await;
    let kind = app.open_appointments(3, 2).await;
    let c = linli::auth::guard::community_by_id(&mut app.state.db.read().await.unwrap(), app.community_id(HS).await)
        .await
        .unwrap()
        .unwrap();
    let at = linli::web::fmt::parse_local(&tomorrow_at("18:30")).unwrap();
    let bookers = app.invented(100, "booker", "居民", vec![Grant::community(Role::Volunteer, c.id)]).await;
    let tasks: Vec<_> = bookers
        .into_iter()
        .map(|a| {
            let (state, c) = (app.state.clone(), c.clone());
            tokio::spawn(async move { store::book(&state, &a, &c, kind, at, Whom::Myself).await })
        })
        .collect();
    let (mut won, mut full) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(linli::error::AppError::Conflict("appt.slot_full")) => full += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((won, full), (3, 97));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM appointments WHERE type_id = $1", kind).await, 3);
    assert_eq!(app.scalar("SELECT taken FROM appointment_slots WHERE type_id = $1", kind).await, 3);
}

#[tokio::test]
async fn the_demo_centre_of_huilong_has_its_one_plus_one_plus_n_and_a_week_of_bookings() {
    let mut app = TestApp::demo().await;
    let c = app.community_id("321111005001").await;
    assert_eq!(app.scalar("SELECT COUNT(*) FROM appointment_types WHERE community_id = $1", c).await, 4);
    assert!(app.scalar("SELECT COUNT(*) FROM appointments WHERE community_id = $1", c).await > 20);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM appointments a JOIN appointment_slots s ON s.community_id = a.community_id AND s.type_id = a.type_id AND s.starts_at = a.starts_at WHERE a.community_id = $1", c).await,
        app.scalar("SELECT COUNT(*) FROM appointments WHERE community_id = $1", c).await,
        "every booking holds its slot's seat"
    );

    // Its own staff account opens the day grid, where the week's bookings are.
    app.sign_in("staff2").await;
    let grid = app.get("/c/321111005001/appointments/day").await;
    assert_eq!(grid.status, StatusCode::OK);
    assert!(visible_text(&grid.text()).contains("预约延时服务"), "{}", grid.text());
}

#[tokio::test]
async fn an_app_books_from_the_slots_of_a_day_and_cancels_with_a_reason() {
    let mut app = TestApp::demo().await;
    ordinary_tomorrow(&mut app).await;
    app.sign_in("staff").await;
    let kind = app.open_appointments(1, 2).await;

    // The resident's app reads tomorrow's slots, each with its seats left.
    app.sign_in("resident").await;
    let slots = app.get(&format!("/api/v1/communities/{HS}/appointment-types/{kind}/slots?day={}", tomorrow())).await;
    assert_eq!(slots.status, StatusCode::OK, "{}", slots.text());
    let slots = slots.json();
    let six = format!("{}T18:00:00+08:00", tomorrow());
    let slot = slots["slots"].as_array().unwrap().iter().find(|s| s["starts_at"] == six.as_str()).unwrap();
    assert_eq!(slot["seats_left"], 1);
    assert_eq!(slot["ends_at"], format!("{}T18:30:00+08:00", tomorrow()));
    let bad = app.get(&format!("/api/v1/communities/{HS}/appointment-types/{kind}/slots?day=tomorrow")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // It books the last seat; another finds it full; a time off the slots is named.
    let book = format!("/api/v1/communities/{HS}/appointment-types/{kind}/bookings");
    let r = app.post_json(&book, json!({"starts_at": six})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let booked = r.json();
    assert_eq!((booked["status"].as_str(), booked["proxy"].as_bool()), (Some("booked"), Some(false)));
    let id = booked["id"].as_i64().unwrap();
    let r = app.post_json(&book, json!({"starts_at": tomorrow_at("18:10")})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.json()["error"]["fields"]["starts_at"].is_string());
    let r = app.post_json(&book, json!({"starts_at": "soon"})).await;
    assert!(r.json()["error"]["fields"]["starts_at"].is_string(), "{}", r.text());
    app.sign_in("volunteer").await;
    assert_eq!(app.post_json(&book, json!({"starts_at": six})).await.status, StatusCode::CONFLICT);
    // Booking a caller is staff's; another's appointment is not the volunteer's to read.
    let r = app
        .post_json(&book, json!({"starts_at": tomorrow_at("19:00"), "name": "李阿姨", "phone": "13912345678"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(app.get(&format!("/api/v1/communities/{HS}/appointments/{id}")).await.status, StatusCode::NOT_FOUND);

    // The resident lists it, and cancels only with a reason; it is kept, cancelled.
    app.sign_in("resident").await;
    let mine = app.get(&format!("/api/v1/communities/{HS}/appointments")).await.json();
    assert!(mine["items"].as_array().unwrap().iter().any(|a| a["id"] == id), "{mine}");
    let cancel = format!("/api/v1/communities/{HS}/appointments/{id}/cancel");
    let r = app.post_json(&cancel, json!({"reason": " "})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["reason"].is_string());
    let r = app.post_json(&cancel, json!({"reason": "孙子陪我去医院"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "cancelled");
    assert_eq!(r.json()["reason"], "孙子陪我去医院");
    // Staff move the other's appointment on; the resident may not.
    app.sign_in("volunteer").await;
    let r = app.post_json(&book, json!({"starts_at": six})).await;
    assert_eq!(r.status, StatusCode::CREATED, "the seat was freed: {}", r.text());
    let theirs = r.json()["id"].as_i64().unwrap();
    let status = format!("/api/v1/communities/{HS}/appointments/{theirs}/status");
    assert_eq!(app.post_json(&status, json!({"status": "confirmed"})).await.status, StatusCode::FORBIDDEN);
    app.sign_in("staff").await;
    let r = app.post_json(&status, json!({"status": "confirmed"})).await;
    assert_eq!(r.json()["status"], "confirmed", "{}", r.text());
    assert_eq!(app.post_json(&status, json!({"status": "someday"})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}
