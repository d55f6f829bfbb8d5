//! Booking on a phone: 回龙社区's first-grid worker books an after-hours slot for an elderly
//! resident of the grid, confirming in the sheet; the centre's staff find her on the day's
//! grid on a desktop, check her in and mark it done.

use fantoccini::Locator;

use super::{browser, press, screenshot, serve, sign_in, wait_text, wait_url};
use crate::helpers::TestApp;

const HL: &str = "321111005001";

/// The first day of the coming week on which the type has a free seat.
async fn a_day_with_seats(app: &mut TestApp, kind: i64) -> chrono::NaiveDate {
    app.sign_in("grid2").await;
    let today = linli::web::fmt::today();
    for i in 1..8 {
        let day = today + chrono::Duration::days(i);
        let slots = app.get(&format!("/api/v1/communities/{HL}/appointment-types/{kind}/slots?day={day}")).await;
        if slots.json()["slots"].as_array().unwrap().iter().any(|s| s["seats_left"].as_i64() > Some(0)) {
            return day;
        }
    }
    panic!("no free seat in the week ahead");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_worker_books_for_a_resident_on_a_phone_and_staff_mark_it_done_on_the_day_grid() {
    let mut app = TestApp::demo().await;
    let hl = app.community_id(HL).await;
    let kind =
        app.scalar("SELECT MIN(id) FROM appointment_types WHERE community_id = $1 AND kind = 'after_hours'", hl).await;
    let day = a_day_with_seats(&mut app, kind).await;
    let Some(b) = browser(true).await else { return };
    let base = serve(&app).await;
    let c = &b.client;
    sign_in(c, &base, "grid2").await;
    c.goto(&format!("{base}/c/{HL}/appointments/types/{kind}?day={day}")).await.unwrap();
    let width: i64 = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
    assert!(width <= 360, "the booking page fits the phone: {width}");
    // The first free slot, for the first resident of the grid the list offers.
    let whom = c
        .execute(
            "const slot = document.querySelector('select[name=starts_at]');
             slot.value = [...slot.options].find(o => o.value).value;
             const who = document.querySelector('select[name=for]');
             const her = [...who.options].find(o => o.value);
             who.value = her.value;
             return her.textContent.split(' · ')[0].trim();",
            vec![],
        )
        .await
        .unwrap();
    let whom = whom.as_str().unwrap().to_string();
    screenshot(c, "phone-appointment-book.png").await;
    press(
        c,
        c.find(Locator::XPath("//form[contains(@action,'/appointments/types/')]//button[@type='submit']"))
            .await
            .unwrap(),
    )
    .await;
    c.wait().for_element(Locator::Css("#confirm-sheet[open]")).await.unwrap();
    c.find(Locator::Css("#confirm-sheet button[value=ok]")).await.unwrap().click().await.unwrap();
    wait_url(c, |u| u.contains("ok=saved")).await;
    assert!(wait_text(c, "已预约", 5).await && wait_text(c, &whom, 1).await, "booked for her");
    let url = c.current_url().await.unwrap();
    let id: i64 = url.path().rsplit('/').next().unwrap().parse().unwrap();

    // The centre's staff, on a desktop: she is on the day's grid, marked as booked for her.
    let desk = browser(false).await.unwrap();
    let d = &desk.client;
    sign_in(d, &base, "staff2").await;
    d.goto(&format!("{base}/c/{HL}/appointments/day?day={day}")).await.unwrap();
    assert!(wait_text(d, &whom, 5).await, "she is on the day's grid");
    screenshot(d, "desktop-appointments-day.png").await;
    d.goto(&format!("{base}/c/{HL}/appointments/{id}")).await.unwrap();
    for (to, shown) in [("checked_in", "已到场"), ("done", "已办结")] {
        let button = format!("//form[contains(@action,'/status')][.//input[@value='{to}']]//button");
        press(d, d.find(Locator::XPath(&button)).await.unwrap()).await;
        wait_url(d, |u| u.contains("ok=saved")).await;
        assert!(wait_text(d, shown, 5).await, "{to}");
        d.goto(&format!("{base}/c/{HL}/appointments/{id}")).await.unwrap();
    }
    let done = app.scalar("SELECT COUNT(*) FROM appointments WHERE id = $1 AND status = 'done'", id).await;
    assert_eq!(done, 1);
}
