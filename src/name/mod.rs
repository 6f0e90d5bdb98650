//! File names: `PREFIX[_YYYYMM]_<from 10>[_<type 2>]_<to 10>[_<type 2>]_<YYYYMMDDHHMMSS>[_<branch 4>].CSV`.
//!
//! v4 names carry the sender's and recipient's service types, v3 names do not. The family image ends in
//! a 4-digit branch number and `.jpg`. Anything else is rejected with the expected shape in the message.

use serde::Serialize;

use crate::spec::{Generation, Kind, Spec};
use crate::text;

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

impl FileName {
    /// Parse a file name (without any directory part).
    pub fn parse(spec: &Spec, name: &str) -> Result<FileName, NameError> {
        let Some((stem, ext)) = name.rsplit_once('.') else {
            return Err(err(
                format!("ファイル名「{name}」に拡張子がありません。.CSV（画像は .jpg）が必要です。"),
                format!("file name `{name}` has no extension; expected .CSV (.jpg for images)"),
            ));
        };
        // Longest prefix first: UPKIHON_SUB1 before UPKIHON.
        let kind = Kind::ALL
            .iter()
            .copied()
            .filter(|k| stem.strip_prefix(k.prefix()).is_some_and(|r| r.starts_with('_')))
            .max_by_key(|k| k.prefix().len());
        let Some(kind) = kind else {
            let all: Vec<&str> = Kind::ALL.iter().map(|k| k.prefix()).collect();
            return Err(err(
                format!(
                    "ファイル名「{name}」の種類が不明です。使える接頭辞: {}",
                    all.join(", ")
                ),
                format!(
                    "file name `{name}` starts with no known kind; known prefixes: {}",
                    all.join(", ")
                ),
            ));
        };
        let want_ext = if kind.is_image() {
            ["jpg", "jpeg"].as_slice()
        } else {
            ["csv"].as_slice()
        };
        let shape_v4 = shape(spec, kind, Generation::V4);
        if !want_ext.iter().any(|e| ext.eq_ignore_ascii_case(e)) {
            return Err(err(
                format!("ファイル名「{name}」の拡張子が正しくありません。形式: {shape_v4}"),
                format!("file name `{name}` has the wrong extension; expected {shape_v4}"),
            ));
        }
        let segs: Vec<&str> = stem[kind.prefix().len() + 1..].split('_').collect();
        let has_month = spec.kind(kind).has_month;
        let base = 3 + usize::from(has_month) + usize::from(kind.is_image());
        let generation = if segs.len() == base + 2 {
            Generation::V4
        } else if segs.len() == base && spec.kind(kind).since == Generation::V3 {
            Generation::V3
        } else {
            let shapes = if spec.kind(kind).since == Generation::V3 {
                format!("{shape_v4} (v3: {})", shape(spec, kind, Generation::V3))
            } else {
                shape_v4
            };
            return Err(err(
                format!("ファイル名「{name}」の区切り（_）の数が正しくありません。形式: {shapes}"),
                format!("file name `{name}` has the wrong number of `_` segments; expected {shapes}"),
            ));
        };
        let bad = |what_ja: &str, what_en: &str, value: &str| {
            let sh = shape(spec, kind, generation);
            err(
                format!("ファイル名「{name}」の{what_ja}「{value}」が正しくありません。形式: {sh}"),
                format!("file name `{name}`: {what_en} `{value}` is invalid; expected {sh}"),
            )
        };
        let mut it = segs.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let month = if has_month {
            let m = next();
            let zeros_ok = kind == Kind::Uphosoku && m == "000000";
            if !zeros_ok && !text::is_year_month(m) {
                return Err(bad("対象年月", "month", m));
            }
            Some(m.to_string())
        } else {
            None
        };
        let mut party = |generation: Generation, role_ja: &str, role_en: &str| -> Result<Party, NameError> {
            let office = next();
            if !digits(office, 10) {
                return Err(bad(
                    &format!("{role_ja}事業所番号（10桁）"),
                    &format!("{role_en} office number (10 digits)"),
                    office,
                ));
            }
            let service_type = if generation == Generation::V4 {
                let t = next();
                if spec.service_type(t).is_none() {
                    return Err(bad(
                        &format!("{role_ja}サービス種類コード"),
                        &format!("{role_en} service type"),
                        t,
                    ));
                }
                Some(t.to_string())
            } else {
                None
            };
            Ok(Party {
                office: office.to_string(),
                service_type,
            })
        };
        let sender = party(generation, "送信元", "sender")?;
        let recipient = party(generation, "送信先", "recipient")?;
        let sequence = next();
        if !digits(sequence, 14) || !text::is_date_time(sequence) {
            return Err(bad(
                "連番（YYYYMMDDHHMMSS）",
                "sequence (YYYYMMDDHHMMSS)",
                sequence,
            ));
        }
        let branch = if kind.is_image() {
            let b = next();
            if !digits(b, 4) {
                return Err(bad("枝番（4桁）", "branch number (4 digits)", b));
            }
            Some(b.to_string())
        } else {
            None
        };
        Ok(FileName {
            kind,
            generation,
            month,
            sender,
            recipient,
            sequence: sequence.to_string(),
            branch,
        })
    }
}

#[cfg(test)]
mod tests;
