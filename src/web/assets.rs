//! Static files compiled into the binary: nothing is loaded from the internet.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

/// The fonts are not for pages (they use the system's CJK fonts): the certificate PDF
/// compiles its font in by itself.
#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "fonts/*"]
struct Assets;

/// Changes whenever any asset changes; pages add it to asset URLs so that browsers may
/// cache them for a year.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut names: Vec<_> = Assets::iter().collect();
    names.sort();
    let mut acc = 0u64;
    for n in names {
        if let Some(f) = Assets::get(&n) {
            for chunk in f.metadata.sha256_hash().chunks(8) {
                acc = acc.rotate_left(5) ^ u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            }
        }
    }
    // Zero-padded: a hash whose top digits are zero still gives eight.
    format!("{acc:016x}")[..8].to_string()
});

pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(file) = Assets::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..8]));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    (
        [
            (header::CONTENT_TYPE, mime.as_ref().to_string()),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable".to_string()),
            (header::ETAG, etag),
        ],
        file.data.into_owned(),
    )
        .into_response()
}

/// The text of an embedded asset (e.g. for inlining).
pub fn text(path: &str) -> Option<String> {
    Assets::get(path).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}
