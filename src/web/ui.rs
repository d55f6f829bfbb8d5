//! The data the page parts (`templates/ui/components.html`) draw: figures, lines, tags,
//! tabs, tables, forms with inline errors, charts, maps, QR codes, a month calendar, a
//! time-slot grid, a roll-call, key figures and a timeline. A page's handler loads its
//! data, builds these, and its template composes the parts; all text is escaped there.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{PageCtx, PageError, PageResult};
use crate::error::AppError;

/// The colour of a tag, a key figure or a calendar line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    #[default]
    Blue,
    Green,
    Orange,
    Red,
    Grey,
}

impl Tone {
    pub fn class(self) -> &'static str {
        match self {
            Tone::Blue => "tag-blue",
            Tone::Green => "tag-green",
            Tone::Orange => "tag-orange",
            Tone::Red => "tag-red",
            Tone::Grey => "tag-grey",
        }
    }
}

/// A short coloured label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub text: String,
    pub tone: Tone,
}

impl Tag {
    pub fn new(text: impl Into<String>, tone: Tone) -> Tag {
        Tag { text: text.into(), tone }
    }
}

/// A figure: big number, label, maybe a link.
#[derive(Debug, Clone)]
pub struct Stat {
    pub label: String,
    pub value: String,
    pub href: Option<String>,
}

/// A line of a list: title, a line under it, a link, and maybe a tag.
#[derive(Debug, Clone, Default)]
pub struct Item {
    pub title: String,
    pub sub: String,
    pub href: Option<String>,
    pub tag: Option<Tag>,
}

impl Item {
    /// A line that links somewhere.
    pub fn link(title: impl Into<String>, sub: impl Into<String>, href: impl Into<String>) -> Item {
        Item { title: title.into(), sub: sub.into(), href: Some(href.into()), tag: None }
    }
}

/// A square of a home's icon grid (宫格): one of the role's main actions, with what
/// waits behind it (to do, unread, overdue) as a badge.
#[derive(Debug, Clone)]
pub struct Tile {
    pub label: String,
    pub href: String,
    /// The name of its icon in `templates/icon.html`.
    pub icon: &'static str,
    /// Shown when above zero; red when it is overdue or escalated.
    pub badge: i64,
    pub urgent: bool,
}

impl Tile {
    pub fn new(label: impl Into<String>, href: impl Into<String>, icon: &'static str) -> Tile {
        Tile { label: label.into(), href: href.into(), icon, badge: 0, urgent: false }
    }

    pub fn badge(mut self, n: i64) -> Tile {
        self.badge = n;
        self
    }

    pub fn urgent(mut self) -> Tile {
        self.urgent = true;
        self
    }
}

/// One of a row of tabs.
#[derive(Debug, Clone)]
pub struct Tab {
    pub href: String,
    pub label: String,
    pub on: bool,
}

/// A table cell, maybe a link.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), href: None }
    }
    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell { text: text.into(), href: Some(href.into()) }
    }
}

/// A table; on phones each row becomes a card of labelled cells.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub empty: String,
}

impl Table {
    pub fn head_at(&self, i: impl std::borrow::Borrow<usize>) -> &str {
        self.head.get(*i.borrow()).map(String::as_str).unwrap_or("")
    }
}

#[derive(Debug, Clone)]
pub enum InputKind {
    Text,
    TextArea,
    Number,
    Date,
    DateTime,
    Tel,
    Password,
    Select(Vec<(String, String)>),
    /// Several choices from a list (checkboxes).
    Many(Vec<(String, String)>),
    Checkbox,
    File,
    Hidden,
    /// A button that fills the form's `lat` and `lng` from the phone's location.
    Locate,
}

#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub label: String,
    pub kind: InputKind,
    pub value: String,
    pub values: Vec<String>,
    pub required: bool,
    pub hint: String,
    pub error: Option<String>,
}

impl Input {
    pub fn new(name: &str, label: impl Into<String>, kind: InputKind) -> Input {
        Input {
            name: name.into(),
            label: label.into(),
            kind,
            value: String::new(),
            values: Vec::new(),
            required: false,
            hint: String::new(),
            error: None,
        }
    }

    pub fn hidden(name: &str, value: impl ToString) -> Input {
        Input::new(name, "", InputKind::Hidden).value(value)
    }

    pub fn value(mut self, v: impl ToString) -> Input {
        self.value = v.to_string();
        self
    }

    pub fn values(mut self, v: Vec<String>) -> Input {
        self.values = v;
        self
    }

    pub fn required(mut self) -> Input {
        self.required = true;
        self
    }

    pub fn hint(mut self, h: impl Into<String>) -> Input {
        self.hint = h.into();
        self
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            InputKind::Text => "text",
            InputKind::TextArea => "textarea",
            InputKind::Number => "number",
            InputKind::Date => "date",
            InputKind::DateTime => "datetime",
            InputKind::Tel => "tel",
            InputKind::Password => "password",
            InputKind::Select(_) => "select",
            InputKind::Many(_) => "many",
            InputKind::Checkbox => "checkbox",
            InputKind::File => "file",
            InputKind::Hidden => "hidden",
            InputKind::Locate => "locate",
        }
    }

    pub fn options(&self) -> Vec<(String, String, bool)> {
        match &self.kind {
            InputKind::Select(o) => o.iter().map(|(v, l)| (v.clone(), l.clone(), *v == self.value)).collect(),
            InputKind::Many(o) => o.iter().map(|(v, l)| (v.clone(), l.clone(), self.values.contains(v))).collect(),
            _ => Vec::new(),
        }
    }
}

/// A form: its fields, what its button says, and whether it asks before it acts.
#[derive(Debug, Clone)]
pub struct Form {
    pub title: String,
    pub action: String,
    pub inputs: Vec<Input>,
    pub submit: String,
    pub danger: bool,
    pub multipart: bool,
    /// Folded away until opened (secondary actions).
    pub folded: bool,
    /// A plain GET form (search, filters): no form token.
    pub get: bool,
    /// Asked before it is sent (what cannot be undone, what spends), when not empty.
    pub confirm: String,
    /// Why it cannot be sent now (积分不足, 已达上限), when not empty: the button is
    /// disabled and says so.
    pub unavailable: String,
    pub id: String,
}

impl Form {
    pub fn new(title: impl Into<String>, action: impl Into<String>, submit: impl Into<String>) -> Form {
        let action = action.into();
        let id = Form::id_for(&action);
        Form {
            title: title.into(),
            action,
            inputs: Vec::new(),
            submit: submit.into(),
            danger: false,
            multipart: false,
            folded: false,
            get: false,
            confirm: String::new(),
            unavailable: String::new(),
            id,
        }
    }

    /// The id a form posting to `action` has (so a refusal finds its form again).
    pub fn id_for(action: &str) -> String {
        action.trim_start_matches('/').replace(['/', '?', '=', '&', '.'], "-")
    }

    pub fn input(mut self, i: Input) -> Form {
        if matches!(i.kind, InputKind::File) {
            self.multipart = true;
        }
        self.inputs.push(i);
        self
    }

    pub fn folded(mut self) -> Form {
        self.folded = true;
        self
    }

    pub fn danger(mut self) -> Form {
        self.danger = true;
        self
    }

    pub fn get(mut self) -> Form {
        self.get = true;
        self
    }

    pub fn confirm(mut self, question: impl Into<String>) -> Form {
        self.confirm = question.into();
        self
    }

    pub fn unavailable(mut self, why: impl Into<String>) -> Form {
        self.unavailable = why.into();
        self
    }

    /// Puts back what was typed and the errors after a refusal of this form (and opens it).
    pub fn refused(mut self, r: &Refusal) -> Form {
        if r.form_id != self.id {
            return self;
        }
        self.folded = false;
        for i in &mut self.inputs {
            match r.typed.get(&i.name) {
                Some(Value::Array(items)) => {
                    i.values = items.iter().filter_map(|x| x.as_str().map(String::from)).collect();
                    if let Some(last) = i.values.last() {
                        i.value = last.clone();
                    }
                }
                Some(Value::String(s)) => {
                    if !matches!(i.kind, InputKind::Password | InputKind::File) {
                        i.value = s.clone();
                    }
                    i.values = vec![s.clone()];
                }
                _ => {}
            }
            i.error = r.errors.get(&i.name).cloned();
        }
        self
    }
}

/// A form post that was refused: what was typed and each error by its field, for the page
/// that shows the form again; and the line above it (`alert`) with what no field shows.
#[derive(Debug, Clone, Default)]
pub struct Refusal {
    pub form_id: String,
    pub typed: Map<String, Value>,
    pub errors: BTreeMap<String, String>,
    pub alert: Option<String>,
}

impl Refusal {
    /// No refusal: a page shown as it is.
    pub fn none() -> Refusal {
        Refusal::default()
    }

    /// The alert, given the forms the page shows (errors no form field shows go in it).
    pub fn alert_for(&self, forms: &[&Form]) -> Option<String> {
        let shown = |k: &String| forms.iter().any(|f| f.id == self.form_id && f.inputs.iter().any(|i| &i.name == k));
        let stray: Vec<String> = self.errors.iter().filter(|(k, _)| !shown(k)).map(|(_, v)| v.clone()).collect();
        self.alert.as_ref().map(|a| std::iter::once(a.clone()).chain(stray).collect::<Vec<_>>().join(" "))
    }
}

/// Shows a refused form post on the page it came from (built again by `page`), with what
/// was typed and each error by its field, answered 422 (or 409 for a refusal of state);
/// other errors are error pages.
pub async fn refused<F, Fut>(
    e: AppError,
    ctx: PageCtx,
    typed: &Map<String, Value>,
    form_action: &str,
    page: F,
) -> PageResult
where
    F: FnOnce(PageCtx, Refusal) -> Fut,
    Fut: std::future::Future<Output = PageResult>,
{
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => {
            let errors = e.field_messages(ctx.lang);
            let alert = if errors.is_empty() { e.message(ctx.lang) } else { ctx.t("form.has_errors") };
            let r = Refusal { form_id: Form::id_for(form_action), typed: typed.clone(), errors, alert: Some(alert) };
            let mut resp = page(ctx, r).await?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        other => Err(PageError(other)),
    }
}

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

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;

    /// Every part drawn from plain data, with text that must stay text.
    #[derive(Template)]
    #[template(
        source = r#"{% import "ui/components.html" as ui %}{% call ui::tabs(tabs) %}{% endcall %}{% call ui::card(title, tag) %}{% call ui::stats(stats) %}{% endcall %}{% call ui::list(items, empty) %}{% endcall %}{% call ui::table(table) %}{% endcall %}{% endcall %}{% call ui::form(form, csrf) %}{% endcall %}{% call ui::bars(bars) %}{% endcall %}{% call ui::qr(qr) %}{% endcall %}{% call ui::calendar(calendar) %}{% endcall %}{% call ui::slots(slots) %}{% endcall %}{% call ui::rollcall(roll) %}{% endcall %}{% call ui::kpis(kpis) %}{% endcall %}{% call ui::timeline(steps) %}{% endcall %}"#,
        ext = "html"
    )]
    struct Parts {
        tabs: Vec<Tab>,
        title: String,
        tag: Option<Tag>,
        stats: Vec<Stat>,
        items: Vec<Item>,
        empty: String,
        table: Table,
        form: Form,
        csrf: String,
        bars: Bars,
        qr: Qr,
        calendar: Calendar,
        slots: SlotGrid,
        roll: RollCall,
        kpis: Vec<Kpi>,
        steps: Vec<Step>,
    }

    #[test]
    fn the_parts_draw_from_data_and_escape_every_text() {
        let x = "<script>alert(1)</script>";
        let ctx = crate::web::tests::ctx();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let line = |d: chrono::NaiveDate| {
            if d == today {
                vec![CalendarLine { text: x.into(), href: "/e/1".into(), tone: Tone::Green }]
            } else {
                vec![]
            }
        };
        let refusal = Refusal {
            form_id: Form::id_for("/f"),
            errors: BTreeMap::from([("name".to_string(), x.to_string())]),
            ..Refusal::default()
        };
        let page = Parts {
            tabs: vec![Tab { href: "/a".into(), label: x.into(), on: true }],
            title: x.into(),
            tag: Some(Tag::new(x, Tone::Red)),
            stats: vec![Stat { label: x.into(), value: "3".into(), href: None }],
            items: vec![Item { title: x.into(), sub: x.into(), href: Some("/i".into()), tag: None }],
            empty: "none".into(),
            table: Table { head: vec![x.into()], rows: vec![vec![Cell::link(x, "/t")]], empty: String::new() },
            form: Form::new(x, "/f", x).input(Input::new("name", x, InputKind::Text).value(x)).refused(&refusal),
            csrf: "token".into(),
            bars: Bars::new(x, &[(x.to_string(), 3.0), ("b".into(), 1.5)], "人"),
            qr: Qr::new(x, "https://example.org/p/1").expect("a short URL fits"),
            calendar: Calendar::month(&ctx, today, today, "/cal", line, |_| None),
            slots: SlotGrid {
                columns: vec![x.into()],
                rows: vec![SlotRow {
                    time: "08:00".into(),
                    slots: vec![Slot { label: x.into(), state: SlotState::Free, href: Some("/s".into()) }],
                }],
            },
            roll: RollCall {
                title: x.into(),
                field: "present".into(),
                people: vec![Person { id: 7, name: x.into(), sub: String::new(), checked: true }],
            },
            kpis: vec![Kpi { label: x.into(), value: "90%".into(), href: Some("/k".into()), ..Kpi::default() }],
            steps: vec![Step { title: x.into(), at: String::new(), note: x.into(), state: StepState::Current }],
        };
        let html = page.render().unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.matches("&#60;script&#62;").count() >= 15 || html.matches("&lt;script&gt;").count() >= 15,
            "{html}"
        );
        assert!(html.contains(r#"width="260.0""#) && html.contains(r#"width="130.0""#), "bars scale to the largest");
        assert!(
            html.contains("aria-invalid=\"true\"") && html.contains("class=\"error-text\""),
            "the error shows on its field"
        );
        assert!(html.contains("class=\"today\"") || html.contains(" today\""), "today is marked");
        assert!(html.contains("name=\"present\" value=\"7\" checked"));
        assert!(html.contains("slot-free") && html.contains("step-current"));
    }
}
