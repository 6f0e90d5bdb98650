//! The metrics listener: plain HTTP on its own address (`server.metrics_listen`, loopback by default) that
//! answers `GET /metrics` with the same text as the admin-token route, and nothing else, so that a Prometheus
//! scraper needs no admin token. Everything a client controls is bounded: one request per connection, 8 KiB of
//! request head and at most 32 header lines, a header timeout, a deadline per connection (the header timeout and
//! five seconds, counted from the accept) and at most [`MAX_CONNECTIONS`] connections at once (more are closed
//! at once).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::relay::{METRICS_CONTENT_TYPE, Relay};

/// Connections served at once; further ones are closed without an answer until one finishes.
pub const MAX_CONNECTIONS: usize = 32;

/// Largest request head (request line and headers), in bytes (hyper's smallest buffer).
const MAX_HEAD_BYTES: usize = 8 * 1024;

/// Most header lines in a request.
const MAX_HEADERS: usize = 32;

/// Time allowed for answering once the request head has arrived (the gauges are read from the database); a
/// connection stays open at most the header timeout plus this, whatever the client does (also sending nothing).
const ANSWER_TIME: Duration = Duration::from_secs(5);

/// Serves `GET /metrics` on `listener` until `shutdown` completes. `header_timeout` bounds the time a client
/// may take to send its request head (`server.header_timeout_secs`).
pub async fn serve_metrics(
    listener: TcpListener,
    relay: Arc<Relay>,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(false)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    tokio::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::debug!("metrics listener: too many connections; closing a new one");
            continue;
        };
        let (relay, http) = (Arc::clone(&relay), http.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| answer(Arc::clone(&relay), req));
            let conn = http.serve_connection(TokioIo::new(tcp), service);
            match tokio::time::timeout(header_timeout + ANSWER_TIME, conn).await {
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "metrics listener: connection closed with an error")
                }
                Err(_) => tracing::debug!("metrics listener: connection deadline passed"),
                Ok(Ok(())) => {}
            }
            drop(slot);
        });
    }
}

fn plain(status: StatusCode, text: &str) -> Response<String> {
    let mut r = Response::new(format!("{text}\n"));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn answer(
    relay: Arc<Relay>,
    req: Request<Incoming>,
) -> Result<Response<String>, std::convert::Infallible> {
    if req.uri().path() != "/metrics" {
        return Ok(plain(
            StatusCode::NOT_FOUND,
            "この待ち受けは GET /metrics だけに応答します。 / this listener serves GET /metrics only",
        ));
    }
    if req.method() != Method::GET {
        let mut r = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "GET だけを受け付けます。 / only GET is allowed",
        );
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET"),
        );
        return Ok(r);
    }
    Ok(match relay.metrics_text().await {
        Ok(text) => {
            let mut r = Response::new(text);
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static(METRICS_CONTENT_TYPE),
            );
            r
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics listener: reading the metrics failed");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "メトリクスを読み取れませんでした。 / the metrics could not be read",
            )
        }
    })
}
