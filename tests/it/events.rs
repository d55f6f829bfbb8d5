//! Events: staff publish a festival at the compounds' stations; residents sign up from
//! their phones until a session is full and the waitlist takes over; one gives their seat
//! up and the first waiting is offered it and claims it; at the door a helper checks people
//! in by their code, once. And exactly right when hundreds race for the last seats.

use axum::http::StatusCode;
use linli::auth::model::Actor;
use linli::capabilities::events::store::{self, Key, Whom};
use linli::capabilities::events::{EventStatus, NewEvent, SessionPlan};
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// Staff add a station 分站.
    pub(crate) async fn add_station(&self, name: &str) -> i64 {
        let r = self.post_json(&format!("/api/v1/communities/{HS}/stations"), json!({"name": name})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["id"].as_i64().unwrap()
    }

    /// Staff create an event (a draft).
    pub(crate) async fn create_event(&self, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/events"), fields).await
    }

    /// Staff add a session at each chosen station.
    pub(crate) async fn add_event_sessions(&self, event: i64, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/events/{event}/sessions"), fields).await
    }

    pub(crate) async fn publish_event(&self, event: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/events/{event}/publish"), &[]).await
    }

    pub(crate) async fn cancel_event(&self, event: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/events/{event}/cancel"), &[]).await
    }

    /// The signed-in person signs up for a session from its button.
    pub(crate) async fn sign_up_for_session(&self, session: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/event-sessions/{session}/sign-up"), &[]).await
    }

    /// The holder gives a sign-up up.
    pub(crate) async fn give_up_signup(&self, signup: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/event-signups/{signup}/cancel"), &[]).await
    }

    pub(crate) async fn claim_offered_seat(&self, signup: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/event-signups/{signup}/claim"), &[]).await
    }

    /// At the door: a code typed or scanned.
    pub(crate) async fn check_in_code(&self, event: i64, code: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/events/{event}/check-in"), &[("code", code)]).await
    }
}

pub(crate) fn id_after(location: &str, marker: &str) -> i64 {
    location.split(marker).nth(1).unwrap().split(['?', '/']).next().unwrap().parse().unwrap()
}

/// A time tomorrow at `hour` (China time), as the form types it.
pub(crate) fn tomorrow_at(hour: u32) -> String {
    let day = linli::web::fmt::today().succ_opt().unwrap();
    format!("{day}T{hour:02}:00")
}

pub(crate) async fn sessions_of(app: &TestApp, c: i64, event: i64) -> Vec<i64> {
    query("SELECT id FROM event_sessions WHERE community_id = $1 AND event_id = $2 ORDER BY id")
        .bind(c)
        .bind(event)
        .scalars(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap()
}

pub(crate) async fn signup_of(app: &TestApp, c: i64, session: i64, user: i64) -> (i64, String, String) {
    query("SELECT id, status, code FROM event_signups WHERE community_id = $1 AND session_id = $2 AND user_id = $3")
        .bind(c)
        .bind(session)
        .bind(user)
        .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap()
}

/// Staff prepare 邻聚欢享 at two stations with `seats` each and publish it; answers the
/// event and its sessions.
pub(crate) async fn festival_published(app: &mut TestApp, seats: &str, more: &[(&str, &str)]) -> (i64, Vec<i64>) {
    app.sign_in("staff").await;
    let east = app.add_station("海盛花园广场").await;
    let west = app.add_station("新村文化室").await;
    let mut fields = vec![
        ("title", "邻聚欢享·中秋游园"),
        ("kind", "festival"),
        ("organiser", "海盛社区党委"),
        ("brand", "邻聚欢享"),
        ("audience", "everyone"),
        ("claim_hours", "2"),
    ];
    fields.extend_from_slice(more);
    let r = app.create_event(&fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let event = id_after(&r.location(), "/events/");
    let (east_s, west_s) = (east.to_string(), west.to_string());
    let (starts, ends) = (tomorrow_at(14), tomorrow_at(16));
    let r = app
        .add_event_sessions(
            event,
            &[
                ("station_ids", &east_s),
                ("station_ids", &west_s),
                ("starts_at", &starts),
                ("ends_at", &ends),
                ("capacity", seats),
                ("held_back", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().ends_with("?n=2&ok=sessions_added"), "{}", r.location());
    let r = app.publish_event(event).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let c = app.community_id(HS).await;
    (event, sessions_of(app, c, event).await)
}

#[tokio::test]
async fn staff_publish_a_festival_residents_fill_a_session_and_the_waitlist_takes_the_freed_seat() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let (event, sessions) = festival_published(&mut app, "1", &[]).await;
    assert_eq!(sessions.len(), 2, "one session at each station");
    let east = sessions[0];

    // The resident takes the one seat; the volunteer comes next and waits.
    app.sign_in("resident").await;
    let page = visible_text(&app.get(&format!("/c/{HS}/events/{event}")).await.text());
    assert!(page.contains("报名（余 1 座）"), "{page}");
    let r = app.sign_up_for_session(east).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.location().contains("ok=event_signed_up"));
    let resident = app.user_id("resident").await;
    let (seat, status, code) = signup_of(&app, c, east, resident).await;
    assert_eq!(status, "seated");
    let mine = visible_text(&app.get(&r.location()).await.text());
    assert!(mine.contains("报名成功") && mine.contains(&code), "the code to show at the door: {mine}");
    let twice = app.sign_up_for_session(east).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(visible_text(&twice.text()).contains("您已报名这一场"));

    app.sign_in("volunteer").await;
    let r = app.sign_up_for_session(east).await;
    assert!(r.location().ends_with("?n=1&ok=queued"), "{}", r.location());
    let volunteer = app.user_id("volunteer").await;
    let (waiting, status, _) = signup_of(&app, c, east, volunteer).await;
    assert_eq!(status, "waiting");
    let page = visible_text(&app.get(&r.location()).await.text());
    assert!(page.contains("候补中") && page.contains("第 1 位"), "{page}");
    // A session at the same time elsewhere overlaps the one they wait for.
    let other = app.sign_up_for_session(sessions[1]).await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert!(visible_text(&other.text()).contains("时间重叠"));

    // The resident gives the seat up: it is offered to the volunteer, who claims it.
    app.sign_in("resident").await;
    let r = app.give_up_signup(seat).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    app.sign_in("volunteer").await;
    let (_, status, _) = signup_of(&app, c, east, volunteer).await;
    assert_eq!(status, "offered");
    let inbox = visible_text(&app.get("/inbox").await.text());
    assert!(inbox.contains("有空位了"), "{inbox}");
    let r = app.claim_offered_seat(waiting).await;
    assert!(r.location().contains("ok=seat_claimed"), "{}", r.location());
    let (_, status, code) = signup_of(&app, c, east, volunteer).await;
    assert_eq!(status, "seated");

    // At the door a grid worker checks the volunteer in; a second scan says when it was.
    app.sign_in("grid").await;
    let wrong = app.check_in_code(event, "00000000").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.inline_error("code").contains("签到码不正确"));
    let first = visible_text(&app.check_in_code(event, &code).await.text());
    assert!(first.contains("签到成功"), "{first}");
    let again = visible_text(&app.check_in_code(event, &code).await.text());
    assert!(again.contains("已于") && again.contains("签到过"), "{again}");
    let checked: i64 =
        app.scalar("SELECT COUNT(*) FROM event_signups WHERE event_id = $1 AND checked_in_at IS NOT NULL", event).await;
    assert_eq!(checked, 1);

    // Called off: the volunteer hears of it, and nobody signs up any more.
    app.sign_in("staff").await;
    let r = app.cancel_event(event).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    app.sign_in("volunteer").await;
    assert!(visible_text(&app.get("/inbox").await.text()).contains("已取消"));
    let late = app.sign_up_for_session(sessions[1]).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn bad_sessions_and_events_are_refused_naming_each_field_and_nothing_is_written() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("staff").await;
    let bad = app
        .create_event(&[
            ("title", ""),
            ("kind", "party"),
            ("organiser", "x"),
            ("audience", "everyone"),
            ("claim_hours", "0"),
        ])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["title", "kind", "claim_hours"] {
        assert!(!bad.inline_error(field).is_empty(), "{field} is named");
    }
    let r = app
        .create_event(&[
            ("title", "广场舞比赛"),
            ("kind", "activity"),
            ("organiser", "文体队"),
            ("audience", "everyone"),
            ("claim_hours", "2"),
        ])
        .await;
    let event = id_after(&r.location(), "/events/");
    let before = app.scalar("SELECT COUNT(*) FROM event_sessions WHERE community_id = $1", c).await;
    // Another community's station, a session ending before it starts, in the past, no seats.
    let foreign = station_in(&app, app.community_id("350206004001").await).await;
    let (starts, ends) = (tomorrow_at(16), tomorrow_at(14));
    let r = app
        .add_event_sessions(
            event,
            &[("station_ids", &foreign.to_string()), ("starts_at", &starts), ("ends_at", &ends), ("capacity", "0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.inline_error("station_ids").contains("本社区的分站"), "{}", r.text());
    assert!(r.inline_error("ends_at").contains("晚于开始"));
    assert!(r.inline_error("capacity").contains("1 到 10000"));
    let past = app
        .add_event_sessions(
            event,
            &[("starts_at", "2020-01-01T09:00"), ("ends_at", "2020-01-01T10:00"), ("capacity", "5")],
        )
        .await;
    assert!(past.inline_error("starts_at").contains("已过"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM event_sessions WHERE community_id = $1", c).await, before);
    // Publishing with no session says what is missing; a resident never sees the draft.
    let r = app.publish_event(event).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(visible_text(&r.text()).contains("请先添加至少一场"));
    app.sign_in("resident").await;
    assert_eq!(app.get(&format!("/c/{HS}/events/{event}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.create_event(&[("title", "x")]).await.status, StatusCode::FORBIDDEN);
}

/// A station of the community, written as an import would.
pub(crate) async fn station_in(app: &TestApp, community: i64) -> i64 {
    let mut tx = app.state.db.begin().await.unwrap();
    let id = tx.next_id().await.unwrap();
    query("INSERT INTO stations (community_id, id, name, created_at, updated_at) VALUES ($1, $2, '广场', 0, 0)")
        .bind(community)
        .bind(id)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_race_for_fifty_seats_ten_freed_seats_go_to_the_first_ten_and_one_code_checks_in_once() {
    let app = TestApp::demo().await;
    let c = linli::auth::guard::community_by_id(&mut app.state.db.read().await.unwrap(), app.community_id(HS).await)
        .await
        .unwrap()
        .unwrap();
    let staff = linli::demo::actor_of(&app.state, app.user_id("staff").await).await.unwrap();
    let station = station_in(&app, c.id).await;
    let new = NewEvent {
        kind: "activity".into(),
        title: "广场舞比赛".into(),
        organiser: "文体队".into(),
        audience: "everyone".into(),
        claim_hours: 2,
        ..Default::default()
    };
    let event = store::create(&app.state, &staff, &c, new).await.unwrap();
    let start = linli::db::now_ms() + 86_400_000;
    let plan = SessionPlan { starts_at: start, ends_at: start + 7_200_000, capacity: 50, held_back: 0 };
    let session = store::add_sessions(&app.state, &staff, &c, event.id, &[station], plan, None).await.unwrap()[0];
    store::set_status(&app.state, &staff, &c, event.id, EventStatus::Published).await.unwrap();

    let people = app.invented(300, "racer", "居民", Vec::new()).await;
    let tasks: Vec<_> = people
        .into_iter()
        .map(|p| {
            let (state, c) = (app.state.clone(), c.clone());
            tokio::spawn(async move { store::sign_up(&state, &p, &c, session, Whom::Me).await.unwrap() })
        })
        .collect();
    let mut seated = Vec::new();
    let mut waiting = Vec::new();
    for t in tasks {
        let s = t.await.unwrap();
        match s.status.as_str() {
            "seated" => seated.push(s),
            "waiting" => waiting.push(s),
            other => panic!("{other}"),
        }
    }
    assert_eq!((seated.len(), waiting.len()), (50, 250), "exactly the seats there are");
    let taken: i64 = query("SELECT taken FROM event_sessions WHERE community_id = $1 AND id = $2")
        .bind(c.id)
        .bind(session)
        .scalar(&mut app.state.db.read().await.unwrap())
        .await
        .unwrap();
    assert_eq!(taken, 50);
    // The queue keeps the order of arrival: each came after every one seated.
    let last_seated = seated.iter().map(|s| s.id).max().unwrap();
    assert!(waiting.iter().all(|w| w.id > last_seated));
    waiting.sort_by_key(|w| w.id);

    // Ten seats freed at once: exactly ten offers, to the first ten waiting.
    let leaving: Vec<_> = seated
        .iter()
        .take(10)
        .map(|s| {
            let (state, c) = (app.state.clone(), c.clone());
            let holder = Actor {
                user_id: s.user_id.unwrap(),
                username: String::new(),
                display_name: s.name.clone(),
                grants: Vec::new(),
                subdistrict_communities: Default::default(),
            };
            let id = s.id;
            tokio::spawn(async move { store::leave(&state, &holder, &c, id).await.unwrap() })
        })
        .collect();
    for t in leaving {
        t.await.unwrap();
    }
    let offered: Vec<i64> = query(
        "SELECT id FROM event_signups WHERE community_id = $1 AND session_id = $2 AND status = 'offered' ORDER BY id",
    )
    .bind(c.id)
    .bind(session)
    .scalars(&mut app.state.db.read().await.unwrap())
    .await
    .unwrap();
    let first_ten: Vec<i64> = waiting.iter().take(10).map(|w| w.id).collect();
    assert_eq!(offered, first_ten);

    // The first lets the time to claim pass: the seat goes to the eleventh.
    let mut tx = app.state.db.begin().await.unwrap();
    query("UPDATE event_signups SET offered_until = 1 WHERE community_id = $1 AND id = $2")
        .bind(c.id)
        .bind(first_ten[0])
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store::lapse_offers(&app.state, linli::db::now_ms()).await.unwrap(), 1);
    let status_of = |id: i64| {
        let state = app.state.clone();
        let c = c.id;
        async move {
            query("SELECT status FROM event_signups WHERE community_id = $1 AND id = $2")
                .bind(c)
                .bind(id)
                .scalar::<String>(&mut state.db.read().await.unwrap())
                .await
                .unwrap()
        }
    };
    assert_eq!(status_of(first_ten[0]).await, "cancelled");
    assert_eq!(status_of(waiting[10].id).await, "offered");

    // The same code at two stations at the same moment checks in once.
    let code = seated[20].code.clone();
    let scans: Vec<_> = (0..2)
        .map(|_| {
            let (state, c, staff, code) = (app.state.clone(), c.clone(), staff.clone(), code.clone());
            tokio::spawn(
                async move { store::check_in(&state, &staff, &c, event.id, Key::Code(code), None).await.unwrap() },
            )
        })
        .collect();
    let mut firsts = 0;
    for t in scans {
        if !t.await.unwrap().already {
            firsts += 1;
        }
    }
    assert_eq!(firsts, 1);
}

#[tokio::test]
async fn the_demo_has_the_fair_at_six_stations_a_full_one_with_a_queue_and_the_residents_market_seat() {
    let mut app = TestApp::demo().await;
    app.sign_in("resident").await;
    let list = visible_text(&app.get(&format!("/c/{HS}/events")).await.text());
    assert!(list.contains("邻聚欢享·中秋游园会") && list.contains("便民服务公益集市"), "{list}");
    assert!(list.contains("广场舞比赛") && list.contains("已结束"), "{list}");
    let c = app.community_id(HS).await;
    let fair = app.scalar("SELECT MIN(id) FROM events WHERE community_id = $1 AND kind = 'festival'", c).await;
    let page = visible_text(&app.get(&format!("/c/{HS}/events/{fair}")).await.text());
    assert!(page.contains("场次（6）"), "{page}");
    assert!(page.contains("海景苑架空层") && page.contains("排队候补（已有 2 人）"), "{page}");
    let market = app.scalar("SELECT MIN(id) FROM events WHERE community_id = $1 AND kind = 'market'", c).await;
    let page = app.get(&format!("/c/{HS}/events/{market}")).await.text();
    assert!(
        visible_text(&page).contains("签到码") && page.contains("svg class=\"qr\""),
        "the resident's seat and its QR"
    );

    // The month's calendar shows the fair's sessions on their day, each leading to the fair.
    let month = linli::web::fmt::to_cst(
        app.scalar("SELECT MIN(starts_at) FROM event_sessions WHERE event_id = $1", fair).await,
    )
    .format("%Y-%m")
    .to_string();
    let cal = app.get(&format!("/c/{HS}/events/month?month={month}")).await.text();
    assert_eq!(cal.matches(&format!("href=\"/c/{HS}/events/{fair}\"")).count(), 6, "six stations that day");
    assert!(visible_text(&cal).contains("15:00 邻聚欢享·中秋游园会 · 南调新村文化室"));
    let bad = app.get(&format!("/c/{HS}/events/month?month=2026-13")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Anyone's calendar app reads the community's sessions; a called-off one says so.
    app.sign_in("staff").await;
    assert_eq!(app.cancel_event(market).await.status, StatusCode::SEE_OTHER);
    let feed = app.get_public(&format!("/p/{HS}/events.ics")).await;
    assert_eq!(feed.status, StatusCode::OK);
    let text = feed.text();
    let cal: icalendar::Calendar = text.parse().expect("a standard iCalendar parser reads the feed");
    assert_eq!(cal.components.len(), 7, "six stations of the fair and the market: {text}");
    assert_eq!(text.matches("STATUS:CANCELLED").count(), 1);
    assert!(text.contains("SUMMARY:邻聚欢享·中秋游园会") && text.contains(&format!("/c/{HS}/events/{fair}")));

    // 怡馨家园第一社区's five classes, weekly for twelve weeks, and its six festivals.
    let yixin = app.community_id("110113003001").await;
    let classes = app
        .scalar(
            "SELECT COUNT(*) FROM events WHERE community_id = $1 AND kind = 'class' AND status = 'published'",
            yixin,
        )
        .await;
    let festivals =
        app.scalar("SELECT COUNT(*) FROM events WHERE community_id = $1 AND kind = 'festival'", yixin).await;
    let weekly = app
        .scalar("SELECT COUNT(*) FROM event_sessions WHERE community_id = $1 AND rule = 'FREQ=WEEKLY;COUNT=12'", yixin)
        .await;
    assert_eq!((classes, festivals, weekly), (5, 6, 60));
    // The past contest is closed: who came, who did not, how they rated it, in public.
    let contest = app.scalar("SELECT MIN(id) FROM events WHERE community_id = $1 AND status = 'finished'", c).await;
    let public = visible_text(&app.get_public(&format!("/p/{HS}/events/{contest}")).await.text());
    assert!(public.contains("舞****") && !public.contains("舞蹈队员") && public.contains("24"), "{public}");
}

#[tokio::test]
async fn a_seat_held_back_is_for_the_neighbour_a_grid_worker_signs_up_not_for_the_next_phone() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    let station = app.add_station("南调新村文化室（小）").await.to_string();
    let r = app
        .create_event(&[
            ("title", "高血压讲座"),
            ("kind", "class"),
            ("organiser", "社区卫生站"),
            ("audience", "everyone"),
            ("claim_hours", "2"),
        ])
        .await;
    let event = id_after(&r.location(), "/events/");
    let (starts, ends) = (tomorrow_at(9), tomorrow_at(10));
    let fields = [
        ("station_ids", station.as_str()),
        ("starts_at", &starts),
        ("ends_at", &ends),
        ("capacity", "2"),
        ("held_back", "1"),
    ];
    assert_eq!(app.add_event_sessions(event, &fields).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.publish_event(event).await.status, StatusCode::SEE_OTHER);
    let c = app.community_id(HS).await;
    let session = sessions_of(&app, c, event).await[0];

    app.sign_in("resident").await;
    assert!(app.sign_up_for_session(session).await.location().contains("ok=event_signed_up"));
    app.sign_in("volunteer").await;
    assert!(app.sign_up_for_session(session).await.location().contains("ok=queued"), "the open seat is gone");
    app.sign_in("grid").await;
    let sid = session.to_string();
    let r =
        app.post_form(&format!("/c/{HS}/events/{event}/sign-up"), &[("session_id", &sid), ("name", "陈婆婆")]).await;
    assert!(r.location().contains("ok=event_signed_up"), "{}", r.location());
    let seated: Vec<(String, Option<i64>)> = query(
        "SELECT name, signed_up_by FROM event_signups WHERE community_id = $1 AND session_id = $2 AND status = 'seated' ORDER BY id",
    )
    .bind(c)
    .bind(session)
    .fetch_all(&mut app.state.db.span(Span::Maintenance).await.unwrap())
    .await
    .unwrap();
    assert_eq!(seated.len(), 2);
    assert_eq!(seated[1], ("陈婆婆".to_string(), Some(app.user_id("grid").await)), "recorded as done on her behalf");
    let nameless =
        app.post_form(&format!("/c/{HS}/events/{event}/sign-up"), &[("session_id", &sid), ("name", "")]).await;
    assert_eq!(nameless.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!nameless.inline_error("name").is_empty());
}
