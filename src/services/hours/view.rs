//! Hours as people read and type them: a rule in words, the week ahead with what the
//! holiday calendar makes of each day, the forms that set hours, and what they send read
//! back into rules and exceptions (each bad field named). Shared by whatever opens.

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{Map, Value};

use super::store::Change;
use super::{Calendar, DayKind, Exception, Hours, Rule};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::PageCtx;
use crate::web::form::Fields;
use crate::web::ui::{Cell, Form, Input, InputKind, Refusal, Table};

pub fn weekday_name(ctx: &PageCtx, n: u8) -> String {
    ctx.t(&format!("hours.weekday.{n}"))
}

pub fn spans_text(spans: &[(super::Minute, super::Minute)]) -> String {
    spans
        .iter()
        .map(|(a, b)| format!("{}–{}", super::show_time(*a), super::show_time(*b)))
        .collect::<Vec<_>>()
        .join("、")
}

/// A rule in words: 周一、周二 08:30–12:00 (2026-01-01 起 · 节假日照常).
pub fn rule_text(ctx: &PageCtx, r: &Rule) -> String {
    let days: Vec<String> = super::weekdays_of(r.weekdays).into_iter().map(|d| weekday_name(ctx, d)).collect();
    let mut out = format!("{} {}", days.join("、"), spans_text(&[(r.opens, r.closes)]));
    if let Some(f) = r.valid_from {
        out.push_str(&format!(" · {}", ctx.tr("hours.from", "date", f)));
    }
    if let Some(u) = r.valid_until {
        out.push_str(&format!(" · {}", ctx.tr("hours.until", "date", u)));
    }
    if r.on_holidays {
        out.push_str(&format!(" · {}", ctx.t("hours.on_holidays")));
    }
    out
}

/// All of a listing's weekly rules in words, or that it has none.
pub fn hours_text(ctx: &PageCtx, h: &Hours) -> String {
    if h.rules.is_empty() {
        return ctx.t("directory.no_hours");
    }
    h.rules.iter().map(|r| rule_text(ctx, r)).collect::<Vec<_>>().join("；")
}

/// The seven days from `today`: each with what the calendar makes of it and the hours.
pub fn week_table(ctx: &PageCtx, h: &Hours, calendar: &Calendar, today: NaiveDate) -> Table {
    let rows = (0..7)
        .map(|i| {
            let day = today + Duration::days(i);
            let weekday = weekday_name(ctx, day.weekday().number_from_monday() as u8);
            let what = match (calendar.kind(day), calendar.special(day)) {
                (DayKind::Holiday, Some(s)) => ctx.tr("hours.holiday", "name", &s.name),
                (DayKind::MakeUpWorkday, Some(s)) => ctx.tr("hours.make_up", "name", &s.name),
                _ => String::new(),
            };
            let spans = h.spans(calendar, day);
            let note = h.exceptions.iter().find(|x| x.day == day).map(|x| x.note.clone()).unwrap_or_default();
            let open = if spans.is_empty() { ctx.t("hours.closed") } else { spans_text(&spans) };
            vec![
                Cell::text(format!("{} {weekday}", day.format("%m-%d"))),
                Cell::text([what, note].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ")),
                Cell::text(open),
            ]
        })
        .collect();
    Table {
        head: vec![ctx.t("hours.day"), ctx.t("hours.note"), ctx.t("directory.hours")],
        rows,
        empty: String::new(),
        sort: Vec::new(),
    }
}

fn weekday_options(ctx: &PageCtx) -> Vec<(String, String)> {
    (1..=7).map(|d| (d.to_string(), weekday_name(ctx, d))).collect()
}

/// Which of the hours forms was sent: each owner routes the three to one handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Rule,
    Exception,
    Clear,
}

impl Edit {
    /// Where its form posts, after the owner's page.
    pub fn path(self) -> &'static str {
        match self {
            Edit::Rule => "hours",
            Edit::Exception => "exceptions",
            Edit::Clear => "hours/clear",
        }
    }

    /// What the form sent, as a change of the hours (each bad field named).
    pub fn read(self, m: &Map<String, Value>) -> AppResult<Change> {
        match self {
            Edit::Rule => rule_of(m).map(Change::Rule),
            Edit::Exception => exception_of(m).map(Change::Exception),
            Edit::Clear => Ok(Change::Clear),
        }
    }
}

/// The forms that add a weekly rule, add a day's exception and clear the hours, posting
/// to `{base}/` and each `Edit`'s path.
pub fn hours_forms(ctx: &PageCtx, base: &str, r: &Refusal) -> Vec<Form> {
    let rule = Form::new(ctx.t("hours.add_rule"), format!("{base}/{}", Edit::Rule.path()), ctx.t("hours.add_rule"))
        .input(Input::new("weekdays", ctx.t("hours.weekdays"), InputKind::Many(weekday_options(ctx))).required())
        .input(Input::new("opens", ctx.t("hours.opens"), InputKind::Text).required().hint("08:30"))
        .input(Input::new("closes", ctx.t("hours.closes"), InputKind::Text).required().hint("17:30"))
        .input(Input::new("valid_from", ctx.t("hours.valid_from"), InputKind::Date))
        .input(Input::new("valid_until", ctx.t("hours.valid_until"), InputKind::Date))
        .input(
            Input::new("on_holidays", ctx.t("hours.on_holidays"), InputKind::Checkbox)
                .hint(ctx.t("hours.on_holidays_hint")),
        )
        .folded()
        .refused(r);
    let exception = Form::new(
        ctx.t("hours.add_exception"),
        format!("{base}/{}", Edit::Exception.path()),
        ctx.t("hours.add_exception"),
    )
    .input(Input::new("day", ctx.t("hours.day"), InputKind::Date).required())
    .input(Input::new("opens", ctx.t("hours.opens"), InputKind::Text).hint(ctx.t("hours.exception_hint")))
    .input(Input::new("closes", ctx.t("hours.closes"), InputKind::Text))
    .input(Input::new("note", ctx.t("hours.note"), InputKind::Text))
    .folded()
    .refused(r);
    let clear = Form::new(ctx.t("hours.clear"), format!("{base}/{}", Edit::Clear.path()), ctx.t("hours.clear"))
        .danger(ctx.t("hours.clear_confirm"))
        .folded()
        .refused(r);
    vec![rule, exception, clear]
}

fn time_field(errors: &mut Vec<FieldError>, f: &Fields<'_>, name: &str, required: bool) -> Option<super::Minute> {
    match f.opt(name) {
        Some(t) => super::parse_time(&t).or_else(|| {
            errors.push(FieldError::new(name, "hours.time_format"));
            None
        }),
        None => {
            if required {
                errors.push(FieldError::new(name, "validation.required"));
            }
            None
        }
    }
}

/// A weekly rule as the form sends it, each bad field named.
pub fn rule_of(m: &Map<String, Value>) -> AppResult<Rule> {
    let mut f = Fields::new(m);
    let mut errors = Vec::new();
    let days: Option<Vec<u8>> = f.list("weekdays").iter().map(|d| d.parse::<u8>().ok()).collect();
    let weekdays = days.as_deref().and_then(super::mask_of).unwrap_or(0);
    let opens = time_field(&mut errors, &f, "opens", true);
    let closes = time_field(&mut errors, &f, "closes", true);
    let (valid_from, valid_until) = (f.date("valid_from"), f.date("valid_until"));
    if let Err(AppError::Invalid(e)) = f.checked() {
        errors.extend(e);
    }
    let rule = Rule {
        weekdays,
        opens: opens.unwrap_or(0),
        closes: closes.unwrap_or(0),
        valid_from,
        valid_until,
        on_holidays: f.yes("on_holidays"),
    };
    if opens.is_some() && closes.is_some() {
        errors.extend(rule.check());
    } else {
        errors.extend(rule.check().into_iter().filter(|e| e.field != "closes"));
    }
    if errors.is_empty() { Ok(rule) } else { Err(AppError::Invalid(errors)) }
}

/// A day's exception as the form sends it: no times is closed all day.
pub fn exception_of(m: &Map<String, Value>) -> AppResult<Exception> {
    let mut f = Fields::new(m);
    let mut errors = Vec::new();
    let day = f.date("day");
    if f.opt("day").is_none() {
        errors.push(FieldError::new("day", "validation.required"));
    }
    let opens = time_field(&mut errors, &f, "opens", f.opt("closes").is_some());
    let closes = time_field(&mut errors, &f, "closes", f.opt("opens").is_some());
    if let Err(AppError::Invalid(e)) = f.checked() {
        errors.extend(e);
    }
    let x = Exception { day: day.unwrap_or_default(), span: opens.zip(closes), note: f.text("note") };
    errors.extend(x.check());
    if errors.is_empty() { Ok(x) } else { Err(AppError::Invalid(errors)) }
}
