//! Classes as series (seed 003's 西点, 书画, 京剧… "周周有活动"): a recurrence rule (RFC 5545
//! RRULE, such as weekly for twelve weeks) makes a class's sessions from its first one, in
//! China time; each session then lives alone, moved or called off by itself.

use chrono::TimeZone;
use rrule::{Frequency, RRule, Tz, Unvalidated};

use crate::error::FieldError;

/// The most sessions one rule makes: a weekly class for two years.
pub const MAX_SESSIONS: usize = 104;

crate::text_enum! {
    /// The rules staff pick on the form (the API takes any RRULE).
    pub enum Repeat {
        Weekly = "weekly",
        Fortnightly = "fortnightly",
        Monthly = "monthly",
    }
}

impl Repeat {
    /// The rule that repeats `times` times.
    pub fn rule(self, times: i64) -> String {
        let freq = match self {
            Repeat::Weekly => "FREQ=WEEKLY",
            Repeat::Fortnightly => "FREQ=WEEKLY;INTERVAL=2",
            Repeat::Monthly => "FREQ=MONTHLY",
        };
        format!("{freq};COUNT={times}")
    }
}

/// The starts (epoch ms) a rule makes from a class's first start, the first included.
/// Refused naming `rule` when it does not parse, repeats more often than daily, never ends,
/// or makes more than [`MAX_SESSIONS`].
pub fn starts(first: i64, rule: &str) -> Result<Vec<i64>, FieldError> {
    let bad = |key: &'static str| FieldError::new("rule", key);
    let text = rule.trim().trim_start_matches("RRULE:");
    if text.is_empty() || text.len() > 200 || text.chars().any(crate::input::is_refused) {
        return Err(bad("events.rule_invalid"));
    }
    let parsed: RRule<Unvalidated> = text.parse().map_err(|_| bad("events.rule_invalid"))?;
    if matches!(parsed.get_freq(), Frequency::Hourly | Frequency::Minutely | Frequency::Secondly) {
        return Err(bad("events.rule_too_often"));
    }
    if parsed.get_count().is_none() && parsed.get_until().is_none() {
        return Err(bad("events.rule_endless"));
    }
    let start = Tz::Asia__Shanghai.timestamp_millis_opt(first).single().ok_or_else(|| bad("events.rule_invalid"))?;
    let set = parsed.build(start).map_err(|_| bad("events.rule_invalid"))?;
    let found = set.all(MAX_SESSIONS as u16 + 1).dates;
    if found.len() > MAX_SESSIONS {
        return Err(bad("events.rule_too_many").with("max", MAX_SESSIONS));
    }
    Ok(found.iter().map(|d| d.timestamp_millis()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate, Weekday};

    fn ms(y: i32, m: u32, d: u32, h: u32) -> i64 {
        crate::time::day_start_ms(NaiveDate::from_ymd_opt(y, m, d).unwrap()) + h as i64 * crate::time::HOUR_MS
    }

    #[test]
    fn a_weekly_class_meets_on_the_same_weekday_and_hour_in_china() {
        // Tuesday 2027-03-02, 19:00 in China.
        let got = starts(ms(2027, 3, 2, 19), &Repeat::Weekly.rule(12)).unwrap();
        assert_eq!(got.len(), 12);
        assert_eq!(got[0], ms(2027, 3, 2, 19));
        assert_eq!(got[11], ms(2027, 5, 18, 19));
        assert!(got.iter().all(|t| crate::time::day_of(*t).weekday() == Weekday::Tue));
        let fortnightly = starts(ms(2027, 3, 2, 19), &Repeat::Fortnightly.rule(3)).unwrap();
        assert_eq!(fortnightly, [ms(2027, 3, 2, 19), ms(2027, 3, 16, 19), ms(2027, 3, 30, 19)]);
        let monthly = starts(ms(2027, 1, 31, 9), &Repeat::Monthly.rule(3)).unwrap();
        assert_eq!(
            monthly,
            [ms(2027, 1, 31, 9), ms(2027, 3, 31, 9), ms(2027, 5, 31, 9)],
            "months without a 31st are skipped, as RFC 5545 says"
        );
    }

    #[test]
    fn any_rrule_is_taken_from_the_api_with_its_until() {
        let got = starts(ms(2027, 3, 1, 9), "RRULE:FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20270315T000000Z").unwrap();
        assert_eq!(got, [ms(2027, 3, 1, 9), ms(2027, 3, 4, 9), ms(2027, 3, 8, 9), ms(2027, 3, 11, 9)]);
    }

    #[test]
    fn a_rule_that_is_wrong_endless_too_often_or_too_long_is_refused_by_name() {
        let key = |rule: &str| starts(ms(2027, 3, 1, 9), rule).unwrap_err().key;
        assert_eq!(key("FREQ=FORTNIGHTLY;COUNT=3"), "events.rule_invalid");
        assert_eq!(key("FREQ=WEEKLY"), "events.rule_endless");
        assert_eq!(key("FREQ=HOURLY;COUNT=3"), "events.rule_too_often");
        assert_eq!(key("FREQ=DAILY;COUNT=500"), "events.rule_too_many");
        assert_eq!(key("FREQ=DAILY;COUNT=3\u{7}"), "events.rule_invalid");
        assert_eq!(starts(ms(2027, 3, 1, 9), "FREQ=DAILY").unwrap_err().field, "rule");
    }
}
