//! Bounds on what the relay takes from and echoes of a client's bytes: file names with control characters are
//! refused before they reach a store or a log, and a report's CSV version items and finding messages are
//! clipped, so that a 422 (or a `/v1/validate` answer) stays small whatever values a file holds.

use super::submit::MAX_FILE_NAME_BYTES;
use super::{RelayError, Result, UploadedFile};
use crate::message::{Message, clip, clip_to};
use crate::validate::SetReport;

/// The refusal (400) of a file name longer than `max` bytes, the name clipped. Used by the upload parser, which
/// stops reading at such a name, and by the relay's own check of a set's names.
pub fn file_name_too_long(name: &str, max: usize) -> RelayError {
    RelayError::BadRequest(Message::new(
        format!(
            "ファイル名が長すぎます（{} バイト、上限 {max} バイト）: {}",
            name.len(),
            clip(name)
        ),
        format!(
            "file name too long ({} bytes, at most {max}): {}",
            name.len(),
            clip(name)
        ),
    ))
}

/// Refuses (400) a set in which a file name is longer than [`MAX_FILE_NAME_BYTES`] or holds a control
/// character (NUL, CR, LF, ESC…): no spec name has one, and PostgreSQL text cannot hold a NUL.
pub(super) fn check_file_names(files: &[UploadedFile]) -> Result<()> {
    if let Some(f) = files.iter().find(|f| f.name.len() > MAX_FILE_NAME_BYTES) {
        return Err(file_name_too_long(&f.name, MAX_FILE_NAME_BYTES));
    }
    match files.iter().find(|f| f.name.chars().any(char::is_control)) {
        Some(f) => Err(RelayError::BadRequest(Message::new(
            format!("ファイル名に制御文字が含まれています: {}", clip(&f.name)),
            format!("a file name holds control characters: {}", clip(&f.name)),
        ))),
        None => Ok(()),
    }
}

/// Most characters of a file's CSV version echoed in a report (a real one has 6 digits).
const MAX_CSV_VERSION_CHARS: usize = 16;
/// Most characters of one finding message; every message the relay writes itself is shorter.
const MAX_MESSAGE_CHARS: usize = 512;
/// Most bytes of all finding messages of one report before each is clipped to [`TIGHT_MESSAGE_CHARS`]; with
/// the 1,000-finding cap this keeps a report well under 1 MB.
const MESSAGE_BUDGET_BYTES: usize = 640 * 1024;
/// Characters of each message when the budget is exceeded.
const TIGHT_MESSAGE_CHARS: usize = 96;

/// Clips the client-controlled strings of `report` in place (see the constants for the limits).
pub(super) fn bound_report(report: &mut SetReport) {
    for f in &mut report.files {
        if let Some(v) = &mut f.csv_version
            && v.chars().count() > MAX_CSV_VERSION_CHARS
        {
            *v = clip_to(v, MAX_CSV_VERSION_CHARS);
        }
    }
    let total = clip_messages(report, MAX_MESSAGE_CHARS);
    if total > MESSAGE_BUDGET_BYTES {
        clip_messages(report, TIGHT_MESSAGE_CHARS);
    }
}

/// Clips every finding message to `max` characters; returns the bytes of all messages afterwards.
fn clip_messages(report: &mut SetReport, max: usize) -> usize {
    let mut total = 0;
    let mut clip = |m: &mut String| {
        if m.chars().count() > max {
            *m = clip_to(m, max);
        }
        total += m.len();
    };
    for f in &mut report.files {
        for x in f.errors.iter_mut().chain(f.warnings.iter_mut()) {
            clip(&mut x.message_ja);
            clip(&mut x.message_en);
        }
    }
    for x in report.set_errors.iter_mut().chain(report.set_warnings.iter_mut()) {
        clip(&mut x.message_ja);
        clip(&mut x.message_en);
    }
    total
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::validate::{Code, FileReport, Finding};

    fn finding(text: &str) -> Finding {
        Finding {
            line: Some(1),
            physical_line: Some(1),
            item: Some(2),
            item_name: Some("項目".into()),
            code: Code::Length,
            message_ja: format!("値「{text}」は長すぎます"),
            message_en: format!("value `{text}` is too long"),
        }
    }

    #[test]
    fn a_report_of_long_findings_stays_under_a_megabyte() {
        let mut report = SetReport::new(1);
        let mut file = FileReport::new("UPPLAN.CSV", 2 << 20);
        file.csv_version = Some("9".repeat(1 << 20));
        file.errors = (0..1000).map(|_| finding(&"値".repeat(2000))).collect();
        report.files.push(file);
        report.set_finding(Code::SetComposition, "あ".repeat(5000), "a".repeat(5000));
        bound_report(&mut report);
        let json = serde_json::to_vec(&report).unwrap();
        assert!(json.len() < 1 << 20, "{} bytes", json.len());
        let f = &report.files[0];
        assert_eq!(
            f.csv_version.as_ref().unwrap().chars().count(),
            MAX_CSV_VERSION_CHARS + 1
        );
        assert!(f.errors[0].message_en.starts_with("value `値値"));
    }

    #[test]
    fn ordinary_messages_are_left_whole() {
        let mut report = SetReport::new(1);
        let mut file = FileReport::new("UPPLAN.CSV", 10);
        file.csv_version = Some("202407".into());
        file.errors.push(finding("12345"));
        report.files.push(file);
        let before = serde_json::to_string(&report).unwrap();
        bound_report(&mut report);
        assert_eq!(serde_json::to_string(&report).unwrap(), before);
    }
}
