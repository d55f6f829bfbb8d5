//! Spreadsheets out: every export is a workbook whose cells are text, safe to open (no
//! cell is ever a formula), downloaded under one pattern of name: `{place}-{what}.xlsx`.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Text a spreadsheet would take for a formula if it were typed in (or saved as CSV and
/// opened again): `=`, `+`, `-`, `@`, a tab or a carriage return first.
pub fn formula_like(v: &str) -> bool {
    v.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Writes one sheet: a bold header row, frozen, and the rows as text. Every cell is
/// written as a string, never a formula; one that looks like a formula also carries
/// Excel's quote prefix, so that editing the cell keeps it text.
pub fn xlsx_table(sheet: &str, headers: &[&str], rows: &[Vec<String>]) -> anyhow::Result<Vec<u8>> {
    xlsx_book(&[(sheet, headers, rows)])
}

/// Writes a workbook of such sheets: (name, headers, rows).
pub fn xlsx_book(sheets: &[(&str, &[&str], &[Vec<String>])]) -> anyhow::Result<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let quoted = rust_xlsxwriter::Format::new().set_quote_prefix();
    for (sheet, headers, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*sheet)?;
        for (c, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
            let widest = rows
                .iter()
                .map(|r| r.get(c).map_or(0, |v| v.chars().count()))
                .max()
                .unwrap_or(0)
                .max(h.chars().count());
            ws.set_column_width(c as u16, (widest as f64 * 2.0 + 2.0).min(60.0))?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if formula_like(v) {
                    ws.write_string_with_format((r + 1) as u32, c as u16, v, &quoted)?;
                } else {
                    ws.write_string((r + 1) as u32, c as u16, v)?;
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
    }
    Ok(book.save_to_buffer()?)
}

/// A workbook as a download named `{place}-{what}.xlsx` (in Chinese, with an ASCII
/// fallback for old clients).
pub fn download(place: &str, what: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, disposition("attachment", &format!("{place}-{what}.xlsx"))),
        ],
        bytes,
    )
        .into_response()
}

/// A `Content-Disposition` (`attachment` or `inline`) naming the file in Chinese, with an
/// ASCII fallback named by its extension for clients that read only `filename`.
pub fn disposition(how: &str, name: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let ext = name.rsplit('.').next().unwrap_or("bin");
    format!("{how}; filename=\"download.{ext}\"; filename*=UTF-8''{encoded}")
}
