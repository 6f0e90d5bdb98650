//! Whole-file shapes that spreadsheets and old writers produce, recognised and named once instead of as a
//! cascade of item findings: a DOS end-of-file byte (0x1A) after the last line, and a first line of item names.

use crate::csvread::Record;
use crate::spec::{Generation, Kind, Layout, Spec};

use super::report::{Code, FileReport};

/// The DOS end-of-file byte some writers append.
const EOF_MARKER: u8 = 0x1A;

/// Splits a trailing DOS end-of-file byte (and any line break after it) from the records; reports it once.
pub(super) fn eof_marker<'b>(bytes: &'b [u8], report: &mut FileReport) -> &'b [u8] {
    let trimmed = bytes
        .strip_suffix(b"\r\n")
        .or_else(|| bytes.strip_suffix(b"\n"))
        .unwrap_or(bytes);
    let Some(records) = trimmed.strip_suffix(&[EOF_MARKER]) else {
        return bytes;
    };
    report.file_level(
        Code::EofMarker,
        "最後の行の後に EOF 文字（0x1A、DOS のファイル終端記号）があります。標準仕様のファイルには含めません。出力したソフトの設定で終端記号を付けないようにしてください。".into(),
        "a DOS end-of-file byte (0x1A) follows the last line; the standard's files have none: set the writing software not to append it".into(),
    );
    records
}

/// Whether a first record is a header of item names (the standard has none): its first item is not a CSV
/// version and at least half of its items are item names of a layout of this kind (in MS932), or it starts
/// with the name of item 1 (`CSVバージョン`).
pub(super) fn is_header(spec: &Spec, kind: Kind, rec: &Record) -> bool {
    let first = rec.get(0);
    if first.is_empty() || first.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let layouts: Vec<&Layout> = [Generation::V4, Generation::V3]
        .iter()
        .filter_map(|g| spec.layout(kind, *g))
        .collect();
    layouts.iter().any(|l| {
        let names: Vec<Vec<u8>> = l
            .items
            .iter()
            .filter_map(|i| crate::sjis::encode(&i.name_ja))
            .collect();
        let unquoted = |v: &[u8]| -> Vec<u8> { v.iter().copied().filter(|b| *b != b'"').collect() };
        let matches = (0..rec.len())
            .filter(|i| names.contains(&unquoted(rec.get(*i))))
            .count();
        names.first().is_some_and(|n| *n == unquoted(first)) || (rec.len() >= 2 && matches * 2 >= rec.len())
    })
}

/// Reports a header line once.
pub(super) fn report_header(report: &mut FileReport) {
    report.file_level(
        Code::HeaderLine,
        "1行目は項目名の見出し行のようです。標準仕様のファイルには見出し行がありません。1行目を削除してください（表計算ソフトで保存した場合によく起こります）。".into(),
        "line 1 looks like a header of item names; the standard's files have none: remove line 1 (a spreadsheet often adds it)".into(),
    );
}
