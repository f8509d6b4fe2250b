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
//! - **Headers**: hyper's `header_read_timeout` closes a connection whose
//!   request head is not complete in time.
//! - **Body**: [`BodyDeadline`] fails the body's next read once the
//!   deadline has passed since the head arrived; the JSON extractors answer
//!   408 `request_timeout` and the connection closes.
//! - **Idle**: [`Idle`] fails a read that makes no progress for the idle
//!   timeout while no request is being answered (a silent keep-alive
//!   connection), and a write that makes no progress at any time (a client
//!   that does not read its answer).
//!
//! Shutdown stops accepting at once, lets each connection finish the
//! request it is answering, and waits at most [`SHUTDOWN_GRACE`] for them.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};

/// How long shutdown waits for connections to finish their requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The bounds of one server (from `[server]` / `[registry.server]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Connections served at once.
    pub connections_max: usize,
    /// Time to send a request's head.
    pub header_read_timeout: Duration,
    /// Time to send a request's body, counted from its head.
    pub body_read_timeout: Duration,
    /// Time a connection may make no progress.
    pub idle_timeout: Duration,
}

/// Serves `router` on `listener` within `limits` until `shutdown`
/// completes. Each request carries `ConnectInfo<SocketAddr>` of its peer.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let router = router.layer(axum::middleware::from_fn_with_state(
        limits.body_read_timeout,
        body_deadline,
    ));
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
    let answering = Arc::new(AtomicUsize::new(0));
    let io = Idle::new(stream, limits.idle_timeout, answering.clone());
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let mut router = router.clone();
        let guard = Answering::start(answering.clone());
        async move {
            let response = tower::Service::call(&mut router, req).await;
            drop(guard);
            response
        }
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

/// Counts a request being answered on a connection for as long as it lives.
struct Answering(Arc<AtomicUsize>);

impl Answering {
    fn start(count: Arc<AtomicUsize>) -> Answering {
        count.fetch_add(1, Ordering::Relaxed);
        Answering(count)
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A TCP stream whose reads fail with `TimedOut` after the idle timeout
/// without progress while no request is being answered, and whose writes
/// fail after it at any time.
struct Idle {
    inner: TcpStream,
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
    answering: Arc<AtomicUsize>,
}

impl Idle {
    fn new(inner: TcpStream, timeout: Duration, answering: Arc<AtomicUsize>) -> Idle {
        Idle {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            answering,
        }
    }

    fn progressed(&mut self) {
        let next = Instant::now() + self.timeout;
        self.deadline.as_mut().reset(next);
    }

    /// What a pending read or write becomes: still pending, or timed out
    /// once the deadline has passed.
    fn expired<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        ready!(self.deadline.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no progress within the idle timeout",
        )))
    }
}

impl AsyncRead for Idle {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.progressed();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if this.answering.load(Ordering::Relaxed) > 0 => {
                // A handler is at work: the connection is not idle.
                this.progressed();
                Poll::Pending
            }
            Poll::Pending => this.expired(cx),
        }
    }
}

impl AsyncWrite for Idle {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.progressed();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.expired(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    this.progressed();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.expired(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
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

/// Gives every request with a body a deadline for receiving it.
async fn body_deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    if http_body::Body::is_end_stream(req.body()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let body = Body::new(BodyDeadline {
        inner: body,
        deadline: Box::pin(tokio::time::sleep(limit)),
    });
    next.run(Request::from_parts(parts, body)).await
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
