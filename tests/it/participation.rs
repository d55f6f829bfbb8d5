//! Participation: a partner unit registers and is accepted, takes a need from the public
//! board, a party member sponsors the rest, and the need is fulfilled with evidence;
//! pledges race and never over-fill; a pair logs visits and an overdue one shows up for
//! staff; the figures and the Excel export; and every refusal changes nothing.

use axum::http::StatusCode;
use linli::auth::model::Grant;
use linli::capabilities::participation::store::{self, PairView};
use linli::db::citus::Span;
use linli::db::query;
use serde_json::{Value, json};

use crate::helpers::{Resp, TestApp, visible_text};

impl TestApp {
    /// A unit or a party member registers with the community (双报到), through the page.
    pub async fn submit_registration(&self, code: &str, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{code}/register"), fields).await
    }

    /// Staff accept or decline a registration.
    pub async fn decide_registration(&self, code: &str, registration: i64, decision: &str) -> Resp {
        self.post_form(&format!("/c/{code}/registrations/{registration}/decide"), &[("decision", decision)]).await
    }

    /// Staff set the activity threshold and remind the registrations below it.
    pub async fn remind_inactive_registrations(&self, code: &str, threshold: &str) -> Resp {
        self.post_form(&format!("/c/{code}/registrations"), &[("threshold", threshold)]).await
    }

    /// Someone posts a need (staff publish it, a resident suggests it), with photos, through the page.
    pub async fn post_need(&self, code: &str, fields: &[(&str, &str)], photos: &[(&str, &[u8])]) -> Resp {
        self.post_multipart(&format!("/c/{code}/needs"), fields, photos).await
    }

    /// Staff publish a need through the API.
    pub async fn post_need_api(&self, code: &str, need: Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{code}/needs"), need).await
    }

    /// Staff act on a need: approve a suggestion, close it.
    pub async fn act_on_need(&self, code: &str, need: i64, action: &str) -> Resp {
        self.post_form(&format!("/c/{code}/needs/{need}/act?a={action}"), &[("action", action)]).await
    }

    /// A registrant pledges to a need (claims or sponsors part of it), through the page.
    pub async fn pledge_to_need(&self, code: &str, need: i64, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{code}/needs/{need}/pledges"), fields).await
    }

    /// A registrant pledges an amount of a need (`claim` or `sponsor`) through the API.
    pub async fn pledge_to_need_api(&self, code: &str, need: i64, kind: &str, amount: i64) -> Resp {
        self.post_json(&need_pledges_api(code, need), json!({"kind": kind, "amount": amount})).await
    }

    /// The one who pledged reports the pledge fulfilled, with evidence, through the page.
    pub async fn fulfil_pledge(
        &self,
        code: &str,
        pledge: i64,
        fields: &[(&str, &str)],
        photos: &[(&str, &[u8])],
    ) -> Resp {
        self.post_multipart(&format!("/c/{code}/pledges/{pledge}/fulfil"), fields, photos).await
    }

    /// The one who pledged reports the pledge fulfilled through the API.
    pub async fn fulfil_pledge_api(&self, code: &str, pledge: i64, report: Value) -> Resp {
        self.post_json(&format!("/api/v1/communities/{code}/pledges/{pledge}/fulfilment"), report).await
    }

    /// Staff confirm (or turn back) a fulfilled pledge, through the page.
    pub async fn confirm_pledge(&self, code: &str, pledge: i64, decision: &str) -> Resp {
        self.post_form(&format!("/c/{code}/pledges/{pledge}/confirm"), &[("decision", decision)]).await
    }

    /// Staff confirm (or turn back) a fulfilled pledge through the API.
    pub async fn confirm_pledge_api(&self, code: &str, pledge: i64, accept: bool) -> Resp {
        let path = format!("/api/v1/communities/{code}/pledges/{pledge}/confirmation");
        self.post_json(&path, json!({"accept": accept})).await
    }

    /// Staff pair a volunteer or a member with households to visit.
    pub async fn make_pair(&self, code: &str, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{code}/pairs"), fields).await
    }

    /// The paired person logs a visit to the pair's households.
    pub async fn record_pair_visit(&self, code: &str, pair: i64, fields: &[(&str, &str)]) -> Resp {
        self.post_form(&format!("/c/{code}/pairs/{pair}/visits"), fields).await
    }

    /// The visitor turns what a visit found into a ticket of a category.
    pub async fn visit_to_ticket(&self, code: &str, visit: i64, category: i64) -> Resp {
        let category = category.to_string();
        self.post_form(&format!("/c/{code}/visits/{visit}/ticket"), &[("category_id", &category)]).await
    }
}

const HS: &str = "440804003001";
const JF: &str = "350206004001";

/// The API path of a need's pledges.
fn need_pledges_api(code: &str, need: i64) -> String {
    format!("/api/v1/communities/{code}/needs/{need}/pledges")
}

/// A need's pledged and fulfilled amounts and its status.
async fn need_progress(app: &TestApp, c: i64, need: i64) -> (i64, i64, String) {
    query("SELECT pledged, fulfilled, status FROM needs WHERE community_id = $1 AND id = $2")
        .bind(c)
        .bind(need)
        .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap()
}

/// How many pledges the community has.
async fn pledge_count(app: &TestApp, c: i64) -> i64 {
    app.scalar("SELECT COUNT(*) FROM pledges WHERE community_id = $1", c).await
}

/// How many pairs the community has.
async fn pair_count(app: &TestApp, c: i64) -> i64 {
    app.scalar("SELECT COUNT(*) FROM pairs WHERE community_id = $1", c).await
}

/// The households needing care that no pair covers, as staff see them.
async fn uncovered_households(app: &TestApp, c: i64) -> Vec<(i64, String, String)> {
    store::uncovered(&mut app.state.db.span(Span::Maintenance).await.unwrap(), &app_staff(app).await, c).await.unwrap()
}

/// A pair as staff see it (its visits, how late it is).
async fn pair_view(app: &TestApp, c: i64, pair: i64) -> PairView {
    store::pair_for(&mut app.state.db.span(Span::Maintenance).await.unwrap(), &app_staff(app).await, c, pair)
        .await
        .unwrap()
}

/// A contact account for a partner unit of 海盛 that has not registered yet.
async fn unit_contact(app: &TestApp) -> i64 {
    let c = app.community_id(HS).await;
    let unit: i64 = query("SELECT id FROM partner_units WHERE community_id = $1 AND name = '海盛物业服务中心'")
        .bind(c)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    linli::capabilities::registry::people::users::create(
        &app.state.db,
        &app.state.pii,
        None,
        &linli::services::audit::By::system("test"),
        linli::capabilities::registry::people::users::NewUser {
            username: "wuye".into(),
            display_name: "海盛物业 林经理".into(),
            password: linli::demo::PASSWORD.into(),
            phone: None,
            grants: vec![Grant::partner_unit(c, unit)],
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

fn id_after(location: &str, part: &str) -> i64 {
    location.split(part).nth(1).unwrap().split(['?', '/']).next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_unit_registers_takes_a_need_from_the_board_a_member_sponsors_the_rest_and_it_is_fulfilled() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let contact = unit_contact(&app).await;
    let pledges_before = pledge_count(&app, c).await;

    // 1. The unit's contact registers it, and a mistake is shown on its field.
    app.sign_in("wuye").await;
    let page = visible_text(&app.get(&format!("/c/{HS}/register")).await.text());
    assert!(page.contains("到社区报到") && page.contains("单位"), "{page}");
    let fields = [
        ("kind", "unit"),
        ("name", "海盛物业服务中心"),
        ("party_org", "海盛物业党支部"),
        ("skills", "维修、保洁"),
        ("offers", "小区公共设施维修"),
        ("contact_name", "林经理"),
        ("show_name", "true"),
    ];
    let bad = app.submit_registration(HS, &[fields.as_slice(), &[("contact_phone", "12345")]].concat()).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.inline_error("contact_phone").contains("手机号"), "{}", bad.inline_error("contact_phone"));
    assert_eq!(app.scalar("SELECT COUNT(*) FROM registrations WHERE community_id = $1 AND kind = 'unit' AND name = '海盛物业服务中心'", c).await, 0);
    let ok = app.submit_registration(HS, &[fields.as_slice(), &[("contact_phone", "13912345678")]].concat()).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
    let reg = id_after(&ok.location(), "/registrations/");
    let twice = app.submit_registration(HS, &[fields.as_slice(), &[("contact_phone", "13912345678")]].concat()).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(visible_text(&twice.text()).contains("不能重复报到"));
    let mine = visible_text(&app.get(&format!("/c/{HS}/registrations/{reg}")).await.text());
    assert!(mine.contains("待审核") && mine.contains("139****5678"), "the phone is masked: {mine}");

    // A unit not yet accepted cannot pledge.
    let staff_only = app.get(&format!("/c/{HS}/registrations")).await;
    assert_eq!(staff_only.status, StatusCode::FORBIDDEN, "the list is for staff");

    // 2. Staff see it, accept it; the contact is told.
    app.sign_in("staff").await;
    let list = visible_text(&app.get(&format!("/c/{HS}/registrations")).await.text());
    assert!(list.contains("海盛物业服务中心") && list.contains("待审核"), "{list}");
    let no_reason = app.decide_registration(HS, reg, "decline").await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY, "declining needs a reason");
    let accepted = app.decide_registration(HS, reg, "accept").await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.text());
    let again = app.decide_registration(HS, reg, "accept").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let told: i64 = query("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND text LIKE '%报到已通过%'")
        .bind(contact)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert_eq!(told, 1);

    // Staff publish a need; it is on the public board for anyone.
    let published = app
        .post_need(
            HS,
            &[
                ("title", "社区长者食堂厨具更新"),
                ("description", "长者食堂的灶具老化，需要更换"),
                ("kind", "money"),
                ("quantity", "10000"),
                ("deadline", ""),
            ],
            &[("photos", &linli::services::media::png_for_tests(64, 48))],
        )
        .await;
    assert_eq!(published.status, StatusCode::SEE_OTHER, "{}", published.text());
    let need = id_after(&published.location(), "/needs/");
    let board = visible_text(&app.get_public(&format!("/p/{HS}/needs")).await.text());
    assert!(board.contains("社区长者食堂厨具更新") && board.contains("0 / 10,000 元"), "{board}");

    // 3. The unit claims part of it from the board's link; a member sponsors the rest.
    app.sign_in("wuye").await;
    let need_page = visible_text(&app.get(&format!("/c/{HS}/needs/{need}")).await.text());
    assert!(need_page.contains("我要认领") && need_page.contains("剩余 10000 元"), "{need_page}");
    let claimed =
        app.pledge_to_need(HS, need, &[("kind", "claim"), ("amount", "6000"), ("note", "物业公司出资")]).await;
    assert_eq!(claimed.status, StatusCode::SEE_OTHER, "{}", claimed.text());
    app.sign_in("volunteer").await;
    let too_much = app.pledge_to_need(HS, need, &[("kind", "sponsor"), ("amount", "5000")]).await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_much.inline_error("amount").contains("最多还能认领 4000"), "{}", too_much.inline_error("amount"));
    let rest = app.pledge_to_need(HS, need, &[("kind", "sponsor"), ("amount", "5000"), ("trim", "true")]).await;
    assert_eq!(rest.status, StatusCode::SEE_OTHER, "the last pledge is trimmed to what is left: {}", rest.text());
    let (pledged, _, status) = need_progress(&app, c, need).await;
    assert_eq!((pledged, status.as_str()), (10_000, "pledged"));
    let full = app.pledge_to_need_api(HS, need, "sponsor", 1).await;
    assert_eq!(full.status, StatusCode::CONFLICT, "{}", full.text());
    assert!(full.text().contains("已认满"));

    // Nobody fulfils someone else's pledge.
    let pledges: Vec<(i64, i64)> =
        query("SELECT id, amount FROM pledges WHERE community_id = $1 AND need_id = $2 ORDER BY created_at")
            .bind(c)
            .bind(need)
            .fetch_all(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    assert_eq!(pledges.iter().map(|p| p.1).collect::<Vec<_>>(), vec![6000, 4000]);
    let (units_pledge, members_pledge) = (pledges[0].0, pledges[1].0);
    let theirs = app.fulfil_pledge(HS, units_pledge, &[("note", "已付款")], &[]).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "someone else's pledge is not theirs to fulfil");
    let mine = app.fulfil_pledge(HS, members_pledge, &[("note", "已转账到社区账户"), ("amount", "4000")], &[]).await;
    assert_eq!(mine.status, StatusCode::SEE_OTHER, "{}", mine.text());

    // 4. The unit reports with evidence (a photo); staff confirm both.
    app.sign_in("wuye").await;
    let no_note = app.fulfil_pledge(HS, units_pledge, &[("note", "")], &[]).await;
    assert_eq!(no_note.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = app
        .fulfil_pledge(
            HS,
            units_pledge,
            &[
                ("note", "新灶具已安装，食堂已恢复供餐"),
                ("amount", "6000"),
                ("served_on", &linli::web::fmt::today().to_string()),
            ],
            &[("photos", &linli::services::media::png_for_tests(80, 60))],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    app.sign_in("staff").await;
    for p in [units_pledge, members_pledge] {
        let r = app.confirm_pledge(HS, p, "accept").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }
    let (_, fulfilled, status) = need_progress(&app, c, need).await;
    assert_eq!((fulfilled, status.as_str()), (10_000, "fulfilled"));
    let page = app.get(&format!("/c/{HS}/needs/{need}")).await.text();
    let text = visible_text(&page);
    for shown in ["已完成", "海盛物业服务中心", "新灶具已安装", "发布需求", "确认完成", "报告完成"]
    {
        assert!(text.contains(shown), "the need's page shows its whole history ({shown}): {text}");
    }
    let photo = page
        .split("/media/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(|s| format!("/c/{HS}/media/{s}"))
        .expect("the evidence photo");
    assert_eq!(app.get(&photo).await.status, StatusCode::OK, "staff see the evidence");
    assert_eq!(app.get_public(&photo).await.status, StatusCode::SEE_OTHER, "photos are not public");

    // The unit's own page shows what it pledged and did; the board shows who took it.
    app.sign_in("wuye").await;
    let own = visible_text(&app.get(&format!("/c/{HS}/registrations/{reg}")).await.text());
    assert!(own.contains("社区长者食堂厨具更新") && own.contains("已完成"), "{own}");
    let board = visible_text(&app.get_public(&format!("/p/{HS}/needs")).await.text());
    assert!(board.contains("海盛物业服务中心 · 认领 6,000元"), "{board}");
    let listed = visible_text(&app.get_public(&format!("/p/{HS}/registered")).await.text());
    assert!(listed.contains("海盛物业服务中心") && listed.contains("久和医院"), "{listed}");

    // Closed, it takes no more pledges.
    app.sign_in("staff").await;
    assert_eq!(app.act_on_need(HS, need, "close").await.status, StatusCode::SEE_OTHER);
    app.sign_in("wuye").await;
    let closed = app.pledge_to_need_api(HS, need, "claim", 1).await;
    assert_eq!(closed.status, StatusCode::CONFLICT);
    assert!(closed.text().contains("已关闭"), "{}", closed.text());
    let count_after: i64 = pledge_count(&app, c).await;
    assert_eq!(count_after, pledges_before + 2, "the two pledges made here, and nothing the refusals half-wrote");
}

#[tokio::test]
async fn residents_suggest_needs_that_staff_approve_and_a_volunteer_is_credited_for_a_claimed_service() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    app.sign_in("resident").await;
    let r = app
        .post_need(
            HS,
            &[
                ("title", "小区门口增设减速带"),
                ("description", "车速快，老人过马路危险"),
                ("kind", "item"),
                ("quantity", "2"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let need = id_after(&r.location(), "/needs/");
    assert!(
        !visible_text(&app.get_public(&format!("/p/{HS}/needs")).await.text()).contains("减速带"),
        "a suggestion is not public"
    );
    let past = app
        .post_need(
            HS,
            &[("title", "x"), ("description", "y"), ("kind", "gold"), ("quantity", "0"), ("deadline", "2020-01-01")],
            &[],
        )
        .await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["kind", "quantity", "deadline"] {
        assert!(!past.inline_error(field).is_empty(), "{field} is named");
    }
    app.sign_in("staff").await;
    let approve = app.act_on_need(HS, need, "approve").await;
    assert_eq!(approve.status, StatusCode::SEE_OTHER, "{}", approve.text());
    assert!(visible_text(&app.get_public(&format!("/p/{HS}/needs")).await.text()).contains("减速带"));

    // A volunteer who is a registered member claims a service need and is credited.
    let service = app
        .post_need_api(
            HS,
            json!({"title": "独居老人家电检修", "description": "上门检查电器线路", "kind": "service", "quantity": 3}),
        )
        .await;
    assert_eq!(service.status, StatusCode::CREATED, "{}", service.text());
    let sid = service.json()["id"].as_i64().unwrap();
    app.sign_in("volunteer").await;
    let p = app.pledge_to_need_api(HS, sid, "claim", 3).await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text());
    let pid = p.json()["id"].as_i64().unwrap();
    let yesterday = (linli::web::fmt::today() - chrono::Duration::days(1)).to_string();
    let f =
        app.fulfil_pledge_api(HS, pid, json!({"note": "检修了 3 户", "served_on": yesterday, "minutes": 150})).await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.text());
    app.sign_in("staff").await;
    let ok = app.confirm_pledge_api(HS, pid, true).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let record = ok.json()["service_record_id"].as_i64().expect("a service record for the volunteer");
    let (minutes, source, status): (i64, String, String) =
        query("SELECT minutes, source, status FROM service_records WHERE community_id = $1 AND id = $2")
            .bind(c)
            .bind(record)
            .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    assert_eq!((minutes, source.as_str(), status.as_str()), (150, "pledge", "pending"));
}

#[tokio::test]
async fn forty_members_race_for_ten_places_and_the_need_is_never_over_filled() {
    let app = TestApp::demo().await;
    let c = app.community_id(JF).await;
    let staff = linli::demo::actor_of(&app.state, app.user_id("jf-staff").await).await.unwrap();
    let n = store::add_need(
        &app.state,
        &staff,
        c,
        store::NewNeed {
            title: "周末义务巡逻".into(),
            description: "十个班次".into(),
            kind: "service".into(),
            quantity: Some(10),
            ..Default::default()
        },
        &[],
    )
    .await
    .unwrap();
    let mut members = Vec::new();
    for i in 0..40 {
        members.push(app.user_id(&format!("jf-member{i:03}")).await);
    }
    let mut tx = app.state.db.begin_span(Span::Maintenance).await.unwrap();
    let mut cookies = Vec::new();
    for user in members {
        let (token, _) = linli::auth::session::open(&mut tx, user).await.unwrap();
        cookies.push(format!("{}={token}", linli::auth::session::COOKIE));
    }
    tx.commit().await.unwrap();
    let path = need_pledges_api(JF, n.id);
    let pledges =
        cookies.into_iter().map(|cookie| (cookie, path.clone(), json!({"kind": "claim", "amount": 1}))).collect();
    let mut won = 0;
    for (status, body) in app.all_at_once(pledges).await {
        match status {
            StatusCode::CREATED => won += 1,
            StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY => {
                assert!(body.contains("认满") || body.contains("最多还能认领"), "told why: {body}")
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(won, 10);
    let (pledged, _, status) = need_progress(&app, c, n.id).await;
    let rows: i64 =
        query("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM pledges WHERE community_id = $1 AND need_id = $2")
            .bind(c)
            .bind(n.id)
            .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    assert_eq!((pledged, rows, status.as_str()), (10, 10, "pledged"));
}

#[tokio::test]
async fn a_pair_logs_visits_and_an_overdue_pair_shows_up_for_staff() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let volunteer = app.user_id("volunteer").await;
    app.sign_in("staff").await;
    let page = visible_text(&app.get(&format!("/c/{HS}/pairs")).await.text());
    assert!(page.contains("逾期 3 天"), "the demo's late pair shows: {page}");
    let uncovered = uncovered_households(&app, c).await;
    let household = uncovered[0].0;
    assert!(page.contains(&uncovered[0].1), "households needing care with no pair are listed");
    let started = (linli::web::fmt::today() - chrono::Duration::days(20)).to_string();
    let before = (linli::web::fmt::today() - chrono::Duration::days(30)).to_string();
    let fields = |ends: &str| {
        vec![
            ("kind".to_string(), "volunteer".to_string()),
            ("user_id".into(), volunteer.to_string()),
            ("households".into(), household.to_string()),
            ("starts_on".into(), started.clone()),
            ("ends_on".into(), ends.to_string()),
            ("every_days".into(), "7".into()),
        ]
    };
    let bad = app.make_pair(HS, &refs(&fields(&before))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!bad.inline_error("ends_on").is_empty());
    let made = app.make_pair(HS, &refs(&fields(""))).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text());
    let pair = id_after(&made.location(), "/pairs/");
    let left = uncovered_households(&app, c).await;
    assert!(!left.iter().any(|h| h.0 == household), "the household is covered now");

    // The volunteer logs a visit 15 days ago: a week has passed since, so it is overdue.
    app.sign_in("volunteer").await;
    let future = (linli::web::fmt::today() + chrono::Duration::days(1)).to_string();
    let r = app.record_pair_visit(HS, pair, &[("visited_on", &future), ("done", "看望")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no visits in the future");
    let fifteen = (linli::web::fmt::today() - chrono::Duration::days(15)).to_string();
    let r = app
        .record_pair_visit(
            HS,
            pair,
            &[("visited_on", &fifteen), ("done", "上门看望，量血压"), ("found", "厨房燃气软管老化")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    app.sign_in("staff").await;
    let view = pair_view(&app, c, pair).await;
    assert_eq!(view.overdue_days, Some(8));
    assert!(visible_text(&app.get(&format!("/c/{HS}/pairs")).await.text()).contains("逾期 8 天"));
    // The staff home counts the late pairs as the pairs page judges them.
    let all = store::pairs(&mut app.state.db.span(Span::Maintenance).await.unwrap(), &app_staff(&app).await, c)
        .await
        .unwrap();
    let late = all.iter().filter(|p| p.overdue_days.is_some()).count();
    assert!(late >= 2, "the demo's late pair and this one");
    let home = app.get("/").await.text();
    assert!(
        home.contains(&format!(r#"href="/c/{HS}/pairs"><b>{late}</b><span>走访逾期</span>"#)),
        "{late} late pairs on the home page"
    );

    // What the visit found becomes a ticket, once.
    app.sign_in("volunteer").await;
    let visit = app.scalar("SELECT MAX(id) FROM pair_visits WHERE community_id = $1", c).await;
    let pair_page = visible_text(&app.get(&format!("/c/{HS}/pairs/{pair}")).await.text());
    assert!(pair_page.contains("厨房燃气软管老化") && pair_page.contains("转为工单"), "{pair_page}");
    let category = app.scalar("SELECT id FROM ticket_categories WHERE community_id = $1 AND code = '11'", c).await;
    let t = app.visit_to_ticket(HS, visit, category).await;
    assert_eq!(t.status, StatusCode::SEE_OTHER, "{}", t.text());
    let ticket = id_after(&t.location(), "/tickets/");
    let again = app.visit_to_ticket(HS, visit, category).await;
    assert_eq!(id_after(&again.location(), "/tickets/"), ticket, "the same ticket, not a second");
    let (h, description): (Option<i64>, String) =
        query("SELECT household_id, description FROM tickets WHERE community_id = $1 AND id = $2")
            .bind(c)
            .bind(ticket)
            .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    assert_eq!((h, description.as_str()), (Some(household), "厨房燃气软管老化"));

    // Today's visit brings it back on schedule; someone else cannot log on this pair.
    let r = app.record_pair_visit(HS, pair, &[("done", "更换了燃气软管后回访")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let view = pair_view(&app, c, pair).await;
    assert_eq!((view.overdue_days, view.pair.visits), (None, 2));
    app.sign_in("resident").await;
    assert_eq!(app.record_pair_visit(HS, pair, &[("done", "x")]).await.status, StatusCode::NOT_FOUND);
}

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

/// One column of staff's table of registrations, row by row.
fn registration_cells(html: &str, column: usize) -> Vec<String> {
    let table = html.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap();
    table
        .split("<tr>")
        .skip(1)
        .map(|row| {
            visible_text(row.split("<td").nth(column + 1).unwrap().split_once('>').unwrap().1).trim().to_string()
        })
        .collect()
}

async fn app_staff(app: &TestApp) -> linli::auth::model::Actor {
    linli::demo::actor_of(&app.state, app.user_id("staff").await).await.unwrap()
}

#[tokio::test]
async fn staff_remind_the_inactive_and_the_figures_add_up_per_community_and_subdistrict() {
    let mut app = TestApp::demo().await;
    let jf = app.community_id(JF).await;
    app.act_as(app.user_id("jf-staff").await).await;
    let r = app.remind_inactive_registrations(JF, "abc").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.remind_inactive_registrations(JF, "1").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // In the demo 8 units and 31 members have pledged this year; the others are reminded.
    let active: i64 = query("SELECT COUNT(DISTINCT registration_id) FROM pledges WHERE community_id = $1")
        .bind(jf)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    let reminded: i64 =
        app.scalar("SELECT COUNT(*) FROM registrations WHERE community_id = $1 AND reminded_at IS NOT NULL", jf).await;
    assert_eq!(reminded, 18 + 104 - active);
    let list = visible_text(&app.get(&format!("/c/{JF}/registrations")).await.text());
    assert!(list.contains("活跃度不足"));
    // Sorted by activity, the least active come first: the ones to remind.
    let by_activity = registration_cells(&app.get(&format!("/c/{JF}/registrations?sort=activity")).await.text(), 4);
    assert_eq!(by_activity.len(), 122);
    let counts: Vec<i64> = by_activity.iter().map(|a| a.trim_end_matches(" ⚠").parse().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert!(counts[0] == 0 && counts[121] > 0, "{counts:?}");
    let newest = registration_cells(&app.get(&format!("/c/{JF}/registrations?sort=registered")).await.text(), 5);
    let mut days = newest.clone();
    days.sort_by(|a, b| b.cmp(a));
    assert_eq!(newest, days, "newest first");
    let bad = app.get(&format!("/c/{JF}/registrations?sort=price")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let home = visible_text(&app.get("/").await.text());
    assert!(
        home.contains("嘉福社区 · 双报到与需求清单") && home.contains("待确认的完成情况"),
        "staff's home leads here: {home}"
    );

    let stats = app.get(&format!("/api/v1/communities/{JF}/participation/stats")).await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.text());
    let t = &stats.json()["total"];
    assert_eq!(
        (t["registrations"].as_i64(), t["units"].as_i64(), t["members"].as_i64()),
        (Some(122), Some(18), Some(104))
    );
    assert_eq!(t["active"].as_i64(), Some(active));
    assert_eq!(t["pledges"]["sponsor"]["yuan"].as_i64(), Some(1_200_000 + 500_000), "yuan pledged to money needs");
    let page = visible_text(&app.get(&format!("/c/{JF}/participation/stats")).await.text());
    assert!(page.contains("需求完成率") && page.contains("122"), "{page}");
    let xlsx = app.get(&format!("/c/{JF}/participation.xlsx")).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let table = linli::capabilities::registry::transfer::read_table(&xlsx.body).unwrap();
    assert_eq!(table[0][0], "社区");
    assert_eq!(table[1][1], "122");

    // The subdistrict administrator of 洲心 sees their own communities only.
    app.sign_in("street").await;
    let sub: i64 = query("SELECT id FROM subdistricts WHERE code = '441802005'")
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    let theirs = app.get(&format!("/api/v1/subdistricts/{sub}/participation/stats")).await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.text());
    assert_eq!(theirs.json()["communities"].as_array().unwrap().len(), 22);
    let other: i64 = query("SELECT subdistrict_id FROM communities WHERE code = $1")
        .bind(JF)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/subdistricts/{other}/participation/stats")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&format!("/c/{JF}/participation/stats")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/subdistricts/{sub}/participation/stats")).await.status, StatusCode::OK);
    assert!(app.get("/").await.text().contains(&format!("/subdistricts/{sub}/participation/stats")));
    let book = app.get(&format!("/subdistricts/{sub}/participation.xlsx")).await;
    let table = linli::capabilities::registry::transfer::read_table(&book.body).unwrap();
    assert_eq!(
        (table.len(), table.last().unwrap()[0].as_str()),
        (24, "合计"),
        "a line per community and the total: {table:?}"
    );

    // The public board masks members who did not agree to be named.
    let board = app.get_public(&format!("/api/v1/public/{JF}/needs")).await;
    let hidden: Vec<String> =
        query("SELECT name FROM registrations WHERE community_id = $1 AND kind = 'member' AND show_name = FALSE")
            .bind(jf)
            .scalars(&mut app.state.db.span(Span::Maintenance).await.unwrap())
            .await
            .unwrap();
    let text = board.text();
    assert!(hidden.iter().all(|n| !text.contains(n.as_str())), "no unmasked name of those who did not agree");
    assert!(text.contains("嘉福花园雨污分流改造"));
}

#[tokio::test]
async fn staff_pair_a_household_by_its_address_and_a_wrong_address_is_named() {
    let mut app = TestApp::demo().await;
    let c = app.community_id(HS).await;
    let volunteer = app.user_id("volunteer").await.to_string();
    app.sign_in("staff").await;
    // A household with no care tag, so not among those offered: staff know it by address.
    let (household, address): (i64, String) = query(
        "SELECT h.id, h.address FROM households h WHERE h.community_id = $1 AND h.archived_at IS NULL
         AND (SELECT COUNT(*) FROM households o WHERE o.community_id = h.community_id AND o.address = h.address) = 1
         AND NOT EXISTS (SELECT 1 FROM pair_households p WHERE p.community_id = h.community_id AND p.household_id = h.id)
         ORDER BY h.id DESC LIMIT 1",
    )
    .bind(c)
    .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
    .await
    .unwrap();
    let pair_with = |more: &str| {
        vec![
            ("kind".to_string(), "volunteer".to_string()),
            ("user_id".into(), volunteer.clone()),
            ("household_ids".into(), more.to_string()),
            ("every_days".into(), "14".into()),
        ]
    };
    let pairs_before = pair_count(&app, c).await;
    let wrong = app.make_pair(HS, &refs(&pair_with(&format!("{address}，火星路1号")))).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.inline_error("household_ids"), "没有门牌为“火星路1号”的住户");
    assert_eq!(pair_count(&app, c).await, pairs_before);

    let made = app.make_pair(HS, &refs(&pair_with(&address))).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text());
    let pair = id_after(&made.location(), "/pairs/");
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let households: Vec<i64> =
        query("SELECT household_id FROM pair_households WHERE community_id = $1 AND pair_id = $2")
            .bind(c)
            .bind(pair)
            .scalars(&mut conn)
            .await
            .unwrap();
    assert_eq!(households, [household]);
}
