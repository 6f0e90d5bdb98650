//! HTTP/1.1 framing: chunked bodies (also over the limit), conflicting or malformed lengths, header floods, huge
//! heads and URIs, unknown methods, HTTP/1.0, garbage request lines, and lengths over the body limit.

use super::Expect::{ClosedOr4xx, Status};
use super::requests::*;
use super::{Case, case};

/// A head by hand: `lines` joined with CRLF, then the blank line, then `body`.
fn raw(lines: &[&str], body: &[u8]) -> Vec<u8> {
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
    out
}

/// An upload by the care manager with these framing headers and this (already framed) body.
fn upload_framed(framing: &[&str], body: &[u8]) -> Vec<u8> {
    let auth = bearer("{CM}");
    let ct = format!("Content-Type: multipart/form-data; boundary={BOUNDARY}");
    let mut lines = vec!["POST /v1/submissions HTTP/1.1", "Host: 127.0.0.1", &auth, &ct];
    lines.extend_from_slice(framing);
    lines.push("Connection: close");
    raw(&lines, body)
}

fn invalid_body() -> Vec<u8> {
    multipart(BOUNDARY, &parts(invalid_set()))
}

/// A multipart body of one part holding `n` bytes of noise.
fn body_of(n: usize) -> Vec<u8> {
    multipart(BOUNDARY, &[file(&upplan_name(), noise(n, 5))])
}

pub fn cases() -> Vec<Case> {
    vec![
        case(
            "chunked_upload",
            "an invalid set in a chunked body (legal framing, so validated)",
            Status(422),
            || upload_framed(&["Transfer-Encoding: chunked"], &chunked(&invalid_body(), 1000)),
        ),
        case(
            "chunked_over_limit",
            "a 3 MiB chunked body, over the 2 MiB limit",
            Status(413),
            || {
                upload_framed(
                    &["Transfer-Encoding: chunked"],
                    &chunked(&body_of(3 * 1024 * 1024), 64 * 1024),
                )
            },
        ),
        case(
            "length_over_limit",
            "a 3 MiB body with its Content-Length",
            Status(413),
            || {
                let body = body_of(3 * 1024 * 1024);
                upload_framed(&[&format!("Content-Length: {}", body.len())], &body)
            },
        ),
        case(
            "length_over_limit_head_only",
            "Expect: 100-continue with a 3 MiB length: refused before any body",
            Status(413),
            || upload_framed(&["Content-Length: 3145728", "Expect: 100-continue"], b""),
        ),
        case(
            "raw_over_limit",
            "a raw ?name= upload of 2 MiB + 1 byte",
            Status(413),
            || upload_raw(&upplan_name(), &vec![b'1'; 2 * 1024 * 1024 + 1]),
        ),
        case(
            "length_and_chunked",
            "both Content-Length and Transfer-Encoding: chunked",
            ClosedOr4xx,
            || {
                let body = chunked(&invalid_body(), 1000);
                upload_framed(
                    &[
                        &format!("Content-Length: {}", body.len()),
                        "Transfer-Encoding: chunked",
                    ],
                    &body,
                )
            },
        ),
        case(
            "two_lengths",
            "two different Content-Length headers",
            ClosedOr4xx,
            || {
                let body = invalid_body();
                upload_framed(
                    &[&format!("Content-Length: {}", body.len()), "Content-Length: 5"],
                    &body,
                )
            },
        ),
        case("negative_length", "Content-Length: -1", ClosedOr4xx, || {
            upload_framed(&["Content-Length: -1"], b"")
        }),
        case(
            "non_numeric_length",
            "Content-Length: twelve",
            ClosedOr4xx,
            || upload_framed(&["Content-Length: twelve"], b""),
        ),
        case(
            "overflowing_length",
            "a 30-digit Content-Length",
            ClosedOr4xx,
            || upload_framed(&["Content-Length: 999999999999999999999999999999"], b""),
        ),
        case(
            "bad_chunk_size",
            "a chunk size that is not hexadecimal",
            ClosedOr4xx,
            || upload_framed(&["Transfer-Encoding: chunked"], b"zz\r\nabc\r\n0\r\n\r\n"),
        ),
        case(
            "gzip_transfer_coding",
            "Transfer-Encoding: gzip (chunked not last)",
            ClosedOr4xx,
            || upload_framed(&["Transfer-Encoding: gzip"], b""),
        ),
        case("header_flood", "500 headers in one request", ClosedOr4xx, || {
            let headers: Vec<String> = (0..500).map(|i| format!("X-Flood-{i}: {i}")).collect();
            let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
            get("/v1/inbox", &refs)
        }),
        case("one_100kb_header", "one 100 KB header", ClosedOr4xx, || {
            get("/healthz", &[&format!("X-Big: {}", "b".repeat(100 * 1024))])
        }),
        case("uri_100kb", "a 100 KB request target", ClosedOr4xx, || {
            get(
                &format!("/v1/inbox?after={}", "a".repeat(100 * 1024)),
                &[&bearer("{PROV}")],
            )
        }),
        case(
            "obs_fold",
            "a header continued on an indented line (obsolete folding)",
            ClosedOr4xx,
            || {
                raw(
                    &[
                        "GET /v1/inbox HTTP/1.1",
                        "Host: 127.0.0.1",
                        "Authorization: Bearer",
                        " {PROV}",
                        "Connection: close",
                    ],
                    b"",
                )
            },
        ),
        case(
            "space_before_colon",
            "whitespace between a header name and its colon",
            ClosedOr4xx,
            || {
                raw(
                    &["GET /healthz HTTP/1.1", "Host : 127.0.0.1", "Connection: close"],
                    b"",
                )
            },
        ),
        case(
            "nul_in_header",
            "a NUL byte in a header value",
            ClosedOr4xx,
            || {
                raw(
                    &[
                        "GET /healthz HTTP/1.1",
                        "Host: 127.0.0.1",
                        "X-Nul: a\0b",
                        "Connection: close",
                    ],
                    b"",
                )
            },
        ),
        case("unknown_method", "BREW on the inbox", Status(405), || {
            request("BREW", "/v1/inbox", &[&bearer("{PROV}")], b"")
        }),
        case(
            "delete_submissions",
            "DELETE on the submissions endpoint",
            Status(405),
            || request("DELETE", "/v1/submissions", &[&bearer("{CM}")], b""),
        ),
        case(
            "unknown_path",
            "a path the API does not have",
            Status(404),
            || get("/v1/../../etc/passwd", &[&bearer("{PROV}")]),
        ),
        case(
            "http10_unauthenticated",
            "an HTTP/1.0 inbox request without a credential",
            Status(401),
            || raw(&["GET /v1/inbox HTTP/1.0", "Host: 127.0.0.1"], b""),
        ),
        case(
            "http10_chunked",
            "HTTP/1.0 with Transfer-Encoding: chunked",
            ClosedOr4xx,
            || {
                let auth = bearer("{CM}");
                let ct = format!("Content-Type: multipart/form-data; boundary={BOUNDARY}");
                raw(
                    &[
                        "POST /v1/submissions HTTP/1.0",
                        "Host: 127.0.0.1",
                        &auth,
                        &ct,
                        "Transfer-Encoding: chunked",
                        "Content-Length: 0",
                    ],
                    b"",
                )
            },
        ),
        case(
            "http09_line",
            "a request line without a version",
            ClosedOr4xx,
            || b"GET /healthz\r\n\r\n".to_vec(),
        ),
        case(
            "http2_version_in_h1",
            "HTTP/2.0 written in an HTTP/1 request line",
            ClosedOr4xx,
            || raw(&["GET /healthz HTTP/2.0", "Host: 127.0.0.1"], b""),
        ),
        case(
            "garbage_line",
            "random bytes instead of a request line",
            ClosedOr4xx,
            || {
                let mut r = noise(2000, 11);
                r.extend_from_slice(b"\r\n\r\n");
                r
            },
        ),
        case(
            "tls_record_inside_tls",
            "a TLS ClientHello sent again inside the TLS session",
            ClosedOr4xx,
            || {
                let mut r = vec![0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00];
                r.extend_from_slice(b"\r\n\r\n");
                r
            },
        ),
    ]
}
