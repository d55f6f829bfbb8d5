//! The pages people use most, in headless Chromium: a grid worker on a 360 px phone and
//! staff on a desktop. Needs Debian's `chromium` and `chromium-driver` (`.ci/run`
//! installs them); without them these tests say so and pass only when
//! `LINLI_REQUIRE_BROWSER` is unset.

use linli::db::citus::Span;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::TestApp;

mod accessibility;
mod appointments;
mod basemap;
mod emergency;
mod events;
mod joining;

const HS: &str = "440804003001";

struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    /// Chromium outlives a killed chromedriver; the whole process group goes, or every
    /// test leaves a browser running.
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.driver.id())]).status();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts chromedriver and a headless Chromium; `None` when they are not installed.
async fn browser(phone: bool) -> Option<Browser> {
    browser_with(phone, Vec::new()).await
}

/// A phone whose camera films `video` (a Y4M file), its use allowed without asking.
async fn phone_filming(video: &std::path::Path) -> Option<Browser> {
    let camera = vec![
        "--use-fake-ui-for-media-stream".to_string(),
        "--use-fake-device-for-media-stream".into(),
        format!("--use-file-for-fake-video-capture={}", video.display()),
    ];
    browser_with(true, camera).await
}

/// A browser with these Chromium arguments besides the usual ones.
async fn browser_with(phone: bool, extra: Vec<String>) -> Option<Browser> {
    let driver_path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(driver_path) = driver_path else {
        assert!(
            std::env::var("LINLI_REQUIRE_BROWSER").is_err(),
            "LINLI_REQUIRE_BROWSER is set but chromedriver is missing"
        );
        eprintln!("skipping browser test: chromium-driver is not installed");
        return None;
    };
    let port = free_port();
    let driver = Command::new(driver_path)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let profile = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    if !phone {
        args.push("--window-size=1366,900".into());
    }
    args.extend(extra);
    let mut options = json!({ "args": args, "binary": "/usr/bin/chromium" });
    if phone {
        options["mobileEmulation"] = json!({ "deviceMetrics": { "width": 360, "height": 740, "pixelRatio": 2.0 }, "userAgent": "Mozilla/5.0 (Linux; Android 13) Mobile" });
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    let mut last = None;
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return Some(Browser { client, driver, _profile: profile }),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start: {last:?}");
}

/// Cuts the browser's network, as a phone losing its signal, or gives it back (ChromeDriver's
/// network conditions; the page sees `navigator.onLine` change).
async fn network(c: &Client, online: bool) {
    #[derive(Debug)]
    struct Conditions(bool);
    impl fantoccini::wd::WebDriverCompatibleCommand for Conditions {
        fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
            base.join(&format!("session/{}/chromium/network_conditions", session.unwrap_or_default()))
        }
        fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
            let conditions = json!({"network_conditions": {"offline": !self.0, "latency": 0,
                "download_throughput": 1_000_000, "upload_throughput": 1_000_000}});
            (axum::http::Method::POST, Some(conditions.to_string()))
        }
    }
    c.issue_cmd(Conditions(online)).await.expect("ChromeDriver sets network conditions");
}

/// Serves the app on a real port; answers its base URL.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    format!("http://{addr}")
}

async fn sign_in(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Id("username")).await.unwrap().send_keys(user).await.unwrap();
    c.find(Locator::Id("password")).await.unwrap().send_keys("demo1234").await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css(".tab-bar, .side-nav")).await.unwrap();
}

async fn wait_url(c: &Client, ok: impl Fn(&str) -> bool) {
    for _ in 0..100 {
        if ok(c.current_url().await.unwrap().as_str()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page did not change: {}", c.current_url().await.unwrap());
}

async fn visible(c: &Client, css: &str) -> bool {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// Saves a screenshot when `LINLI_SCREENSHOTS` names a directory (for the README).
async fn screenshot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("LINLI_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join(name), png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_worker_on_a_phone_finds_a_resident_and_reveals_a_number() {
    let app = TestApp::demo().await;
    let Some(b) = browser(true).await else { return };
    let base = serve(&app).await;
    let c = &b.client;
    sign_in(c, &base, "grid").await;
    screenshot(c, "phone-home.png").await;
    assert!(visible(c, ".tab-bar").await, "phones get the bottom tab bar");
    assert!(!visible(c, ".side-nav").await);
    let width: i64 = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
    assert!(width <= 360, "nothing wider than the phone: {width}");

    // The tab bar leads to the registry; the grid worker searches by surname.
    c.find(Locator::XPath("//nav[@class='tab-bar']//a[contains(., '居民')]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("form.search")).await.unwrap();
    let first = c.find(Locator::Css("a.row-title")).await.unwrap().text().await.unwrap();
    let surname: String = first.chars().take(1).collect();
    let q = c.find(Locator::Css("input[name=q]")).await.unwrap();
    q.send_keys(&surname).await.unwrap();
    q.send_keys("\u{E007}").await.unwrap();
    wait_url(c, |u| u.contains("q=")).await;
    let titles = c.find_all(Locator::Css("a.row-title")).await.unwrap();
    assert!(!titles.is_empty());
    for t in &titles {
        assert!(t.text().await.unwrap().starts_with(&surname));
    }
    let width: i64 = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
    assert!(width <= 360, "the list fits the phone: {width}");
    screenshot(c, "phone-residents.png").await;

    // A resident with a phone: reveal it (htmx swaps the masked value for the full one).
    let c_id = app.community_id(HS).await;
    let grid0 = app.scalar("SELECT MIN(id) FROM grids WHERE community_id = $1", c_id).await;
    let mut conn = app.state.db.span(Span::Maintenance).await.unwrap();
    let rid: i64 = linli::db::query(
        "SELECT MIN(id) FROM residents WHERE community_id = $1 AND grid_id = $2 AND phone_hash IS NOT NULL",
    )
    .bind(c_id)
    .bind(grid0)
    .scalar(&mut conn)
    .await
    .unwrap();
    drop(conn);
    c.goto(&format!("{base}/c/{HS}/residents/{rid}")).await.unwrap();
    let masked =
        c.find(Locator::XPath("//dt[.='联系电话']/following-sibling::dd/span")).await.unwrap().text().await.unwrap();
    assert!(masked.contains("****"));
    c.find(Locator::XPath("//dt[.='联系电话']/following-sibling::dd//button")).await.unwrap().click().await.unwrap();
    let revealed = c
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css(".revealed"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(linli::services::pii::normalize_phone(&revealed).is_ok(), "{revealed}");
    assert_eq!(&revealed[..3], &masked[..3]);
    assert_eq!(&revealed[7..], &masked[7..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_on_a_desktop_fix_a_form_from_its_inline_errors() {
    let app = TestApp::demo().await;
    let Some(b) = browser(false).await else { return };
    let base = serve(&app).await;
    let c = &b.client;
    sign_in(c, &base, "staff").await;
    assert!(visible(c, ".side-nav").await, "desktops get the side bar");
    assert!(!visible(c, ".tab-bar").await);
    screenshot(c, "desktop-home.png").await;

    c.goto(&format!("{base}/c/{HS}/residents/new")).await.unwrap();
    c.find(Locator::Id("f-name")).await.unwrap().send_keys("测试居民").await.unwrap();
    c.find(Locator::Id("f-phone")).await.unwrap().send_keys("123").await.unwrap();
    c.find(Locator::Css("form.form button[type=submit]")).await.unwrap().click().await.unwrap();
    let err = c.wait().for_element(Locator::Id("e-phone")).await.unwrap();
    let err_text = err.text().await.unwrap();
    assert!(err_text.contains("电话号码格式不正确"), "{err_text}");
    assert!(visible(c, ".alert").await);
    screenshot(c, "desktop-form-errors.png").await;
    // What was typed is kept; fix the one field and save.
    assert_eq!(c.find(Locator::Id("f-name")).await.unwrap().prop("value").await.unwrap().as_deref(), Some("测试居民"));
    let phone = c.find(Locator::Id("f-phone")).await.unwrap();
    phone.clear().await.unwrap();
    phone.send_keys("13612345678").await.unwrap();
    c.find(Locator::Css("form.form button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    let body = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(body.contains("测试居民") && body.contains("136****5678"), "{body}");

    // The tickets as a table with the columns staff work by, lines to pick and dispatch.
    c.goto(&format!("{base}/c/{HS}/tickets?view=all")).await.unwrap();
    assert!(visible(c, "table.ticket-table").await, "the table shows on a desktop");
    assert!(visible(c, "#dispatch-picked .pick-bar button").await, "and 派给所选 under it");
    assert!(!visible(c, "ul.tickets").await, "the phone's cells do not");

    // The map of the community draws its grids; a click opens a grid.
    c.goto(&format!("{base}/c/{HS}/map")).await.unwrap();
    let grids = c.find_all(Locator::Css("svg.map path.grid")).await.unwrap();
    assert_eq!(grids.len(), 4);
    screenshot(c, "desktop-map.png").await;
    c.find(Locator::Css("svg.map a")).await.unwrap().click().await.unwrap();
    wait_url(c, |u| u.contains("/grids/")).await;

    // And in English.
    c.find(Locator::Css(".nav-lang")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[contains(., 'Grid') or contains(., '网格')]")).await.unwrap();
    let nav = c.find(Locator::Css(".side-nav")).await.unwrap().text().await.unwrap();
    assert!(nav.contains("Residents"), "{nav}");
}

/// Waits until the page's text holds `needle` (live updates arrive without a reload).
async fn wait_text(c: &Client, needle: &str, secs: u64) -> bool {
    for _ in 0..secs * 10 {
        if let Ok(main) = c.find(Locator::Css("main")).await
            && main.text().await.unwrap_or_default().contains(needle)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Clicks an element after bringing it to the middle of the screen, clear of the phone's
/// fixed tab bar.
async fn press(c: &Client, e: fantoccini::elements::Element) {
    c.execute("arguments[0].scrollIntoView({block: 'center'})", vec![serde_json::to_value(&e).unwrap()]).await.unwrap();
    e.click().await.unwrap();
}

/// Submits the action form of the ticket page that does `action`.
async fn take_action(c: &Client, action: &str, note: Option<&str>, photo: Option<&std::path::Path>) {
    let form = c.find(Locator::Css(&format!("form[data-action={action}]"))).await.unwrap();
    // Opens the action's fold if it is closed.
    c.execute("arguments[0].closest('details').open = true", vec![serde_json::to_value(&form).unwrap()]).await.unwrap();
    if let Some(n) = note {
        form.find(Locator::Css("textarea[name=note]")).await.unwrap().send_keys(n).await.unwrap();
    }
    if let Some(p) = photo {
        form.find(Locator::Css("input[type=file]")).await.unwrap().send_keys(&p.display().to_string()).await.unwrap();
    }
    press(c, form.find(Locator::Css("button[type=submit]")).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_asks_on_the_phone_the_pool_takes_it_live_and_the_resident_rates() {
    let app = TestApp::demo().await;
    let Some(grid) = browser(true).await else { return };
    let volunteer = browser(true).await.unwrap();
    let resident = browser(true).await.unwrap();
    let base = serve(&app).await;
    let (g, v, r) = (&grid.client, &volunteer.client, &resident.client);

    // The grid worker and a volunteer of the 帮办代办 pool have their lists open.
    sign_in(g, &base, "grid").await;
    g.goto(&format!("{base}/c/{HS}/tickets?view=grid")).await.unwrap();
    sign_in(v, &base, "volunteer").await;
    v.goto(&format!("{base}/c/{HS}/tickets?view=pool")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The resident asks from the phone form, for their own household.
    sign_in(r, &base, "resident").await;
    r.goto(&format!("{base}/c/{HS}/tickets/new")).await.unwrap();
    r.find(Locator::XPath("//select[@id='t-category']/option[contains(., '帮办代办')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    r.find(Locator::Id("t-description")).await.unwrap().send_keys("帮老人代办高龄津贴（浏览器）").await.unwrap();
    press(r, r.find(Locator::Css("form.form button[type=submit]")).await.unwrap()).await;
    wait_url(r, |u| u.contains("/tickets/") && !u.ends_with("/new")).await;
    let width: i64 = r.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
    assert!(width <= 360, "the ticket fits the phone: {width}");
    screenshot(r, "phone-ticket.png").await;

    // Both lists show it without a reload.
    assert!(wait_text(g, "帮老人代办高龄津贴（浏览器）", 10).await, "the grid worker's list updates live");
    assert!(wait_text(v, "帮老人代办高龄津贴（浏览器）", 10).await, "the pool's list updates live");
    assert!(visible(v, ".live-toast").await, "and a note says so");

    // The volunteer takes the order and resolves it with a photo.
    press(
        v,
        v.find(Locator::XPath("//a[contains(@class,'ticket-line')][contains(., '帮老人代办高龄津贴（浏览器）')]"))
            .await
            .unwrap(),
    )
    .await;
    v.wait().for_element(Locator::Css("form[data-action=accept]")).await.unwrap();
    take_action(v, "accept", None, None).await;
    v.wait().for_element(Locator::Css("form[data-action=resolve]")).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("done.png");
    image::RgbImage::from_pixel(64, 48, image::Rgb([200, 30, 30])).save(&photo).unwrap();
    take_action(v, "resolve", Some("已代办，津贴下月发放"), Some(&photo)).await;
    v.wait().for_element(Locator::Css(".photos img")).await.unwrap();

    // The resident's open ticket page shows the result; five stars close it.
    assert!(wait_text(r, "已办结", 10).await, "the resident's page updates live");
    r.refresh().await.unwrap();
    r.wait().for_element(Locator::Css("form[data-action=rate]")).await.unwrap();
    // No star is chosen beforehand: sending without one is stopped, five stars close it.
    let before = r.current_url().await.unwrap();
    take_action(r, "rate", None, None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(r.current_url().await.unwrap(), before, "not sent without a star");
    press(r, r.find(Locator::XPath("//input[@name='rating'][@value='5']/..")).await.unwrap()).await;
    take_action(r, "rate", None, None).await;
    r.wait().for_element(Locator::XPath("//dt[.='评价']")).await.unwrap();
    let page = r.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(page.contains("★★★★★"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volunteer_on_a_phone_records_a_service_and_redeems_a_reward() {
    let app = TestApp::demo().await;
    let Some(b) = browser(true).await else { return };
    let base = serve(&app).await;
    let c = &b.client;
    sign_in(c, &base, "volunteer").await;
    c.goto(&format!("{base}/c/{HS}/volunteer")).await.unwrap();
    let width: i64 = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
    assert!(width <= 360, "the page fits the phone: {width}");
    screenshot(c, "phone-volunteer.png").await;
    // Yesterday, 14:00 to 16:00.
    let day = linli::web::fmt::today().pred_opt().unwrap();
    let form = c.find(Locator::Css("form[id$='service-records']")).await.unwrap();
    form.find(Locator::Css("textarea[name=content]")).await.unwrap().send_keys("帮独居老人采购年货").await.unwrap();
    for (name, value) in [("started_at", format!("{day}T14:00")), ("ended_at", format!("{day}T16:00"))] {
        let input = form.find(Locator::Css(&format!("input[name={name}]"))).await.unwrap();
        c.execute("arguments[0].value = arguments[1]", vec![serde_json::to_value(&input).unwrap(), json!(value)])
            .await
            .unwrap();
    }
    press(c, form.find(Locator::Css("button[type=submit]")).await.unwrap()).await;
    wait_url(c, |u| u.contains("ok=record_sent")).await;
    assert!(wait_text(c, "帮独居老人采购年货", 5).await);
    assert!(wait_text(c, "待审核", 1).await);

    // The shop: redeem a meal ticket, and the page shows the code to hand over.
    c.goto(&format!("{base}/c/{HS}/shop")).await.unwrap();
    screenshot(c, "phone-shop.png").await;
    // Redeeming asks first, in a sheet saying what it spends; cancelling spends nothing.
    let redeem = "//form[contains(@action,'/redeem')]//button[not(@disabled)]";
    press(c, c.find(Locator::XPath(redeem)).await.unwrap()).await;
    c.wait().for_element(Locator::Css("#confirm-sheet[open]")).await.unwrap();
    let asked = c.find(Locator::Css("#confirm-sheet p")).await.unwrap().text().await.unwrap();
    assert!(asked.contains("将花费") && asked.contains("兑换后余额"), "{asked}");
    screenshot(c, "phone-shop-confirm.png").await;
    c.find(Locator::Css("#confirm-sheet button[value=cancel]")).await.unwrap().click().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(c.current_url().await.unwrap().as_str().ends_with("/shop"), "cancelled: still in the shop");
    press(c, c.find(Locator::XPath(redeem)).await.unwrap()).await;
    c.wait().for_element(Locator::Css("#confirm-sheet[open]")).await.unwrap();
    c.find(Locator::Css("#confirm-sheet button[value=ok]")).await.unwrap().click().await.unwrap();
    wait_url(c, |u| u.contains("/redemptions/")).await;
    assert!(visible(c, ".card-body svg").await, "a QR code to show at the desk");
    assert!(wait_text(c, "兑换码", 1).await);
    screenshot(c, "phone-redemption.png").await;

    // At the desk, staff read the code from a photo of its QR: the form fills and goes.
    let code = c.find(Locator::XPath("//dt[.='兑换码']/following-sibling::dd")).await.unwrap().text().await.unwrap();
    let desk = browser(true).await.unwrap();
    let d = &desk.client;
    sign_in(d, &base, "staff").await;
    d.goto(&format!("{base}/c/{HS}/handover")).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("code.png");
    qr_png(code.trim(), &photo);
    d.find(Locator::Css(".scan input[type=file]"))
        .await
        .unwrap()
        .send_keys(&photo.display().to_string())
        .await
        .unwrap();
    assert!(wait_text(d, "核销成功", 10).await, "the code read from the photo was handed over");
    screenshot(d, "phone-handover.png").await;
}

/// `text` as a QR code, black on white with its quiet zone, as a phone's camera sees it.
fn qr_image(text: &str) -> image::GrayImage {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let (width, scale, quiet) = (code.width() as u32, 8, 4);
    let side = (width + 2 * quiet) * scale;
    let mut img = image::GrayImage::from_pixel(side, side, image::Luma([255]));
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = ((i as u32 % width + quiet) * scale, (i as u32 / width + quiet) * scale);
            for dy in 0..scale {
                for dx in 0..scale {
                    img.put_pixel(x + dx, y + dy, image::Luma([0]));
                }
            }
        }
    }
    img
}

/// A PNG of `text` as a QR code, as a phone's photo of the screen would show it.
fn qr_png(text: &str, path: &std::path::Path) {
    qr_image(text).save(path).unwrap();
}

/// A short film (Y4M, the raw format Chromium's fake camera plays in a loop) of `text` as a
/// QR code held up to a 640×480 camera.
fn qr_film(text: &str, path: &std::path::Path) {
    let (w, h) = (640u32, 480u32);
    let qr = qr_image(text);
    let mut luma = image::GrayImage::from_pixel(w, h, image::Luma([235]));
    image::imageops::overlay(&mut luma, &qr, i64::from((w - qr.width()) / 2), i64::from((h - qr.height()) / 2));
    let mut film = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for _ in 0..10 {
        film.extend_from_slice(b"FRAME\n");
        film.extend_from_slice(luma.as_raw());
        // No colour: both chroma planes at their middle value.
        film.extend(std::iter::repeat_n(128u8, (w * h / 2) as usize));
    }
    std::fs::write(path, film).unwrap();
}

/// At the desk, staff point the phone's camera at a volunteer's QR code: the code is read
/// from the film and handed over, nothing typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_at_the_desk_hand_over_a_reward_by_pointing_the_camera_at_its_code() {
    let mut app = TestApp::demo().await;
    let c_id = app.community_id(HS).await;
    app.sign_in("volunteer").await;
    let meal = app.scalar("SELECT id FROM rewards WHERE community_id = $1 AND name = '社区食堂餐券'", c_id).await;
    let held = app.redeem_reward_api(meal).await.json();
    let code = held["code"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let film = dir.path().join("camera.y4m");
    qr_film(&code, &film);
    let Some(desk) = phone_filming(&film).await else { return };
    let base = serve(&app).await;
    let d = &desk.client;
    sign_in(d, &base, "staff").await;
    d.goto(&format!("{base}/c/{HS}/handover")).await.unwrap();
    let camera = d.wait().for_element(Locator::Css("[data-scan-camera]")).await.unwrap();
    assert!(camera.is_displayed().await.unwrap(), "the camera button shows where a camera can be used");
    press(d, camera).await;
    assert!(wait_text(d, "核销成功", 15).await, "the code filmed by the camera was handed over");
    let id = held["id"].as_i64().unwrap();
    let confirmed = app.scalar("SELECT COUNT(*) FROM redemptions WHERE id = $1 AND status = 'confirmed'", id).await;
    assert_eq!(confirmed, 1);
}

#[tokio::test]
async fn a_resident_on_a_phone_votes_once_and_follows_the_decision_on_the_public_page() {
    let app = TestApp::demo().await;
    let Some(b) = browser(true).await else { return };
    let c_id = app.community_id(HS).await;
    let staff = linli::demo::actor_of(&app.state, app.user_id("staff").await).await.unwrap();
    let resident = linli::demo::actor_of(&app.state, app.user_id("resident").await).await.unwrap();
    let p = linli::capabilities::council::store::raise(
        &app.state,
        &resident,
        c_id,
        "楼顶加装晾衣架",
        "楼顶空着，想装晾衣架",
        "community",
        None,
    )
    .await
    .unwrap();
    linli::capabilities::council::store::screen(&app.state, &staff, c_id, p.id, "accept", None, None).await.unwrap();
    let closes = linli::db::now_ms() + 86_400_000;
    linli::capabilities::council::store::open_vote(&app.state, &staff, c_id, p.id, None, Some(closes)).await.unwrap();
    let base = serve(&app).await;
    let c = &b.client;
    sign_in(c, &base, "resident").await;
    c.goto(&format!("{base}/c/{HS}/council/{}", p.id)).await.unwrap();
    let width: i64 = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
    assert!(width <= 360, "the page fits the phone: {width}");
    assert!(wait_text(c, "表决中", 5).await);
    let form = c.find(Locator::Css("form[action$='/ballot']")).await.unwrap();
    form.find(Locator::Css("select[name=choice]")).await.unwrap().select_by_value("for").await.unwrap();
    screenshot(c, "phone-vote.png").await;
    press(c, form.find(Locator::Css("button[type=submit]")).await.unwrap()).await;
    wait_url(c, |u| u.contains("ok=voted")).await;
    assert!(wait_text(c, "你已投票", 5).await);
    assert!(c.find(Locator::Css("form[action$='/ballot']")).await.is_err(), "no second ballot to cast");

    // Staff close it; the public page shows the decision and its tally, with no sign-in.
    linli::capabilities::council::store::close_vote(&app.state, &staff, c_id, p.id, "同意加装晾衣架").await.unwrap();
    c.delete_all_cookies().await.unwrap();
    c.goto(&format!("{base}/p/{HS}/council/{}", p.id)).await.unwrap();
    assert!(wait_text(c, "同意加装晾衣架", 5).await);
    assert!(wait_text(c, "投票率", 1).await);
    assert!(visible(c, "svg.chart").await, "the tally as a chart");
    screenshot(c, "phone-decision.png").await;
}

/// Live updates cost one connection per browser: pages left behind in the back/forward
/// cache and tabs left open never use up the six connections a browser keeps to a site,
/// so no page waits for one (before, the sixth page hung for about a minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_open_fifteen_live_pages_in_a_row_and_eight_tabs_and_none_waits() {
    let app = TestApp::demo().await;
    let Some(b) = browser(false).await else { return };
    let base = serve(&app).await;
    let c = &b.client;
    sign_in(c, &base, "staff").await;
    let community = app.community_id(HS).await;
    let ticket = app.scalar("SELECT MIN(id) FROM tickets WHERE community_id = $1", community).await;
    let live = [format!("/c/{HS}/tickets"), format!("/c/{HS}/tickets/{ticket}"), "/inbox".to_string()];
    let slow = Duration::from_secs(2);
    // The first page of a new browser also fetches the styles and scripts and starts a
    // renderer; what is measured is whether later pages wait for a connection.
    c.goto(&format!("{base}{}", live[0])).await.unwrap();
    c.wait().for_element(Locator::Css("#live")).await.unwrap();

    for (i, path) in live.iter().cycle().take(15).enumerate() {
        let started = std::time::Instant::now();
        c.goto(&format!("{base}{path}?n={i}")).await.unwrap();
        c.wait().for_element(Locator::Css("#live")).await.unwrap();
        let took = started.elapsed();
        assert!(took < slow, "page {} ({path}) took {took:?}", i + 1);
    }
    // Back and forward through pages kept in the cache still work and stay live.
    c.back().await.unwrap();
    c.back().await.unwrap();
    c.forward().await.unwrap();
    c.wait().for_element(Locator::Css("#live")).await.unwrap();

    for i in 0..8 {
        let tab = c.new_window(true).await.unwrap();
        c.switch_to_window(tab.handle).await.unwrap();
        let path = &live[i % live.len()];
        let started = std::time::Instant::now();
        c.goto(&format!("{base}{path}?tab={i}")).await.unwrap();
        c.wait().for_element(Locator::Css("#live")).await.unwrap();
        let took = started.elapsed();
        assert!(took < slow, "tab {} ({path}) took {took:?}", i + 1);
    }
}
