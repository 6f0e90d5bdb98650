//! Builders of raw HTTP/1.1 requests for the catalogue: heads with token placeholders, multipart bodies,
//! generated sets and the files that break them.
//!
//! Placeholders in a request head, replaced by the runner for the app under test: `{CM}`, `{PROV}`, `{OTHER}`
//! (office tokens: care manager, provider, a third office), `{ADMIN}` (admin token), `{DELIVERY}` (the
//! provider's delivery of the set the care manager sent) and `{SUBMISSION}` (that set's submission id).

use crate::helpers::schedule;

/// The sequence of the sets the hostile cases send (the app's own set uses another one).
pub const SEQ: &str = "20250401090000";
/// The boundary of [`multipart`] bodies.
pub const BOUNDARY: &str = "hostileBoundary7MA4YWxkTrZu0gW";

/// `Authorization: Bearer <token>`.
pub fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}")
}

/// A request: request line, `Host`, `headers`, `Content-Length` when there is a body, `Connection: close`.
pub fn request(method: &str, target: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    if !body.is_empty() || method == "POST" || method == "PATCH" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// `GET target` with `headers`.
pub fn get(target: &str, headers: &[&str]) -> Vec<u8> {
    request("GET", target, headers, b"")
}

/// `GET target` with the provider's token.
pub fn get_as_provider(target: &str) -> Vec<u8> {
    get(target, &[&bearer("{PROV}")])
}

/// An admin `method` on `target` with a JSON body.
pub fn admin_json(method: &str, target: &str, body: &[u8]) -> Vec<u8> {
    request(
        method,
        target,
        &[&bearer("{ADMIN}"), "Content-Type: application/json"],
        body,
    )
}

/// One part of a multipart body: its `Content-Disposition` value, other headers, content.
pub struct Part {
    pub disposition: String,
    pub headers: Vec<String>,
    pub bytes: Vec<u8>,
}

/// A part named `file` with this filename.
pub fn file(name: &str, bytes: Vec<u8>) -> Part {
    Part {
        disposition: format!("form-data; name=\"file\"; filename=\"{name}\""),
        headers: Vec::new(),
        bytes,
    }
}

/// Parts of `files`.
pub fn parts(files: Vec<(String, Vec<u8>)>) -> Vec<Part> {
    files.into_iter().map(|(n, b)| file(&n, b)).collect()
}

/// A `multipart/form-data` body of `parts` with `boundary`, closed.
pub fn multipart(boundary: &str, parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: {}\r\n", p.disposition).as_bytes(),
        );
        for h in &p.headers {
            out.extend_from_slice(h.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&p.bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// `POST path` by the care manager with `body` as multipart/form-data ([`BOUNDARY`]).
pub fn upload_body_to(path: &str, body: &[u8]) -> Vec<u8> {
    let ct = format!("Content-Type: multipart/form-data; boundary={BOUNDARY}");
    request("POST", path, &[&bearer("{CM}"), &ct], body)
}

/// `POST /v1/submissions` by the care manager with these parts.
pub fn upload(parts: &[Part]) -> Vec<u8> {
    upload_body_to("/v1/submissions", &multipart(BOUNDARY, parts))
}

/// `POST /v1/submissions` by the care manager with these files.
pub fn upload_files(files: Vec<(String, Vec<u8>)>) -> Vec<u8> {
    upload(&parts(files))
}

/// `POST /v1/submissions?name=…` by the care manager with `bytes` as the raw body (`name` as written).
pub fn upload_raw(name: &str, bytes: &[u8]) -> Vec<u8> {
    let target = format!("/v1/submissions?name={name}");
    request(
        "POST",
        &target,
        &[&bearer("{CM}"), "Content-Type: application/octet-stream"],
        bytes,
    )
}

/// A valid schedule set (UPPLAN, UPSIKYU, UPHOSOKU) from the care manager to the provider under [`SEQ`].
pub fn valid_set() -> Vec<(String, Vec<u8>)> {
    schedule(SEQ)
}

/// The name of the set's UPPLAN file.
pub fn upplan_name() -> String {
    valid_set()
        .into_iter()
        .find(|(n, _)| n.starts_with("UPPLAN_"))
        .expect("UPPLAN")
        .0
}

/// The valid set with its UPPLAN file's bytes replaced by `bytes`.
pub fn set_with_upplan(bytes: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    let mut set = valid_set();
    set.iter_mut()
        .find(|(n, _)| n.starts_with("UPPLAN_"))
        .expect("UPPLAN")
        .1 = bytes;
    set
}

/// The valid set with every name passed through `f`.
pub fn renamed(f: impl Fn(&str) -> String) -> Vec<(String, Vec<u8>)> {
    valid_set().into_iter().map(|(n, b)| (f(&n), b)).collect()
}

/// The valid set but not valid: its UPPLAN file's first record loses its last item (so sending it stores
/// nothing, whatever path it takes through the server).
pub fn invalid_set() -> Vec<(String, Vec<u8>)> {
    let mut set = valid_set();
    let upplan = &mut set
        .iter_mut()
        .find(|(n, _)| n.starts_with("UPPLAN_"))
        .expect("UPPLAN")
        .1;
    let eol = upplan.windows(2).position(|w| w == b"\r\n").expect("a record");
    let comma = upplan[..eol].iter().rposition(|b| *b == b',').expect("items");
    upplan.drain(comma..eol);
    set
}

/// `n` deterministic pseudo-random bytes.
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = careplan_relay::generate::Rng::new(seed);
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

/// `body` in HTTP/1.1 chunks of `size` bytes, with the last chunk.
pub fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for c in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}
