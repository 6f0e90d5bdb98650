//! The validation report: the JSON body of docs/openapi.json (422, `/v1/validate`, `validate --json`).

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::spec::Kind;

macro_rules! codes {
    ($($variant:ident = $id:literal,)*) => {
        /// Stable identifiers of every finding. `E_…` rejects the set, `W_…` is reported and accepted.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The identifier as it appears in reports, e.g. `E_LENGTH`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $id,)* }
            }
        }
    };
}

codes! {
    Encoding = "E_ENCODING",
    Gaiji = "E_GAIJI",
    CsvSyntax = "E_CSV_SYNTAX",
    FieldCount = "E_FIELD_COUNT",
    Required = "E_REQUIRED",
    Length = "E_LENGTH",
    Format = "E_FORMAT",
    CodeValue = "E_CODE",
    FileName = "E_FILENAME",
    NameBodyMismatch = "E_NAME_BODY_MISMATCH",
    CsvVersion = "E_CSV_VERSION",
    SetComposition = "E_SET_COMPOSITION",
    EmptyFile = "E_EMPTY_FILE",
    Image = "E_IMAGE",
    UnknownRecipient = "E_UNKNOWN_RECIPIENT",
    HeaderLine = "E_HEADER_LINE",
    EofMarker = "E_EOF_MARKER",
    DateMonth = "E_DATE_MONTH",
    WarnRequired = "W_REQUIRED",
    WarnLength = "W_LENGTH",
    WarnNameBodyMismatch = "W_NAME_BODY_MISMATCH",
    WarnCsvVersion = "W_CSV_VERSION",
    WarnOutOfScope = "W_OUT_OF_SCOPE",
    WarnSetComposition = "W_SET_COMPOSITION",
    WarnDateOrder = "W_DATE_ORDER",
    WarnTimeOrder = "W_TIME_ORDER",
    WarnTotals = "W_TOTALS",
}

impl Code {
    pub fn is_warning(self) -> bool {
        self.as_str().starts_with("W_")
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One error or warning in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Finding {
    /// 1-based record number; null for name- and file-level findings.
    #[schema(minimum = 1)]
    pub line: Option<u64>,
    /// 1-based physical line where the record starts (differs from `line` after quoted line breaks); null for
    /// name- and file-level findings.
    #[schema(minimum = 1)]
    pub physical_line: Option<u64>,
    /// 1-based item number (項目番号) of the layout in use; null when the finding is not about one item.
    #[schema(minimum = 1)]
    pub item: Option<u32>,
    /// The item's Japanese name (項目名), e.g. `サービス回数`.
    pub item_name: Option<String>,
    pub code: Code,
    /// The explanation in Japanese.
    pub message_ja: String,
    /// The explanation in English.
    pub message_en: String,
}

/// A set-level finding (composition, agreement between files, the recipient).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SetFinding {
    pub code: Code,
    pub message_ja: String,
    pub message_en: String,
}

/// Findings are capped per file so that a file with an error on every line cannot exhaust memory.
pub const MAX_FINDINGS_PER_FILE: usize = 1000;

/// Findings listed in one set's report, over all its files and the set itself: a report's size is bounded by
/// this, whatever the number of files or records sent. The rest are counted by code in [`Omitted`].
pub const MAX_FINDINGS_PER_SET: usize = 1000;

/// The report on one file. At most 1000 errors and 1000 warnings are listed per file; `omitted` counts the rest.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileReport {
    /// The file name as sent.
    pub name: String,
    /// Null when the name is not a spec name.
    pub kind: Option<Kind>,
    /// The CSV version (CSVバージョン) read from the records, e.g. `202407`; null for an image or when unreadable.
    pub csv_version: Option<String>,
    pub records: u64,
    pub bytes: u64,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
    /// Findings beyond the caps, counted but not listed; absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    #[schema(required = false, minimum = 1)]
    pub omitted: u64,
    /// The omitted findings by code (`{"E_LENGTH": 12}`); absent when none were omitted.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(required = false, value_type = BTreeMap<String, u64>)]
    pub omitted_codes: BTreeMap<Code, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl FileReport {
    pub fn new(name: &str, bytes: u64) -> Self {
        FileReport {
            name: name.to_string(),
            kind: None,
            csv_version: None,
            records: 0,
            bytes,
            errors: Vec::new(),
            warnings: Vec::new(),
            omitted: 0,
            omitted_codes: BTreeMap::new(),
        }
    }

    pub fn push(&mut self, f: Finding) {
        let list = if f.code.is_warning() {
            &mut self.warnings
        } else {
            &mut self.errors
        };
        if list.len() < MAX_FINDINGS_PER_FILE {
            list.push(f);
        } else {
            self.omit(f.code, 1);
        }
    }

    fn omit(&mut self, code: Code, n: u64) {
        self.omitted += n;
        *self.omitted_codes.entry(code).or_default() += n;
    }

    /// Keeps the first `keep` findings (errors first), counting the rest as omitted; returns how many it kept.
    fn keep_first(&mut self, keep: usize) -> usize {
        let errors = self.errors.len().min(keep);
        let warnings = self.warnings.len().min(keep - errors);
        for f in self
            .errors
            .split_off(errors)
            .into_iter()
            .chain(self.warnings.split_off(warnings))
        {
            self.omit(f.code, 1);
        }
        errors + warnings
    }

    /// A finding about the whole file (no record).
    pub fn file_level(&mut self, code: Code, ja: String, en: String) {
        self.push(Finding {
            line: None,
            physical_line: None,
            item: None,
            item_name: None,
            code,
            message_ja: ja,
            message_en: en,
        });
    }

    /// No error, listed or omitted.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty() && self.omitted_codes.keys().all(|c| c.is_warning())
    }
}

/// The validation report: the 422 body of `POST /v1/submissions`, the 200 body of `POST /v1/validate`, and one
/// set of `careplan-relay validate --json`. Every finding is reported, not only the first. At most 1000 findings
/// are listed per set, whatever the number of files; `omitted` summarises the rest.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ValidationReport)]
pub struct SetReport {
    /// `invalid` when anything is wrong; absent when the set is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^invalid$")]
    pub error: Option<&'static str>,
    pub valid: bool,
    /// The 14-digit sequence number (ファイル連番) of the names; null when no name could be read.
    #[schema(pattern = "^[0-9]{14}$")]
    pub sequence: Option<String>,
    /// The sender from the names: the office number, then `/` and the service type for v4 names (e.g.
    /// `1310000001/43`).
    pub sender: Option<String>,
    /// The recipient from the names, in the same form as `sender`.
    pub recipient: Option<String>,
    /// The service month (サービス提供年月, `YYYYMM`) of the set's names, if they carry one other than `000000`.
    #[schema(pattern = "^[0-9]{6}$", example = "202504")]
    pub month: Option<String>,
    /// One report per file, in the order sent.
    pub files: Vec<FileReport>,
    pub set_errors: Vec<SetFinding>,
    pub set_warnings: Vec<SetFinding>,
    /// Present when findings were left out (beyond [`MAX_FINDINGS_PER_FILE`] or [`MAX_FINDINGS_PER_SET`]):
    /// how many, by code, and a closing line saying so.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub omitted: Option<Omitted>,
    /// Set-level findings left out, by code (part of `omitted`).
    #[serde(skip)]
    set_omitted: BTreeMap<Code, u64>,
}

/// The findings a report leaves out: `{count, by_code: {"E_LENGTH": 12, …}, message_ja, message_en}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Omitted {
    #[schema(minimum = 1)]
    pub count: u64,
    #[schema(value_type = BTreeMap<String, u64>)]
    pub by_code: BTreeMap<Code, u64>,
    pub message_ja: String,
    pub message_en: String,
}

impl SetReport {
    pub fn set_finding(&mut self, code: Code, ja: String, en: String) {
        let f = SetFinding {
            code,
            message_ja: ja,
            message_en: en,
        };
        if code.is_warning() {
            self.set_warnings.push(f)
        } else {
            self.set_errors.push(f)
        }
    }

    /// An empty report, to be filled by validation.
    pub fn new(files: usize) -> SetReport {
        SetReport {
            error: None,
            valid: false,
            sequence: None,
            sender: None,
            recipient: None,
            month: None,
            files: Vec::with_capacity(files),
            set_errors: Vec::new(),
            set_warnings: Vec::new(),
            omitted: None,
            set_omitted: BTreeMap::new(),
        }
    }

    /// Sets `valid` and `error` from the findings (listed or omitted), then bounds the listed findings to
    /// [`MAX_FINDINGS_PER_SET`] and summarises what was left out.
    pub fn finish(&mut self) {
        self.valid = self.set_errors.is_empty()
            && self.set_omitted.keys().all(|c| c.is_warning())
            && self.files.iter().all(FileReport::is_valid);
        self.error = (!self.valid).then_some("invalid");
        self.cap(MAX_FINDINGS_PER_SET);
    }

    /// Keeps at most `max` findings: every file's first finding (errors first), so that a clerk sees what is
    /// wrong with each file whatever the others hold; then set errors, each file's further findings in order,
    /// and set warnings. With more files than `max`, one finding per file (the number of files per upload is
    /// bounded by `server.max_files_per_upload`).
    fn cap(&mut self, max: usize) {
        let floors: Vec<usize> = self
            .files
            .iter()
            .map(|f| usize::from(!f.errors.is_empty() || !f.warnings.is_empty()))
            .collect();
        let mut left = max.saturating_sub(floors.iter().sum());
        let keep = self.set_errors.len().min(left);
        for f in self.set_errors.split_off(keep) {
            *self.set_omitted.entry(f.code).or_default() += 1;
        }
        left -= keep;
        for (f, floor) in self.files.iter_mut().zip(floors) {
            left -= f.keep_first(floor + left) - floor;
        }
        let keep = self.set_warnings.len().min(left);
        for f in self.set_warnings.split_off(keep) {
            *self.set_omitted.entry(f.code).or_default() += 1;
        }
        let mut by_code = self.set_omitted.clone();
        for f in &self.files {
            for (code, n) in &f.omitted_codes {
                *by_code.entry(*code).or_default() += n;
            }
        }
        let count: u64 = by_code.values().sum();
        self.omitted = (count > 0).then(|| Omitted {
            count,
            message_ja: format!("… ほか {count} 件の指摘は一覧に含めていません（内訳は by_code）。"),
            message_en: format!("… and {count} more findings not listed (counts per code in by_code)"),
            by_code,
        });
    }
}
