//! Records described by data: the places, people and organisation of a community are
//! many small record kinds with the same life (create, edit, list, search, archive).
//! Each is an [`EntityDef`]; one store, one set of pages and one API serve them all.
//!
//! This module holds the definitions and input validation: plain types and functions.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use futures::future::BoxFuture;
use serde_json::{Map, Value};

use crate::auth::model::Permission;
use crate::db::Tx;
use crate::error::{AppResult, FieldError};
use crate::services::pii;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenancy {
    /// Platform-level rows without `community_id` (subdistricts, communities).
    Global,
    /// Rows keyed `(community_id, id)`.
    Community,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Text {
        max: usize,
    },
    LongText {
        max: usize,
    },
    /// Digits only, `min..=max` of them (administrative codes).
    Digits {
        min: usize,
        max: usize,
    },
    Int {
        min: i64,
        max: i64,
    },
    Float {
        min: f64,
        max: f64,
    },
    Date,
    Bool,
    /// One of fixed values; labels are `choice.<entity>.<field>.<value>`.
    Choice(&'static [&'static str]),
    /// Another record of the same community (or, for communities, a subdistrict).
    Ref(&'static str),
    /// A user (e.g. the grid worker of a grid).
    UserRef,
    /// Care tags from the community's list, stored as `|a|b|`.
    Tags,
    /// Free tags (the community's own list of care tags), stored as `|a|b|`.
    FreeTags,
    /// Several of fixed values (a warm station's amenities), stored as `|a|b|`; labels
    /// are `choice.<entity>.<field>.<value>`.
    Set(&'static [&'static str]),
    /// A GeoJSON Polygon or MultiPolygon in WGS 84 longitude/latitude.
    Polygon,
    /// Extra questions asked when submitting (Open311 service attributes): a JSON list.
    Questions,
    /// A mainland mobile number: personal, encrypted, masked.
    Phone,
    /// A resident ID number: personal, encrypted, masked.
    IdNumber,
}

impl Kind {
    pub fn is_personal(self) -> bool {
        matches!(self, Kind::Phone | Kind::IdNumber)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// Shown as a column in lists.
    pub list: bool,
    /// Taken when the field is left empty (settings that always have a value).
    pub default: Option<&'static str>,
}

pub const fn field(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: false, list: false, default: None }
}

impl Field {
    pub const fn required(mut self) -> Field {
        self.required = true;
        self
    }
    pub const fn listed(mut self) -> Field {
        self.list = true;
        self
    }
    pub const fn default(mut self, value: &'static str) -> Field {
        self.default = Some(value);
        self
    }
}

/// A community setting a capability declares: its key in `settings` (the table kept by
/// `services::settings`), and the field the community's form and API show it as.
pub struct Setting {
    /// `tickets:reopen_limit`: the capability's name first.
    pub key: &'static str,
    /// Its name (`ticket_reopen_limit`), with its kind, range and default (`Int`, `Bool`
    /// or `Choice`).
    pub field: Field,
    /// Whether it is set on the community's own form and API (else on its capability's
    /// pages, by those who run it).
    pub on_record: bool,
}

impl Setting {
    pub const fn int(key: &'static str, name: &'static str, min: i64, max: i64, default: &'static str) -> Setting {
        Setting { key, field: field(name, Kind::Int { min, max }).default(default), on_record: false }
    }
    pub const fn bool(key: &'static str, name: &'static str, default: &'static str) -> Setting {
        Setting { key, field: field(name, Kind::Bool).default(default), on_record: false }
    }
    pub const fn choice(
        key: &'static str,
        name: &'static str,
        choices: &'static [&'static str],
        default: &'static str,
    ) -> Setting {
        Setting { key, field: field(name, Kind::Choice(choices)).default(default), on_record: false }
    }
    /// A list of the community's own words (stored as `|a|b|`).
    pub const fn tags(key: &'static str, name: &'static str, default: &'static str) -> Setting {
        Setting { key, field: field(name, Kind::FreeTags).default(default), on_record: false }
    }
    pub const fn on_record(mut self) -> Setting {
        self.on_record = true;
        self
    }

    pub fn default_text(&self) -> &'static str {
        self.field.default.unwrap_or("")
    }
}

static SETTINGS: OnceLock<Vec<&'static Setting>> = OnceLock::new();

/// Makes the capabilities' settings known (at start; the same list every time).
pub fn register_settings(settings: impl IntoIterator<Item = &'static Setting>) {
    SETTINGS.get_or_init(|| settings.into_iter().collect());
}

/// Every setting the capabilities declare.
pub fn settings() -> &'static [&'static Setting] {
    SETTINGS.get().map(Vec::as_slice).unwrap_or_default()
}

/// The setting shown as this field of the community record, if any.
pub fn setting_of(name: &str) -> Option<&'static Setting> {
    settings().iter().copied().find(|s| s.on_record && s.field.name == name)
}

/// How the search box matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// `column LIKE '%q%'`: small tables.
    Contains(&'static str),
    /// Range on an index: names, where people type the start.
    Prefix(&'static str),
    /// Phone and ID numbers, full (by keyed hash) or as masked (`138****1234`, or the last
    /// four digits of a phone).
    Personal,
}

/// A list filter: a query parameter named like the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    pub column: &'static str,
    pub kind: FilterKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// Equal to a record id of this entity.
    Ref(&'static str),
    /// Holds this care tag.
    Tag,
    Bool,
}

/// A child list shown on a record's page (the places browser goes down through these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Child {
    pub entity: &'static str,
    pub column: &'static str,
}

pub struct EntityDef {
    /// Singular kind, used in i18n keys and the audit log: `household`.
    pub kind: &'static str,
    /// URL segment and API collection: `households`.
    pub path: &'static str,
    pub table: &'static str,
    pub tenancy: Tenancy,
    pub fields: &'static [Field],
    /// The column that names a row in lists and links.
    pub title: &'static str,
    pub search: &'static [Search],
    /// Filters offered on lists.
    pub filters: &'static [Filter],
    pub children: &'static [Child],
    /// Grid column that limits grid workers (registry records).
    pub grid_column: Option<&'static str>,
    /// Household column that limits residents (their own household).
    pub household_column: Option<&'static str>,
    pub read: Permission,
    pub write: Permission,
    /// Rules beyond the fields' kinds (a party organisation ranks below its parent).
    pub rules: Option<RulesFn>,
    /// Derived data kept in step after a write (a household's residents follow its grid).
    pub after_write: Option<AfterWriteFn>,
    /// Whether the capabilities' settings are fields of this record (the community's).
    pub holds_settings: bool,
}

/// Checks a record as it will be (`merged`) before it is written, given its community
/// and, when it exists, its id; answers the fields that break a rule.
pub type RulesFn = for<'a> fn(
    &'a mut Tx,
    Option<i64>,
    Option<i64>,
    &'a Map<String, Value>,
) -> BoxFuture<'a, AppResult<Vec<FieldError>>>;

/// Runs after a record of a community was written, in the same transaction: its
/// community, its id, its values before (none when new) and the values written.
pub type AfterWriteFn =
    for<'a> fn(&'a mut Tx, i64, i64, Option<&'a Map<String, Value>>, &'a Values) -> BoxFuture<'a, AppResult<()>>;

/// What a capability writes for a new community, in the transaction that makes it.
pub type NewCommunityFn = for<'a> fn(&'a mut Tx, i64) -> BoxFuture<'a, AppResult<()>>;

impl EntityDef {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name).or_else(|| self.setting(name).map(|s| &s.field))
    }

    /// The setting a field of this record is, if it is one.
    pub fn setting(&self, name: &str) -> Option<&'static Setting> {
        setting_of(name).filter(|_| self.holds_settings)
    }

    /// Its columns' fields, then the settings it holds.
    pub fn all_fields(&self) -> impl Iterator<Item = &'static Field> + use<'_> {
        let settings = if self.holds_settings { settings() } else { &[] };
        self.fields.iter().chain(settings.iter().filter(|s| s.on_record).map(|s| &s.field))
    }

    pub fn label_key(&self) -> String {
        format!("entity.{}", self.kind)
    }

    pub fn field_label_key(&self, field: &str) -> String {
        format!("field.{}.{}", self.kind, field)
    }

    pub fn has_personal_fields(&self) -> bool {
        self.fields.iter().any(|f| f.kind.is_personal())
    }
}

/// A validated input value, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Date(chrono::NaiveDate),
    Tags(Vec<String>),
    Json(Value),
    /// A personal value, in clear (only between validation and sealing).
    Personal(String),
}

pub type Values = BTreeMap<&'static str, Val>;

/// What the validation needs to know of the world, looked up beforehand.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The community's care tags.
    pub care_tags: Vec<String>,
}

/// Whether the input replaces the whole record (forms, create) or only some fields (PATCH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Full,
    Partial,
}

/// Checks raw input (form strings or JSON values) against the definition.
/// Answers the values to store, or every field error at once.
pub fn validate(
    def: &EntityDef,
    input: &Map<String, Value>,
    mode: Mode,
    ctx: &Context,
) -> Result<Values, Vec<FieldError>> {
    let mut out = Values::new();
    let mut errors = Vec::new();
    for key in input.keys() {
        if def.field(key).is_none() && !key.starts_with('_') {
            errors.push(FieldError::new(key.clone(), "validation.unknown_field"));
        }
    }
    for f in def.all_fields() {
        let raw = input.get(f.name);
        if mode == Mode::Partial && raw.is_none() {
            continue;
        }
        match parse_value(f, raw, ctx) {
            Ok(Val::Null) if f.required => errors.push(FieldError::new(f.name, "validation.required")),
            Ok(v) => {
                out.insert(f.name, v);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn as_text(raw: Option<&Value>) -> Option<String> {
    match raw? {
        Value::Null => None,
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        // Lists and objects are not text (refused in `parse_value`, never stringified).
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// JSON bodies carry each field in its own type: text as a string, numbers as numbers,
/// yes/no as a boolean, tags as a list of strings, a polygon as an object (`null` clears).
/// Forms, which send only text, are read leniently by `validate`.
pub fn check_json_types(def: &EntityDef, input: &Map<String, Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (name, v) in input {
        let Some(f) = def.field(name) else { continue };
        let ok = match (f.kind, v) {
            (_, Value::Null) => true,
            (Kind::Int { .. } | Kind::Ref(_) | Kind::UserRef, Value::Number(n)) => n.is_i64(),
            (Kind::Float { .. }, Value::Number(_)) => true,
            (Kind::Bool, Value::Bool(_)) => true,
            (Kind::Tags | Kind::FreeTags | Kind::Set(_), Value::Array(items)) => items.iter().all(Value::is_string),
            (Kind::Polygon, Value::Object(_)) => true,
            (Kind::Questions, Value::Array(_)) => true,
            (
                Kind::Text { .. }
                | Kind::LongText { .. }
                | Kind::Digits { .. }
                | Kind::Choice(_)
                | Kind::Date
                | Kind::Phone
                | Kind::IdNumber,
                Value::String(_),
            ) => true,
            _ => false,
        };
        if !ok {
            let key = match f.kind {
                Kind::Int { .. } | Kind::Ref(_) | Kind::UserRef => "validation.expect_integer",
                Kind::Float { .. } => "validation.expect_number",
                Kind::Bool => "validation.expect_bool",
                Kind::Tags | Kind::FreeTags | Kind::Set(_) | Kind::Questions => "validation.expect_list",
                Kind::Polygon => "validation.expect_object",
                _ => "validation.expect_text",
            };
            errors.push(FieldError::new(name.clone(), key));
        }
    }
    errors
}

fn parse_value(f: &Field, raw: Option<&Value>, ctx: &Context) -> Result<Val, FieldError> {
    let err = |key: &'static str| FieldError::new(f.name, key);
    // A form may send a field twice (a hidden "false" before a checkbox): the last wins.
    let raw = match (f.kind, raw) {
        (Kind::Tags | Kind::FreeTags | Kind::Set(_) | Kind::Questions, r) => r,
        (_, Some(Value::Array(items))) => items.last(),
        (_, r) => r,
    };
    if let (Kind::Bool, Some(Value::Bool(b))) = (f.kind, raw) {
        return Ok(Val::Bool(*b));
    }
    if let (Kind::Tags | Kind::FreeTags | Kind::Set(_), Some(Value::Array(items))) = (f.kind, raw) {
        let tags: Vec<String> = items.iter().filter_map(|v| as_text(Some(v))).collect();
        return check_tags(f, tags, ctx);
    }
    if let (Kind::Polygon, Some(v @ Value::Object(_))) = (f.kind, raw) {
        return check_polygon(v).map(Val::Json).map_err(&err);
    }
    if let (Kind::Questions, Some(v @ Value::Array(_))) = (f.kind, raw) {
        return check_questions(v).map(Val::Json).map_err(&err);
    }
    if let Some(Value::Array(_) | Value::Object(_)) = raw {
        return Err(err("validation.type"));
    }
    let Some(text) = as_text(raw).or_else(|| f.default.map(String::from)) else {
        return Ok(match f.kind {
            Kind::Bool => Val::Bool(false),
            Kind::Tags | Kind::FreeTags | Kind::Set(_) => Val::Tags(Vec::new()),
            _ => Val::Null,
        });
    };
    match f.kind {
        Kind::Text { max } | Kind::LongText { max } => {
            let n = text.chars().count();
            if n > max {
                return Err(err("validation.too_long").with("max", max));
            }
            Ok(Val::Text(text))
        }
        Kind::Digits { min, max } => {
            if !text.bytes().all(|b| b.is_ascii_digit()) || text.len() < min || text.len() > max {
                let e = err("validation.digits").with("min", min).with("max", max);
                return Err(e);
            }
            Ok(Val::Text(text))
        }
        Kind::Int { min, max } => match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Val::Int(n)),
            Ok(_) => Err(err("validation.range").with("min", min).with("max", max)),
            Err(_) => Err(err("validation.integer")),
        },
        Kind::Float { min, max } => match text.parse::<f64>() {
            Ok(x) if x.is_finite() && (min..=max).contains(&x) => Ok(Val::Float(x)),
            Ok(_) => Err(err("validation.range").with("min", min).with("max", max)),
            Err(_) => Err(err("validation.number")),
        },
        Kind::Date => {
            chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").map(Val::Date).map_err(|_| err("validation.date"))
        }
        Kind::Bool => match text.as_str() {
            "true" | "on" | "1" | "yes" | "是" => Ok(Val::Bool(true)),
            "false" | "off" | "0" | "no" | "否" => Ok(Val::Bool(false)),
            _ => Err(err("validation.bool")),
        },
        Kind::Choice(options) => {
            if options.contains(&text.as_str()) {
                Ok(Val::Text(text))
            } else {
                Err(err("validation.choice"))
            }
        }
        Kind::Ref(_) | Kind::UserRef => match text.parse::<i64>() {
            Ok(id) if id > 0 => Ok(Val::Int(id)),
            _ => Err(err("validation.reference")),
        },
        Kind::Tags | Kind::FreeTags | Kind::Set(_) => {
            let tags =
                text.split([',', '，', '、', '|']).map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect();
            check_tags(f, tags, ctx)
        }
        Kind::Polygon => {
            let v: Value = serde_json::from_str(&text).map_err(|_| err("validation.geojson"))?;
            check_polygon(&v).map(Val::Json).map_err(&err)
        }
        Kind::Questions => {
            let v: Value = serde_json::from_str(&text).map_err(|_| err("validation.questions"))?;
            check_questions(&v).map(Val::Json).map_err(&err)
        }
        Kind::Phone => pii::normalize_contact_number(&text).map(Val::Personal).map_err(err),
        Kind::IdNumber => pii::normalize_id_number(&text).map(Val::Personal).map_err(err),
    }
}

fn check_tags(f: &Field, mut tags: Vec<String>, ctx: &Context) -> Result<Val, FieldError> {
    tags.dedup();
    if let Kind::Set(values) = f.kind {
        return match tags.iter().find(|t| !values.contains(&t.as_str())) {
            Some(bad) => Err(FieldError::new(f.name, "validation.unknown_choice").with("value", bad)),
            None => Ok(Val::Tags(tags)),
        };
    }
    if let Some(bad) = tags.iter().find(|t| t.chars().count() > 20) {
        return Err(FieldError::new(f.name, "validation.tag_too_long").with("tag", bad));
    }
    if f.kind == Kind::FreeTags {
        return Ok(Val::Tags(tags));
    }
    if let Some(bad) = tags.iter().find(|t| !ctx.care_tags.contains(t)) {
        return Err(FieldError::new(f.name, "validation.unknown_tag").with("tag", bad));
    }
    Ok(Val::Tags(tags))
}

/// A GeoJSON Polygon or MultiPolygon (or a Feature holding one) with closed rings of at
/// least four positions inside longitude/latitude ranges. Answers the bare geometry.
pub fn check_polygon(v: &Value) -> Result<Value, &'static str> {
    let geometry = match v.get("type").and_then(Value::as_str) {
        Some("Feature") => v.get("geometry").ok_or("validation.geojson")?,
        _ => v,
    };
    let geom: geojson::Geometry = serde_json::from_value(geometry.clone()).map_err(|_| "validation.geojson")?;
    let polygons: Vec<&Vec<Vec<geojson::Position>>> = match &geom.value {
        geojson::GeometryValue::Polygon { coordinates } => vec![coordinates],
        geojson::GeometryValue::MultiPolygon { coordinates } => coordinates.iter().collect(),
        _ => return Err("validation.polygon_type"),
    };
    if polygons.is_empty() {
        return Err("validation.polygon_ring");
    }
    for rings in polygons {
        if rings.is_empty() {
            return Err("validation.polygon_ring");
        }
        for ring in rings {
            if ring.len() < 4 || ring.first() != ring.last() {
                return Err("validation.polygon_ring");
            }
            for p in ring {
                if p.len() < 2 {
                    return Err("validation.geojson");
                }
                let (lng, lat) = (p[0], p[1]);
                if !(-180.0..=180.0).contains(&lng) || !(-90.0..=90.0).contains(&lat) {
                    return Err("validation.polygon_range");
                }
            }
        }
    }
    serde_json::to_value(&geom).map_err(|_| "validation.geojson")
}

/// Extra questions in Open311's shape: `[{"code", "datatype", "required", "description",
/// "values": [{"key", "name"}]}]`, codes unique, list types with values.
pub fn check_questions(v: &Value) -> Result<Value, &'static str> {
    const TYPES: [&str; 6] = ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"];
    let items = v.as_array().ok_or("validation.questions")?;
    let mut codes = Vec::new();
    for q in items {
        let code = q
            .get("code")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty() && c.len() <= 40)
            .ok_or("validation.questions")?;
        if codes.contains(&code) {
            return Err("validation.questions");
        }
        codes.push(code);
        let datatype =
            q.get("datatype").and_then(Value::as_str).filter(|t| TYPES.contains(t)).ok_or("validation.questions")?;
        q.get("description").and_then(Value::as_str).ok_or("validation.questions")?;
        let values = q.get("values").and_then(Value::as_array);
        let is_list = datatype.ends_with("valuelist");
        if is_list != values.is_some_and(|v| !v.is_empty()) {
            return Err("validation.questions");
        }
        if values.is_some_and(|vs| {
            vs.iter().any(|x| x.get("key").is_none() || x.get("name").and_then(Value::as_str).is_none())
        }) {
            return Err("validation.questions");
        }
    }
    Ok(v.clone())
}

/// Stored form of tags: `|a|b|`, so that one tag is found with `LIKE '%|a|%'`.
pub fn tags_to_column(tags: &[String]) -> String {
    if tags.is_empty() { String::new() } else { format!("|{}|", tags.join("|")) }
}

pub fn tags_from_column(s: &str) -> Vec<String> {
    s.split('|').filter(|t| !t.is_empty()).map(String::from).collect()
}

/// Cross-field rules of residents: birth date and gender follow from the ID number
/// when left empty, and must agree with it when given.
pub fn derive_from_id_number(values: &mut Values) -> Vec<FieldError> {
    let Some(Val::Personal(id)) = values.get("id_number").cloned() else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    if let Some(birth) = pii::birth_date_of(&id) {
        match values.get("birth_date") {
            None | Some(Val::Null) => {
                values.insert("birth_date", Val::Date(birth));
            }
            Some(Val::Date(d)) if *d != birth => errors.push(FieldError::new("birth_date", "validation.id_mismatch")),
            _ => {}
        }
    }
    if let Some(gender) = pii::gender_of(&id) {
        match values.get("gender") {
            None | Some(Val::Null) => {
                values.insert("gender", Val::Text(gender.into()));
            }
            Some(Val::Text(g)) if g != gender => errors.push(FieldError::new("gender", "validation.id_mismatch")),
            _ => {}
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static FIELDS: [Field; 8] = [
        field("name", Kind::Text { max: 4 }).required(),
        field("code", Kind::Digits { min: 3, max: 3 }),
        field("floors", Kind::Int { min: 1, max: 200 }),
        field("born", Kind::Date),
        field("member", Kind::Bool),
        field("kind", Kind::Choice(&["urban", "rural"])),
        field("tags", Kind::Tags),
        field("phone", Kind::Phone),
    ];
    static DEF: EntityDef = EntityDef {
        kind: "thing",
        path: "things",
        table: "things",
        tenancy: Tenancy::Community,
        fields: &FIELDS,
        title: "name",
        search: &[],
        filters: &[],
        children: &[],
        grid_column: None,
        household_column: None,
        read: Permission::ViewPlaces,
        write: Permission::EditPlaces,
        rules: None,
        after_write: None,
        holds_settings: false,
    };

    fn ctx() -> Context {
        Context { care_tags: vec!["独居老人".into(), "低保".into()] }
    }

    fn input(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let errs = validate(
            &DEF,
            &input(json!({"name": "", "code": "12a", "floors": "0", "born": "2020-13-01",
                "kind": "town", "tags": "独居老人,外星人", "phone": "123", "colour": "red"})),
            Mode::Full,
            &ctx(),
        )
        .unwrap_err();
        let mut fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(fields, ["born", "code", "colour", "floors", "kind", "name", "phone", "tags"]);
        let floors = errs.iter().find(|e| e.field == "floors").unwrap();
        assert_eq!(floors.key, "validation.range");
    }

    #[test]
    fn form_strings_and_json_values_both_work() {
        let from_form = validate(
            &DEF,
            &input(json!({"name": " 三号楼 ", "floors": "18", "member": "on", "tags": "低保，独居老人",
                "phone": "138 0013 1234"})),
            Mode::Full,
            &ctx(),
        )
        .unwrap();
        assert_eq!(from_form["name"], Val::Text("三号楼".into()));
        assert_eq!(from_form["floors"], Val::Int(18));
        assert_eq!(from_form["member"], Val::Bool(true));
        assert_eq!(from_form["tags"], Val::Tags(vec!["低保".into(), "独居老人".into()]));
        assert_eq!(from_form["phone"], Val::Personal("13800131234".into()));
        assert_eq!(from_form["code"], Val::Null);

        let from_json = validate(
            &DEF,
            &input(json!({"name": "楼", "floors": 18, "member": true, "tags": ["低保"]})),
            Mode::Full,
            &ctx(),
        )
        .unwrap();
        assert_eq!(from_json["floors"], Val::Int(18));
        assert_eq!(from_json["tags"], Val::Tags(vec!["低保".into()]));
    }

    #[test]
    fn partial_input_touches_only_given_fields() {
        let v = validate(&DEF, &input(json!({"floors": 3})), Mode::Partial, &ctx()).unwrap();
        assert_eq!(v.len(), 1);
        let e = validate(&DEF, &input(json!({"name": null})), Mode::Partial, &ctx()).unwrap_err();
        assert_eq!(e[0].key, "validation.required");
    }

    #[test]
    fn polygons_must_be_closed_and_on_earth() {
        let ok =
            json!({"type": "Polygon", "coordinates": [[[110.0, 21.0], [110.1, 21.0], [110.1, 21.1], [110.0, 21.0]]]});
        assert!(check_polygon(&ok).is_ok());
        let feature = json!({"type": "Feature", "properties": {}, "geometry": ok});
        assert!(check_polygon(&feature).is_ok());
        let open =
            json!({"type": "Polygon", "coordinates": [[[110.0, 21.0], [110.1, 21.0], [110.1, 21.1], [110.2, 21.0]]]});
        assert_eq!(check_polygon(&open), Err("validation.polygon_ring"));
        let far =
            json!({"type": "Polygon", "coordinates": [[[200.0, 21.0], [110.1, 21.0], [110.1, 21.1], [200.0, 21.0]]]});
        assert_eq!(check_polygon(&far), Err("validation.polygon_range"));
        assert_eq!(check_polygon(&json!({"type": "Point", "coordinates": [1.0, 2.0]})), Err("validation.polygon_type"));
        assert_eq!(check_polygon(&json!({"type": "Polygon"})), Err("validation.geojson"));
    }

    #[test]
    fn tags_round_trip_through_their_column() {
        let tags = vec!["独居老人".to_string(), "低保".to_string()];
        assert_eq!(tags_to_column(&tags), "|独居老人|低保|");
        assert_eq!(tags_from_column("|独居老人|低保|"), tags);
        assert_eq!(tags_to_column(&[]), "");
    }

    #[test]
    fn birth_date_and_gender_follow_the_id_number() {
        let birth = chrono::NaiveDate::from_ymd_opt(1950, 5, 6).unwrap();
        let id = pii::make_id_number("440804", birth, 3, true);
        let mut v = Values::from([("id_number", Val::Personal(id.clone()))]);
        assert!(derive_from_id_number(&mut v).is_empty());
        assert_eq!(v["birth_date"], Val::Date(birth));
        assert_eq!(v["gender"], Val::Text("male".into()));

        let mut wrong = Values::from([("id_number", Val::Personal(id)), ("gender", Val::Text("female".into()))]);
        let errs = derive_from_id_number(&mut wrong);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "gender");
    }
}
