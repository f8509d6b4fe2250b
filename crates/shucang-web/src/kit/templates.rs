//! The one template engine: every template of both applications (minijinja,
//! auto-escaped by their `.html` names; the registry's under `registry/`)
//! and the [`Catalog`] of translations.

use minijinja::{Environment, Value};

use super::i18n::{App, Catalog, Lang};

/// Every built-in template: its name and source.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("message.html", include_str!("../../templates/message.html")),
    (
        "explorer.html",
        include_str!("../../templates/explorer.html"),
    ),
    ("block.html", include_str!("../../templates/block.html")),
    ("tx.html", include_str!("../../templates/tx.html")),
    ("address.html", include_str!("../../templates/address.html")),
    ("token.html", include_str!("../../templates/token.html")),
    (
        "collection.html",
        include_str!("../../templates/collection.html"),
    ),
    (
        "not_found.html",
        include_str!("../../templates/not_found.html"),
    ),
    (
        "collectible.html",
        include_str!("../../templates/collectible.html"),
    ),
    (
        "complaints.html",
        include_str!("../../templates/complaints.html"),
    ),
    (
        "complaint.html",
        include_str!("../../templates/complaint.html"),
    ),
    ("home.html", include_str!("../../templates/home.html")),
    ("login.html", include_str!("../../templates/login.html")),
    (
        "identity.html",
        include_str!("../../templates/identity.html"),
    ),
    ("order.html", include_str!("../../templates/order.html")),
    ("staff.html", include_str!("../../templates/staff.html")),
    (
        "my_collection.html",
        include_str!("../../templates/my_collection.html"),
    ),
    ("drop.html", include_str!("../../templates/drop.html")),
    (
        "certificate.html",
        include_str!("../../templates/certificate.html"),
    ),
    (
        "staff_orders.html",
        include_str!("../../templates/staff_orders.html"),
    ),
    (
        "registry/base.html",
        include_str!("../../templates/registry/base.html"),
    ),
    // One page for both applications: it extends the `layout` it is given.
    (
        "registry/message.html",
        include_str!("../../templates/message.html"),
    ),
    (
        "registry/not_found.html",
        include_str!("../../templates/registry/not_found.html"),
    ),
    (
        "registry/search.html",
        include_str!("../../templates/registry/search.html"),
    ),
    (
        "registry/account.html",
        include_str!("../../templates/registry/account.html"),
    ),
    (
        "registry/filer.html",
        include_str!("../../templates/registry/filer.html"),
    ),
    (
        "registry/step.html",
        include_str!("../../templates/registry/step.html"),
    ),
    (
        "registry/review.html",
        include_str!("../../templates/registry/review.html"),
    ),
    (
        "registry/review_app.html",
        include_str!("../../templates/registry/review_app.html"),
    ),
    (
        "registry/publish.html",
        include_str!("../../templates/registry/publish.html"),
    ),
];

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
        for (name, source) in TEMPLATES {
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
