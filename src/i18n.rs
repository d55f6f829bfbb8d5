//! Chinese by default, English on request.
//!
//! Texts live in `locales/*.yml` (rust-i18n, one key with both languages side by side).
//! The language of the current request is kept in a task-local so that errors turned into
//! responses deep inside a handler still speak the user's language.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The first language of an `Accept-Language` header that we speak.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        header.split(',').find_map(|part| Lang::parse(part.split(';').next().unwrap_or("")))
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

tokio::task_local! {
    static CURRENT: Lang;
}

/// Runs `fut` with `lang` as the request language.
pub async fn scope<F: Future>(lang: Lang, fut: F) -> F::Output {
    CURRENT.scope(lang, fut).await
}

/// The language of the request being served (Chinese outside a request).
pub fn current() -> Lang {
    CURRENT.try_with(|l| *l).unwrap_or_default()
}

/// The text of `key` in `lang` as the locale files hold it, without falling back to the
/// other language.
pub fn lookup(lang: Lang, key: &str) -> Option<String> {
    crate::_rust_i18n_backend().translate(lang.code(), key).map(Cow::into_owned)
}

/// Translates `key`, replacing `%{name}` placeholders with `params`. A key missing from a
/// locale is a defect: in debug builds (the tests) it panics, so the page that shows it
/// fails its test; a release build shows the other language, or at worst the key.
pub fn tr(lang: Lang, key: &str, params: &[(&str, String)]) -> String {
    let text = match lookup(lang, key) {
        Some(t) => t,
        None => {
            debug_assert!(false, "missing translation of {key:?} in {}", lang.code());
            lookup(lang.other(), key).unwrap_or_else(|| key.to_string())
        }
    };
    if params.is_empty() {
        return text;
    }
    let mut out = text;
    for (name, value) in params {
        out = out.replace(&format!("%{{{name}}}"), value);
    }
    out
}

/// Shorthand for a text without parameters.
pub fn t(lang: Lang, key: &str) -> String {
    tr(lang, key, &[])
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    #[test]
    fn accept_language_picks_first_known() {
        assert_eq!(Lang::from_accept_language("fr-FR,en;q=0.8,zh;q=0.5"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("zh-CN,zh;q=0.9"), Some(Lang::Zh));
        assert_eq!(Lang::from_accept_language("fr"), None);
    }

    #[test]
    fn translates_with_parameters_in_both_languages() {
        let zh = tr(Lang::Zh, "validation.too_long", &[("max", "10".into())]);
        let en = tr(Lang::En, "validation.too_long", &[("max", "10".into())]);
        assert!(zh.contains("10") && zh != en, "{zh} / {en}");
        assert!(en.contains("10"));
    }

    /// The keys a locale holds, exactly as compiled in (no fallback).
    fn keys(lang: Lang) -> BTreeSet<String> {
        crate::_rust_i18n_backend()
            .messages_for_locale(lang.code())
            .unwrap_or_default()
            .into_iter()
            .map(|(k, _)| k.into_owned())
            .collect()
    }

    /// What the code and the templates say: key-shaped literals, the prefixes of keys
    /// built at run time (`format!("ticket.status.{}", …)`, `choices(ctx, "x.y", …)`), and
    /// every plain word in quotes or after `ok=` (the suffixes those keys are built from).
    #[derive(Default)]
    struct Uses {
        literals: BTreeMap<String, String>,
        families: BTreeSet<String>,
        words: BTreeSet<String>,
    }

    fn uses(namespaces: &BTreeSet<String>) -> Uses {
        let literal = regex::Regex::new(r#""([a-z][a-z0-9_]+(?:\.[a-z0-9_]+)+)""#).unwrap();
        let family = regex::Regex::new(r#""([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*[._])\{"#).unwrap();
        let prefix_arg = regex::Regex::new(r#"choices\(\s*&?ctx\s*,\s*"([a-z0-9_.]+)""#).unwrap();
        let word = regex::Regex::new(r#"(?:"|ok=)([a-z0-9_]+)\b"#).unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("src"), root.join("templates")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() { dirs.push(p) } else { files.push(p) }
            }
        }
        let mut u = Uses::default();
        for f in files.iter().filter(|f| !f.ends_with("src/i18n.rs")) {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let prefixes: BTreeSet<&str> =
                prefix_arg.captures_iter(&text).map(|c| c.get(1).unwrap().as_str()).collect();
            for p in &prefixes {
                u.families.insert(format!("{p}."));
            }
            // A prefix handed to `choices` is not a key itself (the same text may be one elsewhere).
            let scrubbed = prefix_arg.replace_all(&text, "choices(ctx, ");
            for c in literal.captures_iter(&scrubbed) {
                let key = &c[1];
                let ns = key.split('.').next().unwrap_or("");
                let file_name = [".html", ".key", ".toml", ".db", ".json", ".sql", ".xlsx", ".pdf", ".rs"]
                    .iter()
                    .any(|x| key.ends_with(x));
                if namespaces.contains(ns) && !file_name {
                    u.literals.entry(key.to_string()).or_insert_with(|| f.display().to_string());
                }
            }
            u.families.extend(family.captures_iter(&text).map(|c| c[1].to_string()));
            u.words.extend(word.captures_iter(&text).map(|c| c[1].to_string()));
        }
        // Error pages are titled by status (`error.title.{}`).
        u.words.extend(crate::error::AppError::examples().iter().map(|e| e.status().as_u16().to_string()));
        u
    }

    /// Both languages hold the same keys; every key the code or a template names is in
    /// them; and every key in them is used, written out or built from a prefix and a word
    /// the code holds. (A key the code builds at run time and the locales lack fails the
    /// test that shows it: `tr` panics on a missing key in debug builds.)
    #[test]
    fn the_locales_hold_exactly_the_keys_the_code_uses() {
        let (zh, en) = (keys(Lang::Zh), keys(Lang::En));
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(only_zh.is_empty() && only_en.is_empty(), "zh only: {only_zh:?}; en only: {only_en:?}");
        let namespaces: BTreeSet<String> = zh.iter().filter_map(|k| k.split('.').next()).map(String::from).collect();
        let u = uses(&namespaces);
        assert!(u.literals.len() > 600 && u.families.len() > 30, "the scan still finds the keys");
        let missing: Vec<_> = u.literals.iter().filter(|(k, _)| !zh.contains(*k)).collect();
        assert!(missing.is_empty(), "used but not in the locales: {missing:#?}");
        let unused: Vec<_> = zh
            .iter()
            .filter(|k| !u.literals.contains_key(*k))
            .filter(|k| {
                !u.families.iter().any(|f| {
                    k.strip_prefix(f.as_str())
                        .is_some_and(|rest| u.words.contains(rest.rsplit('.').next().unwrap_or(rest)))
                })
            })
            .collect();
        assert!(unused.is_empty(), "in the locales but used nowhere: {unused:#?}");
        // Keys built from a closed set: every member has its text.
        let built: Vec<String> = crate::web::Notice::ALL
            .iter()
            .map(|n| n.key())
            .chain(crate::error::AppError::examples().iter().map(|e| format!("error.title.{}", e.status().as_u16())))
            .collect();
        let missing: Vec<_> = built.iter().filter(|k| !zh.contains(*k)).collect();
        assert!(missing.is_empty(), "built by the code but not in the locales: {missing:?}");
    }

    #[test]
    #[should_panic(expected = "missing translation")]
    fn a_missing_key_is_a_failure_in_debug_builds() {
        t(Lang::En, "nothing.here_at_all");
    }
}
