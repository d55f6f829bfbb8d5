//! Signing in and out, sessions, throttling, passwords, and protection of form posts.

use axum::http::{StatusCode, header};
use linli::db::citus::Span;
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn a_resident_signs_in_with_username_or_mobile_and_signs_out() {
    let mut app = TestApp::demo().await;
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/login");

    let wrong = app.post_raw_form("/login", &[("username", "secretary"), ("password", "nope1234")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().contains("用户名或密码不正确"), "{}", wrong.text());

    let ok = app.post_raw_form("/login", &[("username", "secretary"), ("password", "demo1234"), ("next", "/")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let cookie = ok.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP must not set Secure");

    // The secretary's mobile number signs in too.
    app.sign_in_with("13900000003", "demo1234").await;
    let me = app.get("/api/v1/me").await.json();
    assert_eq!(me["username"], "secretary");

    let out = app.post_form("/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "the old cookie no longer works");
}

#[tokio::test]
async fn cookies_are_secure_behind_tls() {
    let app = TestApp::demo().await;
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
        let r = app.post_json("/api/v1/session", json!({"username": "staff", "password": "wrong-pass1"})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["error"]["code"], "invalid");
    }
    let r = app.post_json("/api/v1/session", json!({"username": "staff", "password": "demo1234"})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits: {}", r.text());
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("15"));
    // Other accounts are not locked out.
    let other = app.post_json("/api/v1/session", json!({"username": "secretary", "password": "demo1234"})).await;
    assert_eq!(other.status, StatusCode::CREATED);
    // Nor is the account's owner, signing in from elsewhere.
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
    assert_eq!(second.delete("/api/v1/session").await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_user_changes_their_password_with_clear_errors() {
    let mut app = TestApp::demo().await;
    app.sign_in("volunteer").await;
    let bad = app
        .post_form(
            "/me/password",
            &[("current_password", "wrong"), ("new_password", "short"), ("confirm_password", "other")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = bad.text();
    assert!(
        text.contains("当前密码不正确") && text.contains("密码至少 8 位") && text.contains("两次输入的密码不一致"),
        "{text}"
    );

    let ok = app
        .post_form(
            "/me/password",
            &[("current_password", "demo1234"), ("new_password", "newpass99"), ("confirm_password", "newpass99")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let mut again = app.restart().await;
    again.cookie = None;
    let old = again.post_json("/api/v1/session", json!({"username": "volunteer", "password": "demo1234"})).await;
    assert_eq!(old.status, StatusCode::UNPROCESSABLE_ENTITY);
    again.sign_in_with("volunteer", "newpass99").await;
}

#[tokio::test]
async fn form_posts_need_the_session_token_and_the_same_origin() {
    let mut app = TestApp::demo().await;
    app.sign_in("staff").await;
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
    let ok = app.post_form(c, &[("name", "新片区")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
}
