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

/// A PDF as an answer: `how` is `inline` (shown) or `attachment` (saved), under `file`.
pub fn answer(how: &str, file: &str, bytes: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let name = crate::services::sheets::disposition(how, file);
    ([(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, name)], bytes)
        .into_response()
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

    /// A filled bar of a chart.
    pub fn bar(&mut self, x: f32, y: f32, w: f32, h: f32) {
        let mut pb = PathBuilder::new();
        if let Some(r) = Rect::from_xywh(x, y, w.max(0.5), h) {
            pb.push_rect(r);
        }
        if let Some(p) = pb.finish() {
            self.surface.set_fill(Some(Fill { paint: rgb::Color::new(25, 137, 250).into(), ..Fill::default() }));
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

/// What a report's page holds: text at a place, a rule, or a bar of a chart.
#[derive(Debug, Clone, PartialEq)]
enum Mark {
    Text(f32, f32, f32, String),
    Rule(f32),
    Bar(f32, f32, f32, f32),
}

/// A report of many pages (a statistics report): headings, paragraphs and tables laid
/// out top to bottom, a new page begun wherever the next line would not fit.
#[derive(Debug, Default)]
pub struct Report {
    pages: Vec<Vec<Mark>>,
    y: f32,
}

const TOP: f32 = 60.0;
const BOTTOM: f32 = H - 60.0;

impl Report {
    pub fn new() -> Report {
        Report { pages: vec![Vec::new()], y: TOP }
    }

    /// Room for `height` more points on this page, or a new page.
    fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.pages.push(Vec::new());
            self.y = TOP;
        }
    }

    fn mark(&mut self, m: Mark) {
        if let Some(p) = self.pages.last_mut() {
            p.push(m);
        }
    }

    /// The report's title, centred.
    pub fn title(&mut self, text: &str) {
        self.room(40.0);
        self.y += 24.0;
        self.mark(Mark::Text((W - width(text, 20.0)) / 2.0, self.y, 20.0, text.to_string()));
        self.y += 16.0;
    }

    /// A section's heading with a rule under it.
    pub fn heading(&mut self, text: &str) {
        self.room(60.0);
        self.y += 26.0;
        self.mark(Mark::Text(LEFT, self.y, 14.0, text.to_string()));
        self.y += 6.0;
        self.mark(Mark::Rule(self.y));
        self.y += 6.0;
    }

    /// A paragraph, wrapped within the margins.
    pub fn paragraph(&mut self, text: &str) {
        for l in wrap(text, 11.0, RIGHT - LEFT) {
            self.room(18.0);
            self.y += 18.0;
            self.mark(Mark::Text(LEFT, self.y, 11.0, l));
        }
    }

    /// A table: columns start at the given fractions of the width; a cell too wide for its
    /// column is cut with an ellipsis. The head is repeated on each new page.
    pub fn table(&mut self, columns: &[f32], head: &[String], rows: &[Vec<String>]) {
        let xs: Vec<f32> = columns.iter().map(|c| LEFT + c * (RIGHT - LEFT)).collect();
        let room: Vec<f32> =
            xs.iter().enumerate().map(|(i, x)| xs.get(i + 1).copied().unwrap_or(RIGHT) - x - 4.0).collect();
        let line = |r: &mut Report, cells: &[String]| {
            for ((x, w), cell) in xs.iter().zip(&room).zip(cells) {
                r.mark(Mark::Text(*x, r.y, 9.5, fit(cell, 9.5, *w)));
            }
        };
        let pages = self.pages.len();
        self.room(32.0);
        self.y += 16.0;
        line(self, head);
        for row in rows {
            self.room(15.0);
            if self.pages.len() > pages && self.y == TOP {
                self.y += 16.0;
                line(self, head);
            }
            self.y += 15.0;
            line(self, row);
        }
    }

    /// A bar chart: a line per (label, value, value as written), bars in proportion to
    /// the largest value.
    pub fn bars(&mut self, rows: &[(String, f64, String)]) {
        let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max);
        let (label_w, value_w) = (130.0, 70.0);
        let room = RIGHT - LEFT - label_w - value_w;
        self.room(20.0);
        for (label, value, shown) in rows {
            self.room(16.0);
            self.y += 16.0;
            let w = if max > 0.0 { (*value / max) as f32 * room } else { 0.0 };
            self.mark(Mark::Text(LEFT, self.y, 9.5, fit(label, 9.5, label_w - 6.0)));
            self.mark(Mark::Bar(LEFT + label_w, self.y - 9.0, w, 10.0));
            self.mark(Mark::Text(LEFT + label_w + w + 4.0, self.y, 9.5, shown.clone()));
        }
    }

    /// The texts laid out, page by page in order (what a reader of the PDF reads).
    pub fn texts(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.pages {
            out.extend(p.iter().filter_map(|m| if let Mark::Text(_, _, _, t) = m { Some(t.clone()) } else { None }));
        }
        out
    }

    /// The report as PDF bytes, its pages numbered.
    pub fn finish(self, title: String) -> AppResult<Vec<u8>> {
        let font = font()?;
        let (mut doc, settings) = document(title)?;
        let n = self.pages.len();
        for (i, marks) in self.pages.into_iter().enumerate() {
            let mut page = doc.start_page_with(settings.clone());
            let mut surface = page.surface();
            let mut pen = Pen { surface: &mut surface, font: font.clone() };
            for m in marks {
                match m {
                    Mark::Text(x, y, size, t) => pen.text(x, y, size, &t),
                    Mark::Rule(y) => pen.rule(y),
                    Mark::Bar(x, y, w, h) => pen.bar(x, y, w, h),
                }
            }
            pen.centred(H - 30.0, 9.0, &format!("第 {} 页 / 共 {n} 页", i + 1));
            surface.finish();
            page.finish();
        }
        finish(doc)
    }
}

/// Text cut to `max` points wide, with an ellipsis when it was cut.
fn fit(text: &str, size: f32, max: f32) -> String {
    if width(text, size) <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if width(&format!("{out}{c}…"), size) > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_table_runs_over_pages_with_its_head_on_each() {
        let mut r = Report::new();
        r.title("资金统计报告");
        r.heading("项目");
        let head = vec!["项目".to_string(), "预算（元）".to_string()];
        let rows: Vec<Vec<String>> =
            (0..120).map(|i| vec![format!("惠民工程{i}号").repeat(8), i.to_string()]).collect();
        r.table(&[0.0, 0.7], &head, &rows);
        assert!(r.pages.len() >= 3, "{}", r.pages.len());
        for p in &r.pages[1..] {
            assert!(
                p.iter().any(|m| matches!(m, Mark::Text(_, _, _, t) if t == "预算（元）")),
                "the head is on every page"
            );
        }
        for p in &r.pages {
            for m in p {
                if let Mark::Text(x, y, size, t) = m {
                    assert!(*y <= BOTTOM && x + width(t, *size) <= RIGHT + 1.0, "{t} at {x},{y}");
                }
            }
        }
        let bytes = r.finish("资金统计报告".into()).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
    }

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
