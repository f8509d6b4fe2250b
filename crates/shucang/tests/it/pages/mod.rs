//! The platform's server-rendered pages over HTTP, in Chinese and English:
//! the explorer, the shop, collectibles and their certificates, accounts,
//! complaints and the staff console, one submodule per area.

mod accounts;
mod collectibles;
mod complaints;
mod explorer;
mod shop;
mod staff;

use reqwest::{Client, Response, StatusCode};

use crate::harness::TestApp;
use crate::support::no_redirects;

/// GETs a page as a browser would; returns its status and HTML (the
/// content type must be HTML).
async fn html(app: &TestApp, path: &str) -> (StatusCode, String) {
    let res = app.page(path).await;
    let status = res.status();
    let ct = crate::support::header(&res, "content-type");
    assert!(ct.starts_with("text/html"), "{path}: {ct}");
    (status, res.text().await.unwrap())
}

/// Someone on the pages: a client that shows redirects and sends one
/// fixed cookie header (none when it is empty), and the form token that
/// goes with it.
struct Visitor<'a> {
    app: &'a TestApp,
    client: Client,
    cookie: String,
    csrf: String,
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp, cookie: impl Into<String>) -> Visitor<'a> {
        Visitor {
            app,
            client: no_redirects(),
            cookie: cookie.into(),
            csrf: String::new(),
        }
    }

    /// Someone with a form token cookie and a session; forms carry the
    /// token bound to the session.
    fn signed_in(app: &'a TestApp, csrf: &str, session: &str) -> Visitor<'a> {
        Visitor {
            csrf: shucang_web::session_form_token(session),
            ..Visitor::new(
                app,
                format!("shucang_csrf={csrf}; shucang_session={session}"),
            )
        }
    }

    /// The form token bound to the session in this visitor's cookies.
    fn bound_token(&self) -> String {
        let session = self
            .cookie
            .split("; ")
            .find_map(|c| c.strip_prefix("shucang_session="))
            .expect("a session cookie");
        shucang_web::session_form_token(session)
    }

    fn request(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.cookie.is_empty() {
            req
        } else {
            req.header("cookie", &self.cookie)
        }
    }

    async fn get(&self, path: &str) -> Response {
        self.request(self.client.get(self.app.url(path)))
            .send()
            .await
            .unwrap()
    }

    /// The text of the page at `path`.
    async fn text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// Posts a form with the form token added.
    async fn submit(&self, path: &str, fields: &[(&str, String)]) -> Response {
        let mut fields = fields.to_vec();
        fields.push(("csrf", self.csrf.clone()));
        self.post(path, &fields).await
    }

    /// Posts a form as it is.
    async fn post(&self, path: &str, fields: &[(&str, String)]) -> Response {
        self.request(self.client.post(self.app.url(path)))
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}
