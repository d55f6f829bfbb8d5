//! With a tile server configured, the grid maps are drawn over it by the embedded map
//! library; without one, they are drawn on their own, as before.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::get;
use fantoccini::Locator;

use super::{HS, browser, screenshot, serve, sign_in};
use crate::helpers::TestApp;

/// A tile server on this machine, answering every tile with a plain picture; counts them.
async fn tile_server() -> (String, Arc<AtomicUsize>) {
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let png = linli::services::media::png_for_tests(256, 256);
    let app = axum::Router::new().route(
        "/tiles/{z}/{x}/{y}",
        get(move || {
            count.fetch_add(1, Ordering::SeqCst);
            let png = png.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "image/png")], png) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/tiles/{{z}}/{{x}}/{{y}}"), served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grid_map_is_drawn_over_the_configured_tiles() {
    let plain = TestApp::demo().await;
    let Some(b) = browser(false).await else { return };
    let c = &b.client;
    let base = serve(&plain).await;
    sign_in(c, &base, "staff").await;
    c.goto(&format!("{base}/c/{HS}/map")).await.unwrap();
    assert!(c.find(Locator::Css("svg.map")).await.unwrap().is_displayed().await.unwrap(), "the map on its own");
    assert!(c.find(Locator::Css(".basemap")).await.is_err(), "no tiles, no base map");

    let (tiles, served) = tile_server().await;
    let app = plain
        .restart_with(|config| {
            config.map_tiles = Some(tiles);
            config.map_attribution = Some("测试底图".into());
        })
        .await;
    let base = serve(&app).await;
    c.delete_all_cookies().await.unwrap();
    sign_in(c, &base, "staff").await;
    c.goto(&format!("{base}/c/{HS}/map")).await.unwrap();
    c.wait().for_element(Locator::Css(".basemap img.leaflet-tile-loaded")).await.unwrap();
    c.wait().for_element(Locator::Css(".basemap .basemap-label")).await.unwrap();
    let credit = c.find(Locator::Css(".basemap .leaflet-control-attribution")).await.unwrap().text().await.unwrap();
    assert!(credit.contains("测试底图"), "{credit}");
    let labels = c.find(Locator::Css(".basemap")).await.unwrap().text().await.unwrap();
    assert!(labels.contains("网格"), "the grids are named over the tiles: {labels}");
    assert!(served.load(Ordering::SeqCst) > 0, "tiles came from the configured server");
    screenshot(c, "desktop-basemap.png").await;
}
