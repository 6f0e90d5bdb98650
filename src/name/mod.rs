//! File names: `PREFIX[_YYYYMM]_<from 10>[_<type 2>]_<to 10>[_<type 2>]_<YYYYMMDDHHMMSS>[_<branch 4>].CSV`.
//!
//! v4 names carry the sender's and recipient's service types, v3 names do not. The family image ends in
//! a 4-digit branch number and `.jpg`. Anything else is rejected with the expected shape in the message.

use serde::Serialize;

use crate::spec::{Generation, Kind, Spec};

/// One side of an exchange: a 10-digit office number (事業所番号) and, in v4 names, a service type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Party {
    pub office: String,
    pub service_type: Option<String>,
}

impl std::fmt::Display for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.service_type {
            Some(t) => write!(f, "{}/{}", self.office, t),
            None => f.write_str(&self.office),
        }
    }
}

/// A parsed spec file name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileName {
    pub kind: Kind,
    pub generation: Generation,
    /// `YYYYMM` (or `000000` for a 補足 sent with a plan) for the kinds that have a month segment.
    pub month: Option<String>,
    pub sender: Party,
    pub recipient: Party,
    /// The 14-digit ファイル連番 shared by every file of a set.
    pub sequence: String,
    /// The 4-digit branch number of a family image.
    pub branch: Option<String>,
}

/// Why a name was refused, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    pub message_ja: String,
    pub message_en: String,
}

fn shape(spec: &Spec, kind: Kind, generation: Generation) -> String {
    let month = if spec.kind(kind).has_month { "_YYYYMM" } else { "" };
    let types = generation == Generation::V4;
    let (from, to) = if types {
        (
            "_<送信元事業所番号10桁>_<サービス種類2桁>",
            "_<送信先事業所番号10桁>_<サービス種類2桁>",
        )
    } else {
        ("_<送信元事業所番号10桁>", "_<送信先事業所番号10桁>")
    };
    let tail = if kind.is_image() {
        "_YYYYMMDDHHMMSS_<枝番4桁>.jpg"
    } else {
        "_YYYYMMDDHHMMSS.CSV"
    };
    format!("{}{month}{from}{to}{tail}", kind.prefix())
}

fn err(ja: impl Into<String>, en: impl Into<String>) -> NameError {
    NameError {
        message_ja: ja.into(),
        message_en: en.into(),
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// The spelling of a file name that identifies it: a name the standard accepts gets its extension in one
/// spelling (`.CSV`, or `.jpg` for images, whatever case or `.jpeg` was sent), so that one set sent twice with
/// other spellings is the same set; any other name is kept as sent.
pub fn canonical_name(spec: &Spec, name: &str) -> String {
    match (FileName::parse(spec, name), name.rsplit_once('.')) {
        (Ok(n), Some((stem, _))) if n.kind.is_image() => format!("{stem}.jpg"),
        (Ok(_), Some((stem, _))) => format!("{stem}.CSV"),
        _ => name.to_string(),
    }
}

mod parse;

#[cfg(test)]
mod tests;
