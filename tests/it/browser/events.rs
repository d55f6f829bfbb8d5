//! A resident finds the fair from the home grid on a phone, signs up for a session at the
//! station nearest home and gets the code to show; at the station a grid worker checks them
//! in by the code, and a second scan says it was done; the signal goes, a neighbour's code
//! is kept on the phone and sent once it is back.

use fantoccini::Locator;

use super::{HS, browser, network, press, screenshot, serve, sign_in, wait_text, wait_url};
use crate::helpers::TestApp;
use linli::db::citus::Span;
use linli::db::query;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_signs_up_for_the_fair_on_a_phone_and_is_checked_in_at_the_station() {
    let app = TestApp::demo().await;
    let Some(b) = browser(true).await else { return };
    let base = serve(&app).await;
    let c = &b.client;
    sign_in(c, &base, "resident").await;
    press(c, c.find(Locator::Css(&format!("a.tile[href='/c/{HS}/events']"))).await.unwrap()).await;
    wait_url(c, |u| u.ends_with("/events")).await;
    press(c, c.find(Locator::XPath("//a[contains(., '中秋游园会')]")).await.unwrap()).await;
    wait_url(c, |u| u.contains("/events/")).await;
    let width: i64 = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
    assert!(width <= 360, "the event fits the phone: {width}");
    let session = "//section[.//strong[contains(., '南调新村文化室')]]//form[contains(@action, '/sign-up')]//button";
    press(c, c.find(Locator::XPath(session)).await.unwrap()).await;
    wait_url(c, |u| u.contains("ok=event_signed_up")).await;
    assert!(wait_text(c, "报名成功", 5).await);
    let qr = c.find(Locator::Css("svg.qr")).await.unwrap();
    assert!(qr.is_displayed().await.unwrap(), "the code as a QR to show at the door");
    screenshot(c, "phone-event-signed-up.png").await;
    let code = c.find(Locator::XPath("//dt[.='签到码']/following-sibling::dd")).await.unwrap().text().await.unwrap();

    let door = browser(true).await.unwrap();
    let d = &door.client;
    sign_in(d, &base, "grid").await;
    let event = c.current_url().await.unwrap().path().to_string();
    d.goto(&format!("{base}{event}/check-in")).await.unwrap();
    for round in ["签到成功", "签到过"] {
        let input = d.find(Locator::Css("form [name=code]")).await.unwrap();
        input.send_keys(code.trim()).await.unwrap();
        press(d, d.find(Locator::Css("form.form button[type=submit]")).await.unwrap()).await;
        assert!(wait_text(d, round, 5).await, "{round}");
    }
    screenshot(d, "phone-event-door.png").await;

    // The signal goes: a neighbour's code is kept on the phone, not lost and not sent.
    let (neighbour, other): (i64, String) = query(
        "SELECT id, code FROM event_signups WHERE community_id = $1 AND status = 'seated' AND checked_in_at IS NULL
           AND event_id = (SELECT event_id FROM event_signups WHERE code = $2) ORDER BY id LIMIT 1",
    )
    .bind(app.community_id(HS).await)
    .bind(code.trim().to_string())
    .fetch_one(&mut app.state.db.span(Span::Maintenance).await.unwrap())
    .await
    .unwrap();
    let checked_in = || async {
        app.scalar("SELECT COUNT(*) FROM event_signups WHERE id = $1 AND checked_in_at IS NOT NULL", neighbour).await
    };
    network(d, false).await;
    d.find(Locator::Css("form [name=code]")).await.unwrap().send_keys(&other).await.unwrap();
    press(d, d.find(Locator::Css("form.form button[type=submit]")).await.unwrap()).await;
    assert!(wait_text(d, "已在手机上记下 1 条签到", 5).await, "kept while offline");
    screenshot(d, "phone-event-door-offline.png").await;
    assert_eq!(checked_in().await, 0);
    // Back online, the page sends what it kept, once, and shows the door again.
    network(d, true).await;
    assert!(wait_text(d, "已上传离线签到 1 条", 15).await, "sent when back online");
    assert_eq!(checked_in().await, 1);
    let scans = app.scalar("SELECT COUNT(*) FROM event_scans WHERE signup_id = $1", neighbour).await;
    assert_eq!(scans, 1, "one scan, with its key");
}
