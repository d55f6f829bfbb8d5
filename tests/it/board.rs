//! The public board 公开栏, as a passer-by who scans its code sees it: 怡馨家园第一社区's
//! party-affairs section, its honour list 最美怡馨人 and its residents' code in full; 海盛's
//! finance and affairs fed by the money's funds and the needs list; what is meant for
//! party members only, or expired, never on it; a community that takes a section down;
//! and the sheet printed for the corridor, A4 or A3, with a QR code.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, visible_text};

const YIXIN: &str = "110113003001";
const HS: &str = "440804003001";

#[tokio::test]
async fn the_public_board_shows_its_sections_and_prints_for_the_corridor() {
    let mut app = TestApp::demo().await;
    let board = visible_text(&app.get_public(&format!("/p/{YIXIN}/board")).await.text());
    assert!(board.contains("党务公开") && board.contains("党费收缴情况公示"), "{board}");
    assert!(board.contains("“最美怡馨人”公示榜") && board.contains("爱党爱国，遵纪守法"), "the code in full: {board}");
    assert!(!board.contains("党员大会召开通知"), "for party members only: {board}");
    assert!(!board.contains("国庆假期社区办公时间安排"), "expired: {board}");
    assert!(!board.contains("冬季供暖开栓时间通知"), "not yet published: {board}");
    let hs = visible_text(&app.get_public(&format!("/p/{HS}/board")).await.text());
    assert!(hs.contains("财务公开 · 资金收支") && hs.contains("结余"), "{hs}");
    assert!(hs.contains("居务公开 · 需求清单") && hs.contains("已认领"), "{hs}");

    // A notice on the board opens for anyone; one for party members does not.
    let c = app.community_id(YIXIN).await;
    let dues = app.scalar("SELECT MIN(id) FROM notices WHERE community_id = $1 AND category = 'party_affairs' AND audience = 'community'", c).await;
    let members =
        app.scalar("SELECT MIN(id) FROM notices WHERE community_id = $1 AND audience = 'party_members'", c).await;
    let page = visible_text(&app.get_public(&format!("/p/{YIXIN}/notices/{dues}")).await.text());
    assert!(page.contains("接受全体居民监督"), "{page}");
    assert_eq!(app.get_public(&format!("/p/{YIXIN}/notices/{members}")).await.status, StatusCode::NOT_FOUND);

    // Printed for the corridor, A4 or A3; any other size is refused naming it.
    for size in ["a4", "a3"] {
        let pdf = app.get_public(&format!("/p/{YIXIN}/board.pdf?size={size}")).await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert!(pdf.body.starts_with(b"%PDF-"), "{size}");
    }
    let a5 = app.get_public(&format!("/p/{YIXIN}/board.pdf?size=a5")).await;
    assert_eq!(a5.status, StatusCode::UNPROCESSABLE_ENTITY);

    // 海盛 takes its finance section down: the board no longer shows it.
    app.sign_in("secretary").await;
    let r = app
        .patch_json(&format!("/api/v1/communities/{HS}"), json!({"board_sections": ["party_affairs", "affairs"]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let hs = visible_text(&app.get_public(&format!("/p/{HS}/board")).await.text());
    assert!(!hs.contains("财务公开") && hs.contains("居务公开"), "{hs}");
}
