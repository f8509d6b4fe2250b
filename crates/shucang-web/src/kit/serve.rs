//! The HTTP server both applications run, with the bounds a stranger must
//! not be able to lift: a connection limit, a deadline for a request's
//! headers, one for its body, and an idle timeout.
//!
//! `axum::serve` offers none of these, so this is our own accept loop over
//! hyper's HTTP/1.1 connection (the same hyper that `axum::serve` drives):
//!
//! - **Connections**: a semaphore permit per connection; when all are taken
//!   the loop stops accepting, and new connections wait in the kernel's
//!   listen backlog until one closes.
//! - **Headers, and silence**: hyper's `header_read_timeout` closes a
//!   connection whose request head is not complete in time; hyper starts
//!   that deadline as soon as a connection waits for a request, so it also
//!   closes a connection that sends nothing, at first or between requests.
//! - **Body**: [`BodyDeadline`] fails the body's next read once the
//!   deadline has passed since the head arrived; the JSON extractors answer
//!   408 `request_timeout` and the connection closes.
//! - **Unread answers**: [`SendDeadline`] fails a write that has made no
//!   progress for the send timeout (a client that does not read what it
//!   asked for), which closes the connection. It costs nothing while
//!   writes go through: the clock is read only when one stalls.
//!
//! Shutdown stops accepting at once, lets each connection finish the
//! request it is answering, and waits at most [`SHUTDOWN_GRACE`] for them.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Sleep;

/// How long shutdown waits for connections to finish their requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The bounds of one server (from `[server]` / `[registry.server]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeLimits {
    /// Connections served at once.
    pub connections_max: usize,
    /// Time to send a request's head.
    pub header_read_timeout: Duration,
    /// Time to send a request's body, counted from its head.
    pub body_read_timeout: Duration,
    /// Time an answer may wait for a client that does not read it.
    pub send_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed (exact
    /// addresses); for anyone else the TCP peer is the client.
    pub trusted_proxies: Arc<[IpAddr]>,
}

/// The client's address as the server believes it: the TCP peer, or, when
/// the peer is a trusted proxy, the nearest address in `X-Forwarded-For`
/// that is not one. Rate limits and records key on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client behind `peer` given the request's `X-Forwarded-For` values:
/// walked from the nearest hop outwards while the hop is a trusted proxy;
/// a malformed entry stops the walk at the last trusted hop.
fn client_addr(peer: IpAddr, forwarded: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        if !trusted.contains(&client) {
            break;
        }
        match hop.parse::<IpAddr>() {
            Ok(ip) => client = ip,
            Err(_) => break,
        }
    }
    client
}

/// Serves `router` on `listener` within `limits` until `shutdown`
/// completes. Each request carries `ConnectInfo<SocketAddr>` of its peer.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.connections_max.max(1)));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off rather
                // than spin; a peer that reset before accept is harmless.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Small answers go out at once rather than after Nagle's delay.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let stopping = stopping.clone();
        let limits = limits.clone();
        connections.spawn(async move {
            connection(stream, peer, router, limits, stopping).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        tracing::warn!("connections still open after the shutdown grace period were cut");
    }
    Ok(())
}

/// Serves one connection until it closes, fails a bound, or shutdown asks
/// it to finish.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ServeLimits,
    mut stopping: watch::Receiver<bool>,
) {
    let io = SendDeadline::new(stream, limits.send_timeout);
    let body_limit = limits.body_read_timeout;
    let trusted = limits.trusted_proxies.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let mut req = with_body_deadline(req, body_limit);
        let client = client_addr(peer.ip(), req.headers(), &trusted);
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(ClientAddr(client));
        let mut router = router.clone();
        async move { tower::Service::call(&mut router, req).await }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let ended = tokio::select! {
        ended = conn.as_mut() => ended,
        // Shutdown (or the server gone) is the only change ever sent.
        _ = stopping.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = ended {
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}

/// A TCP stream whose writes fail with `TimedOut` once one has made no
/// progress for the send timeout. Reads pass straight through (hyper's
/// head deadline and [`BodyDeadline`] bound them).
struct SendDeadline {
    inner: TcpStream,
    timeout: Duration,
    /// Armed when a write stalls, disarmed when one goes through.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl SendDeadline {
    fn new(inner: TcpStream, timeout: Duration) -> SendDeadline {
        SendDeadline {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// What a write's result becomes: progress disarms the deadline; a
    /// stall arms it (once) and fails once it has passed.
    fn deadline<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let timeout = self.timeout;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client did not read its answer in time",
        )))
    }
}

impl AsyncRead for SendDeadline {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendDeadline {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.deadline(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.deadline(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.deadline(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The error a request body gives once its deadline has passed.
#[derive(Debug)]
pub(crate) struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body was not received within the time allowed")
    }
}

impl std::error::Error for BodyTimedOut {}

/// Whether `error` (or what caused it) is a [`BodyTimedOut`].
pub(crate) fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Gives a request with a body a deadline for receiving it (done here
/// rather than as a middleware layer, which would box every request's
/// future).
fn with_body_deadline(req: Request<Incoming>, limit: Duration) -> Request {
    if http_body::Body::is_end_stream(req.body()) {
        return req.map(Body::new);
    }
    req.map(|body| {
        Body::new(BodyDeadline {
            inner: Body::new(body),
            deadline: Box::pin(tokio::time::sleep(limit)),
        })
    })
}

/// A request body that fails with [`BodyTimedOut`] when its deadline passes
/// before the last of it arrives.
struct BodyDeadline {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
}

impl http_body::Body for BodyDeadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        ready!(this.deadline.as_mut().poll(cx));
        Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_trusted_proxies_are_believed_hop_by_hop() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = ip("10.0.0.1");
        let trusted = [proxy, ip("10.0.0.2")];
        let h = forwarded(&["198.51.100.7, 203.0.113.9, 10.0.0.2"]);
        // An untrusted peer's header is ignored.
        assert_eq!(client_addr(ip("192.0.2.1"), &h, &trusted), ip("192.0.2.1"));
        // Through two trusted proxies: the first untrusted hop, not what
        // the client itself wrote further out.
        assert_eq!(client_addr(proxy, &h, &trusted), ip("203.0.113.9"));
        // Several header lines read as one list.
        let h = forwarded(&["198.51.100.7", "203.0.113.9"]);
        assert_eq!(client_addr(proxy, &h, &trusted), ip("203.0.113.9"));
        // Garbage stops the walk at the proxy; no header: the proxy.
        assert_eq!(
            client_addr(proxy, &forwarded(&["nonsense"]), &trusted),
            proxy
        );
        assert_eq!(client_addr(proxy, &HeaderMap::new(), &trusted), proxy);
        assert_eq!(
            client_addr(proxy, &forwarded(&["::1"]), &trusted),
            ip("::1")
        );
    }
}
