//! Photos attached to records (a ticket's, a service record's evidence, a need's), and
//! documents where a record takes them (an expense's receipt may be a PDF): checked by
//! their content, limited in size, stored under the data directory with a thumbnail, and
//! served only to those who may see the record they belong to.

pub mod model;
pub mod pages;

use std::path::PathBuf;

use crate::db::{Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::AppState;
pub use model::Media;

/// Largest photo accepted.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Longest side of a thumbnail.
const THUMB: u32 = 320;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl Format {
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Pdf => "application/pdf",
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Pdf => "pdf",
        }
    }

    fn from_mime(m: &str) -> Option<Format> {
        [Format::Jpeg, Format::Png, Format::Webp, Format::Pdf].into_iter().find(|f| f.mime() == m)
    }
}

/// The extension of a file's name that says it is something else than its content is
/// (`通知.pdf` holding a picture, `照片.exe`); a name without one claims nothing.
pub fn named_otherwise(name: &str, format: Format) -> Option<String> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.trim().to_lowercase()).filter(|e| !e.is_empty())?;
    let fits = match format {
        Format::Jpeg => ["jpg", "jpeg", "jfif"].contains(&ext.as_str()),
        _ => ext == format.ext(),
    };
    (!fits).then_some(ext)
}

/// What the bytes are, by their first bytes (never by the file's name).
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Format::Webp)
    } else if bytes.starts_with(b"%PDF-") {
        Some(Format::Pdf)
    } else {
        None
    }
}

/// A checked photo: its format, size, and a JPEG thumbnail.
#[derive(Debug)]
pub struct Checked {
    pub format: Format,
    /// A photo's size (none for a document).
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub thumbnail: Vec<u8>,
}

/// Checks that `bytes` is a JPEG, PNG or WebP image that decodes, within the size limit.
pub fn check(field: &str, bytes: &[u8]) -> Result<Checked, FieldError> {
    if bytes.len() > MAX_BYTES {
        return Err(FieldError::new(field, "media.too_large").with("max", MAX_BYTES / 1024 / 1024));
    }
    let (format, kind) = match sniff(bytes) {
        Some(Format::Jpeg) => (Format::Jpeg, image::ImageFormat::Jpeg),
        Some(Format::Png) => (Format::Png, image::ImageFormat::Png),
        Some(Format::Webp) => (Format::Webp, image::ImageFormat::WebP),
        Some(Format::Pdf) | None => return Err(FieldError::new(field, "media.not_an_image")),
    };
    let img = image::load_from_memory_with_format(bytes, kind).map_err(|_| FieldError::new(field, "media.damaged"))?;
    let thumb = img.thumbnail(THUMB, THUMB).to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    thumb.write_to(&mut out, image::ImageFormat::Jpeg).map_err(|_| FieldError::new(field, "media.damaged"))?;
    Ok(Checked { format, width: Some(img.width()), height: Some(img.height()), thumbnail: out.into_inner() })
}

/// Checks that `bytes` is a photo (as `check`) or a whole PDF: its header, and its end of
/// file marker near the end (a cut-off upload has none). A PDF's thumbnail is a drawn
/// page, as nothing here renders PDFs.
pub fn check_document(field: &str, bytes: &[u8]) -> Result<Checked, FieldError> {
    if sniff(bytes) != Some(Format::Pdf) {
        return check(field, bytes).map_err(|e| {
            if e.key == "media.not_an_image" { FieldError::new(field, "media.not_a_document") } else { e }
        });
    }
    if bytes.len() > MAX_BYTES {
        return Err(FieldError::new(field, "media.too_large").with("max", MAX_BYTES / 1024 / 1024));
    }
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(FieldError::new(field, "media.damaged"));
    }
    Ok(Checked { format: Format::Pdf, width: None, height: None, thumbnail: document_thumbnail() })
}

/// A sheet of paper with lines of text and a red band, as a PDF's thumbnail.
fn document_thumbnail() -> Vec<u8> {
    let img = image::RgbImage::from_fn(240, 320, |x, y| {
        let line = (60..280).contains(&y) && y % 24 < 6 && (24..216).contains(&x);
        if y < 36 {
            image::Rgb([238, 10, 36])
        } else if line {
            image::Rgb([200, 201, 204])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).expect("encoding a JPEG in memory");
    out.into_inner()
}
fn dir(state: &AppState, community_id: i64) -> PathBuf {
    state.config.data_dir.join("media").join(community_id.to_string())
}

/// Checks every file of a form as a photo; all of them, or every error.
pub fn check_uploads(files: &[crate::web::form::Upload]) -> AppResult<Vec<(Vec<u8>, Checked)>> {
    check_all(files, check)
}

/// Checks every file of a form as a photo or a PDF; all of them, or every error.
pub fn check_documents(files: &[crate::web::form::Upload]) -> AppResult<Vec<(Vec<u8>, Checked)>> {
    check_all(files, check_document)
}

fn check_all(
    files: &[crate::web::form::Upload],
    check: fn(&str, &[u8]) -> Result<Checked, FieldError>,
) -> AppResult<Vec<(Vec<u8>, Checked)>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match check(&f.field, &f.bytes) {
            Ok(c) => match named_otherwise(&f.name, c.format) {
                Some(ext) => errors.push(FieldError::new(&f.field, "media.name_mismatch").with("ext", ext)),
                None => out.push((f.bytes.clone(), c)),
            },
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(crate::error::AppError::Invalid(errors)) }
}

/// Stores checked photos for a record, inside the caller's transaction. The files are
/// written first: a transaction that fails leaves only unreferenced files behind.
pub async fn attach(
    state: &AppState,
    tx: &mut Tx,
    community_id: i64,
    owner_kind: &str,
    owner_id: i64,
    by_user: Option<i64>,
    photos: &[(Vec<u8>, Checked)],
) -> AppResult<Vec<i64>> {
    let folder = dir(state, community_id);
    tokio::fs::create_dir_all(&folder).await?;
    let mut ids = Vec::new();
    for (bytes, c) in photos {
        let id = tx.next_id().await?;
        tokio::fs::write(folder.join(format!("{id}.{}", c.format.ext())), bytes).await?;
        tokio::fs::write(folder.join(format!("{id}.thumb.jpg")), &c.thumbnail).await?;
        query(
            "INSERT INTO media (community_id, id, owner_kind, owner_id, mime, bytes, width, height, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(community_id)
        .bind(id)
        .bind(owner_kind)
        .bind(owner_id)
        .bind(c.format.mime())
        .bind(bytes.len() as i64)
        .bind(c.width.map(i64::from))
        .bind(c.height.map(i64::from))
        .bind(by_user)
        .bind(now_ms())
        .execute(tx)
        .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// The photos of a record, in the order they were added.
pub async fn of(ex: &mut impl Exec, community_id: i64, owner_kind: &str, owner_id: i64) -> AppResult<Vec<Media>> {
    Ok(query(
        "SELECT community_id, id, owner_kind, owner_id, mime, bytes, width, height, created_at FROM media
         WHERE community_id = $1 AND owner_kind = $2 AND owner_id = $3 ORDER BY id",
    )
    .bind(community_id)
    .bind(owner_kind)
    .bind(owner_id)
    .fetch_all(ex)
    .await?)
}

/// A capability's check answered by reading its record for the actor: found is yes, "not
/// found" (outside their scope) is no, anything else is an error.
pub fn seen<T>(read: AppResult<T>) -> AppResult<bool> {
    match read {
        Ok(_) => Ok(true),
        Err(AppError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Thumbnails of photos, each linking to the photo (the `ui::photos` part draws them).
pub fn thumbnails(photos: &[Media], community_code: &str) -> Vec<crate::web::ui::Photo> {
    photos
        .iter()
        .map(|p| crate::web::ui::Photo { href: p.url(community_code), thumb: p.thumb_url(community_code) })
        .collect()
}

/// A plain PNG (tests and demo data).
pub fn png_for_tests(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([25, 137, 250]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("encoding a PNG in memory");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_content_not_name() {
        assert_eq!(sniff(&png_for_tests(4, 4)), Some(Format::Png));
        assert_eq!(sniff(b"GIF89a......"), None);
        assert_eq!(sniff(b"%PDF-1.7"), Some(Format::Pdf));
        let mut webp = b"RIFF\0\0\0\0WEBPVP8 ".to_vec();
        webp.extend([0; 8]);
        assert_eq!(sniff(&webp), Some(Format::Webp));
    }

    #[test]
    fn a_file_named_as_something_else_than_it_is_is_caught() {
        assert_eq!(named_otherwise("通知.pdf", Format::Png), Some("pdf".into()));
        assert_eq!(named_otherwise("照片.EXE", Format::Jpeg), Some("exe".into()));
        assert_eq!(named_otherwise("照片.JPEG", Format::Jpeg), None);
        assert_eq!(named_otherwise("扫描件.pdf", Format::Pdf), None);
        assert_eq!(named_otherwise("无扩展名", Format::Webp), None);
    }

    #[test]
    fn a_photo_gets_a_small_thumbnail_and_fakes_are_refused() {
        let c = check("photo", &png_for_tests(1200, 800)).unwrap();
        assert_eq!((c.width, c.height), (Some(1200), Some(800)));
        let thumb = image::load_from_memory(&c.thumbnail).unwrap();
        assert!(thumb.width() <= 320 && thumb.height() <= 320);
        assert_eq!(check("photo", b"\x89PNG\r\n\x1a\nnot really").unwrap_err().key, "media.damaged");
        assert_eq!(check("photo", b"hello").unwrap_err().key, "media.not_an_image");
        let huge = vec![0u8; MAX_BYTES + 1];
        assert_eq!(check("photo", &huge).unwrap_err().key, "media.too_large");
    }

    #[test]
    fn a_document_is_a_photo_or_a_whole_pdf_and_nothing_else() {
        let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";
        let c = check_document("receipt", pdf).unwrap();
        assert_eq!((c.format, c.width), (Format::Pdf, None));
        assert!(image::load_from_memory(&c.thumbnail).is_ok(), "a drawn page as its thumbnail");
        assert_eq!(check("receipt", pdf).unwrap_err().key, "media.not_an_image", "a photo only where photos are asked");
        assert_eq!(check_document("receipt", b"%PDF-1.7 cut off").unwrap_err().key, "media.damaged");
        assert_eq!(check_document("receipt", b"PK\x03\x04 a zip").unwrap_err().key, "media.not_a_document");
        assert_eq!(check_document("receipt", &png_for_tests(8, 8)).unwrap().format, Format::Png);
    }
}
