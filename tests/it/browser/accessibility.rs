//! Contrast and semantics: axe-core, the standard accessibility engine, finds no serious
//! or critical violation on the pages people use most, on a 360 px phone and a 1366 px
//! desktop; and no text is smaller than 14 px.

use fantoccini::Client;

use super::{HS, browser, screenshot, serve, sign_in};
use crate::helpers::TestApp;

const AXE: &str = include_str!("../../vendor/axe-4.14.1.min.js");

/// The serious and critical violations axe finds on the open page, one line each with
/// the first elements it names.
async fn violations(c: &Client) -> Vec<String> {
    c.execute(&format!("{AXE}\nwindow.axe = axe; return true;"), vec![]).await.unwrap();
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' (' + (n.failureSummary || '').split('\\n').slice(1, 2).join('') + ')').join(' | '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    found.as_array().unwrap().iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
}

/// Text on the open page drawn smaller than 14 px (what the browser computes), a few.
async fn small_text(c: &Client) -> Vec<String> {
    let found = c
        .execute(
            "const out = [];
             for (const e of document.querySelectorAll('body *')) {
               if (e.closest('svg') || !e.childNodes.length) continue;
               const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
               const s = getComputedStyle(e);
               if (own && s.display !== 'none' && s.visibility !== 'hidden' && parseFloat(s.fontSize) < 14)
                 out.push(e.tagName.toLowerCase() + '.' + e.className + ' ' + s.fontSize + ': ' + e.textContent.trim().slice(0, 20));
             }
             return out.slice(0, 5);",
            vec![],
        )
        .await
        .unwrap();
    found.as_array().unwrap().iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
}

/// The pages, by who opens them (`""`: anyone, signed out), and the screenshot some of
/// them give the README and docs (taken on the phone or the desktop its name says).
async fn pages(app: &TestApp) -> Vec<(&'static str, String, Option<&'static str>)> {
    let community = app.community_id(HS).await;
    let ticket = app.scalar("SELECT MIN(id) FROM tickets WHERE community_id = $1", community).await;
    // The street admin's own subdistrict, 洲心街道.
    let zhouxin = app.community_id("441802005001").await;
    let sub = app.scalar("SELECT subdistrict_id FROM communities WHERE id = $1", zhouxin).await;
    let fair = app.scalar("SELECT MIN(id) FROM events WHERE community_id = $1 AND kind = 'festival'", community).await;
    let past =
        app.scalar("SELECT MIN(id) FROM events WHERE community_id = $1 AND status = 'finished'", community).await;
    let project = app.scalar("SELECT MIN(id) FROM projects WHERE community_id = $1", community).await;
    let expense = app.scalar("SELECT MIN(id) FROM expenses WHERE community_id = $1", community).await;
    let huilong = app.community_id("321111005001").await;
    let after_hours = app
        .scalar("SELECT MIN(id) FROM appointment_types WHERE community_id = $1 AND kind = 'after_hours'", huilong)
        .await;
    let typhoon =
        app.scalar("SELECT MIN(id) FROM incidents WHERE community_id = $1 AND kind = 'typhoon'", community).await;
    let brand = app.scalar("SELECT MIN(id) FROM brands WHERE community_id = $1", community).await;
    let joint = app.scalar("SELECT MIN(id) FROM subdistrict_brands WHERE subdistrict_id = $1", sub).await;
    let school = app.scalar("SELECT MIN(id) FROM shelters WHERE community_id = $1", community).await;
    let safety =
        app.scalar("SELECT MIN(id) FROM notices WHERE community_id = $1 AND category = 'safety'", community).await;
    let hl = "/c/321111005001";
    let c = format!("/c/{HS}");
    [
        ("", "/login".to_string(), None),
        ("", "/join".into(), None),
        ("", format!("{c}/residents/join"), None),
        ("", "/password/forgot".into(), None),
        ("", format!("/p/{HS}/honor"), None),
        ("", format!("/p/{HS}/council"), None),
        ("", format!("/p/{HS}/needs"), None),
        ("", format!("/p/{HS}/events"), None),
        ("", format!("/p/{HS}/events/{past}"), Some("phone-event-public")),
        ("", format!("/p/{HS}/money"), Some("phone-money-public")),
        ("", "/p/110113003001/board".into(), Some("phone-board")),
        ("", format!("/p/{HS}/brands/{brand}"), Some("phone-brand")),
        ("", format!("/p/{HS}/money/projects/{project}"), None),
        ("", format!("/p/{HS}/money/expenses/{expense}"), None),
        ("", "/p/110113003001/services?need=haircut".into(), Some("phone-directory")),
        ("", format!("/p/subdistricts/{sub}/warm-stations"), Some("phone-warm-stations")),
        ("resident", "/".into(), Some("phone-home-resident")),
        ("resident", format!("{c}/tickets/new"), None),
        ("resident", format!("{c}/tickets?view=mine"), None),
        ("resident", "/inbox".into(), None),
        ("resident", "/me".into(), None),
        ("resident", format!("{c}/events"), None),
        ("resident", format!("{c}/events/month"), None),
        ("resident", format!("{c}/events/{fair}"), Some("phone-event")),
        ("resident", format!("{c}/events/mine"), None),
        ("resident", format!("{c}/incidents/{typhoon}/reply"), None),
        ("resident", format!("{c}/notices"), None),
        ("resident", format!("{c}/notices/{safety}"), Some("phone-notice")),
        ("grid", "/".into(), None),
        ("grid", format!("{c}/tickets?view=work"), None),
        ("grid", format!("{c}/tickets/{ticket}"), Some("phone-grid-ticket")),
        ("grid", format!("{c}/residents"), None),
        ("grid", format!("{c}/field-notes"), None),
        ("grid", format!("{c}/incidents/{typhoon}/field"), Some("phone-emergency-field")),
        ("grid", format!("{c}/shelters/{school}"), Some("phone-shelter")),
        ("grid2", format!("{hl}/appointments"), None),
        ("grid2", format!("{hl}/appointments/types/{after_hours}"), None),
        ("staff2", format!("{hl}/appointments/day"), None),
        ("staff2", format!("{hl}/appointments/stats"), None),
        ("volunteer", format!("{c}/volunteer"), None),
        ("volunteer", format!("{c}/shop"), Some("phone-shop")),
        ("volunteer", format!("{c}/duty"), None),
        ("staff", format!("{c}/tickets?view=all"), Some("desktop-tickets")),
        ("staff", format!("{c}/service-records"), None),
        ("staff", format!("{c}/points"), None),
        ("staff", format!("{c}/needs"), None),
        ("staff", format!("{c}/resident-requests"), Some("desktop-resident-requests")),
        ("staff", format!("{c}/events/{fair}/manage"), Some("desktop-event-manage")),
        ("staff", format!("{c}/events/stats"), Some("desktop-event-stats")),
        ("staff", format!("{c}/money"), Some("desktop-money")),
        ("staff", format!("{c}/directory"), None),
        ("staff", format!("{c}/directory/stats"), None),
        ("staff", format!("{c}/warm-stations/stats"), None),
        ("staff", format!("{c}/incidents/{typhoon}"), Some("desktop-emergency-command")),
        ("staff", format!("{c}/supplies"), Some("desktop-supplies")),
        ("staff", format!("{c}/incidents/{typhoon}/report"), None),
        ("staff", format!("{c}/notices"), None),
        ("staff", format!("{c}/notices/{safety}"), Some("desktop-notice")),
        ("secretary", format!("{c}/money/stats"), Some("desktop-money-stats")),
        ("staff", format!("{c}/projects/{project}"), None),
        ("secretary", format!("{c}/expenses/{expense}"), None),
        ("secretary", format!("{c}/users"), None),
        ("street", "/".into(), None),
        ("street", format!("/subdistricts/{sub}/tickets/stats"), Some("desktop-subdistrict-stats")),
        ("street", format!("/subdistricts/{sub}/dashboard?order=worst"), Some("desktop-dashboard")),
        ("secretary", format!("{c}/dashboard/trend"), Some("desktop-dashboard-trend")),
        ("street", format!("/subdistricts/{sub}/brands"), None),
        ("street", format!("/subdistricts/{sub}/brands/{joint}"), None),
        ("staff", format!("{c}/brands/{brand}"), Some("desktop-brand")),
        ("secretary", format!("{c}/dashboard"), Some("desktop-dashboard-grids")),
        ("secretary", format!("{c}/dashboard/figures/tickets_received"), None),
    ]
    .into_iter()
    .collect()
}

/// Checks every page; `large` with the large-text setting on (as an elderly user has it).
async fn check_every_page(phone: bool, large: bool) {
    let app = TestApp::demo().await;
    let Some(b) = browser(phone).await else { return };
    let base = serve(&app).await;
    let c = &b.client;
    let mut found = Vec::new();
    let mut who = "";
    let large_text = || async {
        if large {
            c.goto(&format!("{base}/text/large?next=/login")).await.unwrap();
        }
    };
    large_text().await;
    for (role, path, shot) in pages(&app).await {
        if role != who {
            c.delete_all_cookies().await.unwrap();
            large_text().await;
            if !role.is_empty() {
                sign_in(c, &base, role).await;
            }
            who = role;
        }
        c.goto(&format!("{base}{path}")).await.unwrap();
        let page: bool =
            c.execute("return !!document.querySelector('header.nav-bar')", vec![]).await.unwrap().as_bool().unwrap();
        assert!(page, "{role} {path} is a page, not an error page");
        if large {
            let on: bool = c
                .execute("return document.documentElement.classList.contains('large')", vec![])
                .await
                .unwrap()
                .as_bool()
                .unwrap();
            assert!(on, "large text on {path}");
        }
        if let Some(name) = shot.filter(|n| !large && n.starts_with(if phone { "phone-" } else { "desktop-" })) {
            screenshot(c, &format!("{name}.png")).await;
        }
        for v in violations(c)
            .await
            .into_iter()
            .chain(small_text(c).await.into_iter().map(|s| format!("text under 14 px: {s}")))
        {
            found.push(format!("{role} {path}: {v}"));
        }
    }
    assert!(found.is_empty(), "{} problems:\n{}", found.len(), found.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_most_used_pages_are_readable_and_named_on_a_phone() {
    check_every_page(true, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_most_used_pages_are_readable_and_named_on_a_desktop() {
    check_every_page(false, false).await;
}

/// An elderly resident's large text: the same pages, as clean and as readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_most_used_pages_are_readable_in_large_text_on_a_phone() {
    check_every_page(true, true).await;
}
