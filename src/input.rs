//! The rules every input obeys, whichever way it comes in (a form, a JSON body, a query
//! string or path, an import, the command line): text holds no control characters but
//! tab and newline, and every number lies in a documented range. The boundaries (the form
//! and JSON extractors, `web::input_guard`) apply the text rule to everything they pass
//! on; stores apply the ranges, so forms and the API refuse the same values.

use std::borrow::Cow;
use std::ops::RangeInclusive;

use serde_json::Value;

use crate::error::FieldError;

/// The ranges numbers are checked against (docs/api.md lists them).
pub mod limits {
    use std::ops::RangeInclusive;

    /// Ids typed into a form or a body.
    pub const ID: RangeInclusive<i64> = 1..=i64::MAX;
    /// Points in one movement, given by hand or earned; a reward's price is at most this.
    pub const POINTS: RangeInclusive<i64> = 1..=1_000_000;
    /// Points a rule pays (per hour, per activity, a bonus or a deduction).
    pub const RULE_POINTS: RangeInclusive<i64> = 1..=10_000;
    /// A rule's daily or monthly cap.
    pub const RULE_CAP: RangeInclusive<i64> = 1..=1_000_000;
    /// Minutes of one service: at most a day.
    pub const SERVICE_MINUTES: RangeInclusive<i64> = 1..=1440;
    /// How many of a need are wanted (places, hours, yuan, items).
    pub const QUANTITY: RangeInclusive<i64> = 1..=100_000_000;
    /// A project's budget in yuan.
    pub const BUDGET_YUAN: RangeInclusive<i64> = 0..=10_000_000_000;
    /// A page number of a list.
    pub const PAGE: RangeInclusive<i64> = 1..=100_000;
    /// Items given in one list field (ids, addresses, milestones, people present).
    pub const LIST_ITEMS: usize = 200;
    /// No stored balance may leave ±this: far beyond any community's points, and far
    /// inside what a 64-bit integer holds, so no sum of balances can overflow.
    pub const BALANCE: i64 = 1_000_000_000_000_000;
    /// Idempotency keys, handover codes and other tokens a client sends.
    pub const KEY_LEN: usize = 200;
    /// A search text.
    pub const SEARCH_LEN: usize = 100;
}

/// Tab and newline are text; every other control character (C0, DEL, C1) is refused.
pub fn is_refused(c: char) -> bool {
    c.is_control() && c != '\t' && c != '\n'
}

/// What browsers send from a text area (`\r\n`), and a lone `\r`, become `\n`.
pub fn normalize_newlines(s: &str) -> Cow<'_, str> {
    if s.contains('\r') { Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n")) } else { Cow::Borrowed(s) }
}

/// The error for a text holding a control character, if it does.
pub fn check_chars(field: &str, s: &str) -> Option<FieldError> {
    s.chars().any(is_refused).then(|| FieldError::new(field, "validation.control_chars"))
}

/// Checks a typed text: present when `required`, at most `max` characters (trimmed), and
/// free of control characters (`input::is_refused`).
pub fn check_text(errors: &mut Vec<FieldError>, name: &'static str, v: &str, max: usize, required: bool) {
    let n = v.trim().chars().count();
    if let Some(e) = check_chars(name, v) {
        errors.push(e);
    } else if n == 0 && required {
        errors.push(FieldError::new(name, "validation.required"));
    } else if n > max {
        errors.push(FieldError::new(name, "validation.too_long").with("max", max));
    }
}

/// Every string (and every key) inside a JSON value; `path` names where it is
/// (`milestones[0].title`).
pub fn scan_json(v: &Value, path: &str, out: &mut Vec<FieldError>) {
    match v {
        Value::String(s) => out.extend(check_chars(if path.is_empty() { "body" } else { path }, s)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                scan_json(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let here = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match check_chars(&here, k) {
                    Some(e) => out.push(e),
                    None => scan_json(item, &here, out),
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Adds a field error when `v` is outside `range`.
pub fn check_range(errors: &mut Vec<FieldError>, field: &str, v: i64, range: RangeInclusive<i64>) {
    if !range.contains(&v) {
        errors.push(range_error(field, range));
    }
}

pub fn range_error(field: &str, range: RangeInclusive<i64>) -> FieldError {
    FieldError::new(field, "validation.range").with("min", range.start()).with("max", range.end())
}

/// Adds a field error when a list has more items than one request may give.
pub fn check_count(errors: &mut Vec<FieldError>, field: &str, n: usize) {
    if n > limits::LIST_ITEMS {
        errors.push(FieldError::new(field, "validation.too_many").with("max", limits::LIST_ITEMS));
    }
}

/// The essence of a `Content-Type` (`application/json; charset=utf-8` → `application/json`),
/// in lower case.
pub fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Whether a body of this type is JSON: `application/json` or `application/<x>+json`.
pub fn is_json(content_type: &str) -> bool {
    let t = media_type(content_type);
    t == "application/json"
        || t.strip_prefix("application/")
            .and_then(|s| s.strip_suffix("+json"))
            .is_some_and(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_tab_and_newline_are_text() {
        assert!(check_chars("name", "张三\t\n").is_none());
        for bad in ["a\0b", "a\u{7}", "a\u{1b}[31m", "a\u{7f}", "a\u{85}", "\r"] {
            assert_eq!(check_chars("name", bad).map(|e| e.key), Some("validation.control_chars"), "{bad:?}");
        }
        assert_eq!(normalize_newlines("a\r\nb\rc"), "a\nb\nc");
    }

    #[test]
    fn json_is_scanned_to_the_last_string_and_named_by_path() {
        let v = serde_json::json!({"title": "ok", "milestones": [{"title": "x"}, {"title": "y\u{0}"}], "n": 1});
        let mut out = Vec::new();
        scan_json(&v, "", &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].field, "milestones[1].title");
    }

    #[test]
    fn only_json_media_types_are_json() {
        for ok in ["application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json"] {
            assert!(is_json(ok), "{ok}");
        }
        for no in
            ["application/jsonx", "application/json-seq", "text/json", "application/+json", "application/x; a=+json"]
        {
            assert!(!is_json(no), "{no}");
        }
    }

    #[test]
    fn ranges_name_their_bounds() {
        let mut e = Vec::new();
        check_range(&mut e, "amount", i64::MAX, limits::POINTS);
        check_range(&mut e, "amount", 5, limits::POINTS);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].params, vec![("min", "1".to_string()), ("max", "1000000".to_string())]);
    }
}
