//! A strict, quote-aware CSV record reader over bytes.
//!
//! It works on raw bytes, so a Shift_JIS trail byte 0x5C (ソ, 表, 能) or 0x7C is only data. Quoted items may
//! hold commas, `""` and line breaks. Records end in CRLF or LF. Unlike a lenient reader it reports what the
//! standard does not allow, with the record and physical line: a quote inside an unquoted item, text after a
//! closing quote, a bare CR outside quotes, a quote that is never closed.

use memchr::{memchr, memchr2};

/// A syntax error in one record. The reader skips to the next line and goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvError {
    /// `"` inside an item that does not start with `"`.
    StrayQuote { item: usize },
    /// Text between a closing `"` and the next comma or line end.
    AfterQuote { item: usize },
    /// A CR not followed by LF outside quotes.
    BareCr { item: usize },
    /// A quoted item still open at the end of the file.
    Unterminated { item: usize },
}

/// One record's items, unescaped, in one buffer (like `csv::ByteRecord`).
#[derive(Debug, Default, Clone)]
pub struct Record {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    quoted: Vec<bool>,
    /// 1-based physical line where the record starts.
    pub line: u64,
}

impl Record {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The unescaped bytes of item `i` (0-based).
    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// Whether item `i` was written in quotes.
    pub fn quoted(&self, i: usize) -> bool {
        self.quoted[i]
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.quoted.clear();
    }

    fn end_item(&mut self, quoted: bool) {
        self.ends.push(self.bytes.len());
        self.quoted.push(quoted);
    }
}

/// Reads records from a byte slice.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    line: u64,
    /// End of the data without the blank lines that may trail it.
    end: usize,
}

enum End {
    Comma,
    Record,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        let end = data
            .iter()
            .rposition(|b| *b != b'\r' && *b != b'\n')
            .map_or(0, |i| i + 1);
        Reader {
            data,
            pos: 0,
            line: 1,
            end,
        }
    }

    /// Reads the next record into `rec`. `None` at the end (blank lines at the very end are ignored).
    pub fn read(&mut self, rec: &mut Record) -> Option<Result<(), CsvError>> {
        if self.pos >= self.end {
            return None;
        }
        rec.clear();
        rec.line = self.line;
        loop {
            let item = rec.len() + 1;
            let end = if self.data.get(self.pos) == Some(&b'"') {
                self.quoted_item(rec, item)
            } else {
                self.plain_item(rec, item)
            };
            match end {
                Ok(End::Comma) => {}
                Ok(End::Record) => return Some(Ok(())),
                Err(e) => {
                    self.skip_line();
                    return Some(Err(e));
                }
            }
        }
    }

    fn plain_item(&mut self, rec: &mut Record, item: usize) -> Result<End, CsvError> {
        let start = self.pos;
        while let Some(&b) = self.data.get(self.pos) {
            match b {
                b',' | b'\n' | b'\r' | b'"' => break,
                _ => self.pos += 1,
            }
        }
        rec.bytes.extend_from_slice(&self.data[start..self.pos]);
        rec.end_item(false);
        if self.data.get(self.pos) == Some(&b'"') {
            return Err(CsvError::StrayQuote { item });
        }
        self.item_end(item)
    }

    fn quoted_item(&mut self, rec: &mut Record, item: usize) -> Result<End, CsvError> {
        self.pos += 1;
        // One search finds the closing quote and the line breaks before it (rare in an item). An item never
        // closed keeps what preceded its last `""`.
        let mut kept = rec.bytes.len();
        loop {
            let rest = &self.data[self.pos..];
            let Some(q) = memchr2(b'"', b'\n', rest) else {
                rec.bytes.truncate(kept);
                self.pos = self.data.len();
                rec.end_item(true);
                return Err(CsvError::Unterminated { item });
            };
            rec.bytes.extend_from_slice(&rest[..q]);
            self.pos += q + 1;
            if rest[q] == b'\n' {
                rec.bytes.push(b'\n');
                self.line += 1;
            } else if self.data.get(self.pos) == Some(&b'"') {
                rec.bytes.push(b'"');
                self.pos += 1;
                kept = rec.bytes.len();
            } else {
                break;
            }
        }
        rec.end_item(true);
        match self.data.get(self.pos) {
            None | Some(b',' | b'\n' | b'\r') => self.item_end(item),
            Some(_) => Err(CsvError::AfterQuote { item }),
        }
    }

    /// At a delimiter after an item: consume it.
    fn item_end(&mut self, item: usize) -> Result<End, CsvError> {
        match self.data.get(self.pos) {
            None => Ok(End::Record),
            Some(b',') => {
                self.pos += 1;
                Ok(End::Comma)
            }
            Some(b'\n') => {
                self.pos += 1;
                self.line += 1;
                Ok(End::Record)
            }
            Some(b'\r') if self.data.get(self.pos + 1) == Some(&b'\n') => {
                self.pos += 2;
                self.line += 1;
                Ok(End::Record)
            }
            Some(_) => Err(CsvError::BareCr { item }),
        }
    }

    fn skip_line(&mut self) {
        match memchr(b'\n', &self.data[self.pos..]) {
            Some(n) => {
                self.pos += n + 1;
                self.line += 1;
            }
            None => self.pos = self.data.len(),
        }
    }
}

/// Writes one item for a record: quoted (with `""` escapes) when `quote` is set.
pub fn write_item(out: &mut Vec<u8>, value: &[u8], quote: bool) {
    if quote {
        out.push(b'"');
        for &b in value {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(value);
    }
}

#[cfg(test)]
mod tests;
