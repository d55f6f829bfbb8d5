//! Form posts: parsed into the same JSON-like map the API takes, and checked against the
//! session's form token.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::{PageError, RequestInfo};
use crate::error::AppError;
use crate::input;
use crate::web::AppState;

/// `a=1&b=2&b=3` → `{"a": "1", "b": ["2", "3"]}`.
pub fn parse(body: &[u8]) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in form_urlencoded::parse(body) {
        let v = Value::String(v.into_owned());
        match out.get_mut(k.as_ref()) {
            Some(Value::Array(items)) => items.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None => {
                out.insert(k.into_owned(), v);
            }
        }
    }
    out
}

pub fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A whole number in a query string: `default` when absent or empty, else a whole number
/// within `range` or a field error naming it.
pub fn query_int(query: &str, name: &str, range: std::ops::RangeInclusive<i64>, default: i64) -> Result<i64, AppError> {
    match query_param(query, name).as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            Ok(_) => Err(AppError::Invalid(vec![input::range_error(name, range)])),
            Err(_) => Err(AppError::field(name, "validation.integer")),
        },
    }
}

fn is_form(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| input::media_type(ct) == "application/x-www-form-urlencoded")
}

async fn body_map(req: Request, state: &AppState) -> Result<Map<String, Value>, AppError> {
    if !is_form(&req) {
        return Err(AppError::UnsupportedMediaType);
    }
    let bytes = Bytes::from_request(req, state).await.map_err(|_| AppError::PayloadTooLarge)?;
    Ok(parse(&bytes))
}

/// Every field of a form, as the one text rule wants it: newlines as `\n`, and no
/// control characters (a field holding one is refused by name). `next`, a place to go
/// after signing in, is left to `auth::pages::safe_next`, which sends anything odd home.
pub fn checked(mut map: Map<String, Value>) -> Result<Map<String, Value>, AppError> {
    let mut errors = Vec::new();
    for (k, v) in map.iter_mut() {
        if let Some(e) = input::check_chars("field", k) {
            errors.push(e);
            continue;
        }
        let values: Vec<&mut Value> = match v {
            Value::Array(items) => items.iter_mut().collect(),
            other => vec![other],
        };
        for v in values {
            if let Value::String(s) = v {
                if let std::borrow::Cow::Owned(n) = input::normalize_newlines(s) {
                    *s = n;
                }
                if k != "next"
                    && let Some(e) = input::check_chars(k, s)
                {
                    errors.push(e);
                }
            }
        }
    }
    if errors.is_empty() { Ok(map) } else { Err(AppError::Invalid(errors)) }
}

/// A form posted by a signed-in user, with a valid `_csrf` token.
pub struct CsrfForm(pub Map<String, Value>);

impl FromRequest<AppState> for CsrfForm {
    type Rejection = PageError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let expected = req
            .extensions()
            .get::<RequestInfo>()
            .and_then(|i| i.session.as_ref())
            .map(|s| s.csrf.clone())
            .ok_or(PageError(AppError::Unauthorized))?;
        let mut map = body_map(req, state).await?;
        let given = match map.remove("_csrf") {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(PageError(AppError::Forbidden));
        }
        Ok(CsrfForm(checked(map)?))
    }
}

/// A file from a multipart form.
pub struct Upload {
    pub field: String,
    /// The file's name as the browser sent it.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A multipart form (with files) posted by a signed-in user, with a valid `_csrf`.
pub struct CsrfMultipart {
    pub fields: Map<String, Value>,
    pub files: Vec<Upload>,
}

impl FromRequest<AppState> for CsrfMultipart {
    type Rejection = PageError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let expected = req
            .extensions()
            .get::<RequestInfo>()
            .and_then(|i| i.session.as_ref())
            .map(|s| s.csrf.clone())
            .ok_or(PageError(AppError::Unauthorized))?;
        let mut multipart =
            axum::extract::Multipart::from_request(req, state).await.map_err(|_| AppError::UnsupportedMediaType)?;
        let mut fields = Map::new();
        let mut files = Vec::new();
        while let Some(field) = multipart.next_field().await.map_err(|e| AppError::BadRequest(e.to_string()))? {
            let name = field.name().unwrap_or("").to_string();
            if let Some(file_name) = field.file_name().map(str::to_string) {
                let bytes = field.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
                if !bytes.is_empty() {
                    files.push(Upload { field: name, name: file_name, bytes: bytes.to_vec() });
                }
            } else {
                let text = field.text().await.map_err(|e| AppError::BadRequest(e.to_string()))?;
                let v = Value::String(text);
                match fields.get_mut(&name) {
                    Some(Value::Array(items)) => items.push(v),
                    Some(existing) => {
                        let first = existing.take();
                        *existing = Value::Array(vec![first, v]);
                    }
                    None => {
                        fields.insert(name, v);
                    }
                }
            }
        }
        let given = match fields.remove("_csrf") {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(PageError(AppError::Forbidden));
        }
        Ok(CsrfMultipart { fields: checked(fields)?, files })
    }
}

/// A form posted without a session (sign-in).
pub struct PlainForm(pub Map<String, Value>);

impl FromRequest<AppState> for PlainForm {
    type Rejection = PageError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        Ok(PlainForm(checked(body_map(req, state).await?)?))
    }
}

/// A text field of a parsed form.
pub fn text(map: &Map<String, Value>, name: &str) -> String {
    match map.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.last().and_then(Value::as_str).unwrap_or("").to_string(),
        _ => String::new(),
    }
}

/// A field's text, trimmed, unless it is empty.
pub fn opt(map: &Map<String, Value>, name: &str) -> Option<String> {
    Some(text(map, name).trim().to_string()).filter(|s| !s.is_empty())
}

/// Several values: checked boxes, or one field of items separated by commas or 、.
pub fn list(map: &Map<String, Value>, name: &str) -> Vec<String> {
    match map.get(name) {
        Some(Value::Array(items)) => {
            items.iter().filter_map(|v| v.as_str()).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
        }
        Some(Value::String(s)) => {
            s.split([',', '，', '、']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
        }
        _ => Vec::new(),
    }
}

/// A form's fields read by type: a value that does not parse is an error on its field
/// (gathered, so that every bad field shows at once), never taken as nothing.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    errors: Vec<crate::error::FieldError>,
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Fields<'a> {
        Fields { map, errors: Vec::new() }
    }

    fn parsed<T>(&mut self, name: &str, key: &'static str, parse: impl FnOnce(&str) -> Option<T>) -> Option<T> {
        let v = opt(self.map, name)?;
        let out = parse(&v);
        if out.is_none() {
            self.errors.push(crate::error::FieldError::new(name, key));
        }
        out
    }

    pub fn text(&self, name: &str) -> String {
        text(self.map, name)
    }

    pub fn opt(&self, name: &str) -> Option<String> {
        opt(self.map, name)
    }

    pub fn list(&self, name: &str) -> Vec<String> {
        list(self.map, name)
    }

    pub fn yes(&self, name: &str) -> bool {
        yes(self.map, name)
    }

    /// A whole number, when one is given.
    pub fn int(&mut self, name: &str) -> Option<i64> {
        self.parsed(name, "validation.integer", |v| v.parse().ok())
    }

    /// A number with a fraction (a latitude), when one is given.
    pub fn number(&mut self, name: &str) -> Option<f64> {
        self.parsed(name, "validation.number", |v| v.parse().ok().filter(|n: &f64| n.is_finite()))
    }

    /// A record's id, when one is given.
    pub fn id(&mut self, name: &str) -> Option<i64> {
        self.parsed(name, "validation.reference", |v| v.parse().ok().filter(|n: &i64| *n > 0))
    }

    /// Several ids (checked boxes, or a list of numbers).
    pub fn ids(&mut self, name: &str) -> Vec<i64> {
        let mut out = Vec::new();
        for v in list(self.map, name) {
            match v.parse::<i64>() {
                Ok(n) if n > 0 => out.push(n),
                _ => {
                    self.errors.push(crate::error::FieldError::new(name, "validation.reference"));
                    break;
                }
            }
        }
        out
    }

    /// A date (`2026-11-23`), when one is given.
    pub fn date(&mut self, name: &str) -> Option<chrono::NaiveDate> {
        self.parsed(name, "validation.date", |v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
    }

    /// A date and time, read as China time, when one is given.
    pub fn when(&mut self, name: &str) -> Option<i64> {
        self.parsed(name, "validation.datetime", super::fmt::parse_local)
    }

    /// Refused when a field did not parse (every such field named).
    pub fn checked(&mut self) -> Result<(), AppError> {
        if self.errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(std::mem::take(&mut self.errors))) }
    }
}

/// A checkbox (the last of a hidden `false` and the box's `true`).
pub fn yes(map: &Map<String, Value>, name: &str) -> bool {
    matches!(text(map, name).as_str(), "true" | "on" | "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_become_lists() {
        let m = parse("name=%E5%BC%A0%E4%B8%89&tags=a&tags=b&x=".as_bytes());
        assert_eq!(m["name"], "张三");
        assert_eq!(m["tags"], serde_json::json!(["a", "b"]));
        assert_eq!(text(&m, "tags"), "b");
        assert_eq!(query_param("ok=saved&x=1", "ok").as_deref(), Some("saved"));
        let m = parse(
            "n=%2042%20&d=2026-11-23&s=%E7%90%86%E5%8F%91%E3%80%81%E7%BB%B4%E4%BF%AE&b=false&b=true&e=".as_bytes(),
        );
        let mut f = Fields::new(&m);
        assert_eq!(f.int("n"), Some(42));
        assert_eq!(f.date("d"), chrono::NaiveDate::from_ymd_opt(2026, 11, 23));
        assert_eq!(f.int("e"), None, "an empty field is no number");
        assert!(f.checked().is_ok());
        let bad = parse("n=abc&d=2026-13-01&i=-3".as_bytes());
        let mut f = Fields::new(&bad);
        assert_eq!((f.int("n"), f.date("d"), f.id("i")), (None, None, None));
        let Err(AppError::Invalid(errors)) = f.checked() else { panic!("refused") };
        let named: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["n", "d", "i"]);
        assert_eq!(list(&m, "s"), vec!["理发", "维修"]);
        assert!(yes(&m, "b") && opt(&m, "e").is_none());
    }
}
