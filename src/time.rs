//! Time as the platform keeps it: milliseconds since the epoch (UTC), read as China
//! time (UTC+8) for days, with the durations and day boundaries every capability uses.

use chrono::NaiveDate;

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Midnight in China at the start of a day, in epoch milliseconds.
pub fn day_start_ms(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis() - 8 * HOUR_MS).unwrap_or(0)
}

/// The day in China of an epoch-millisecond time.
pub fn day_of(ms: i64) -> NaiveDate {
    crate::web::fmt::to_cst(ms).date_naive()
}

/// Hours with one decimal, from minutes.
pub fn hours(minutes: i64) -> String {
    format!("{:.1}", minutes as f64 / 60.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_chinese_days() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 15).unwrap();
        // Midnight in Beijing is 16:00 UTC the day before.
        assert_eq!(day_of(day_start_ms(d)), d);
        assert_eq!(day_of(day_start_ms(d) - 1), d.pred_opt().unwrap());
        assert_eq!(hours(90), "1.5");
    }
}
