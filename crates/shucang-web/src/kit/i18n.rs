//! Languages and translations: Simplified Chinese by default, English with
//! `?lang=en` or a browser preferring it; one table per application and
//! language (`i18n/<lang>.json` for the platform, `i18n/registry.<lang>.json`
//! for the registry), loaded together into one [`Catalog`].

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Simplified Chinese, the default.
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// Both languages.
    pub(crate) const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 code (`zh-CN`, `en`).
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The query string that keeps this language on a link (empty for the
    /// default).
    pub(crate) fn query(self) -> &'static str {
        match self {
            Lang::ZhCn => "",
            Lang::En => "?lang=en",
        }
    }

    /// The language a request asks for: `?lang=` first, then the browser's
    /// first `Accept-Language`.
    pub(crate) fn of(query: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(q) = query {
            for pair in q.split('&') {
                match pair {
                    "lang=en" => return Lang::En,
                    "lang=zh-CN" | "lang=zh" => return Lang::ZhCn,
                    _ => {}
                }
            }
        }
        let accept = headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        match accept.split(',').next().map(str::trim) {
            Some(first) if first.to_ascii_lowercase().starts_with("en") => Lang::En,
            _ => Lang::ZhCn,
        }
    }

    fn index(self) -> usize {
        match self {
            Lang::ZhCn => 0,
            Lang::En => 1,
        }
    }
}

/// Which application a page belongs to: its templates and its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum App {
    /// The collectibles platform.
    Platform,
    /// The filing registry.
    Registry,
}

impl App {
    /// Both applications.
    pub(crate) const ALL: [App; 2] = [App::Platform, App::Registry];

    /// The folder of its templates (and prefix of their names).
    pub(crate) fn template_prefix(self) -> &'static str {
        match self {
            App::Platform => "",
            App::Registry => "registry/",
        }
    }

    fn index(self) -> usize {
        match self {
            App::Platform => 0,
            App::Registry => 1,
        }
    }
}

/// One translation table: key → text.
pub(crate) type Table = BTreeMap<String, String>;

/// Every translation table, by application and language.
pub(crate) struct Catalog {
    tables: [[Table; 2]; 2],
}

impl Catalog {
    /// The built-in tables.
    pub(crate) fn built_in() -> Catalog {
        let table = |json: &str| -> Table {
            serde_json::from_str(json).expect("the translation tables are valid JSON (tested)")
        };
        Catalog {
            tables: [
                [
                    table(include_str!("../../i18n/zh-CN.json")),
                    table(include_str!("../../i18n/en.json")),
                ],
                [
                    table(include_str!("../../i18n/registry.zh-CN.json")),
                    table(include_str!("../../i18n/registry.en.json")),
                ],
            ],
        }
    }

    /// The table of `app` in `lang`.
    pub(crate) fn table(&self, app: App, lang: Lang) -> &Table {
        &self.tables[app.index()][lang.index()]
    }

    /// One text (the key itself if missing, which the tests rule out for
    /// the keys the code uses).
    pub(crate) fn text<'a>(&'a self, app: App, lang: Lang, key: &'a str) -> &'a str {
        self.table(app, lang).get(key).map_or(key, String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One password policy (`shucang_types::check_password`) for both
    /// applications, stated the same way.
    #[test]
    fn both_applications_state_the_enforced_password_policy() {
        let catalog = Catalog::built_in();
        for lang in [Lang::ZhCn, Lang::En] {
            let hint = |app| catalog.text(app, lang, "password_hint").to_owned();
            assert_eq!(hint(App::Platform), hint(App::Registry), "{lang:?}");
        }
        let zh = catalog.text(App::Registry, Lang::ZhCn, "password_hint");
        assert!(
            zh.contains(&shucang_types::PASSWORD_LEN_MIN.to_string()),
            "{zh}"
        );
        // The policy as enforced: 8 characters of three classes pass, two
        // classes or 7 characters do not.
        assert!(shucang_types::check_password("Abcdef#1", "").is_ok());
        assert!(shucang_types::check_password("abcdefgh12", "").is_err());
        assert!(shucang_types::check_password("Abc#123", "").is_err());
    }

    #[test]
    fn every_language_of_an_application_has_the_same_keys() {
        let catalog = Catalog::built_in();
        for app in App::ALL {
            let keys = |lang| catalog.table(app, lang).keys().collect::<Vec<_>>();
            assert_eq!(keys(Lang::ZhCn), keys(Lang::En), "{app:?}");
        }
    }

    #[test]
    fn language_choice() {
        use axum::http::header::ACCEPT_LANGUAGE;
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of(None, &h), Lang::ZhCn);
        assert_eq!(Lang::of(Some("lang=en"), &h), Lang::En);
        h.insert(ACCEPT_LANGUAGE, "en-US,en;q=0.9".parse().unwrap());
        assert_eq!(Lang::of(None, &h), Lang::En);
        assert_eq!(Lang::of(Some("lang=zh-CN"), &h), Lang::ZhCn);
        h.insert(ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9,en;q=0.8".parse().unwrap());
        assert_eq!(Lang::of(None, &h), Lang::ZhCn);
    }
}
