//! Pages built from blocks: cards with figures, facts, lists and tables, and forms with
//! inline errors. The capabilities that came after the record engine (points, field
//! work, participation) describe their pages in these terms, and one template draws them
//! all in the same mobile-first manner.

use std::collections::BTreeMap;

use askama::Template;

use super::{PageCtx, PageResult, render};
use crate::error::AppError;

/// Shows a refusal on the page it came from (built again by `sheet`), with what was typed
/// and each error by its field; other errors are error pages.
pub async fn refused<F, Fut>(
    e: AppError,
    typed: &serde_json::Map<String, serde_json::Value>,
    form_action: &str,
    sheet: F,
) -> PageResult
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = crate::error::AppResult<Sheet>>,
{
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => {
            let status = e.status();
            sheet().await?.refused(&e, typed, &Form::id_for(form_action)).render_status(status)
        }
        other => Err(super::PageError(other)),
    }
}

/// A figure: big number, label, maybe a link.
#[derive(Debug, Clone)]
pub struct Stat {
    pub label: String,
    pub value: String,
    pub href: Option<String>,
}

/// A line of a list: title, a line under it, a link, and maybe a coloured tag.
#[derive(Debug, Clone, Default)]
pub struct Item {
    pub title: String,
    pub sub: String,
    pub href: Option<String>,
    pub tag: Option<(String, &'static str)>,
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

    fn kind_name(&self) -> &'static str {
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

    fn options(&self) -> Vec<(String, String, bool)> {
        match &self.kind {
            InputKind::Select(o) => o.iter().map(|(v, l)| (v.clone(), l.clone(), *v == self.value)).collect(),
            InputKind::Many(o) => o.iter().map(|(v, l)| (v.clone(), l.clone(), self.values.contains(v))).collect(),
            _ => Vec::new(),
        }
    }
}

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

    /// Puts back what was typed and the errors (field name → message) after a refusal.
    pub fn refill(
        mut self,
        typed: &serde_json::Map<String, serde_json::Value>,
        errors: &BTreeMap<String, String>,
    ) -> Form {
        for i in &mut self.inputs {
            if let Some(v) = typed.get(&i.name) {
                match v {
                    serde_json::Value::Array(items) => {
                        i.values = items.iter().filter_map(|x| x.as_str().map(String::from)).collect();
                        if let Some(last) = i.values.last() {
                            i.value = last.clone();
                        }
                    }
                    serde_json::Value::String(s) => {
                        if !matches!(i.kind, InputKind::Password | InputKind::File) {
                            i.value = s.clone();
                        }
                        i.values = vec![s.clone()];
                    }
                    _ => {}
                }
            }
            if let Some(e) = errors.get(&i.name) {
                i.error = Some(e.clone());
            }
        }
        self
    }

    /// Errors about fields this form does not show.
    fn stray(&self, errors: &BTreeMap<String, String>) -> Vec<String> {
        errors.iter().filter(|(k, _)| !self.inputs.iter().any(|i| &i.name == *k)).map(|(_, v)| v.clone()).collect()
    }
}

/// A table; cells may link.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub title: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<(String, Option<String>)>>,
    pub empty: String,
}

impl Table {
    fn head_at(&self, i: impl std::borrow::Borrow<usize>) -> &str {
        self.head.get(*i.borrow()).map(String::as_str).unwrap_or("")
    }
}

#[derive(Debug, Clone, Default)]
pub struct Card {
    pub title: String,
    pub tag: Option<(String, &'static str)>,
    pub stats: Vec<Stat>,
    pub cells: Vec<(String, String)>,
    /// Markup made by the server (charts, maps, QR codes); never user text.
    pub html: Option<String>,
    pub text: Option<String>,
    pub items: Vec<Item>,
    pub links: Vec<(String, String)>,
    pub empty: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Block {
    Card(Card),
    Form(Form),
    Table(Table),
    /// A row of tabs (links), one of them on.
    Tabs(Vec<(String, String, bool)>),
}

#[derive(Template)]
#[template(path = "sheet.html")]
pub struct Sheet {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub alert: Option<String>,
    pub blocks: Vec<Block>,
}

impl Sheet {
    pub fn new(ctx: PageCtx, title: impl Into<String>) -> Sheet {
        Sheet { ctx, title: title.into(), crumbs: Vec::new(), alert: None, blocks: Vec::new() }
    }

    pub fn crumb(mut self, href: impl Into<String>, label: impl Into<String>) -> Sheet {
        self.crumbs.push((href.into(), label.into()));
        self
    }

    pub fn block(mut self, b: Block) -> Sheet {
        self.blocks.push(b);
        self
    }

    pub fn card(self, c: Card) -> Sheet {
        self.block(Block::Card(c))
    }

    pub fn form(self, f: Form) -> Sheet {
        self.block(Block::Form(f))
    }

    pub fn table(self, t: Table) -> Sheet {
        self.block(Block::Table(t))
    }

    /// Shows a refusal: inline on the fields of the forms, the rest above them.
    pub fn refused(mut self, e: &AppError, typed: &serde_json::Map<String, serde_json::Value>, form_id: &str) -> Sheet {
        let lang = self.ctx.lang;
        let errors = e.field_messages(lang);
        let mut stray = Vec::new();
        for b in &mut self.blocks {
            if let Block::Form(f) = b
                && f.id == form_id
            {
                *f = f.clone().refill(typed, &errors);
                f.folded = false;
                stray = f.stray(&errors);
            }
        }
        let head = if errors.is_empty() { e.message(lang) } else { self.ctx.t("form.has_errors") };
        self.alert = Some(std::iter::once(head).chain(stray).collect::<Vec<_>>().join(" "));
        self
    }

    pub fn render(self) -> PageResult {
        render(&self)
    }

    /// Renders with a status (422 for a refused form, so scripts and tests can tell).
    pub fn render_status(self, status: axum::http::StatusCode) -> PageResult {
        let mut r = render(&self)?;
        *r.status_mut() = status;
        Ok(r)
    }
}
