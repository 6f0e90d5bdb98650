//! The validation report: the JSON body of API.md (422, `/v1/validate`, `validate --json`).

use serde::Serialize;

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
    WarnRequired = "W_REQUIRED",
    WarnLength = "W_LENGTH",
    WarnNameBodyMismatch = "W_NAME_BODY_MISMATCH",
    WarnCsvVersion = "W_CSV_VERSION",
    WarnOutOfScope = "W_OUT_OF_SCOPE",
    WarnSetComposition = "W_SET_COMPOSITION",
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// 1-based record number; null for name- and file-level findings.
    pub line: Option<u64>,
    /// 1-based physical line where the record starts (differs from `line` after quoted line breaks).
    pub physical_line: Option<u64>,
    /// 1-based item number of the layout in use.
    pub item: Option<u32>,
    /// Japanese item name (項目名).
    pub item_name: Option<String>,
    pub code: Code,
    pub message_ja: String,
    pub message_en: String,
}

/// A set-level finding (composition, agreement between files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetFinding {
    pub code: Code,
    pub message_ja: String,
    pub message_en: String,
}

/// Findings are capped per file so that a file with an error on every line cannot exhaust memory.
pub const MAX_FINDINGS_PER_FILE: usize = 1000;

/// The report on one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub name: String,
    pub kind: Option<Kind>,
    pub csv_version: Option<String>,
    pub records: u64,
    pub bytes: u64,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
    /// Findings beyond the cap, counted but not listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub omitted: u64,
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
            self.omitted += 1;
        }
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

    pub fn is_valid(&self) -> bool {
        self.errors.is_empty() && !(self.omitted > 0 && self.errors.len() >= MAX_FINDINGS_PER_FILE)
    }
}

/// The report on one set: the 422 body when invalid.
#[derive(Debug, Clone, Serialize)]
pub struct SetReport {
    /// `invalid` when anything is wrong; absent when the set is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    pub valid: bool,
    pub sequence: Option<String>,
    pub sender: Option<String>,
    pub recipient: Option<String>,
    pub month: Option<String>,
    pub files: Vec<FileReport>,
    pub set_errors: Vec<SetFinding>,
    pub set_warnings: Vec<SetFinding>,
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

    /// Sets `valid` and `error` from the findings.
    pub fn finish(&mut self) {
        self.valid = self.set_errors.is_empty() && self.files.iter().all(FileReport::is_valid);
        self.error = (!self.valid).then_some("invalid");
    }
}
