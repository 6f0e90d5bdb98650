//! What a value that failed its check probably went through, and the value itself, quoted in the finding.

use super::Issue;
use crate::spec::{Item, ItemType};

/// An item's bytes as quoted in a finding (decoded MS932, other bytes escaped, at most 20 characters).
pub(super) fn quoted(value: &[u8]) -> String {
    crate::sjis::shown(value, 20)
}

/// What a value that failed its length or format probably went through, said once in the finding: a space
/// before or after it, a spreadsheet's exponent form (`1.31E+09`), or leading zeros a spreadsheet dropped.
pub(super) fn shape_hint(item: &Item, value: &[u8]) -> Option<(&'static str, &'static str)> {
    const FULL_SPACE: &[u8] = &[0x81, 0x40];
    let spaced_end = value.ends_with(b" ") || value.ends_with(FULL_SPACE);
    let spaced_start = value.starts_with(b" ") || value.starts_with(FULL_SPACE);
    if spaced_end || spaced_start {
        return Some(if spaced_end {
            (
                "末尾に空白があります。空白を削除してください。",
                "it ends with a space; remove the space",
            )
        } else {
            (
                "先頭に空白があります。空白を削除してください。",
                "it starts with a space; remove the space",
            )
        });
    }
    let s = std::str::from_utf8(value).ok()?;
    let exponent = s.split_once(['E', 'e']).is_some_and(|(m, e)| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        let m = m.replacen('.', "", 1);
        !m.is_empty() && !e.is_empty() && m.bytes().chain(e.bytes()).all(|b| b.is_ascii_digit())
    });
    if exponent {
        return Some((
            "表計算ソフトで数値の指数表記に変わっています。元の値を文字列として入力し直してください。",
            "a spreadsheet turned it into a number in exponent form; enter the original value again as text",
        ));
    }
    let short_digits = matches!(item.ty, ItemType::Digits | ItemType::InsuredId)
        && item.max_len.is_some_and(|n| s.len() < n)
        && !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit());
    short_digits.then_some((
        "先頭の 0 が失われた可能性があります（表計算ソフトで数値として扱われた場合など）。",
        "leading zeros may have been lost (for example when a spreadsheet treated it as a number)",
    ))
}

/// Appends the quoted value (never for free text: names, addresses, notes) and, when the value's shape explains
/// the problem, the hint.
pub(super) fn with_value(item: &Item, value: &[u8], (code, ja, en): Issue) -> Issue {
    if matches!(item.ty, ItemType::Text | ItemType::Str) {
        return match shape_hint(item, value) {
            Some((hja, hen)) => (code, format!("{ja}{hja}"), format!("{en}: {hen}")),
            None => (code, ja, en),
        };
    }
    let v = quoted(value);
    match shape_hint(item, value) {
        Some((hja, hen)) => (
            code,
            format!("{ja}（値「{v}」）{hja}"),
            format!("{en} (value `{v}`): {hen}"),
        ),
        None => (code, format!("{ja}（値「{v}」）"), format!("{en} (value `{v}`)")),
    }
}
