//! `FileName::parse` in its steps: the extension, the kind (its prefix), the generation (the number of `_`
//! segments), then the segments in order (month, sender, recipient, sequence, image branch).

use super::{FileName, NameError, Party, digits, err, shape};
use crate::spec::{Generation, Kind, Spec};
use crate::text;

impl FileName {
    /// Parse a file name (without any directory part).
    pub fn parse(spec: &Spec, name: &str) -> Result<FileName, NameError> {
        let (stem, ext) = split_extension(name)?;
        let kind = kind_of(name, stem)?;
        check_extension(spec, name, kind, ext)?;
        let segs: Vec<&str> = stem[kind.prefix().len() + 1..].split('_').collect();
        let generation = generation_of(spec, name, kind, segs.len())?;
        let mut s = Segments {
            spec,
            name,
            kind,
            generation,
            rest: segs.into_iter(),
        };
        let month = s.month()?;
        let sender = s.party("送信元", "sender")?;
        let recipient = s.party("送信先", "recipient")?;
        let sequence = s.sequence()?;
        let branch = s.branch()?;
        Ok(FileName {
            kind,
            generation,
            month,
            sender,
            recipient,
            sequence,
            branch,
        })
    }
}

/// The stem and the extension; a name without a `.` is refused.
fn split_extension(name: &str) -> Result<(&str, &str), NameError> {
    name.rsplit_once('.').ok_or_else(|| {
        err(
            format!("ファイル名「{name}」に拡張子がありません。.CSV（画像は .jpg）が必要です。"),
            format!("file name `{name}` has no extension; expected .CSV (.jpg for images)"),
        )
    })
}

/// The kind whose prefix (and `_`) starts the stem, the longest first: UPKIHON_SUB1 before UPKIHON.
fn kind_of(name: &str, stem: &str) -> Result<Kind, NameError> {
    let kind = Kind::ALL
        .iter()
        .copied()
        .filter(|k| stem.strip_prefix(k.prefix()).is_some_and(|r| r.starts_with('_')))
        .max_by_key(|k| k.prefix().len());
    kind.ok_or_else(|| {
        let all: Vec<&str> = Kind::ALL.iter().map(|k| k.prefix()).collect();
        err(
            format!(
                "ファイル名「{name}」の種類が不明です。使える接頭辞: {}",
                all.join(", ")
            ),
            format!(
                "file name `{name}` starts with no known kind; known prefixes: {}",
                all.join(", ")
            ),
        )
    })
}

/// `.CSV` for records, `.jpg` or `.jpeg` for images, in any case.
fn check_extension(spec: &Spec, name: &str, kind: Kind, ext: &str) -> Result<(), NameError> {
    let want: &[&str] = if kind.is_image() {
        &["jpg", "jpeg"]
    } else {
        &["csv"]
    };
    if want.iter().any(|e| ext.eq_ignore_ascii_case(e)) {
        return Ok(());
    }
    let shape_v4 = shape(spec, kind, Generation::V4);
    Err(err(
        format!("ファイル名「{name}」の拡張子が正しくありません。形式: {shape_v4}"),
        format!("file name `{name}` has the wrong extension; expected {shape_v4}"),
    ))
}

/// v4 names carry each party's service type, v3 names do not: the number of segments tells them apart.
fn generation_of(spec: &Spec, name: &str, kind: Kind, segments: usize) -> Result<Generation, NameError> {
    let info = spec.kind(kind);
    let base = 3 + usize::from(info.has_month) + usize::from(kind.is_image());
    if segments == base + 2 {
        return Ok(Generation::V4);
    }
    if segments == base && info.since == Generation::V3 {
        return Ok(Generation::V3);
    }
    let shape_v4 = shape(spec, kind, Generation::V4);
    let shapes = if info.since == Generation::V3 {
        format!("{shape_v4} (v3: {})", shape(spec, kind, Generation::V3))
    } else {
        shape_v4
    };
    Err(err(
        format!("ファイル名「{name}」の区切り（_）の数が正しくありません。形式: {shapes}"),
        format!("file name `{name}` has the wrong number of `_` segments; expected {shapes}"),
    ))
}

/// The `_` segments after the kind's prefix, read in order.
struct Segments<'a> {
    spec: &'a Spec,
    name: &'a str,
    kind: Kind,
    generation: Generation,
    rest: std::vec::IntoIter<&'a str>,
}

impl<'a> Segments<'a> {
    fn next(&mut self) -> &'a str {
        self.rest.next().unwrap_or_default()
    }

    /// The refusal of segment `value`, named `what`, with the name's expected shape.
    fn bad(&self, what_ja: &str, what_en: &str, value: &str) -> NameError {
        let (name, sh) = (self.name, shape(self.spec, self.kind, self.generation));
        err(
            format!("ファイル名「{name}」の{what_ja}「{value}」が正しくありません。形式: {sh}"),
            format!("file name `{name}`: {what_en} `{value}` is invalid; expected {sh}"),
        )
    }

    /// 対象年月 (YYYYMM) of kinds that have one; 利用者補足情報 may carry `000000`.
    fn month(&mut self) -> Result<Option<String>, NameError> {
        if !self.spec.kind(self.kind).has_month {
            return Ok(None);
        }
        let m = self.next();
        let zeros_ok = self.kind == Kind::Uphosoku && m == "000000";
        if !zeros_ok && !text::is_year_month(m.as_bytes()) {
            return Err(self.bad("対象年月", "month", m));
        }
        Ok(Some(m.to_string()))
    }

    /// An office number (10 digits) and, in v4 names, its service type from the code table.
    fn party(&mut self, role_ja: &str, role_en: &str) -> Result<Party, NameError> {
        let office = self.next();
        if !digits(office, 10) {
            return Err(self.bad(
                &format!("{role_ja}事業所番号（10桁）"),
                &format!("{role_en} office number (10 digits)"),
                office,
            ));
        }
        let service_type = if self.generation == Generation::V4 {
            let t = self.next();
            if self.spec.service_type(t).is_none() {
                return Err(self.bad(
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
    }

    /// 連番: a date and time, YYYYMMDDHHMMSS.
    fn sequence(&mut self) -> Result<String, NameError> {
        let s = self.next();
        if !digits(s, 14) || !text::is_date_time(s.as_bytes()) {
            return Err(self.bad("連番（YYYYMMDDHHMMSS）", "sequence (YYYYMMDDHHMMSS)", s));
        }
        Ok(s.to_string())
    }

    /// The 4-digit branch number of an image.
    fn branch(&mut self) -> Result<Option<String>, NameError> {
        if !self.kind.is_image() {
            return Ok(None);
        }
        let b = self.next();
        if !digits(b, 4) {
            return Err(self.bad("枝番（4桁）", "branch number (4 digits)", b));
        }
        Ok(Some(b.to_string()))
    }
}
