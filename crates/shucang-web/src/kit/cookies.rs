//! Cookies: the one reader of the `Cookie` header and the `Set-Cookie`
//! values of the cookies this crate sets, plus the bearer token of an
//! `Authorization` header.

use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;

/// Whether a cookie goes along with requests from other sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SameSite {
    /// Sent on top-level navigation from other sites (GET links), not on
    /// their POSTs: for session cookies, so links into the site work.
    Lax,
    /// Never sent from other sites: for the form token.
    Strict,
}

/// A cookie this crate sets: HttpOnly (scripts cannot read it), for the
/// whole site, until the browser closes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cookie {
    /// Its name.
    pub(crate) name: &'static str,
    same_site: SameSite,
}

impl Cookie {
    /// The cookie `name`.
    pub(crate) const fn new(name: &'static str, same_site: SameSite) -> Cookie {
        Cookie { name, same_site }
    }

    /// Its value in a request (the first one, if the browser sent several).
    pub(crate) fn read(self, headers: &HeaderMap) -> Option<&str> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.name)
            .map(|(_, value)| value)
    }

    /// The `Set-Cookie` header that sets it to `value`; `None` when `value`
    /// cannot be a header value (our tokens always can).
    pub(crate) fn set(self, value: &str) -> Option<(HeaderName, HeaderValue)> {
        let same_site = match self.same_site {
            SameSite::Lax => "Lax",
            SameSite::Strict => "Strict",
        };
        let text = format!(
            "{}={value}; Path=/; HttpOnly; SameSite={same_site}",
            self.name
        );
        HeaderValue::from_str(&text).ok().map(|v| (SET_COOKIE, v))
    }

    /// The `Set-Cookie` header that removes it.
    pub(crate) fn clear(self) -> (HeaderName, HeaderValue) {
        let (name, value) = self
            .set("")
            .expect("an empty cookie value is a valid header value");
        let mut text = value.to_str().unwrap_or_default().to_owned();
        text.push_str("; Max-Age=0");
        (
            name,
            HeaderValue::from_str(&text).expect("the cookie name is a valid header value"),
        )
    }

    /// Adds the `Set-Cookie` header that sets it to `value` to `response`.
    pub(crate) fn set_on(self, response: &mut Response, value: &str) {
        if let Some((name, value)) = self.set(value) {
            response.headers_mut().append(name, value);
        }
    }

    /// Adds the `Set-Cookie` header that removes it to `response`.
    pub(crate) fn clear_on(self, response: &mut Response) {
        let (name, value) = self.clear();
        response.headers_mut().append(name, value);
    }
}

/// What an `Authorization` header carries: `Some(Some(token))` for a Bearer
/// token (scheme in any case), `Some(None)` for another scheme or a
/// malformed header, `None` when there is no header.
pub(crate) fn authorization(headers: &HeaderMap) -> Option<Option<&str>> {
    let value = headers.get(AUTHORIZATION)?;
    let bearer = value.to_str().ok().and_then(|v| {
        let (scheme, token) = v.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    });
    Some(bearer)
}

/// The prefix that binds a cookie to this exact origin over HTTPS: the
/// browser accepts it only with `Secure`, `Path=/` and no `Domain`, so a
/// sibling subdomain cannot plant or overwrite it.
const HOST_PREFIX: &str = "__Host-";

/// `router` with its cookies made HTTPS-only when the site is served over
/// HTTPS (its public URL starts `https://`): every `Set-Cookie` gets the
/// `__Host-` prefix and `Secure`, and only `__Host-` cookies are read (with
/// the prefix taken off, so the rest of the crate keeps its names). Over
/// plain HTTP (development, tests) cookies are left as they are.
pub(crate) fn secure_when(https: bool, router: axum::Router) -> axum::Router {
    if !https {
        return router;
    }
    router
        .layer(axum::middleware::map_response(host_prefixed_set_cookies))
        .layer(axum::middleware::map_request(host_prefixed_cookies_only))
}

/// Keeps only the `__Host-` cookies of a request, without their prefix.
async fn host_prefixed_cookies_only(mut req: axum::extract::Request) -> axum::extract::Request {
    let kept: Vec<String> = req
        .headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(HOST_PREFIX).map(str::to_owned))
        .collect();
    let headers = req.headers_mut();
    headers.remove(COOKIE);
    if let Ok(v) = HeaderValue::from_str(&kept.join("; "))
        && !kept.is_empty()
    {
        headers.insert(COOKIE, v);
    }
    req
}

/// Gives every cookie an answer sets the `__Host-` prefix and `Secure`.
async fn host_prefixed_set_cookies(mut res: Response) -> Response {
    let set: Vec<String> = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| format!("{HOST_PREFIX}{v}; Secure"))
        .collect();
    let headers = res.headers_mut();
    headers.remove(SET_COOKIE);
    for v in set {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.append(SET_COOKIE, v);
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Cookie = Cookie::new("c", SameSite::Strict);

    #[test]
    fn reads_the_named_cookie_among_several_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(C.read(&h), None);
        h.append(COOKIE, "a=1; cc=2".parse().unwrap());
        h.append(COOKIE, "b=3;c=4; c=5".parse().unwrap());
        assert_eq!(C.read(&h), Some("4"));
    }

    #[test]
    fn sets_and_clears() {
        let (_, v) = C.set("x").unwrap();
        assert_eq!(v, "c=x; Path=/; HttpOnly; SameSite=Strict");
        let (_, v) = Cookie::new("s", SameSite::Lax).clear();
        assert_eq!(v, "s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    }

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        assert_eq!(authorization(&h), None);
        h.insert(AUTHORIZATION, "bearer abc ".parse().unwrap());
        assert_eq!(authorization(&h), Some(Some("abc")));
        h.insert(AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(authorization(&h), Some(None));
    }
}
