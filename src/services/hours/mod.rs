//! Opening hours that know the national holiday calendar: weekly rules with dates of
//! validity, exceptions for single days, and one calendar of public holidays and 调休
//! make-up working days that every schedule follows, so that no page says "open" on a
//! closed day. Open Referral's HSDS leaves holidays "to the application"; this is it.
//!
//! This module holds the rules: plain types and functions, no I/O. `store` keeps the
//! calendar and the hours of whatever a capability opens (a location, a warm station).

pub mod pages;
pub mod store;
pub mod view;

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::error::FieldError;

crate::text_enum! {
    /// A day the State Council's arrangement sets apart: a public holiday (off), or a
    /// Saturday or Sunday worked in exchange for one (a make-up working day 调休上班).
    pub enum Special {
        Off = "off",
        Work = "work",
    }
}

/// What a date is, as a schedule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    Workday,
    Weekend,
    Holiday,
    /// A weekend day worked: it keeps Monday's hours, as offices announce.
    MakeUpWorkday,
}

/// One day of the calendar as the platform admin keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HolidayDay {
    pub day: NaiveDate,
    pub special: Special,
    /// 春节, 国庆节…
    pub name: String,
    /// Not yet announced by the State Council: the statutory days only, to be confirmed.
    pub provisional: bool,
}

/// The national calendar: the days that are not what their weekday says.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    days: BTreeMap<NaiveDate, HolidayDay>,
}

impl Calendar {
    pub fn new(days: impl IntoIterator<Item = HolidayDay>) -> Calendar {
        Calendar { days: days.into_iter().map(|d| (d.day, d)).collect() }
    }

    pub fn kind(&self, day: NaiveDate) -> DayKind {
        match self.days.get(&day).map(|d| d.special) {
            Some(Special::Off) => DayKind::Holiday,
            Some(Special::Work) => DayKind::MakeUpWorkday,
            None if day.weekday().number_from_monday() >= 6 => DayKind::Weekend,
            None => DayKind::Workday,
        }
    }

    /// The holiday's (or make-up day's) entry, if the date has one.
    pub fn special(&self, day: NaiveDate) -> Option<&HolidayDay> {
        self.days.get(&day)
    }

    pub fn days(&self) -> impl Iterator<Item = &HolidayDay> {
        self.days.values()
    }
}

/// Minutes from midnight; 24:00 is 1440.
pub type Minute = u16;

pub const DAY_END: Minute = 24 * 60;

/// A weekly rule: on these weekdays, from `opens` to `closes`, between two dates.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    /// Monday is bit 0, Sunday bit 6.
    pub weekdays: u8,
    pub opens: Minute,
    pub closes: Minute,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// Kept on public holidays too (a warm station); else closed on them.
    pub on_holidays: bool,
}

/// A single day that differs: closed (no span), or open at other times.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Exception {
    pub day: NaiveDate,
    pub span: Option<(Minute, Minute)>,
    pub note: String,
}

/// A place's hours: its weekly rules and its exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hours {
    pub rules: Vec<Rule>,
    pub exceptions: Vec<Exception>,
}

fn weekday_bit(day: NaiveDate) -> u8 {
    1 << day.weekday().num_days_from_monday()
}

impl Rule {
    fn covers(&self, day: NaiveDate, weekday: u8) -> bool {
        self.weekdays & weekday != 0
            && self.valid_from.is_none_or(|f| day >= f)
            && self.valid_until.is_none_or(|u| day <= u)
    }

    /// The fields that break a rule: a weekday at least, closing after opening, within a
    /// day, and valid until no earlier than from.
    pub fn check(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.weekdays == 0 || self.weekdays > 0x7f {
            e.push(FieldError::new("weekdays", "hours.weekdays_required"));
        }
        if self.closes > DAY_END {
            e.push(FieldError::new("closes", "hours.time_format"));
        } else if self.closes <= self.opens {
            e.push(FieldError::new("closes", "hours.ends_before_start"));
        }
        if let (Some(f), Some(u)) = (self.valid_from, self.valid_until)
            && u < f
        {
            e.push(FieldError::new("valid_until", "hours.until_before_from"));
        }
        e
    }
}

impl Exception {
    pub fn check(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        crate::input::check_text(&mut e, "note", &self.note, 60, false);
        if let Some((opens, closes)) = self.span
            && (closes > DAY_END || closes <= opens)
        {
            e.push(FieldError::new("closes", "hours.ends_before_start"));
        }
        e
    }
}

impl Hours {
    /// The times open on a day, sorted and merged: the day's exceptions if it has any,
    /// else the rules that hold on it (a holiday keeps only those kept on holidays; a
    /// make-up working day keeps Monday's).
    pub fn spans(&self, calendar: &Calendar, day: NaiveDate) -> Vec<(Minute, Minute)> {
        let exceptions: Vec<&Exception> = self.exceptions.iter().filter(|x| x.day == day).collect();
        let mut spans: Vec<(Minute, Minute)> = if exceptions.is_empty() {
            let kind = calendar.kind(day);
            let weekday = if kind == DayKind::MakeUpWorkday { 1 } else { weekday_bit(day) };
            self.rules
                .iter()
                .filter(|r| r.covers(day, weekday) && (kind != DayKind::Holiday || r.on_holidays))
                .map(|r| (r.opens, r.closes))
                .collect()
        } else {
            exceptions.iter().filter_map(|x| x.span).collect()
        };
        spans.sort_unstable();
        let mut merged: Vec<(Minute, Minute)> = Vec::with_capacity(spans.len());
        for (a, b) in spans {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        merged
    }

    pub fn open_at(&self, calendar: &Calendar, at: NaiveDateTime) -> bool {
        let m = minute_of(at.time());
        self.spans(calendar, at.date()).iter().any(|&(a, b)| a <= m && m < b)
    }

    /// When it next opens at or after `from` (now, if open), looking a year ahead.
    pub fn next_open(&self, calendar: &Calendar, from: NaiveDateTime) -> Option<NaiveDateTime> {
        let m = minute_of(from.time());
        for ahead in 0..=366 {
            let day = from.date() + Duration::days(ahead);
            for (a, b) in self.spans(calendar, day) {
                if ahead > 0 || b > m {
                    let start = if ahead == 0 { a.max(m) } else { a };
                    return Some(at_minute(day, start));
                }
            }
        }
        None
    }

    /// Whether the whole of `start..end` (one day) lies within one span.
    pub fn holds(&self, calendar: &Calendar, day: NaiveDate, start: Minute, end: Minute) -> bool {
        self.spans(calendar, day).iter().any(|&(a, b)| a <= start && end <= b)
    }
}

pub fn minute_of(t: NaiveTime) -> Minute {
    (t.hour() * 60 + t.minute()) as Minute
}

pub fn at_minute(day: NaiveDate, m: Minute) -> NaiveDateTime {
    if m >= DAY_END {
        (day + Duration::days(1)).and_time(NaiveTime::MIN)
    } else {
        day.and_time(NaiveTime::from_hms_opt(u32::from(m / 60), u32::from(m % 60), 0).unwrap_or(NaiveTime::MIN))
    }
}

/// `08:30` (or `24:00`) as minutes from midnight.
pub fn parse_time(s: &str) -> Option<Minute> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0)) && s.trim().len() == 5).then_some(h * 60 + m)
}

/// Minutes as `08:30`.
pub fn show_time(m: Minute) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// The weekdays of a mask, Monday first (1 = Monday … 7 = Sunday).
pub fn weekdays_of(mask: u8) -> Vec<u8> {
    (0..7).filter(|i| mask & (1 << i) != 0).map(|i| i + 1).collect()
}

/// A mask from weekday numbers (1 = Monday … 7 = Sunday); none out of range.
pub fn mask_of(days: &[u8]) -> Option<u8> {
    days.iter().try_fold(0u8, |m, &d| (1..=7).contains(&d).then_some(m | (1 << (d - 1))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn at(m: u32, day: u32, h: u32, min: u32) -> NaiveDateTime {
        d(m, day).and_hms_opt(h, min, 0).unwrap()
    }

    /// The 2026 Spring Festival: Feb 15–23 off, Feb 14 (Saturday) and Feb 28 worked.
    fn spring_festival() -> Calendar {
        let mut days: Vec<HolidayDay> = (15..=23)
            .map(|x| HolidayDay { day: d(2, x), special: Special::Off, name: "春节".into(), provisional: false })
            .collect();
        for x in [14, 28] {
            days.push(HolidayDay { day: d(2, x), special: Special::Work, name: "春节".into(), provisional: false });
        }
        Calendar::new(days)
    }

    fn office() -> Hours {
        Hours {
            rules: vec![
                Rule {
                    weekdays: mask_of(&[1, 2, 3, 4, 5]).unwrap(),
                    opens: 8 * 60 + 30,
                    closes: 12 * 60,
                    valid_from: None,
                    valid_until: None,
                    on_holidays: false,
                },
                Rule {
                    weekdays: mask_of(&[1, 2, 3, 4, 5]).unwrap(),
                    opens: 14 * 60,
                    closes: 17 * 60 + 30,
                    valid_from: None,
                    valid_until: None,
                    on_holidays: false,
                },
            ],
            exceptions: vec![],
        }
    }

    #[test]
    fn the_calendar_tells_holidays_make_up_days_and_weekends() {
        let c = spring_festival();
        assert_eq!(c.kind(d(2, 16)), DayKind::Holiday, "a Monday off");
        assert_eq!(c.kind(d(2, 14)), DayKind::MakeUpWorkday, "a Saturday worked");
        assert_eq!(c.kind(d(2, 7)), DayKind::Weekend);
        assert_eq!(c.kind(d(2, 10)), DayKind::Workday);
    }

    #[test]
    fn an_office_is_closed_on_a_holiday_monday_and_open_on_a_make_up_saturday() {
        let (c, h) = (spring_festival(), office());
        assert!(h.open_at(&c, at(2, 9, 9, 0)), "an ordinary Monday");
        assert!(!h.open_at(&c, at(2, 16, 9, 0)), "Monday of the Spring Festival");
        assert!(h.open_at(&c, at(2, 14, 9, 0)), "the make-up Saturday keeps Monday's hours");
        assert!(!h.open_at(&c, at(2, 7, 9, 0)), "an ordinary Saturday");
        assert!(!h.open_at(&c, at(2, 9, 12, 30)), "the lunch break");
        assert!(!h.open_at(&c, at(2, 9, 17, 30)), "closing time is closed");
        assert_eq!(h.next_open(&c, at(2, 13, 18, 0)), Some(at(2, 14, 8, 30)));
        assert_eq!(h.next_open(&c, at(2, 15, 10, 0)), Some(at(2, 24, 8, 30)), "after the holiday");
        assert_eq!(h.next_open(&c, at(2, 24, 10, 0)), Some(at(2, 24, 10, 0)), "open now");
    }

    #[test]
    fn a_rule_kept_on_holidays_stays_open_and_an_exception_wins() {
        let c = spring_festival();
        let mut station = Hours {
            rules: vec![Rule {
                weekdays: 0x7f,
                opens: 8 * 60,
                closes: DAY_END - 2 * 60,
                valid_from: None,
                valid_until: None,
                on_holidays: true,
            }],
            exceptions: vec![],
        };
        assert!(station.open_at(&c, at(2, 17, 21, 59)));
        station.exceptions.push(Exception { day: d(2, 17), span: None, note: "除夕".into() });
        station.exceptions.push(Exception { day: d(2, 18), span: Some((10 * 60, 12 * 60)), note: String::new() });
        assert!(!station.open_at(&c, at(2, 17, 9, 0)), "closed for the day");
        assert_eq!(station.spans(&c, d(2, 18)), [(600, 720)], "other hours");
    }

    #[test]
    fn rules_hold_between_their_dates_and_overlapping_rules_merge() {
        let c = Calendar::default();
        let summer = Rule {
            weekdays: 0x7f,
            opens: 9 * 60,
            closes: 12 * 60,
            valid_from: Some(d(6, 1)),
            valid_until: Some(d(8, 31)),
            on_holidays: true,
        };
        let h = Hours {
            rules: vec![summer.clone(), Rule { opens: 11 * 60, closes: 13 * 60, ..summer }],
            exceptions: vec![],
        };
        assert_eq!(h.spans(&c, d(7, 1)), [(540, 780)]);
        assert!(h.spans(&c, d(9, 1)).is_empty());
        assert!(h.holds(&c, d(7, 1), 600, 760));
        assert!(!h.holds(&c, d(7, 1), 500, 600));
    }

    #[test]
    fn bad_hours_are_named() {
        let r = Rule {
            weekdays: 0,
            opens: 600,
            closes: 540,
            valid_from: Some(d(2, 2)),
            valid_until: Some(d(2, 1)),
            on_holidays: false,
        };
        let fields: Vec<String> = r.check().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["weekdays", "closes", "valid_until"]);
        assert_eq!(parse_time("08:30"), Some(510));
        assert_eq!(parse_time("24:00"), Some(1440));
        for bad in ["24:01", "8:30", "08:60", "xx:00", ""] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(mask_of(&[1, 7]), Some(0b100_0001));
        assert_eq!(mask_of(&[8]), None);
        assert_eq!(weekdays_of(0b100_0001), [1, 7]);
        assert_eq!(show_time(510), "08:30");
    }
}
