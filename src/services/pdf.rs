//! Documents as PDF in Chinese (a volunteer's certificate, a donor's receipt): A4 pages,
//! text in a GBK subset of Noto Sans SC compiled in (each PDF carries only the glyphs it
//! uses), wrapped where Unicode's line breaking allows, rules and QR codes.

use std::sync::LazyLock;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use crate::error::{AppError, AppResult};

static FONT: LazyLock<Option<Font>> = LazyLock::new(|| {
    let data: &'static [u8] = include_bytes!("../../assets/fonts/NotoSansSC-GBK.otf");
    Font::new(data.into(), 0)
});

/// The font, or an error if it did not load.
pub fn font() -> AppResult<Font> {
    FONT.clone().ok_or_else(|| AppError::Internal(anyhow::anyhow!("the PDF font did not load")))
}

/// A document in Chinese with its title, and the A4 page it is drawn on.
pub fn document(title: String) -> AppResult<(Document, PageSettings)> {
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new().title(title).language("zh-CN".into()).creator(format!("linli {}", env!("CARGO_PKG_VERSION"))),
    );
    let settings = PageSettings::from_wh(W, H).ok_or_else(|| AppError::Internal(anyhow::anyhow!("page size")))?;
    Ok((doc, settings))
}

/// The finished document's bytes.
pub fn finish(doc: Document) -> AppResult<Vec<u8>> {
    doc.finish().map_err(|e| AppError::Internal(anyhow::anyhow!("PDF: {e:?}")))
}

pub const W: f32 = 595.0;
pub const H: f32 = 842.0;
pub const LEFT: f32 = 60.0;
pub const RIGHT: f32 = W - 60.0;

/// Roughly how wide text is: CJK characters are a full em, others a little over half.
pub fn width(text: &str, size: f32) -> f32 {
    text.chars().map(|c| if c.is_ascii() { 0.55 } else { 1.0 }).sum::<f32>() * size
}

/// Breaks text into lines no wider than `max`, only where Unicode's line breaking allows
/// (between Chinese characters, never inside a date or a number, never before `，`).
pub fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut start = 0;
    for (end, _) in unicode_linebreak::linebreaks(text) {
        let piece = &text[start..end];
        start = end;
        if !line.is_empty() && width(&format!("{line}{}", piece.trim_end()), size) > max {
            lines.push(std::mem::take(&mut line).trim_end().to_string());
        }
        line.push_str(piece);
    }
    if !line.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// Draws on one page in the compiled-in font.
pub struct Pen<'a, 'b> {
    pub surface: &'a mut Surface<'b>,
    pub font: Font,
}

impl Pen<'_, '_> {
    pub fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.surface.set_fill(Some(Fill { paint: rgb::Color::new(30, 30, 30).into(), ..Fill::default() }));
        self.surface.draw_text(Point::from_xy(x, y), self.font.clone(), size, text, false, TextDirection::Auto);
    }

    pub fn centred(&mut self, y: f32, size: f32, text: &str) {
        let x = (W - width(text, size)) / 2.0;
        self.text(x, y, size, text);
    }

    pub fn rule(&mut self, y: f32) {
        let mut pb = PathBuilder::new();
        if let Some(r) = Rect::from_xywh(LEFT, y, RIGHT - LEFT, 0.6) {
            pb.push_rect(r);
        }
        if let Some(p) = pb.finish() {
            self.surface.set_fill(Some(Fill { paint: rgb::Color::new(200, 30, 30).into(), ..Fill::default() }));
            self.surface.draw_path(&p);
        }
    }

    /// A QR code with its top left corner at (x, y), `size` points wide.
    pub fn qr(&mut self, x: f32, y: f32, size: f32, data: &str) {
        let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else { return };
        let n = code.width();
        let cell = size / n as f32;
        let mut pb = PathBuilder::new();
        for (i, c) in code.to_colors().iter().enumerate() {
            if *c == qrcode::Color::Dark
                && let Some(r) = Rect::from_xywh(x + (i % n) as f32 * cell, y + (i / n) as f32 * cell, cell, cell)
            {
                pb.push_rect(r);
            }
        }
        if let Some(p) = pb.finish() {
            self.surface.set_fill(Some(Fill { paint: rgb::Color::new(0, 0, 0).into(), ..Fill::default() }));
            self.surface.draw_path(&p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_wraps_within_the_margins() {
        let lines = wrap(&"志愿".repeat(60), 13.0, 400.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| width(l, 13.0) <= 400.0));
        assert_eq!(lines.concat(), "志愿".repeat(60));
    }

    #[test]
    fn a_date_is_never_broken_over_two_lines() {
        for pad in 0..30 {
            let text = format!("{}于 2026-01-01 至 2026-11-30 期间，服务 12.5 小时。", "志".repeat(pad));
            let lines = wrap(&text, 13.0, 200.0);
            assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
            let all = lines.join("\n");
            assert!(all.contains("2026-01-01") && all.contains("2026-11-30") && all.contains("12.5"), "{all}");
            assert!(lines.iter().all(|l| !l.starts_with('，') && !l.starts_with('。')), "{all}");
        }
    }
}
