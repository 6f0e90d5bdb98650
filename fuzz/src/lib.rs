//! The input format shared by the fuzz targets and the seed generator.
//!
//! A `validate_set` input is up to [`MAX_FILES`] chunks separated by [`SEP`]. Each chunk is one file:
//!
//! * `@<name>\n<body>`: the name is the bytes up to the first `\n` (lossy UTF-8), the body is the rest;
//! * `<selector byte><body>`: the name is `names()[selector % names().len()]`, a realistic, valid
//!   spec name (every kind, both generations, the parties and sequence of `Scenario::small`), so that
//!   mutations of the body reach the record checks instead of dying on the name.
//!
//! An empty chunk is a file with the first name and no bytes.

pub mod upload;

use std::sync::OnceLock;

use careplan_relay::generate::{Scenario, file_name};
use careplan_relay::spec::{Generation, Kind, Spec};

/// Separates the files of one input.
pub const SEP: &[u8] = b"\n--8<--\n";
/// At most this many files per set; further chunks are ignored.
pub const MAX_FILES: usize = 4;

/// The spec, loaded once.
pub fn spec() -> &'static Spec {
    match Spec::get() {
        Ok(s) => s,
        Err(e) => panic!("embedded spec is malformed: {e}"),
    }
}

/// Valid names for every kind and generation, in a fixed order (the selector byte indexes this).
pub fn names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let spec = spec();
        let mut out = Vec::new();
        for generation in [Generation::V4, Generation::V3] {
            let sc = Scenario::small(generation);
            for &kind in Kind::ALL {
                if generation == Generation::V3 && spec.kind(kind).since == Generation::V4 {
                    continue;
                }
                if kind.is_image() {
                    for b in [1, 2] {
                        out.push(file_name(spec, kind, &sc, "", Some(b)));
                    }
                } else if kind == Kind::Uphosoku {
                    for m in ["000000", sc.month.as_str()] {
                        out.push(file_name(spec, kind, &sc, m, None));
                    }
                } else {
                    out.push(file_name(spec, kind, &sc, &sc.month, None));
                }
            }
        }
        out
    })
}

/// The selector byte that picks `name` from [`names`], if it is there.
pub fn selector_of(name: &str) -> Option<u8> {
    names()
        .iter()
        .position(|n| n == name)
        .and_then(|i| u8::try_from(i).ok())
}

fn split<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < MAX_FILES {
        match memchr::memmem::find(rest, sep) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + sep.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

/// Decodes a fuzz input into `(name, body)` pairs (at least one).
pub fn decode(data: &[u8]) -> Vec<(String, &[u8])> {
    let names = names();
    split(data, SEP)
        .into_iter()
        .map(|chunk| match chunk.split_first() {
            None => (names[0].clone(), chunk),
            Some((b'@', rest)) => {
                let (name, body) = match memchr::memchr(b'\n', rest) {
                    Some(i) => (&rest[..i], &rest[i + 1..]),
                    None => (rest, &rest[rest.len()..]),
                };
                (String::from_utf8_lossy(name).into_owned(), body)
            }
            Some((&s, body)) => (names[usize::from(s) % names.len()].clone(), body),
        })
        .collect()
}

/// How a file's name is written in an encoded input.
#[derive(Debug, Clone, Copy)]
pub enum NameForm {
    /// `@name\n`.
    Raw,
    /// The selector byte, when the name is in [`names`] (falls back to `Raw`).
    Selector,
}

/// Encodes files in the format [`decode`] reads (for the seed corpus).
pub fn encode(files: &[(&str, &[u8])], form: NameForm) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (name, body)) in files.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(SEP);
        }
        match (form, selector_of(name)) {
            (NameForm::Selector, Some(s)) => out.push(s),
            _ => {
                out.push(b'@');
                out.extend_from_slice(name.as_bytes());
                out.push(b'\n');
            }
        }
        out.extend_from_slice(body);
    }
    out
}
