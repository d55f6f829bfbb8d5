//! A grid worker on a phone works through typhoon 麦德姆's households as the signal comes
//! and goes: a result tapped offline is kept on the phone and shown as waiting, the page
//! opens again without network, and once the signal is back each kept result is sent
//! once; the household staff changed meanwhile is kept as a conflict and said so.

use fantoccini::Locator;
use linli::capabilities::emergency::store::{self, Source};
use linli::capabilities::emergency::{CheckChange, CheckStatus};

use super::{HS, browser, network, press, screenshot, serve, sign_in, wait_text};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_worker_records_checks_offline_and_they_arrive_once_with_the_conflict_shown() {
    let app = TestApp::demo().await;
    let Some(b) = browser(true).await else { return };
    let base = serve(&app).await;
    let c = &b.client;
    let community = app.community_id(HS).await;
    let typhoon =
        app.scalar("SELECT MIN(id) FROM incidents WHERE community_id = $1 AND kind = 'typhoon'", community).await;
    // The two households at the top of the grid worker's list, not yet checked.
    let top: Vec<i64> = linli::db::query(
        "SELECT w.id FROM welfare_checks w JOIN households h ON h.community_id = w.community_id AND h.id = w.household_id \
         WHERE w.incident_id = $1 AND w.status = 'to_check' AND w.assignee_id = $2 ORDER BY w.tier, h.address, w.id LIMIT 2",
    )
    .bind(typhoon)
    .bind(app.user_id("grid").await)
    .scalars(&mut app.state.db.span(linli::db::citus::Span::Maintenance).await.unwrap())
    .await
    .unwrap();
    let (first, second) = (top[0], top[1]);
    sign_in(c, &base, "grid").await;
    let field = format!("{base}/c/{HS}/incidents/{typhoon}/field");
    c.goto(&field).await.unwrap();
    assert!(wait_text(c, "未联系上", 5).await, "each household has its one-tap results");
    let width: i64 = c.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap().as_i64().unwrap();
    assert!(width <= 360, "the field page fits the phone: {width}");
    let size = c.execute("return performance.getEntriesByType('navigation')[0].decodedBodySize", vec![]).await.unwrap();
    let size = size.as_i64().unwrap();
    assert!(size < 100_000, "small enough for a weak 3G connection: {size} bytes");

    // The signal goes: a result tapped is kept on the phone, not sent.
    network(c, false).await;
    let safe = format!("li[data-check='{first}'] button[data-status='safe']");
    press(c, c.find(Locator::Css(&safe)).await.unwrap()).await;
    assert!(wait_text(c, "已在手机上记下 1 条排查结果", 5).await, "kept while offline");
    screenshot(c, "phone-emergency-field-offline.png").await;
    let recorded = || app.scalar("SELECT COUNT(*) FROM welfare_check_changes WHERE check_id = $1", first);
    assert_eq!(recorded().await, 0);
    // Still without signal, the page opens again, the kept result on it.
    c.goto(&field).await.unwrap();
    assert!(wait_text(c, "待上传", 8).await, "the page opens offline with what it kept");

    // Meanwhile staff record another household the phone then taps: a conflict.
    let unreachable = format!("li[data-check='{second}'] button[data-status='unreachable']");
    press(c, c.find(Locator::Css(&unreachable)).await.unwrap()).await;
    assert!(wait_text(c, "已在手机上记下 2 条排查结果", 5).await);
    let staff = linli::demo::actor_named(&app.state, "staff").await.unwrap().unwrap();
    let hs =
        linli::auth::guard::community_by_id(&mut app.state.db.read().await.unwrap(), community).await.unwrap().unwrap();
    let ch = CheckChange { status: CheckStatus::Safe, needs: Vec::new(), note: None, seen: 0 };
    store::change(&app.state, &staff, &hs, second, &ch, "desk-1", Source::Field).await.unwrap();

    // The signal is back: both are sent, once each; the conflict is kept and shown.
    network(c, true).await;
    assert!(wait_text(c, "冲突", 20).await, "the conflict is said");
    assert_eq!(recorded().await, 1, "sent once");
    let both = app.scalar("SELECT COUNT(*) FROM welfare_check_changes WHERE check_id = $1", second).await;
    assert_eq!(both, 2, "the desk's and the phone's, both kept");
    let applied =
        app.scalar("SELECT COUNT(*) FROM welfare_check_changes WHERE check_id = $1 AND applied", second).await;
    assert_eq!(applied, 1, "the phone's did not write over the desk's");
    assert_eq!(app.scalar("SELECT version FROM welfare_checks WHERE id = $1", first).await, 1);
    screenshot(c, "phone-emergency-field-back.png").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_page_follows_the_checks_as_they_come_in() {
    let app = TestApp::demo().await;
    let Some(b) = browser(false).await else { return };
    let base = serve(&app).await;
    let c = &b.client;
    let community = app.community_id(HS).await;
    let typhoon =
        app.scalar("SELECT MIN(id) FROM incidents WHERE community_id = $1 AND kind = 'typhoon'", community).await;
    sign_in(c, &base, "staff").await;
    c.goto(&format!("{base}/c/{HS}/incidents/{typhoon}")).await.unwrap();
    // The figures are swapped in place every 10 s: a read that meets the swap is read again.
    let checked = || async {
        let kpi = "//div[contains(@class, 'kpi')][span[.='已排查']]/b";
        loop {
            if let Ok(b) = c.find(Locator::XPath(kpi)).await
                && let Ok(text) = b.text().await
            {
                return text.parse::<i64>().unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    let before = checked().await;
    // A household is recorded (at another desk): the open page shows it without being reloaded.
    let desk = linli::demo::actor_named(&app.state, "secretary").await.unwrap().unwrap();
    let hs =
        linli::auth::guard::community_by_id(&mut app.state.db.read().await.unwrap(), community).await.unwrap().unwrap();
    let next =
        app.scalar("SELECT MIN(id) FROM welfare_checks WHERE incident_id = $1 AND status = 'to_check'", typhoon).await;
    let ch = CheckChange { status: CheckStatus::Safe, needs: Vec::new(), note: None, seen: 0 };
    store::change(&app.state, &desk, &hs, next, &ch, "live-1", Source::Field).await.unwrap();
    // Two rounds of the page's 10 s refresh, whichever side of the write the first one falls.
    let mut now = before;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        now = checked().await;
        if now > before {
            break;
        }
    }
    assert_eq!(now, before + 1, "the figures came again by themselves");
}
