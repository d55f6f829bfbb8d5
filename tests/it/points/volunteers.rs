//! Volunteers themselves: signing up (publicly, by staff, from one's page), joining
//! teams, and service certificates anyone can check.

use axum::http::{StatusCode, header};
use linli::db::citus::Span;
use linli::db::query;
use linli::web::fmt;
use serde_json::json;

use super::{HS, volunteer_of};
use crate::helpers::{TestApp, visible_text};

#[tokio::test]
async fn people_sign_up_as_volunteers_and_join_teams() {
    let mut app = TestApp::demo().await;
    app.cookie = None;
    assert_eq!(app.get(&format!("/c/{HS}/volunteers/join")).await.status, StatusCode::OK);
    let bad = app.join_as_volunteer(&[("name", "刘热心"), ("phone", "12345"), ("password", "short")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = visible_text(&bad.text());
    assert!(text.contains("手机号码格式不正确"), "{text}");
    let joined = app
        .join_as_volunteer(&[
            ("name", "刘热心"),
            ("phone", "13712345678"),
            ("password", "Volunteer2026"),
            ("skills", "理发、家电维修"),
            ("show_name", "true"),
        ])
        .await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.text());
    // Signed up is signed in: the new volunteer lands on their own page.
    assert_eq!(joined.location(), format!("/c/{HS}/volunteer?ok=signed_up"));
    app.keep_session_of(&joined).await;
    let page = visible_text(&app.get(&joined.location()).await.text());
    assert!(page.contains("欢迎加入"), "{page}");
    app.sign_in_with("13712345678", "Volunteer2026").await;
    let me = app.get(&format!("/api/v1/communities/{HS}/volunteers/me")).await.json();
    assert!(me["number"].as_str().unwrap().starts_with(&format!("{HS}-")));
    assert_eq!(me["skills"], json!(["理发", "家电维修"]));
    let again = app.register_volunteer_api(json!({"name": "刘热心"})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "registered once");
    app.cookie = None;
    let taken =
        app.join_as_volunteer(&[("name", "冒名"), ("phone", "13712345678"), ("password", "Another2026x")]).await;
    assert!(visible_text(&taken.text()).contains("这个手机号已注册"));

    // Join a team and leave it again.
    app.sign_in_with("13712345678", "Volunteer2026").await;
    let c = app.community_id(HS).await;
    let team = app.scalar("SELECT id FROM teams WHERE community_id = $1 AND name = '青年志愿者队伍'", c).await;
    assert_eq!(app.join_volunteer_team(team).await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/api/v1/communities/{HS}/volunteers/me")).await.json()["teams"][0]["team"],
        "青年志愿者队伍"
    );
    app.leave_volunteer_team(team).await;
    assert!(
        app.get(&format!("/api/v1/communities/{HS}/volunteers/me")).await.json()["teams"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let leader = app.lead_volunteer_team(team).await;
    assert_eq!(leader.status, StatusCode::FORBIDDEN, "only staff name leaders");

    // Staff sign an elderly neighbour up and hand over the initial password.
    app.sign_in("staff").await;
    let r = app.register_volunteer_by_staff("陈大爷", "13698765432", "11010519491231002X").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    let password = html.split("<dt>初始密码</dt><dd>").nth(1).unwrap().split('<').next().unwrap().to_string();
    app.sign_in_with("13698765432", &password).await;
    let me = app.get(&format!("/api/v1/communities/{HS}/volunteers/me")).await.json();
    assert_eq!(me["id_number"], "110***********002X", "kept masked");
    // A resident registers themselves from their page.
    app.sign_in("resident").await;
    let reg = app.register_volunteer_form("居民志愿者", "false").await;
    assert_eq!(reg.status, StatusCode::SEE_OTHER, "{}", reg.text());
    assert!(app.get("/api/v1/me").await.text().contains("volunteer"));
}

#[tokio::test]
async fn a_certificate_is_a_pdf_whose_code_anyone_can_check() {
    let mut app = TestApp::demo().await;
    app.sign_in("volunteer").await;
    let v = app.user_id("volunteer").await;
    let vol = volunteer_of(&app, v).await;
    let year = chrono::Datelike::year(&fmt::today());
    let from = format!("{}-01-01", year - 1);
    let to = fmt::today().to_string();
    let made = app.request_service_certificate_form(vol, &from, &to).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text());
    let pdf = app.get(&made.location()).await;
    assert_eq!(pdf.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    let empty = app.request_service_certificate_form(vol, "2001-01-01", "2001-12-31").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible_text(&empty.text()).contains("这段时间没有已通过的服务记录"));
    let api = app.request_service_certificate_api(vol, &from, &to).await.json();
    let code = api["code"].as_str().unwrap().to_string();
    assert!(api["verify_url"].as_str().unwrap().ends_with(&format!("/p/{HS}/certificates/{code}")));
    let c = app.community_id(HS).await;
    let minutes: i64 = query("SELECT CAST(SUM(minutes) AS BIGINT) FROM service_records WHERE community_id = $1 AND user_id = $2 AND status = 'approved'")
        .bind(c)
        .bind(v)
        .scalar(&mut app.state.db.span(Span::Maintenance).await.unwrap())
        .await
        .unwrap();
    assert_eq!(api["minutes"], minutes);

    // Anyone checks it, signed in or not; a wrong code is not valid.
    app.cookie = None;
    let check = app.get(&format!("/p/{HS}/certificates/{}", code.to_lowercase())).await;
    assert_eq!(check.status, StatusCode::OK);
    let text = visible_text(&check.text());
    assert!(
        text.contains("该证明真实有效") && text.contains(&linli::time::hours(minutes)) && text.contains("郑*"),
        "{text}"
    );
    let forged = app.get(&format!("/p/{HS}/certificates/ABCDEFGHJKLM")).await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    assert!(visible_text(&forged.text()).contains("查无此证明"));
    // Someone else cannot download it.
    app.sign_in("resident").await;
    assert_eq!(app.get(&made.location()).await.status, StatusCode::NOT_FOUND);
}
