//! The layers every answer of both applications passes through: body
//! limit, panic guard (JSON for the API, the 500 page for browsers),
//! tracing keyed by the route template, request ids.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use super::{Page, WebApp};
use crate::error::{Panicked, not_found, panic_response, server_error_page};

/// Largest request body accepted; larger ones get 413 `payload_too_large`.
pub const REQUEST_BODY_MAX_BYTES: usize = 1024 * 1024;

/// What every answer says about how a browser may use it: only our own
/// scripts, styles, images (and `data:` images), forms and fetches; never
/// inside another site's frame; no type sniffing; the address sent on only
/// to ourselves.
const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
         object-src 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
];

/// Adds [`SECURITY_HEADERS`] to every answer that does not set its own
/// (tower-http's layers, not a middleware function, which would box every
/// request's future).
fn with_security_headers(routes: Router) -> Router {
    SECURITY_HEADERS
        .iter()
        .fold(routes, |routes, (name, value)| {
            routes.layer(SetResponseHeaderLayer::if_not_present(
                axum::http::HeaderName::from_static(name),
                HeaderValue::from_static(value),
            ))
        })
}

/// `routes` behind the layers.
pub(crate) fn guarded(routes: Router) -> Router {
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    let routes = routes
        .layer(DefaultBodyLimit::max(REQUEST_BODY_MAX_BYTES))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(panic_page))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("<unmatched>", MatchedPath::as_str);
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), route, request_id = id)
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, RequestIds::new()));
    with_security_headers(routes)
}

/// Whether a request is a browser asking for a page: it accepts HTML and
/// its path is outside the JSON API.
pub(crate) fn wants_page(uri: &Uri, headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
        && !uri.path().starts_with("/api/")
}

/// A handler that panicked on a page request answers with the site's 500
/// page instead of the JSON body (the panic guard below it cannot see the
/// request, so it marks its answer and this layer swaps it).
async fn panic_page(req: Request, next: axum::middleware::Next) -> Response {
    let page = wants_page(req.uri(), req.headers());
    let response = next.run(req).await;
    if page && response.extensions().get::<Panicked>().is_some() {
        return server_error_page();
    }
    response
}

/// Unknown routes of either application: its 404 page for browsers, JSON
/// for the rest.
pub(crate) async fn fallback<S: WebApp>(
    State(state): State<S>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if wants_page(&uri, &headers) {
        Page::of(&state, &uri, &headers).await.not_found()
    } else {
        not_found(uri).await.into_response()
    }
}

/// Request ids: a per-process random prefix and a counter, e.g. `3f9a1c-42`.
/// Unique enough to find one request in the logs, and free to make.
#[derive(Clone)]
struct RequestIds {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl RequestIds {
    fn new() -> RequestIds {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let seed = nanos ^ std::process::id().rotate_left(16);
        RequestIds {
            prefix: format!("{:06x}", seed & 0xff_ffff).into(),
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use axum::routing::get;

    /// A panicking handler answers JSON to the API and the site's 500 page
    /// to a browser, over real HTTP, and the server keeps serving.
    #[tokio::test]
    async fn a_panic_becomes_the_500_page_for_browsers_and_json_for_the_api() {
        async fn boom() -> &'static str {
            panic!("deliberate test panic")
        }
        let app = super::guarded(
            axum::Router::new()
                .route("/boom", get(boom))
                .route("/api/v1/boom", get(boom))
                .route("/ok", get(|| async { "ok" })),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::new();
        let page = http
            .get(format!("{base}/boom"))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 500);
        let body = page.text().await.unwrap();
        assert!(
            body.contains("<html") && body.contains("服务暂时出错"),
            "{body}"
        );
        assert!(!body.contains("deliberate"));
        for (path, accept) in [("/api/v1/boom", "text/html"), ("/boom", "application/json")] {
            let api = http
                .get(format!("{base}{path}"))
                .header("accept", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(api.status(), 500);
            let json: serde_json::Value = api.json().await.unwrap();
            assert_eq!(json["error"]["code"], "internal_error", "{json}");
            assert!(!json.to_string().contains("deliberate"));
        }
        let ok = http.get(format!("{base}/ok")).send().await.unwrap();
        assert_eq!(ok.text().await.unwrap(), "ok");
    }
}
