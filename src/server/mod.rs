//! The HTTPS accept loop: TLS handshakes with a timeout, the client certificate's office handed to the
//! router, a deadline for the first request counted from the accept, idle connections closed (HTTP/1.1
//! keep-alive and HTTP/2), a cap on open connections, bounded request heads, and a graceful drain on shutdown.
//!
//! A hand-written loop over hyper-util rather than `axum::serve`: it gives the per-connection client
//! certificate, the timeouts, the cap and the drain in one visible place.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

mod connections;
pub mod live_tls;

use connections::{Registry, Slot};
use live_tls::LiveTls;

use crate::http::{ClientCertOffice, PeerAddr};
use crate::tls::client_cert;

/// Timeouts and bounds of the connections a client opens (`[server]` settings).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time allowed for the TLS handshake.
    pub handshake: Duration,
    /// Time allowed, from the TCP accept, for the first request's headers to arrive; also each later request's
    /// header read on HTTP/1.1.
    pub header: Duration,
    /// A connection with no request in flight for this long is closed (HTTP/1.1 keep-alive and HTTP/2).
    pub idle: Duration,
    /// How long in-flight requests may take to finish after a shutdown signal.
    pub drain: Duration,
    /// Most connections open at once; at the cap the oldest idle one is closed to make room, and when none is
    /// idle a new connection is refused.
    pub max_connections: usize,
}

/// Serves `router` over TLS on `listener` until `shutdown` completes, then drains open connections.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<LiveTls>,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let registry = Registry::new(limits.max_connections);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header)
        .max_buf_size(MAX_HEADER_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(limits.idle / 2))
        .keep_alive_timeout(limits.header)
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(MAX_HEADER_BYTES as u32);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = registry.admit() else {
            tracing::debug!(%peer, cap = limits.max_connections, "connection refused: every connection is busy");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        // The configuration in use now: a renewed certificate serves the next handshake.
        let acceptor = TlsAcceptor::from(tls.current());
        let (router, builder) = (router.clone(), builder.clone());
        tokio::spawn(async move {
            connection(tcp, peer, acceptor, router, builder, slot, limits).await;
        });
    }
    tracing::info!("shutting down: no new connections, draining requests in flight");
    registry.close_all();
    if tokio::time::timeout(limits.drain, registry.drained())
        .await
        .is_err()
    {
        tracing::warn!(
            open = registry.len(),
            "drain timed out; closing the remaining connections"
        );
    }
    Ok(())
}

/// Largest request head (HTTP/1.1 read buffer, HTTP/2 header list), in bytes.
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most concurrent HTTP/2 streams of one connection.
const MAX_STREAMS: u32 = 64;

async fn connection(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    router: Router,
    builder: Builder<TokioExecutor>,
    slot: Slot,
    limits: Limits,
) {
    let accepted = Instant::now();
    let handshake = tokio::select! {
        r = tokio::time::timeout(limits.handshake, acceptor.accept(tcp)) => r,
        () = slot.conn.close.notified() => return,
    };
    let stream = match handshake {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let office = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| client_cert(c));
    let cert = ClientCertOffice(office);
    let slot = Arc::new(slot);
    let tracker = Arc::clone(&slot);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(cert.clone());
        req.extensions_mut().insert(PeerAddr(peer));
        let in_flight = tracker.request();
        let answer = router.clone().oneshot(req);
        async move {
            let response = answer.await;
            drop(in_flight);
            response
        }
    });
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut closing: Option<Instant> = None;
    loop {
        let wake = match closing {
            // A connection asked to close gets the drain time to finish its requests.
            Some(since) => since + limits.drain,
            None => slot
                .idle_deadline(accepted, limits.header, limits.idle)
                .unwrap_or_else(|| Instant::now() + limits.idle),
        };
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, error = %e, "connection closed with an error");
                }
                return;
            }
            () = slot.conn.close.notified(), if closing.is_none() => {
                conn.as_mut().graceful_shutdown();
                closing = Some(Instant::now());
            }
            () = tokio::time::sleep_until(wake.into()) => {
                if closing.is_some() {
                    tracing::debug!(%peer, "connection did not finish within the drain time; closed");
                    return;
                }
                let due = slot.idle_deadline(accepted, limits.header, limits.idle);
                if due.is_some_and(|d| d <= Instant::now()) {
                    if !slot.has_requests() {
                        tracing::debug!(%peer, "no request within the header timeout; closed");
                        return;
                    }
                    conn.as_mut().graceful_shutdown();
                    closing = Some(Instant::now());
                }
            }
        }
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
