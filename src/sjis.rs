//! Strict Shift_JIS (MS932) checking of one item: no replacement characters, no 外字.
//!
//! `encoding_rs::SHIFT_JIS` is the WHATWG Shift_JIS, which is Windows code page 932 including the NEC and
//! IBM extensions. It decodes the user-defined area (lead bytes F0–F9) to the Private Use Area and byte 0x80
//! to U+0080; we refuse both.

use encoding_rs::{DecoderResult, SHIFT_JIS};

/// What is wrong with an item's bytes; `char_index` is the 1-based position of the bad character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SjisProblem {
    /// A byte sequence that is not MS932.
    Invalid { char_index: usize },
    /// A user-defined character (外字, F040–F9FC).
    Gaiji { char_index: usize },
}

/// Decodes items into a reusable buffer.
#[derive(Debug, Default)]
pub struct ItemDecoder {
    buf: Vec<u8>,
}

impl ItemDecoder {
    /// Checks `bytes` and returns its length in characters.
    pub fn char_count(&mut self, bytes: &[u8]) -> Result<usize, SjisProblem> {
        if bytes.is_ascii() {
            return Ok(bytes.len());
        }
        let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
        let need = decoder
            .max_utf8_buffer_length_without_replacement(bytes.len())
            .unwrap_or(bytes.len() * 3 + 16);
        if self.buf.len() < need {
            self.buf.resize(need, 0);
        }
        let (result, _read, written) = decoder.decode_to_utf8_without_replacement(bytes, &mut self.buf, true);
        let out = &self.buf[..written];
        let chars_before = |end: usize| out[..end].iter().filter(|b| (**b & 0xC0) != 0x80).count();
        if let DecoderResult::Malformed(..) = result {
            return Err(SjisProblem::Invalid {
                char_index: chars_before(written) + 1,
            });
        }
        // The output is UTF-8 by construction; look for U+0080 and the PUA range U+E000–U+E757.
        let text = std::str::from_utf8(out).map_err(|_| SjisProblem::Invalid { char_index: 1 })?;
        let mut count = 0;
        for c in text.chars() {
            count += 1;
            match c {
                '\u{80}' => return Err(SjisProblem::Invalid { char_index: count }),
                '\u{E000}'..='\u{E757}' => return Err(SjisProblem::Gaiji { char_index: count }),
                _ => {}
            }
        }
        Ok(count)
    }
}

/// Encodes UTF-8 text as MS932 (for fixtures and generators); `None` if a character has no MS932 form.
pub fn encode(text: &str) -> Option<Vec<u8>> {
    let (bytes, _, unmappable) = SHIFT_JIS.encode(text);
    (!unmappable).then(|| bytes.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8]) -> Result<usize, SjisProblem> {
        ItemDecoder::default().char_count(bytes)
    }

    #[test]
    fn trail_byte_5c_survives() {
        // ソ 表 能 end in 0x5C, the ASCII backslash.
        let b = encode("ソ表能").unwrap();
        assert_eq!(b, [0x83, 0x5C, 0x95, 0x5C, 0x94, 0x5C]);
        assert_eq!(check(&b), Ok(3));
    }

    #[test]
    fn extensions_and_kana() {
        // ① (NEC row 13), 髙 (IBM extension FB FC), half-width カ.
        assert_eq!(check(&[0x87, 0x40, 0xFB, 0xFC, 0xB6]), Ok(3));
    }

    #[test]
    fn refusals() {
        assert_eq!(
            check(&[b'a', 0xF0, 0x40]),
            Err(SjisProblem::Gaiji { char_index: 2 })
        );
        assert_eq!(check(&[0xF9, 0xFC]), Err(SjisProblem::Gaiji { char_index: 1 }));
        assert_eq!(
            check(&[b'a', b'b', 0x82]),
            Err(SjisProblem::Invalid { char_index: 3 })
        );
        assert_eq!(check(&[0x80]), Err(SjisProblem::Invalid { char_index: 1 }));
        assert_eq!(check(&[0xA0]), Err(SjisProblem::Invalid { char_index: 1 }));
        // Row 0x85 is unassigned in MS932. (UTF-8 Japanese often *is* valid MS932 mojibake: 縺ゅ＞ for あい,
        // which is why whole files are also tested for UTF-8.)
        assert_eq!(check(&[0x85, 0x40]), Err(SjisProblem::Invalid { char_index: 1 }));
    }
}
