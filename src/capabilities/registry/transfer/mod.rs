//! Excel and CSV in and out: the registry as a community office keeps it.
//!
//! Reading a file and checking its rows are plain functions (here); writing the rows and
//! the export are in `store`; the upload pages in `pages`.

pub mod pages;
pub mod store;

use std::collections::HashSet;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::services::pii;

/// The columns of the registry sheet, in the order offices keep them.
pub const COLUMNS: [&str; 10] =
    ["姓名", "性别", "身份证号", "联系电话", "小区", "楼栋", "单元", "门牌", "网格", "人员类别"];

/// Header spellings accepted for each column (English for exports of other systems).
fn column_of(header: &str) -> Option<usize> {
    let h = header.trim().trim_start_matches('\u{feff}');
    let aliases: [&[&str]; 10] = [
        &["姓名", "name"],
        &["性别", "gender"],
        &["身份证号", "身份证号码", "公民身份号码", "id_number"],
        &["联系电话", "电话", "手机号", "手机", "phone"],
        &["小区", "compound"],
        &["楼栋", "楼号", "building"],
        &["单元", "unit"],
        &["门牌", "门牌号", "房号", "room"],
        &["网格", "所属网格", "grid"],
        &["人员类别", "人口类别", "category"],
    ];
    aliases.iter().position(|a| a.iter().any(|x| x.eq_ignore_ascii_case(h)))
}

/// 人员类别 as written in sheets → stored value.
pub fn category_of(s: &str) -> Option<&'static str> {
    match s.trim() {
        "户籍" | "户籍人口" | "registered" => Some("registered"),
        "常住" | "常住人口" | "permanent" => Some("permanent"),
        "流动" | "流动人口" | "floating" => Some("floating"),
        "寄住" | "寄住人口" | "lodging" => Some("lodging"),
        "境外" | "境外人员" | "overseas" => Some("overseas"),
        _ => None,
    }
}

pub fn category_label(v: &str) -> &'static str {
    match v {
        "registered" => "户籍",
        "permanent" => "常住",
        "floating" => "流动",
        "lodging" => "寄住",
        "overseas" => "境外",
        _ => "",
    }
}

fn gender_of(s: &str) -> Option<&'static str> {
    match s.trim() {
        "男" | "male" | "M" => Some("male"),
        "女" | "female" | "F" => Some("female"),
        _ => None,
    }
}

/// A problem with one cell (or a whole row, or the file when `row` is 0).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// The row as the spreadsheet numbers it (the header is row 1).
    pub row: usize,
    pub column: String,
    pub reason: String,
}

/// One valid row, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub row: usize,
    pub name: String,
    pub gender: Option<&'static str>,
    pub birth_date: Option<chrono::NaiveDate>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub compound: String,
    pub building: String,
    pub unit: String,
    pub room: String,
    pub grid: String,
    pub category: Option<&'static str>,
}

impl Person {
    /// How the household's address reads: 海盛花园3栋2单元502.
    pub fn address(&self) -> String {
        let mut a = self.compound.clone();
        for (part, suffix) in [(&self.building, "栋"), (&self.unit, "单元"), (&self.room, "")] {
            if part.is_empty() {
                continue;
            }
            a.push_str(part);
            if !suffix.is_empty() && !part.ends_with(suffix) && part.chars().all(|c| c.is_ascii_digit()) {
                a.push_str(suffix);
            }
        }
        a
    }
}

#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub people: Vec<Person>,
    pub errors: Vec<RowError>,
    pub rows: usize,
}

/// Reads a sheet: `.xlsx` by its content (a zip), else CSV in UTF-8 or GBK.
pub fn read_table(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    if bytes.starts_with(b"PK\x03\x04") {
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec()))
            .map_err(|e| format!("无法读取 Excel 文件：{e}"))?;
        let range =
            book.worksheet_range_at(0).ok_or("Excel 文件中没有工作表")?.map_err(|e| format!("无法读取工作表：{e}"))?;
        return Ok(range.rows().map(|r| r.iter().map(cell_text).collect()).collect());
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.trim_start_matches('\u{feff}').to_string(),
        Err(_) => {
            let (decoded, _, bad) = encoding_rs::GBK.decode(bytes);
            if bad {
                return Err("文件既不是 UTF-8 也不是 GBK 编码的 CSV，也不是 .xlsx".into());
            }
            decoded.into_owned()
        }
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| {
            r.map(|rec| rec.iter().map(|c| c.trim().to_string()).collect()).map_err(|e| format!("CSV 格式错误：{e}"))
        })
        .collect()
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        // Phone numbers typed as numbers come back as floats; IDs too (and lose digits,
        // which the check digit then catches).
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            // Excel counts days from 1899-12-30.
            let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid date");
            chrono::Duration::try_days(dt.as_f64() as i64)
                .and_then(|days| base.checked_add_signed(days))
                .map(|d| d.to_string())
                .unwrap_or_default()
        }
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Checks every row against the registry's rules. `grids` are the community's grid
/// names and codes; `is_known` tells whether an ID number is already registered.
pub fn check(table: &[Vec<String>], grids: &HashSet<String>, is_known: &dyn Fn(&str) -> bool) -> Checked {
    let mut out = Checked::default();
    let Some(header) = table.first() else {
        out.errors.push(RowError { row: 0, column: String::new(), reason: "文件是空的".into() });
        return out;
    };
    let positions = column_positions(header);
    out.errors.extend(missing_columns(&positions));
    if !out.errors.is_empty() {
        return out;
    }
    let mut seen_ids: HashSet<String> = HashSet::new();
    for (i, cells) in table.iter().enumerate().skip(1) {
        let row = i + 1;
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        out.rows += 1;
        let cells = RowCells { positions: &positions, cells };
        match check_row(row, &cells, grids, is_known, &mut seen_ids) {
            Ok(person) => out.people.push(person),
            Err(errs) => out.errors.extend(errs.into_iter().map(|(col, reason)| RowError {
                row,
                column: COLUMNS[col].into(),
                reason,
            })),
        }
    }
    out
}

/// Where each of `COLUMNS` sits in the header row (`None` when the sheet lacks it).
fn column_positions(header: &[String]) -> Vec<Option<usize>> {
    COLUMNS.iter().enumerate().map(|(i, _)| header.iter().position(|h| column_of(h) == Some(i))).collect()
}

/// The required columns (姓名, 小区, 网格) missing from the header, as errors on row 1.
fn missing_columns(positions: &[Option<usize>]) -> Vec<RowError> {
    [0usize, 4, 8]
        .into_iter()
        .filter(|&required| positions[required].is_none())
        .map(|required| RowError {
            row: 1,
            column: COLUMNS[required].into(),
            reason: format!("缺少“{}”列", COLUMNS[required]),
        })
        .collect()
}

/// One data row, read by `COLUMNS` index through the header's positions.
struct RowCells<'a> {
    positions: &'a [Option<usize>],
    cells: &'a [String],
}

impl RowCells<'_> {
    /// The trimmed text of column `col`, empty when the column or cell is absent.
    fn get(&self, col: usize) -> String {
        self.positions[col].and_then(|p| self.cells.get(p)).map(|s| s.trim().to_string()).unwrap_or_default()
    }
}

/// Checks one non-blank row (`row` as the spreadsheet numbers it). Errors are
/// `(column index, reason)`, sorted by column, in the order found within a column.
fn check_row(
    row: usize,
    cells: &RowCells<'_>,
    grids: &HashSet<String>,
    is_known: &dyn Fn(&str) -> bool,
    seen_ids: &mut HashSet<String>,
) -> Result<Person, Vec<(usize, String)>> {
    let mut errs: Vec<(usize, String)> = Vec::new();
    let name = cells.get(0);
    if name.is_empty() {
        errs.push((0, "姓名不能为空".into()));
    } else if name.chars().count() > 40 {
        errs.push((0, "姓名不能超过 40 个字".into()));
    }
    let gender_text = cells.get(1);
    let mut gender = None;
    if !gender_text.is_empty() {
        gender = gender_of(&gender_text);
        if gender.is_none() {
            errs.push((1, format!("性别应为“男”或“女”，而不是“{gender_text}”")));
        }
    }
    let id = check_id(&cells.get(2), gender, is_known, seen_ids, &mut errs);
    let gender = id.gender;
    let phone_text = cells.get(3);
    let mut phone = None;
    if !phone_text.is_empty() {
        match pii::normalize_contact_number(&phone_text) {
            Ok(p) => phone = Some(p),
            Err(key) => errs.push((3, crate::i18n::t(crate::i18n::Lang::Zh, key))),
        }
    }
    let compound = cells.get(4);
    if compound.is_empty() {
        errs.push((4, "小区不能为空".into()));
    }
    let grid = cells.get(8);
    if grid.is_empty() {
        errs.push((8, "网格不能为空".into()));
    } else if !grids.contains(&grid) {
        errs.push((8, format!("本社区没有名为“{grid}”的网格")));
    }
    let category_text = cells.get(9);
    let mut category = None;
    if !category_text.is_empty() {
        category = category_of(&category_text);
        if category.is_none() {
            errs.push((9, format!("人员类别应为户籍、常住、流动、寄住或境外，而不是“{category_text}”")));
        }
    }
    for (col, text) in [(5usize, cells.get(5)), (6, cells.get(6)), (7, cells.get(7))] {
        if text.chars().count() > 20 {
            errs.push((col, format!("{}不能超过 20 个字", COLUMNS[col])));
        }
    }
    errs.sort_by_key(|(col, _)| *col);
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Person {
        row,
        name,
        gender,
        birth_date: id.birth_date,
        id_number: id.id_number,
        phone,
        compound,
        building: cells.get(5),
        unit: cells.get(6),
        room: cells.get(7),
        grid,
        category,
    })
}

/// What a row's ID number gives: the normalized number, the birth date in it, and the
/// gender (the one typed in, else the one the number encodes).
struct IdFacts {
    id_number: Option<String>,
    birth_date: Option<chrono::NaiveDate>,
    gender: Option<&'static str>,
}

/// Checks the 身份证号 cell: valid, not repeated in the file (`seen_ids`), not already
/// registered, and agreeing with the typed gender. Problems go to `errs`.
fn check_id(
    id_text: &str,
    gender: Option<&'static str>,
    is_known: &dyn Fn(&str) -> bool,
    seen_ids: &mut HashSet<String>,
    errs: &mut Vec<(usize, String)>,
) -> IdFacts {
    let mut facts = IdFacts { id_number: None, birth_date: None, gender };
    if id_text.is_empty() {
        return facts;
    }
    match pii::normalize_id_number(id_text) {
        Ok(id) => {
            if !seen_ids.insert(id.clone()) {
                errs.push((2, "身份证号在文件中重复".into()));
            } else if is_known(&id) {
                errs.push((2, "该身份证号已在本社区登记".into()));
            }
            let from_id = pii::gender_of(&id);
            if gender.is_some() && from_id.is_some() && gender != from_id {
                errs.push((1, "性别与身份证号不符".into()));
            }
            facts.gender = gender.or(from_id);
            facts.birth_date = pii::birth_date_of(&id);
            facts.id_number = Some(id);
        }
        Err(key) => errs.push((2, crate::i18n::t(crate::i18n::Lang::Zh, key))),
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
    }

    fn id(seq: u32, male: bool) -> String {
        pii::make_id_number("440804", chrono::NaiveDate::from_ymd_opt(1960, 1, 2).unwrap(), seq, male)
    }

    #[test]
    fn good_rows_pass_and_every_bad_cell_is_reported_in_chinese() {
        let grids: HashSet<String> = ["第一网格".to_string()].into();
        let known: HashSet<String> = [id(9, true)].into();
        let dup = id(1, true);
        let t = table(&[
            &COLUMNS,
            &["张三", "男", &dup, "13800131234", "海盛花园", "3", "2", "502", "第一网格", "户籍"],
            &["", "女", &dup, "123", "", "", "", "", "第九网格", "外星"],
            &["李四", "女", &id(9, true), "", "海盛花园", "3", "2", "503", "第一网格", ""],
            &["", "", "", "", "", "", "", "", "", ""],
        ]);
        let c = check(&t, &grids, &|i| known.contains(i));
        assert_eq!(c.rows, 3);
        assert_eq!(c.people.len(), 1);
        let p = &c.people[0];
        assert_eq!((p.row, p.gender, p.category), (2, Some("male"), Some("registered")));
        assert_eq!(p.address(), "海盛花园3栋2单元502");
        let at = |row: usize| c.errors.iter().filter(|e| e.row == row).map(|e| e.column.as_str()).collect::<Vec<_>>();
        // A male ID number with 女 is caught too.
        assert_eq!(at(3), ["姓名", "性别", "身份证号", "联系电话", "小区", "网格", "人员类别"]);
        assert_eq!(at(4), ["性别", "身份证号"]);
        assert!(c.errors.iter().all(|e| !e.reason.is_empty() && !e.reason.is_ascii()));
    }

    #[test]
    fn missing_columns_stop_at_the_header() {
        let c = check(&table(&[&["姓名", "电话"]]), &HashSet::new(), &|_| false);
        assert_eq!(c.errors.len(), 2);
        assert!(c.errors.iter().all(|e| e.row == 1));
    }

    #[test]
    fn csv_in_gbk_and_xlsx_are_read() {
        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,小区,网格\n张三,海盛花园,第一网格\n");
        let t = read_table(&gbk).unwrap();
        assert_eq!(t[1], ["张三", "海盛花园", "第一网格"]);
        let bytes =
            crate::services::sheets::xlsx_table("居民", &["姓名", "网格"], &[vec!["李四".into(), "第一网格".into()]])
                .unwrap();
        let t = read_table(&bytes).unwrap();
        assert_eq!(t, vec![vec!["姓名".to_string(), "网格".into()], vec!["李四".into(), "第一网格".into()]]);
    }
}
