//! The data the page parts (`templates/ui/components.html`) draw: figures, lines, tags,
//! tabs, tables, forms with inline errors, charts, maps, QR codes, a month calendar, a
//! time-slot grid, a roll-call, key figures and a timeline. A page's handler loads its
//! data, builds these, and its template composes the parts; all text is escaped there.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{PageCtx, PageError, PageResult};
use crate::error::AppError;

mod blocks;
mod drawn;
pub use blocks::*;
pub use drawn::*;

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

/// A list whose lines can be picked, and one action for those picked (approve the
/// selected): each line's checkbox sends its id as `name`.
#[derive(Debug, Clone)]
pub struct Pick {
    pub action: String,
    pub name: &'static str,
    pub lines: Vec<(i64, Item)>,
    pub submit: String,
    /// Asked before the action is taken.
    pub confirm: String,
    /// The label of the box that picks every line.
    pub all: String,
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
    /// Per column, for a table the server sorts: where a click on its head sorts by it
    /// (empty: it does not sort) and how it is sorted now (`ascending`, `descending`, or
    /// empty). None for a table that does not sort.
    pub sort: Vec<(String, &'static str)>,
}

impl Table {
    pub fn head_at(&self, i: impl std::borrow::Borrow<usize>) -> &str {
        self.head.get(*i.borrow()).map(String::as_str).unwrap_or("")
    }

    /// The column's sorting link and state, empty when it does not sort.
    pub fn sort_at(&self, i: impl std::borrow::Borrow<usize>) -> (&str, &str) {
        self.sort.get(*i.borrow()).map(|(h, w)| (h.as_str(), *w)).unwrap_or(("", ""))
    }
}

/// The sorting links of a table's heads: `keys` holds each column's sort key (None: the
/// column does not sort), `by` the key sorted by now, `newest_first` the keys that sort
/// descending, and `href` the page's address for a key.
pub fn sort_heads(
    keys: &[Option<&str>],
    by: &str,
    newest_first: &[&str],
    href: impl Fn(&str) -> String,
) -> Vec<(String, &'static str)> {
    keys.iter()
        .map(|k| match k {
            None => (String::new(), ""),
            Some(k) if *k != by => (href(k), ""),
            Some(k) if newest_first.contains(k) => (href(k), "descending"),
            Some(k) => (href(k), "ascending"),
        })
        .collect()
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
    /// A photo or a PDF (a receipt, an invoice).
    Document,
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
            InputKind::Document => "document",
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
        if matches!(i.kind, InputKind::File | InputKind::Document) {
            self.multipart = true;
        }
        self.inputs.push(i);
        self
    }

    pub fn folded(mut self) -> Form {
        self.folded = true;
        self
    }

    /// An action that cannot be undone (or takes something away): drawn in red, and it
    /// asks `question` in the confirmation sheet before it is sent.
    pub fn danger(mut self, question: impl Into<String>) -> Form {
        self.danger = true;
        self.confirm = question.into();
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
                    if !matches!(i.kind, InputKind::Password | InputKind::File | InputKind::Document) {
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
            table: Table {
                head: vec![x.into()],
                rows: vec![vec![Cell::link(x, "/t")]],
                empty: String::new(),
                sort: Vec::new(),
            },
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
