//! A newcomer finds the way in from the sign-in page on a phone, registers as a resident
//! and is signed in at once; staff bind them to their household at a desktop.

use fantoccini::Locator;

use super::{HS, browser, press, screenshot, serve, sign_in, wait_text, wait_url};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_registers_on_a_phone_and_staff_bind_the_household_at_a_desk() {
    let app = TestApp::demo().await;
    let Some(b) = browser(true).await else { return };
    let base = serve(&app).await;
    let c = &b.client;
    c.goto(&format!("{base}/login")).await.unwrap();
    press(c, c.find(Locator::Css("a[href='/join']")).await.unwrap()).await;
    wait_url(c, |u| u.ends_with("/join")).await;
    let search = c.find(Locator::Css("input[name=q]")).await.unwrap();
    search.send_keys("海盛").await.unwrap();
    press(c, c.find(Locator::Css("form button[type=submit]")).await.unwrap()).await;
    wait_url(c, |u| u.contains("q=")).await;
    press(c, c.find(Locator::Css(&format!("a[href='/c/{HS}/join']"))).await.unwrap()).await;
    wait_url(c, |u| u.ends_with(&format!("/c/{HS}/join"))).await;
    press(c, c.find(Locator::Css(&format!("a[href='/c/{HS}/residents/join']"))).await.unwrap()).await;
    wait_url(c, |u| u.ends_with("/residents/join")).await;
    let width: i64 = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
    assert!(width <= 360, "the form fits the phone: {width}");
    for (name, value) in
        [("name", "李桂英"), ("phone", "13912345678"), ("address", "海盛花园 1栋"), ("password", "Guiying2026")]
    {
        c.find(Locator::Css(&format!("form [name={name}]"))).await.unwrap().send_keys(value).await.unwrap();
    }
    screenshot(c, "phone-resident-register.png").await;
    press(c, c.find(Locator::Css("form button[type=submit]")).await.unwrap()).await;
    wait_url(c, |u| u.contains("ok=applied")).await;
    assert!(wait_text(c, "审核中", 5).await, "the home page says where it stands");

    let desk = browser(false).await.unwrap();
    let d = &desk.client;
    sign_in(d, &base, "staff").await;
    press(d, d.find(Locator::Css(&format!("a.tile[href='/c/{HS}/resident-requests']"))).await.unwrap()).await;
    wait_url(d, |u| u.ends_with("/resident-requests")).await;
    assert!(wait_text(d, "李桂英", 5).await);
    screenshot(d, "desktop-resident-requests.png").await;
    let picker = d.find(Locator::Css("select[name=household_id]")).await.unwrap();
    let first = picker.find(Locator::Css("option:nth-child(2)")).await.unwrap();
    first.click().await.unwrap();
    press(d, d.find(Locator::Css("form[action$='/approve'] button[type=submit]")).await.unwrap()).await;
    wait_url(d, |u| u.contains("ok=bound")).await;

    // Back on the phone, the newcomer is now the household's resident.
    c.goto(&format!("{base}/")).await.unwrap();
    assert!(wait_text(c, "我要反映", 5).await, "a resident's home");
}
