//! Strict Shift_JIS (MS932) checking of one item: no replacement characters, no 外字.
//!
//! `encoding_rs::SHIFT_JIS` is the WHATWG Shift_JIS, which is Windows code page 932 including the NEC and
//! IBM extensions. It decodes the user-defined area (lead bytes F0–F9) to the Private Use Area and byte 0x80
//! to U+0080; we refuse both. Every two-byte sequence is classified once (a 64 KiB table built with
//! encoding_rs), so that checking an item is one pass over its bytes.

use std::sync::OnceLock;

use encoding_rs::SHIFT_JIS;

/// What is wrong with an item's bytes; `char_index` is the 1-based position of the bad character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SjisProblem {
    /// A byte sequence that is not MS932.
    Invalid { char_index: usize },
    /// A user-defined character (外字, F040–F9FC).
    Gaiji { char_index: usize },
}

/// What a two-byte sequence `lead << 8 | trail` is in MS932.
const INVALID: u8 = 0;
const CHAR: u8 = 1;
const GAIJI: u8 = 2;

/// The class of every two-byte sequence, built once by decoding each with `encoding_rs`.
fn pairs() -> &'static [u8; 1 << 16] {
    static TABLE: OnceLock<Box<[u8; 1 << 16]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Box::new([INVALID; 1 << 16]);
        for lead in (0x81u8..=0x9F).chain(0xE0..=0xFC) {
            for trail in (0x40u8..=0x7E).chain(0x80..=0xFC) {
                let class =
                    match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(&[lead, trail]) {
                        Some(s) => match s.chars().next() {
                            Some('\u{E000}'..='\u{E757}') => GAIJI,
                            Some(_) if s.chars().count() == 1 => CHAR,
                            _ => INVALID,
                        },
                        None => INVALID,
                    };
                t[usize::from(lead) << 8 | usize::from(trail)] = class;
            }
        }
        t
    })
}

/// Checks an item's bytes and returns its length in characters: one pass, with a table of the two-byte sequences.
pub fn char_count(bytes: &[u8]) -> Result<usize, SjisProblem> {
    if bytes.is_ascii() {
        return Ok(bytes.len());
    }
    let table = pairs();
    let (mut rest, mut count) = (bytes, 0);
    while let [b, tail @ ..] = rest {
        count += 1;
        // ASCII and half-width katakana are one byte.
        if *b < 0x80 || (0xA1..=0xDF).contains(b) {
            rest = tail;
            continue;
        }
        // Any other byte leads a pair; the table has no character for a byte that cannot lead one (0x80, 0xA0,
        // 0xFD–0xFF: U+0080 in WHATWG, or nothing).
        let Some((t, after)) = tail.split_first() else {
            return Err(SjisProblem::Invalid { char_index: count });
        };
        match table[usize::from(u16::from_be_bytes([*b, *t]))] {
            CHAR => rest = after,
            GAIJI => return Err(SjisProblem::Gaiji { char_index: count }),
            _ => return Err(SjisProblem::Invalid { char_index: count }),
        }
    }
    Ok(count)
}

/// An item's bytes as a clerk would read them, for quoting in a finding: MS932 decoded where it decodes (外字
/// too, as the bytes it is), any other byte and every control character as `\xNN`, cut after `max_chars`
/// characters with `…`. Never a lossy conversion: what cannot be shown is shown as its bytes.
pub fn shown(bytes: &[u8], max_chars: usize) -> String {
    let table = pairs();
    let mut out = String::new();
    let (mut i, mut count) = (0, 0);
    while i < bytes.len() {
        if count == max_chars {
            out.push('…');
            break;
        }
        count += 1;
        let b = bytes[i];
        let pair = bytes.get(i + 1).map(|t| [b, *t]);
        match b {
            0x20..=0x7E => {
                out.push(char::from(b));
                i += 1;
            }
            0xA1..=0xDF => {
                // Half-width katakana: U+FF61 + (b − 0xA1).
                out.extend(char::from_u32(0xFF61 + u32::from(b - 0xA1)));
                i += 1;
            }
            0x81..=0x9F | 0xE0..=0xFC
                if pair.is_some_and(|p| table[usize::from(p[0]) << 8 | usize::from(p[1])] == CHAR) =>
            {
                let p = pair.unwrap_or_default();
                match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(&p) {
                    Some(text) => out.push_str(&text),
                    None => out.push_str(&format!("\\x{:02X}\\x{:02X}", p[0], p[1])),
                }
                i += 2;
            }
            _ => {
                out.push_str(&format!("\\x{b:02X}"));
                i += 1;
            }
        }
    }
    out
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
        char_count(bytes)
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

    /// The table agrees with decoding each item with encoding_rs, on every one- and two-byte input.
    #[test]
    fn table_agrees_with_encoding_rs() {
        let reference = |b: &[u8]| -> Result<usize, SjisProblem> {
            match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(b) {
                None => Err(SjisProblem::Invalid { char_index: 0 }),
                Some(s) if s.chars().any(|c| ('\u{E000}'..='\u{E757}').contains(&c)) => {
                    Err(SjisProblem::Gaiji { char_index: 0 })
                }
                Some(s) if s.contains('\u{80}') => Err(SjisProblem::Invalid { char_index: 0 }),
                Some(s) => Ok(s.chars().count()),
            }
        };
        let kind = |r: Result<usize, SjisProblem>| match r {
            Ok(n) => (0, n),
            Err(SjisProblem::Invalid { .. }) => (1, 0),
            Err(SjisProblem::Gaiji { .. }) => (2, 0),
        };
        for a in 0..=255u8 {
            assert_eq!(kind(check(&[a])), kind(reference(&[a])), "{a:02X}");
            for b in 0..=255u8 {
                assert_eq!(kind(check(&[a, b])), kind(reference(&[a, b])), "{a:02X}{b:02X}");
            }
        }
    }

    #[test]
    fn shown_decodes_what_decodes_and_escapes_the_rest() {
        let b = encode("ケアﾌﾟﾗﾝ").unwrap();
        assert_eq!(shown(&b, 20), "ケアﾌﾟﾗﾝ");
        assert_eq!(shown(b"202407\x1a", 20), "202407\\x1A");
        assert_eq!(shown(&[0x82], 20), "\\x82");
        assert_eq!(shown(&[0x85, 0x40, b'a'], 20), "\\x85@a");
        assert_eq!(shown(b"abcdef", 3), "abc…");
        assert_eq!(shown(&[0xF0, 0x40], 5), "\\xF0@");
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
