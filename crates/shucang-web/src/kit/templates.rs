//! The one template engine: every template of both applications (minijinja,
//! auto-escaped by their `.html` names; the registry's under `registry/`)
//! and the [`Catalog`] of translations.

use minijinja::{Environment, Value};

use super::i18n::{App, Catalog, Lang};

/// A table of templates read from `templates/`, each named by its path there.
macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

/// Every built-in template: its name and source.
const TEMPLATES: &[(&str, &str)] = templates![
    "base.html",
    "macros.html",
    "message.html",
    "explorer.html",
    "block.html",
    "tx.html",
    "address.html",
    "token.html",
    "collection.html",
    "not_found.html",
    "collectible.html",
    "complaints.html",
    "complaint.html",
    "home.html",
    "login.html",
    "identity.html",
    "order.html",
    "staff.html",
    "my_collection.html",
    "drop.html",
    "certificate.html",
    "staff_orders.html",
    "registry/base.html",
    "registry/not_found.html",
    "registry/search.html",
    "registry/account.html",
    "registry/filer.html",
    "registry/step.html",
    "registry/review.html",
    "registry/review_app.html",
    "registry/publish.html",
    "registry/audit.html",
    "registry/notice.html",
];

/// One page for both applications: it extends the `layout` it is given.
const SHARED_MESSAGE: (&str, &str) = (
    "registry/message.html",
    include_str!("../../templates/message.html"),
);

/// The compiled templates of both applications and their translations.
pub struct Pages {
    env: Environment<'static>,
    catalog: Catalog,
    /// Each table as a template value, made once.
    tables: Vec<((App, Lang), Value)>,
}

impl Pages {
    /// Compiles the built-in templates and loads the translation tables.
    pub fn new() -> Pages {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES.iter().chain([&SHARED_MESSAGE]) {
            env.add_template(name, source)
                .expect("the built-in templates compile (tested)");
        }
        let catalog = Catalog::built_in();
        let tables = App::ALL
            .iter()
            .flat_map(|app| Lang::ALL.iter().map(move |lang| (*app, *lang)))
            .map(|(app, lang)| {
                let table = Value::from_serialize(catalog.table(app, lang));
                ((app, lang), table)
            })
            .collect();
        Pages {
            env,
            catalog,
            tables,
        }
    }

    /// The translations.
    pub(crate) fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Renders `app`'s template `name` (without the application's folder)
    /// in `lang` with `context`, which gains the table as `t`.
    pub(crate) fn render(
        &self,
        app: App,
        lang: Lang,
        name: &str,
        context: Value,
    ) -> Result<String, minijinja::Error> {
        let t = self
            .tables
            .iter()
            .find(|(key, _)| *key == (app, lang))
            .map(|(_, table)| table.clone())
            .unwrap_or_default();
        self.env
            .get_template(&format!("{}{name}", app.template_prefix()))?
            .render(minijinja::context! { t, ..context })
    }
}

impl Default for Pages {
    fn default() -> Pages {
        Pages::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_each_extends_its_own_base() {
        let pages = Pages::new();
        for (name, source) in TEMPLATES {
            assert!(pages.env.get_template(name).is_ok(), "{name}");
            if let Some(rest) = source.strip_prefix("{% extends \"") {
                let base = &rest[..rest.find('"').unwrap()];
                let folder = &name[..name.rfind('/').map_or(0, |i| i + 1)];
                assert_eq!(base, format!("{folder}base.html"), "{name}");
            }
        }
    }

    /// The one message page takes each application's layout.
    #[test]
    fn the_message_page_extends_each_applications_base() {
        let pages = Pages::new();
        for (app, layout, mark) in [
            (App::Platform, "base.html", "/explorer"),
            (App::Registry, "registry/base.html", "/register"),
        ] {
            let site = minijinja::context! {};
            let context = minijinja::context! { layout, site, message => "表单已过期" };
            let html = pages
                .render(app, Lang::ZhCn, "message.html", context)
                .unwrap();
            assert!(html.contains("表单已过期") && html.contains(mark), "{html}");
        }
    }
}
