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

/// Translates `key`, replacing `%{name}` placeholders with `params`.
pub fn tr(lang: Lang, key: &str, params: &[(&str, String)]) -> String {
    let text: Cow<'_, str> = rust_i18n::t!(key, locale = lang.code());
    if params.is_empty() {
        return text.into_owned();
    }
    let mut out = text.into_owned();
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

    /// Every text key written out in the code or the templates has both languages (a
    /// missing one would show the key itself to a resident).
    #[test]
    fn every_key_in_the_code_is_translated() {
        let pattern = regex::Regex::new(
            r#"(?:\b(?:t|tr)\(\s*|FieldError::new\([^,()]+,\s*|Conflict\(|::field\([^,()]+,\s*|Err\()"([a-z_]+\.[a-z0-9_.]+)""#,
        )
        .unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("src"), root.join("templates")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() { dirs.push(p) } else { files.push(p) }
            }
        }
        let (mut missing, mut checked) = (Vec::new(), 0);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for c in pattern.captures_iter(&text) {
                let key = &c[1];
                checked += 1;
                for lang in [Lang::Zh, Lang::En] {
                    if t(lang, key) == key {
                        missing.push(format!("{key} ({}) in {}", lang.code(), f.display()));
                    }
                }
            }
        }
        assert!(checked > 500, "the pattern still finds the keys ({checked})");
        assert!(missing.is_empty(), "untranslated: {missing:#?}");
    }
}
