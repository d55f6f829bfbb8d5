//! Events on the day and after: a volunteer signs up to serve; at the door a grid worker
//! checks people in through the API as a phone that was offline sends its queue (twice,
//! counted once), writes in a walk-in, checks the volunteer out; staff close the session
//! (no-shows marked, the volunteer's hours a service record, approved into points), correct
//! one attendance, write the report; a participant rates it; the public page masks names;
//! the figures and the 活动台账 match the sign-ups. Classes as weekly series, one session
//! moved and one called off; sign-up that needs approval; calendar feeds, private ones
//! revoked.

use axum::http::StatusCode;
use linli::db::citus::Span;
use linli::db::query;
use serde_json::json;

use crate::events::{festival_published, id_after, sessions_of, signup_of, tomorrow_at};
use crate::helpers::{Resp, TestApp, calamine_rows, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// A volunteer signs up to serve at a session.
    async fn serve_at(&self, event: i64, session: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/events/{event}/serve"), &[("session_id", &session.to_string())]).await
    }

    /// The door's phone sends one scan to the check-in API, with its own key.
    async fn scan_through_api(&self, event: i64, code: &str, key: &str) -> Resp {
        let body = json!({"code": code, "scan_key": key});
        self.post_json(&format!("/api/v1/communities/{HS}/events/{event}/check-ins"), body).await
    }

    async fn walk_in(&self, event: i64, session: i64, name: &str) -> Resp {
        let fields = [("session_id", session.to_string()), ("name", name.to_string())];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post_form(&format!("/c/{HS}/events/{event}/walk-in"), &fields).await
    }

    async fn check_out(&self, event: i64, signup: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/events/{event}/check-out"), &[("picked", &signup.to_string())]).await
    }

    async fn close_session(&self, session: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/event-sessions/{session}/close"), &[]).await
    }

    async fn mark_attendance(&self, event: i64, signup: i64, present: bool) -> Resp {
        let what = if present { "present" } else { "absent" };
        self.post_form(&format!("/c/{HS}/events/{event}/attendance/{what}"), &[("picked", &signup.to_string())]).await
    }

    async fn rate_signup(&self, signup: i64, stars: &str, comment: &str) -> Resp {
        self.post_form(&format!("/c/{HS}/event-signups/{signup}/rating"), &[("rating", stars), ("comment", comment)])
            .await
    }

    /// Staff write the report, with a photo of the day.
    async fn write_report(&self, event: i64, text: &str) -> Resp {
        let photo = linli::services::media::png_for_tests(64, 48);
        self.post_multipart(&format!("/c/{HS}/events/{event}/report"), &[("report", text)], &[("photos", &photo)]).await
    }

    async fn change_session(&self, session: i64, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{HS}/event-sessions/{session}/change"), fields).await
    }

    async fn cancel_one_session(&self, session: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/event-sessions/{session}/cancel"), &[]).await
    }
}

/// Time passes: the session was held this morning (its times moved back, as the clock
/// would have).
async fn held_this_morning(app: &TestApp, c: i64, session: i64) {
    let now = linli::db::now_ms();
    let mut conn = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("UPDATE event_sessions SET starts_at = $1, ends_at = $2 WHERE community_id = $3 AND id = $4")
        .bind(now - 4 * 3_600_000)
        .bind(now - 2 * 3_600_000)
        .bind(c)
        .bind(session)
        .execute(&mut conn)
        .await
        .unwrap();
    // Check-ins happened during it.
    query("UPDATE event_signups SET checked_in_at = $1 WHERE community_id = $2 AND session_id = $3 AND checked_in_at IS NOT NULL")
        .bind(now - 4 * 3_600_000 + 600_000)
        .bind(c)
        .bind(session)
        .execute(&mut conn)
        .await
        .unwrap();
    query("UPDATE event_signups SET checked_out_at = $1 WHERE community_id = $2 AND session_id = $3 AND checked_out_at IS NOT NULL")
        .bind(now - 2 * 3_600_000 - 1_800_000)
        .bind(c)
        .bind(session)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.commit().await.unwrap();
}

async fn points_of(app: &TestApp, c: i64, user: i64) -> i64 {
    linli::capabilities::points::ledger::balance(&mut app.state.db.span(Span::Maintenance).await.unwrap(), c, user)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_door_works_offline_volunteers_hours_become_points_and_the_figures_match() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    // The community pays 5 points for coming to an event, by a bonus rule the fair names.
    app.sign_in("staff").await;
    let rule = json!({"name": "参加社区活动", "kind": "bonus", "points": 5});
    let r = app.post_json(&format!("/api/v1/communities/{HS}/points/rules"), rule).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let rule = r.json()["code"].as_str().unwrap().to_string();
    let form = visible_text(&app.get(&format!("/c/{HS}/events")).await.text());
    assert!(form.contains("参加社区活动（+5）"), "the rule to pick: {form}");
    let (event, sessions) = festival_published(&mut app, "5", &[("attendance_rule", &rule)]).await;
    let east = sessions[0];

    // Two residents take seats; the volunteer signs up to serve (taking no seat).
    app.sign_in("resident").await;
    assert_eq!(app.sign_up_for_session(east).await.status, StatusCode::SEE_OTHER);
    let resident = app.user_id("resident").await;
    let (resident_signup, _, resident_code) = signup_of(&app, c, east, resident).await;
    app.sign_in("secretary").await;
    assert_eq!(app.sign_up_for_session(east).await.status, StatusCode::SEE_OTHER);
    let party = app.user_id("secretary").await;
    let (party_signup, ..) = signup_of(&app, c, east, party).await;
    app.sign_in("volunteer").await;
    let r = app.serve_at(event, east).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let volunteer = app.user_id("volunteer").await;
    let (serving, status, volunteer_code) = signup_of(&app, c, east, volunteer).await;
    assert_eq!(status, "seated");
    let taken = app.scalar("SELECT taken FROM event_sessions WHERE id = $1", east).await;
    assert_eq!(taken, 2, "a volunteer serving takes none of the participants' seats");
    app.sign_in("resident").await;
    assert_eq!(app.serve_at(event, sessions[1]).await.status, StatusCode::CONFLICT, "only volunteers serve");

    // At the door the phone was offline: it sends its queue, then sends it again.
    app.sign_in("grid").await;
    for _ in 0..2 {
        let r = app.scan_through_api(event, &resident_code, "scan-1").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["already"], json!(false), "the same scan answers as the first time");
        let r = app.scan_through_api(event, &volunteer_code, "scan-2").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let again = app.scan_through_api(event, &resident_code, "scan-3").await;
    assert_eq!(again.json()["already"], json!(true), "a new scan of the same code: already in");
    let scans = app.scalar("SELECT COUNT(*) FROM event_scans WHERE community_id = $1", c).await;
    assert_eq!(scans, 3);
    let wrong = app.scan_through_api(event, "99999999", "scan-4").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.json()["error"]["fields"]["code"].is_string(), "{}", wrong.text());
    // A walk-in is written in and checked in; the volunteer checks out.
    let r = app.walk_in(event, east, "路过的李伯").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.walk_in(event, east, "").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.check_out(event, serving).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let door = visible_text(&app.get(&format!("/c/{HS}/events/{event}/check-in")).await.text());
    assert!(door.contains("路过的李伯") && door.contains("海盛花园广场"), "{door}");

    // The session was held; staff cannot close one not yet over, then close it.
    app.sign_in("staff").await;
    let early = app.close_session(east).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(visible_text(&early.text()).contains("还没结束"));
    let resident_before = points_of(&app, c, resident).await;
    held_this_morning(&app, c, east).await;
    let r = app.close_session(east).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(points_of(&app, c, resident).await - resident_before, 5, "the participant who came, once");
    assert_eq!(app.close_session(east).await.status, StatusCode::CONFLICT, "closed once");
    let no_show: i64 = app.scalar("SELECT COUNT(*) FROM event_signups WHERE session_id = $1 AND no_show", east).await;
    assert_eq!(no_show, 1, "the party member never came");
    let record: i64 = app
        .scalar(
            "SELECT id FROM service_records WHERE source = 'event' AND source_id = $1 AND status = 'pending'",
            serving,
        )
        .await;
    let minutes = app.scalar("SELECT minutes FROM service_records WHERE id = $1", record).await;
    assert_eq!(minutes, 80, "from check-in to check-out");
    // The record leads back to the session's event; approved, it becomes points.
    let page = app.get(&format!("/c/{HS}/service-records/{record}")).await.text();
    assert!(page.contains(&format!("href=\"/c/{HS}/event-signups/{serving}\"")), "{page}");
    let back = app.get(&format!("/c/{HS}/event-signups/{serving}")).await;
    assert_eq!(back.location(), format!("/c/{HS}/events/{event}/manage"));
    let before = points_of(&app, c, volunteer).await;
    let r = app.post_form(&format!("/c/{HS}/service-records/{record}/decide"), &[("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(points_of(&app, c, volunteer).await > before, "points follow the rules in force");

    // The party member did come after all: corrected.
    let r = app.mark_attendance(event, party_signup, true).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let manage = app.get(&format!("/c/{HS}/events/{event}/manage")).await.text();
    assert!(manage.contains("enctype=\"multipart/form-data\"") && manage.contains("name=\"photos\""), "{manage}");
    let r = app.write_report(event, "六个分站同时开展，居民反响热烈。").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let photo: i64 = app.scalar("SELECT id FROM media WHERE owner_kind = 'event' AND owner_id = $1", event).await;

    // The resident rates it (1–5); 6 stars is refused by name.
    app.sign_in("resident").await;
    assert!(app.rate_signup(resident_signup, "6", "").await.inline_error("rating").contains("1 到 5"));
    let r = app.rate_signup(resident_signup, "4", "很热闹").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // The report and its photo on the event's page, the photo for those who see the event.
    let page = app.get(&format!("/c/{HS}/events/{event}")).await.text();
    assert!(page.contains(&format!("/c/{HS}/media/{photo}")) && visible_text(&page).contains("居民反响热烈"), "{page}");
    assert_eq!(app.get(&format!("/c/{HS}/media/{photo}")).await.status, StatusCode::OK);

    // The public page: who came, masked; the report; the rating.
    let public = visible_text(&app.get_public(&format!("/p/{HS}/events/{event}")).await.text());
    assert!(public.contains("居民反响热烈"), "{public}");
    assert!(!public.contains("路过的李伯") && public.contains("路****"), "names are masked: {public}");
    assert!(public.contains("4.0"), "{public}");
    let list = visible_text(&app.get_public(&format!("/p/{HS}/events")).await.text());
    assert!(list.contains("邻聚欢享·中秋游园"), "{list}");

    // The figures match: 3 came (resident, party member corrected, walk-in), no no-show left.
    app.sign_in("staff").await;
    let r = app.get(&format!("/api/v1/communities/{HS}/events/{event}/figures")).await;
    let f = r.json();
    assert_eq!(
        (f["signed_up"].as_i64(), f["attended"].as_i64(), f["no_shows"].as_i64()),
        (Some(3), Some(3), Some(0)),
        "{f}"
    );
    assert_eq!(f["volunteer_minutes"], json!(80));
    let stats = visible_text(&app.get(&format!("/c/{HS}/events/stats")).await.text());
    assert!(stats.contains("邻聚欢享") && stats.contains("海盛花园广场"), "{stats}");
    let xlsx = app.get(&format!("/c/{HS}/events/ledger.xlsx")).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let book = calamine_rows(&xlsx.body);
    let row = book.iter().find(|r| r.iter().any(|c| c == "海盛花园广场")).expect("the session's row");
    assert_eq!(&row[5..8], ["3", "3", "0"], "{row:?}");

    // The subdistrict's figures, community by community, for its administrator only.
    let zhouxin = app.community_id("441802005001").await;
    let sub = app.scalar("SELECT subdistrict_id FROM communities WHERE id = $1", zhouxin).await;
    assert_ne!(app.get(&format!("/subdistricts/{sub}/events/stats")).await.status, StatusCode::OK);
    app.sign_in("street").await;
    let page = visible_text(&app.get(&format!("/subdistricts/{sub}/events/stats")).await.text());
    assert!(page.contains("活动统计") && page.contains("按社区"), "{page}");
    let xlsx = app.get(&format!("/subdistricts/{sub}/events/ledger.xlsx")).await;
    assert_eq!(calamine_rows(&xlsx.body)[0][0], "社区");
}

#[tokio::test]
async fn a_weekly_class_is_a_series_one_session_moves_one_is_called_off_and_bad_changes_are_named() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("staff").await;
    let station = app.add_station("文化活动室").await.to_string();
    let r = app
        .create_event(&[
            ("title", "书画班"),
            ("kind", "class"),
            ("organiser", "社区"),
            ("audience", "everyone"),
            ("claim_hours", "2"),
        ])
        .await;
    let event = id_after(&r.location(), "/events/");
    let (starts, ends) = (tomorrow_at(19), tomorrow_at(21));
    let base = [("station_ids", station.as_str()), ("starts_at", &starts), ("ends_at", &ends), ("capacity", "2")];
    let bad = app.add_event_sessions(event, &[&base[..], &[("repeat", "weekly"), ("times", "500")]].concat()).await;
    assert!(bad.inline_error("times").contains("2 到 104"), "{}", bad.text());
    let r = app.add_event_sessions(event, &[&base[..], &[("repeat", "weekly"), ("times", "4")]].concat()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let sessions = sessions_of(&app, c, event).await;
    assert_eq!(sessions.len(), 4, "four weekly sessions");
    let week = app.scalar("SELECT starts_at FROM event_sessions WHERE id = $1", sessions[1]).await
        - app.scalar("SELECT starts_at FROM event_sessions WHERE id = $1", sessions[0]).await;
    assert_eq!(week, 7 * 86_400_000);
    assert_eq!(app.publish_event(event).await.status, StatusCode::SEE_OTHER);
    // The API takes any RRULE and refuses a bad one by name.
    let body = json!({"station_ids": [station.parse::<i64>().unwrap()], "starts_at": starts, "ends_at": ends, "capacity": 5, "rule": "FREQ=WEEKLY"});
    let r = app.post_json(&format!("/api/v1/communities/{HS}/events/{event}/sessions"), body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["rule"].is_string(), "{}", r.text());

    app.sign_in("resident").await;
    assert_eq!(app.sign_up_for_session(sessions[1]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.sign_up_for_session(sessions[2]).await.status, StatusCode::SEE_OTHER);
    app.sign_in("secretary").await;
    assert_eq!(app.sign_up_for_session(sessions[1]).await.status, StatusCode::SEE_OTHER);

    // Seats below those taken are refused naming capacity; a later hour is fine and told.
    app.sign_in("staff").await;
    let (later_start, later_end) = (tomorrow_at(20), tomorrow_at(22));
    let shrink = app
        .change_session(
            sessions[1],
            &[("starts_at", &starts), ("ends_at", &ends), ("capacity", "1"), ("held_back", "0")],
        )
        .await;
    assert!(shrink.inline_error("capacity").contains("2"), "{}", shrink.text());
    let moved_start: i64 = app.scalar("SELECT starts_at FROM event_sessions WHERE id = $1", sessions[1]).await;
    let later = linli::web::fmt::parse_local(&later_start).unwrap() + 7 * 86_400_000;
    let later_s = linli::web::fmt::local_input(later);
    let later_e = linli::web::fmt::local_input(linli::web::fmt::parse_local(&later_end).unwrap() + 7 * 86_400_000);
    let r = app
        .change_session(
            sessions[1],
            &[("starts_at", &later_s), ("ends_at", &later_e), ("capacity", "3"), ("held_back", "0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(app.scalar("SELECT moved_from FROM event_sessions WHERE id = $1", sessions[1]).await, moved_start);
    let r = app.cancel_one_session(sessions[2]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // At the door, the code of a called-off session says so.
    let resident = app.user_id("resident").await;
    let (_, status, code) = signup_of(&app, c, sessions[2], resident).await;
    assert_eq!(status, "cancelled");
    app.sign_in("grid").await;
    let r = app.scan_through_api(event, &code, "k-off").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("取消"), "{}", r.text());
    app.sign_in("resident").await;
    let inbox = visible_text(&app.get("/inbox").await.text());
    assert!(inbox.contains("改到") && inbox.contains("这一场取消了"), "{inbox}");
    let live =
        app.scalar("SELECT COUNT(*) FROM event_sessions WHERE event_id = $1 AND status = 'scheduled'", event).await;
    assert_eq!(live, 3, "the rest of the series stands");

    // The resident's private feed has their sessions, the called-off one as cancelled.
    let page = app.post_form(&format!("/c/{HS}/events/mine/feed"), &[]).await;
    let text = page.text();
    let token = text.split("/events/feed/").nth(1).unwrap().split(".ics").next().unwrap().to_string();
    let feed = app.get_public(&format!("/p/{HS}/events/feed/{token}.ics")).await;
    assert_eq!(feed.status, StatusCode::OK);
    let cal: icalendar::Calendar = feed.text().parse().expect("a standard parser reads it");
    assert_eq!(feed.text().matches("SUMMARY:书画班").count(), 2, "{}", feed.text());
    assert!(cal.components.len() >= 2);
    assert!(feed.text().contains("STATUS:CANCELLED") && feed.text().contains(&format!("/c/{HS}/events/{event}")));
    let mine = visible_text(&app.get(&format!("/c/{HS}/events/mine")).await.text());
    assert!(mine.contains("书画班"), "{mine}");
    // Stopped, it is refused naming the token; the station's and the brand's feeds are open.
    let r = app.post_form(&format!("/c/{HS}/events/mine/feed/stop"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let gone = app.get_public(&format!("/p/{HS}/events/feed/{token}.ics")).await;
    assert_eq!(gone.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(gone.text().contains("token"), "{}", gone.text());
    let by_station = app.get_public(&format!("/p/{HS}/events.ics?station={station}")).await.text();
    assert_eq!(by_station.matches("BEGIN:VEVENT").count(), 4);
    let by_brand = app.get_public(&format!("/p/{HS}/events.ics?brand=邻聚欢享")).await.text();
    assert!(!by_brand.contains("书画班"));
}

#[tokio::test]
async fn sign_up_needing_approval_waits_for_the_organiser_and_a_team_event_is_for_its_members() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("staff").await;
    let station = app.add_station("党群服务中心").await.to_string();
    let r = app
        .create_event(&[
            ("title", "西点课"),
            ("kind", "class"),
            ("organiser", "社区"),
            ("audience", "everyone"),
            ("claim_hours", "2"),
            ("needs_approval", "on"),
        ])
        .await;
    let event = id_after(&r.location(), "/events/");
    let (starts, ends) = (tomorrow_at(9), tomorrow_at(11));
    let fields = [("station_ids", station.as_str()), ("starts_at", &starts), ("ends_at", &ends), ("capacity", "10")];
    assert_eq!(app.add_event_sessions(event, &fields).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.publish_event(event).await.status, StatusCode::SEE_OTHER);
    let session = sessions_of(&app, c, event).await[0];

    app.sign_in("resident").await;
    assert_eq!(app.sign_up_for_session(session).await.status, StatusCode::SEE_OTHER);
    let resident = app.user_id("resident").await;
    let (signup, status, _) = signup_of(&app, c, session, resident).await;
    assert_eq!(status, "pending");
    assert_eq!(app.scalar("SELECT taken FROM event_sessions WHERE id = $1", session).await, 0);
    assert!(visible_text(&app.get(&format!("/c/{HS}/events/{event}")).await.text()).contains("待审核"));

    app.sign_in("staff").await;
    let manage = visible_text(&app.get(&format!("/c/{HS}/events/{event}/manage")).await.text());
    assert!(manage.contains("待审核报名"), "{manage}");
    let r = app.post_form(&format!("/c/{HS}/events/{event}/decide/approve"), &[("picked", &signup.to_string())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(signup_of(&app, c, session, resident).await.1, "seated");
    assert_eq!(app.scalar("SELECT taken FROM event_sessions WHERE id = $1", session).await, 1);
    app.sign_in("resident").await;
    assert!(visible_text(&app.get("/inbox").await.text()).contains("报名已通过"));

    // A team's event: those outside the team are refused with the reason.
    app.sign_in("staff").await;
    let team: i64 = app.scalar("SELECT MIN(id) FROM teams WHERE community_id = $1", c).await;
    let r = app
        .create_event(&[
            ("title", "队员例会"),
            ("kind", "meeting"),
            ("organiser", "队长"),
            ("audience", "team"),
            ("team_id", &team.to_string()),
            ("claim_hours", "2"),
        ])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let meeting = id_after(&r.location(), "/events/");
    assert_eq!(app.add_event_sessions(meeting, &fields).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.publish_event(meeting).await.status, StatusCode::SEE_OTHER);
    let no_team = app
        .create_event(&[
            ("title", "x"),
            ("kind", "meeting"),
            ("organiser", "x"),
            ("audience", "team"),
            ("claim_hours", "2"),
        ])
        .await;
    assert!(!no_team.inline_error("team_id").is_empty());
    // The resident is not of the team and is refused; the secretary, made a member, is not.
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    query("DELETE FROM team_members WHERE community_id = $1 AND team_id = $2 AND user_id = $3")
        .bind(c)
        .bind(team)
        .bind(resident)
        .execute(&mut tx)
        .await
        .unwrap();
    let secretary = app.user_id("secretary").await;
    query("INSERT INTO team_members (community_id, team_id, user_id, joined_at) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING")
        .bind(c)
        .bind(team)
        .bind(secretary)
        .execute(&mut tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let s = sessions_of(&app, c, meeting).await[0];
    app.sign_in("resident").await;
    let r = app.sign_up_for_session(s).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(visible_text(&r.text()).contains("只限队伍成员"));
    app.sign_in("secretary").await;
    assert_eq!(app.sign_up_for_session(s).await.status, StatusCode::SEE_OTHER);

    // An event for those invited: staff invite by mobile number; the invited may sign up.
    app.sign_in("staff").await;
    let r = app
        .create_event(&[
            ("title", "楼长座谈会"),
            ("kind", "meeting"),
            ("organiser", "社区"),
            ("audience", "invited"),
            ("claim_hours", "2"),
        ])
        .await;
    let talk = id_after(&r.location(), "/events/");
    let later = [
        ("station_ids", station.as_str()),
        ("starts_at", &tomorrow_at(15)),
        ("ends_at", &tomorrow_at(16)),
        ("capacity", "10"),
    ];
    assert_eq!(app.add_event_sessions(talk, &later).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.publish_event(talk).await.status, StatusCode::SEE_OTHER);
    let bad = app.post_form(&format!("/c/{HS}/events/{talk}/invite"), &[("phones", "13900000006\n王阿姨")]).await;
    assert!(bad.inline_error("phones").contains("王阿姨"), "{}", bad.text());
    let unknown = app.post_form(&format!("/c/{HS}/events/{talk}/invite"), &[("phones", "13911112222")]).await;
    assert!(unknown.inline_error("phones").contains("还没有注册"), "{}", unknown.text());
    assert_eq!(app.scalar("SELECT COUNT(*) FROM event_invites WHERE event_id = $1", talk).await, 0, "all or nothing");
    let r = app.post_form(&format!("/c/{HS}/events/{talk}/invite"), &[("phones", "139 0000 0006")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let t = sessions_of(&app, c, talk).await[0];
    app.sign_in("resident").await;
    let r = app.sign_up_for_session(t).await;
    assert!(visible_text(&r.text()).contains("只限受邀者"));
    app.sign_in("volunteer").await;
    assert!(visible_text(&app.get("/inbox").await.text()).contains("您受邀参加「楼长座谈会」"));
    assert_eq!(app.sign_up_for_session(t).await.status, StatusCode::SEE_OTHER);
}
