//! Checks of one item's value against its layout entry: encoding, required, length, format, code table.

use crate::sjis::{SjisProblem, char_count};
use crate::spec::{Item, ItemType, Required, Rule, Spec};
use crate::text;

use super::report::Code;

/// A finding about one item, before it is placed on a line.
pub(super) type Issue = (Code, String, String);

mod hint;

use hint::{quoted, shape_hint, with_value};

/// A value as quoted in a message: at most 20 characters. Reports go back only to the office that sent the
/// value; logs and events never hold values.
fn shown(value: &str) -> String {
    value.chars().take(20).collect()
}

fn format_name(item: &Item) -> (&'static str, &'static str) {
    match (item.ty, item.rule) {
        (ItemType::YearMonth, Some(Rule::MonthOrZeros)) => {
            ("年月（YYYYMM）または 000000", "a month YYYYMM or 000000")
        }
        (ItemType::YearMonth, _) => ("年月（YYYYMM）", "a month YYYYMM"),
        (ItemType::Date, Some(Rule::DateOrZeros)) => {
            ("日付（YYYYMMDD）または 00000000", "a date YYYYMMDD or 00000000")
        }
        (ItemType::Date, _) => ("実在する日付（YYYYMMDD）", "a real calendar date YYYYMMDD"),
        (ItemType::Time, Some(Rule::TimeOr9999)) => ("時刻（HHMM）または 9999", "a time HHMM or 9999"),
        (ItemType::Time, _) => ("時刻（HHMM）", "a time HHMM"),
        (ItemType::Digits, _) => ("固定長の半角数字", "fixed-length ASCII digits"),
        (ItemType::InsuredId, _) => (
            "数字10桁、または H＋数字9桁（生保単独）",
            "10 digits, or H + 9 digits (public assistance)",
        ),
        (ItemType::Int, Some(Rule::DetailNo)) => ("1 以上の整数", "a positive integer"),
        (ItemType::Int, _) => ("整数", "an integer"),
        (ItemType::Decimal, _) => ("99.99 形式の数値", "a number in the form 99.99"),
        (ItemType::Bitmap31, _) => ("0/1 の31文字", "31 characters of 0 or 1"),
        (ItemType::Code, _) => ("コード", "a code"),
        _ => ("半角文字", "ASCII text"),
    }
}

fn is_int(s: &[u8]) -> bool {
    let d = s.strip_prefix(b"-").unwrap_or(s);
    !d.is_empty() && d.iter().all(u8::is_ascii_digit)
}

fn is_decimal(s: &[u8]) -> bool {
    let (int, frac) = match s.iter().position(|b| *b == b'.') {
        Some(dot) => (&s[..dot], &s[dot + 1..]),
        None => (s, &b"0"[..]),
    };
    (1..=2).contains(&int.len())
        && (1..=2).contains(&frac.len())
        && int.iter().chain(frac).all(u8::is_ascii_digit)
}

/// Whether an item's value (its bytes: no UTF-8 check needed) has the item's format.
fn format_ok(item: &Item, s: &[u8]) -> bool {
    match item.ty {
        ItemType::YearMonth => {
            text::is_year_month(s) || (item.rule == Some(Rule::MonthOrZeros) && s == b"000000")
        }
        ItemType::Date => text::is_date(s) || (item.rule == Some(Rule::DateOrZeros) && s == b"00000000"),
        ItemType::Time => text::is_time(s) || (item.rule == Some(Rule::TimeOr9999) && s == b"9999"),
        ItemType::Digits => s.iter().all(u8::is_ascii_digit) && item.max_len.is_none_or(|n| s.len() == n),
        ItemType::InsuredId => {
            let digits = s.strip_prefix(b"H").unwrap_or(s);
            s.len() == 10 && digits.iter().all(u8::is_ascii_digit)
        }
        ItemType::Int if item.rule == Some(Rule::DetailNo) => {
            is_int(s) && !s.starts_with(b"-") && s.iter().any(|b| *b != b'0')
        }
        ItemType::Int => is_int(s),
        ItemType::Decimal => is_decimal(s),
        ItemType::Bitmap31 => s.len() == 31 && s.iter().all(|b| *b == b'0' || *b == b'1'),
        ItemType::Code | ItemType::Str | ItemType::Text | ItemType::Unused => true,
    }
}

fn check_code(spec: &Spec, item: &Item, table: &str, s: &str, out: &mut Vec<Issue>) {
    let service_type_of = |code: &str| -> Option<bool> { spec.service_type(code).map(|t| t.scope != "out") };
    match table {
        "service_type" => match service_type_of(s) {
            None => out.push((
                Code::CodeValue,
                format!("「{}」はサービス種類コードではありません。", shown(s)),
                format!("`{}` is not a service type code", shown(s)),
            )),
            Some(false) => out.push(out_of_scope(s)),
            Some(true) => {}
        },
        "service_code" => {
            let summary = item.rule == Some(Rule::ServiceCodeOrSummary)
                && (s == "999999" || ["AAAA", "EEEE", "ZZZZ"].iter().any(|t| s.get(2..) == Some(*t)));
            let shape = s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
            if !shape || (!summary && !s.as_bytes()[2..].iter().all(u8::is_ascii_digit)) {
                out.push((
                    Code::Format,
                    format!(
                        "「{}」はサービスコード（サービス種類2桁＋項目4桁）ではありません。",
                        shown(s)
                    ),
                    format!(
                        "`{}` is not a service code (2-character service type + 4-digit item)",
                        shown(s)
                    ),
                ));
            } else if !(summary && s == "999999") {
                match service_type_of(&s[..2]) {
                    None => out.push((
                        Code::CodeValue,
                        format!(
                            "サービスコード「{s}」のサービス種類「{}」は存在しません。",
                            &s[..2]
                        ),
                        format!("service code `{s}`: service type `{}` does not exist", &s[..2]),
                    )),
                    Some(false) => out.push(out_of_scope(&s[..2])),
                    Some(true) => {}
                }
            }
        }
        _ => {
            if spec.code_label(table, s).is_none() {
                let list = spec.code_list(table);
                out.push((
                    Code::CodeValue,
                    format!(
                        "「{}」はこの項目のコードにありません。使えるコード: {list}",
                        shown(s)
                    ),
                    format!("`{}` is not a code of this item; allowed: {list}", shown(s)),
                ));
            }
        }
    }
}

fn out_of_scope(t: &str) -> Issue {
    (
        Code::WarnOutOfScope,
        format!("サービス種類「{t}」はケアプランデータ連携の対象外です。"),
        format!("service type `{t}` is outside the scope of the care-plan data exchange"),
    )
}

/// Checks one item. Returns the issues found (usually none).
#[inline]
pub(super) fn check(spec: &Spec, item: &Item, value: &[u8], out: &mut Vec<Issue>) {
    let free = matches!(item.ty, ItemType::Text | ItemType::Str);
    // Free text (names, addresses, notes) is never quoted back.
    let quoted = |value: &[u8]| if free { "…".to_string() } else { quoted(value) };
    let ascii = value.is_ascii();
    let chars = match if ascii { Ok(value.len()) } else { char_count(value) } {
        Ok(n) => n,
        Err(SjisProblem::Invalid { char_index }) => {
            out.push((
                Code::Encoding,
                format!(
                    "{char_index}文字目が Shift_JIS（MS932）として正しくありません（値「{}」）。",
                    quoted(value)
                ),
                format!(
                    "character {char_index} is not valid Shift_JIS (MS932) (value `{}`)",
                    quoted(value)
                ),
            ));
            return;
        }
        Err(SjisProblem::Gaiji { char_index }) => {
            out.push((
                Code::Gaiji,
                format!("{char_index}文字目が外字（ユーザー定義文字 F040–F9FC）です。MS932 の文字に置き換えてください（値「{}」）。", quoted(value)),
                format!("character {char_index} is a user-defined character (外字, F040–F9FC); replace it with an MS932 character (value `{}`)", quoted(value)),
            ));
            return;
        }
    };
    if value.is_empty() {
        match item.required {
            Required::Error => out.push((
                Code::Required,
                "必須項目が空です。".into(),
                "required item is empty".into(),
            )),
            Required::Warn => out.push((
                Code::WarnRequired,
                "空です。仕様の写しでは必須かどうかが確定していないため警告にとどめます。".into(),
                "empty; the spec copy leaves open whether this item is required, so this is a warning".into(),
            )),
            Required::Conditional | Required::Optional => {}
        }
        return;
    }
    if !ascii && !free {
        out.push(with_value(
            item,
            value,
            (
                Code::Format,
                format!(
                    "半角英数字で書く項目に全角文字などが含まれています。{}が必要です。",
                    format_name(item).0
                ),
                format!("contains non-ASCII characters; expected {}", format_name(item).1),
            ),
        ));
        return;
    }
    if let Some(max) = item.max_len {
        if chars > max {
            out.push(with_value(
                item,
                value,
                (
                    Code::Length,
                    format!("長さ {chars} 文字は項目長 {max} を超えています。"),
                    format!("length {chars} exceeds the item length {max}"),
                ),
            ));
            return;
        }
        if value.len() > max {
            out.push((
                Code::WarnLength,
                format!(
                    "{chars} 文字ですが Shift_JIS で {} バイトあり、項目長 {max} を超えます。",
                    value.len()
                ),
                format!(
                    "{chars} characters but {} Shift_JIS bytes, more than the item length {max}",
                    value.len()
                ),
            ));
        }
    }
    if free {
        return;
    }
    if let (ItemType::Digits, Some(max)) = (item.ty, item.max_len)
        && chars < max
    {
        out.push(with_value(
            item,
            value,
            (
                Code::Length,
                format!("長さ {chars} 文字です。この項目は {max} 桁固定です。"),
                format!("length {chars}; this item is exactly {max} digits"),
            ),
        ));
        return;
    }
    // Non-free items are ASCII here: their text is only needed for messages and code look-ups.
    let text = || std::str::from_utf8(value).unwrap_or_default();
    if !format_ok(item, value) {
        let s = text();
        let (ja, en) = format_name(item);
        let (ja, en) = (
            format!("「{}」は{ja}ではありません。", shown(s)),
            format!("`{}` is not {en}", shown(s)),
        );
        out.push(match shape_hint(item, value) {
            Some((hja, hen)) => (Code::Format, format!("{ja}{hja}"), format!("{en}: {hen}")),
            None => (Code::Format, ja, en),
        });
        return;
    }
    if item.rule == Some(Rule::DetailNo) && value.len() > 2 {
        out.push((
            Code::WarnLength,
            "明細判別コードが3桁以上です（項目長は仕様の写しで判読できません）。".into(),
            "detail discriminator has more than 2 digits (the item length is illegible in the spec copy)"
                .into(),
        ));
    }
    if let Some(table) = &item.code_table {
        check_code(spec, item, table, text(), out);
    }
}

#[cfg(test)]
mod tests;
