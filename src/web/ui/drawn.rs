//! The parts drawn from numbers: bar charts, maps, QR codes, a month calendar, a
//! time-slot grid, a roll-call, key figures and a timeline.

use super::Tone;
use crate::web::PageCtx;

/// Horizontal bars, one per row, scaled to the largest value (numbers for the drawing).
#[derive(Debug, Clone, Default)]
pub struct Bars {
    pub title: String,
    pub width: f64,
    pub height: f64,
    pub label_x: f64,
    pub bar_x: f64,
    pub rows: Vec<Bar>,
}

#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: String,
    pub width: String,
    pub bar_y: f64,
    pub text_y: f64,
    pub value_x: String,
}

impl Bars {
    /// What the chart says in words, its name for those who cannot see it: the title,
    /// then each bar's label and value.
    pub fn summary(&self) -> String {
        let rows: Vec<String> = self.rows.iter().map(|r| format!("{} {}", r.label, r.value)).collect();
        if self.title.is_empty() { rows.join("; ") } else { format!("{}: {}", self.title, rows.join("; ")) }
    }

    /// Bars for `(label, value)`, the value shown with `suffix`.
    pub fn new(title: impl Into<String>, items: &[(String, f64)], suffix: &str) -> Bars {
        let (row, label_w, bar_w) = (28.0, 120.0, 260.0);
        let max = items.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max).max(1e-9);
        let rows = items
            .iter()
            .enumerate()
            .map(|(i, (label, value))| {
                let y = i as f64 * row;
                let w = (value / max * bar_w).max(if *value > 0.0 { 2.0 } else { 0.0 });
                let shown = if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.1}") };
                Bar {
                    label: label.clone(),
                    value: format!("{shown}{suffix}"),
                    width: format!("{w:.1}"),
                    bar_y: y + 6.0,
                    text_y: y + 18.0,
                    value_x: format!("{:.1}", label_w + w + 6.0),
                }
            })
            .collect();
        Bars {
            title: title.into(),
            width: label_w + bar_w + 70.0,
            height: (items.len() as f64 * row).max(row),
            label_x: label_w - 8.0,
            bar_x: label_w,
            rows,
        }
    }
}

/// A photo's thumbnail and where it leads.
#[derive(Debug, Clone)]
pub struct Photo {
    pub href: String,
    pub thumb: String,
}

/// A map drawn from shapes (SVG path data) and markers, in its own coordinates.
#[derive(Debug, Clone, Default)]
pub struct MapView {
    pub title: String,
    pub width: f64,
    pub height: String,
    pub shapes: Vec<MapShape>,
    pub markers: Vec<MapMarker>,
    /// The same shapes and markers in degrees (JSON), for drawing them over a base map
    /// when the deployment has a tile server.
    pub geo: String,
}

impl MapView {
    /// Whether a shape or marker leads somewhere: then the map is a group of links, not
    /// one picture (a picture may not hold links).
    pub fn linked(&self) -> bool {
        self.shapes.iter().any(|s| s.href.is_some()) || self.markers.iter().any(|m| m.href.is_some())
    }
}

#[derive(Debug, Clone)]
pub struct MapShape {
    /// SVG path data: numbers and path letters only.
    pub d: String,
    pub class: &'static str,
    pub href: Option<String>,
    pub label: String,
    pub label_x: String,
    pub label_y: String,
}

#[derive(Debug, Clone)]
pub struct MapMarker {
    pub x: String,
    pub y: String,
    pub class: &'static str,
    pub title: String,
    pub href: Option<String>,
}

/// A QR code as the path of its dark modules.
#[derive(Debug, Clone)]
pub struct Qr {
    pub title: String,
    pub size: usize,
    pub path: String,
}

impl Qr {
    /// None when the data is too long for any QR version.
    pub fn new(title: impl Into<String>, data: &str) -> Option<Qr> {
        let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
        let width = code.width();
        let quiet = 2;
        let mut path = String::new();
        for (i, c) in code.to_colors().iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (x, y) = (i % width + quiet, i / width + quiet);
                path.push_str(&format!("M{x} {y}h1v1h-1z"));
            }
        }
        Some(Qr { title: title.into(), size: width + 2 * quiet, path })
    }
}

/// A line in a calendar day.
#[derive(Debug, Clone)]
pub struct CalendarLine {
    pub text: String,
    pub href: String,
    pub tone: Tone,
}

#[derive(Debug, Clone)]
pub struct Day {
    pub label: String,
    pub in_month: bool,
    pub today: bool,
    pub href: Option<String>,
    pub lines: Vec<CalendarLine>,
}

/// A month of weeks (Monday first), each day with its lines.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub title: String,
    pub prev: String,
    pub next: String,
    pub prev_label: String,
    pub next_label: String,
    pub weekdays: Vec<String>,
    pub weeks: Vec<Vec<Day>>,
}

impl Calendar {
    /// The weeks that hold `month`'s days; `lines` gives each day's lines, `href` its link.
    pub fn month(
        ctx: &PageCtx,
        month: chrono::NaiveDate,
        today: chrono::NaiveDate,
        base: &str,
        lines: impl Fn(chrono::NaiveDate) -> Vec<CalendarLine>,
        href: impl Fn(chrono::NaiveDate) -> Option<String>,
    ) -> Calendar {
        use chrono::{Datelike, Duration};
        let first = month.with_day(1).unwrap_or(month);
        let start = first - Duration::days(i64::from(first.weekday().num_days_from_monday()));
        let next_month = (first + Duration::days(32)).with_day(1).unwrap_or(first);
        let prev_month = (first - Duration::days(1)).with_day(1).unwrap_or(first);
        let mut weeks = Vec::new();
        let mut day = start;
        while day < next_month || weeks.is_empty() {
            let week = (0..7)
                .map(|i| {
                    let d = day + Duration::days(i);
                    Day {
                        label: d.day().to_string(),
                        in_month: d.month() == first.month(),
                        today: d == today,
                        href: href(d),
                        lines: lines(d),
                    }
                })
                .collect();
            weeks.push(week);
            day += Duration::days(7);
        }
        let weekdays =
            ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].iter().map(|d| ctx.t(&format!("weekday.{d}"))).collect();
        Calendar {
            title: first.format("%Y-%m").to_string(),
            prev: format!("{base}?month={}", prev_month.format("%Y-%m")),
            next: format!("{base}?month={}", next_month.format("%Y-%m")),
            prev_label: ctx.t("calendar.prev"),
            next_label: ctx.t("calendar.next"),
            weekdays,
            weeks,
        }
    }
}

/// Whether a slot may be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    Free,
    Taken,
    Closed,
    Mine,
}

impl SlotState {
    pub fn as_str(self) -> &'static str {
        match self {
            SlotState::Free => "free",
            SlotState::Taken => "taken",
            SlotState::Closed => "closed",
            SlotState::Mine => "mine",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Slot {
    pub label: String,
    pub state: SlotState,
    pub href: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SlotRow {
    pub time: String,
    pub slots: Vec<Slot>,
}

/// Times down, places or days across.
#[derive(Debug, Clone, Default)]
pub struct SlotGrid {
    pub columns: Vec<String>,
    pub rows: Vec<SlotRow>,
}

#[derive(Debug, Clone)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub sub: String,
    pub checked: bool,
}

/// A roll-call: one box per person, sent as `field`.
#[derive(Debug, Clone)]
pub struct RollCall {
    pub title: String,
    pub field: String,
    pub people: Vec<Person>,
}

/// A key figure that leads to what it counts.
#[derive(Debug, Clone, Default)]
pub struct Kpi {
    pub label: String,
    pub value: String,
    pub unit: String,
    pub note: String,
    pub href: Option<String>,
    pub tone: Tone,
}

/// Where a step of a timeline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Done,
    Current,
    Todo,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Done => "done",
            StepState::Current => "current",
            StepState::Todo => "todo",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub title: String,
    pub at: String,
    pub note: String,
    pub state: StepState,
}
