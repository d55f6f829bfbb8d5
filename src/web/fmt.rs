//! Formatting for people: times in China Standard Time, numbers, URLs.

use chrono::{DateTime, Datelike, FixedOffset, Utc};

/// China Standard Time (UTC+8, no daylight saving): how times are shown.
pub fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

pub fn to_cst(ms: i64) -> DateTime<FixedOffset> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().with_timezone(&cst())
}

/// `2026-11-23 14:05`
pub fn datetime(ms: i64) -> String {
    to_cst(ms).format("%Y-%m-%d %H:%M").to_string()
}

/// `2026-11-23T14:05:00+08:00` (API answers).
pub fn rfc3339(ms: i64) -> String {
    to_cst(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Today's date in China.
pub fn today() -> chrono::NaiveDate {
    Utc::now().with_timezone(&cst()).date_naive()
}

/// A time typed in a form (`2026-11-23T08:30` from a datetime input, or with a space),
/// read as China Standard Time.
pub fn parse_local(s: &str) -> Option<i64> {
    let s = s.trim().replace(' ', "T");
    let t = chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    t.and_local_timezone(cst()).single().map(|d| d.timestamp_millis())
}

/// A time as a datetime input shows it: `2026-11-23T08:30`.
pub fn local_input(ms: i64) -> String {
    to_cst(ms).format("%Y-%m-%dT%H:%M").to_string()
}

pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Thousands separators: 240,000.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `?year=` on a page of figures.
#[derive(Debug, Default, serde::Deserialize)]
pub struct YearQuery {
    pub year: Option<String>,
}

/// The year asked for (this year when none), between 2000 and 2100, with the first
/// millisecond of it and of the next, in China.
pub fn year_of(q: &YearQuery) -> crate::error::AppResult<(i32, i64, i64)> {
    let year = match q.year.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
        None => today().year(),
        Some(y) => y.parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)).ok_or_else(|| {
            let e = crate::error::FieldError::new("year", "validation.range").with("min", 2000).with("max", 2100);
            crate::error::AppError::Invalid(vec![e])
        })?,
    };
    let start = |y| {
        let midnight = chrono::NaiveDate::from_ymd_opt(y, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
        midnight.and_then(|t| t.and_local_timezone(cst()).single()).map_or(0, |t| t.timestamp_millis())
    };
    Ok((year, start(year), start(year + 1)))
}

/// A rate as a percentage with one decimal, or a dash when there is nothing to divide.
pub fn percent(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_of_figures_is_this_one_or_one_in_range() {
        let ask = |y: &str| year_of(&YearQuery { year: Some(y.into()) });
        assert_eq!(ask(" ").unwrap().0, today().year());
        let (y, from, to) = ask("2026").unwrap();
        assert_eq!((y, to - from), (2026, 365 * 86_400_000));
        assert!(ask("1999").is_err() && ask("abc").is_err());
        assert_eq!(percent(None), "—");
        assert_eq!(percent(Some(0.8951)), "89.5%");
    }

    #[test]
    fn times_typed_in_forms_are_china_time() {
        let ms = parse_local("2026-11-23T08:30").unwrap();
        assert_eq!(rfc3339(ms), "2026-11-23T08:30:00+08:00");
        assert_eq!(parse_local("2026-11-23 08:30"), Some(ms));
        assert_eq!(local_input(ms), "2026-11-23T08:30");
        assert_eq!(parse_local("yesterday"), None);
    }

    #[test]
    fn times_are_shown_in_china_time() {
        // 2026-11-23 00:30 UTC is 08:30 in Beijing.
        let ms = 1_795_393_800_000;
        assert_eq!(datetime(ms), "2026-11-23 08:30");
        assert_eq!(rfc3339(ms), "2026-11-23T08:30:00+08:00");
    }

    #[test]
    fn numbers_get_separators() {
        assert_eq!(thousands(240000), "240,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(-1234567), "-1,234,567");
    }
}
