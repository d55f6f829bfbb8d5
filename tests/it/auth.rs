//! Signing in and out, sessions, throttling, passwords, and protection of form posts.

use axum::http::{StatusCode, header};
use linli::db::citus::Span;
use serde_json::json;

use crate::helpers::{Resp, TestApp, visible_text};

const HS: &str = "440804003001";

impl TestApp {
    /// Someone signs in on the sign-in page (which has no form token), going on to `next` if given.
    async fn sign_in_form(&self, username: &str, password: &str, next: Option<&str>) -> Resp {
        let mut fields = vec![("username", username), ("password", password)];
        fields.extend(next.map(|next| ("next", next)));
        self.post_raw_form("/login", &fields).await
    }

    /// Someone signs in through the API.
    async fn sign_in_api(&self, username: &str, password: &str) -> Resp {
        self.post_json("/api/v1/session", json!({"username": username, "password": password})).await
    }

    /// The signed-in user signs out with the page's button.
    async fn sign_out_form(&self) -> Resp {
        self.post_form("/logout", &[]).await
    }

    /// The signed-in user signs out through the API.
    async fn sign_out_api(&self) -> Resp {
        self.delete("/api/v1/session").await
    }

    /// Staff reset the password of someone who forgot it, from the users page.
    async fn reset_password_of(&self, user_id: i64) -> Resp {
        self.post_form(&format!("/c/{HS}/users/{user_id}/password"), &[]).await
    }

    /// The signed-in user changes their password on their page.
    async fn change_password(&self, current: &str, new: &str, confirm: &str) -> Resp {
        let fields = [("current_password", current), ("new_password", new), ("confirm_password", confirm)];
        self.post_form("/me/password", &fields).await
    }
}

#[tokio::test]
async fn a_resident_signs_in_with_username_or_mobile_and_signs_out() {
    let mut app = TestApp::demo().await;
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login");

    let wrong = app.sign_in_form("secretary", "nope1234", None).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().contains("用户名或密码不正确"), "{}", wrong.text());

    let ok = app.sign_in_form("secretary", "demo1234", Some("/")).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let cookie = ok.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP must not set Secure");

    // The secretary's mobile number signs in too.
    app.sign_in_with("13900000003", "demo1234").await;
    let me = app.get("/api/v1/me").await.json();
    assert_eq!(me["username"], "secretary");

    let out = app.sign_out_form().await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "the old cookie no longer works");
}

#[tokio::test]
async fn cookies_are_secure_behind_tls() {
    let app = TestApp::demo().await;
    // Raw: the proxy's header is the point.
    let req = axum::http::Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-proto", "https")
        .body(axum::body::Body::from(json!({"username": "staff", "password": "demo1234"}).to_string()))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().contains("; Secure"));
}

#[tokio::test]
async fn failed_sign_ins_are_throttled() {
    let app = TestApp::demo().await;
    for _ in 0..5 {
        let r = app.sign_in_api("staff", "wrong-pass1").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["error"]["code"], "invalid");
    }
    let r = app.sign_in_api("staff", "demo1234").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits: {}", r.text());
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("15"));
    // Other accounts are not locked out.
    let other = app.sign_in_api("secretary", "demo1234").await;
    assert_eq!(other.status, StatusCode::CREATED);
    // Nor is the account's owner, signing in from elsewhere (raw: the forwarded address is the point).
    let from = |address: &str, password: &str| {
        axum::http::Request::post("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", address)
            .body(axum::body::Body::from(json!({"username": "staff", "password": password}).to_string()))
            .unwrap()
    };
    assert_eq!(app.send(from("203.0.113.7", "demo1234")).await.status, StatusCode::CREATED);
    // One address trying many accounts is stopped too.
    for i in 0..30 {
        let r = app
            .send(
                axum::http::Request::post("/api/v1/session")
                    .header(header::CONTENT_TYPE, "application/json")
                    .header("x-forwarded-for", "198.51.100.9")
                    .body(axum::body::Body::from(
                        json!({"username": format!("guess{i}"), "password": "wrong-pass1"}).to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(app.send(from("198.51.100.9", "demo1234")).await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn sessions_survive_a_restart_and_are_shared_by_several_servers() {
    let mut app = TestApp::demo().await;
    app.sign_in("grid").await;
    let second = app.restart().await;
    let me = second.get("/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["username"], "grid");
    // Signing out on one server ends the session on the other.
    assert_eq!(second.sign_out_api().await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_user_changes_their_password_with_clear_errors() {
    let mut app = TestApp::demo().await;
    app.sign_in("volunteer").await;
    let bad = app.change_password("wrong", "short", "other").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = bad.text();
    assert!(
        text.contains("当前密码不正确") && text.contains("密码至少 8 位") && text.contains("两次输入的密码不一致"),
        "{text}"
    );

    let ok = app.change_password("demo1234", "newpass99", "newpass99").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let mut again = app.restart().await;
    again.cookie = None;
    let old = again.sign_in_api("volunteer", "demo1234").await;
    assert_eq!(old.status, StatusCode::UNPROCESSABLE_ENTITY);
    again.sign_in_with("volunteer", "newpass99").await;
}

#[tokio::test]
async fn form_posts_need_the_session_token_and_the_same_origin() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
    // Raw: a missing token and a foreign origin are the point.
    let c = "/c/440804003001/zones";
    let without_token = app.post_raw_form(c, &[("name", "新片区")]).await;
    assert_eq!(without_token.status, StatusCode::FORBIDDEN);

    let token = app.csrf.clone();
    let req = axum::http::Request::post(c)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::HOST, "linli.example")
        .body(axum::body::Body::from(format!("_csrf={token}&name=x")))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);

    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let zones: i64 = linli::db::query("SELECT COUNT(*) FROM zones WHERE name = 'x' OR name = '新片区'")
        .scalar(&mut conn)
        .await
        .unwrap();
    assert_eq!(zones, 0, "nothing was written");
    drop(conn);
    let ok = app.create_zone_form("新片区").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
}

#[tokio::test]
async fn the_sign_in_page_leads_newcomers_in_and_those_who_forgot_to_the_office() {
    let app = TestApp::demo().await;
    let login = app.get_public("/login").await.text();
    assert!(login.contains("href=\"/join\"") && login.contains("href=\"/password/forgot\""), "{login}");
    let forgot = visible_text(&app.get_public("/password/forgot").await.text());
    assert!(forgot.contains("身份证") && forgot.contains("临时密码"), "{forgot}");
    // 海盛 found by name, each community leading to its own ways in.
    let found = app.get_public("/join?q=%E6%B5%B7%E7%9B%9B").await.text();
    assert!(found.contains(&format!("href=\"/c/{HS}/join\"")), "{found}");
    assert!(!found.contains("/c/441802005001/join"), "only what matches");
    let ways = app.get_public(&format!("/c/{HS}/join")).await.text();
    assert!(ways.contains(&format!("href=\"/c/{HS}/residents/join\"")), "{ways}");
    assert!(ways.contains(&format!("href=\"/c/{HS}/volunteers/join\"")), "{ways}");
    let none = visible_text(&app.get_public("/join?q=%E6%97%A0%E6%AD%A4%E7%A4%BE%E5%8C%BA").await.text());
    assert!(none.contains("没有找到这个社区"), "{none}");
}

#[tokio::test]
async fn the_secretary_gives_a_resident_who_forgot_the_password_a_temporary_one() {
    let mut app = TestApp::demo().await;
    let resident = app.user_id("resident").await;
    let street = app.user_id("street").await;
    app.sign_in("secretary").await;
    let r = app.reset_password_of(resident).await;
    assert_eq!(r.status, StatusCode::OK);
    let page = visible_text(&r.text());
    let temporary: String = page.split("临时密码：").nth(1).expect("shown once").chars().take(8).collect();
    assert!(temporary.chars().all(|c| c.is_ascii_alphanumeric()), "{temporary}");
    // The old password stops working; the temporary one signs in.
    let old = app.sign_in_form("resident", linli::demo::PASSWORD, None).await;
    assert_ne!(old.status, StatusCode::SEE_OTHER);
    app.sign_in_with("resident", &temporary).await;
    // Not an administrator's password, and not by staff who do not manage users.
    app.sign_in("secretary").await;
    assert_eq!(app.reset_password_of(street).await.status, StatusCode::NOT_FOUND);
    app.sign_in("staff").await;
    assert_eq!(app.reset_password_of(resident).await.status, StatusCode::NOT_FOUND);
    app.sign_in_with("resident", &temporary).await;
}

#[tokio::test]
async fn an_elderly_reader_switches_to_large_text_and_every_page_keeps_it() {
    let mut app = TestApp::demo().await;
    app.sign_in("resident").await;
    let me = app.get("/me").await.text();
    assert!(me.contains("href=\"/text/large?next=%2Fme\""), "the switch is on the reader's own page");
    let r = app.get("/text/large?next=%2Fme").await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/me".to_string()));
    let set = r.headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    app.cookie = Some(format!("{}; {set}", app.cookie.clone().unwrap()));
    for page in ["/me", "/", "/inbox"] {
        assert!(app.get(page).await.text().contains("<html lang=\"zh-CN\" class=\"large\">"), "{page}");
    }
    assert!(app.get("/me").await.text().contains("标准字号"), "and back again from there");
    assert_eq!(app.get("/text/huge").await.status, StatusCode::NOT_FOUND);
    let away = app.get("/text/normal?next=%2F%2Fevil.example").await;
    assert_eq!(away.location(), "/", "only back to this site");
}
