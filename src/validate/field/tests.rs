use super::*;
use crate::spec::{Generation, Kind};

fn codes_for(kind: Kind, no: u32, value: &[u8]) -> Vec<&'static str> {
    let spec = Spec::get().expect("spec");
    let item = spec
        .layout(kind, Generation::V4)
        .and_then(|l| l.by_v4_no(no))
        .expect("item");
    let mut out = Vec::new();
    check(spec, item, value, &mut out);
    out.iter().map(|(c, _, _)| c.as_str()).collect()
}

/// One row per rule: kind, item, value, the codes expected.
#[test]
fn item_rules() {
    use Kind::*;
    let sjis = |s: &str| crate::sjis::encode(s).expect("MS932");
    let cases: Vec<(Kind, u32, Vec<u8>, &[&str])> = vec![
        // required: error, warning (disputed), optional
        (Upplan, 5, b"".to_vec(), &["E_REQUIRED"]),
        (Upplan, 7, b"".to_vec(), &["W_REQUIRED"]),
        (Uphosoku, 6, b"".to_vec(), &["W_REQUIRED"]),
        (Upplan, 21, b"".to_vec(), &[]),
        // lengths
        (Upplan, 14, b"123".to_vec(), &["E_LENGTH"]),
        (Upsikyu, 16, b"999".to_vec(), &[]),
        (Upsikyu, 16, b"1000".to_vec(), &["E_LENGTH"]),
        (Upsikyu, 30, b"12345".to_vec(), &[]),
        (Uphosoku, 12, sjis("０３－１２３４－５６７８"), &["W_LENGTH"]),
        (
            Uphosoku,
            12,
            sjis("０３－１２３４－５６７８９０１２３"),
            &["E_LENGTH"],
        ),
        (Up1kyo, 5, sjis("１６０－００２３"), &["W_LENGTH"]),
        // formats
        (Upplan, 4, b"20250230".to_vec(), &["E_FORMAT"]),
        (Upplan, 4, b"2025041".to_vec(), &["E_FORMAT"]),
        (Upplan, 4, sjis("２０２５０４０１"), &["E_FORMAT"]),
        (Upplan, 5, b"202513".to_vec(), &["E_FORMAT"]),
        (Upplan, 12, b"9999".to_vec(), &[]),
        (Upplan, 12, b"2460".to_vec(), &["E_FORMAT"]),
        (Up3kyo, 8, b"9999".to_vec(), &["E_FORMAT"]),
        (Up3kyo, 8, b"12:00".to_vec(), &["E_LENGTH"]),
        (Upplan, 2, b"13101".to_vec(), &["E_LENGTH"]),
        (Upplan, 2, b"13101a".to_vec(), &["E_FORMAT"]),
        (Upplan, 20, b"131000000".to_vec(), &["E_LENGTH"]),
        (Upplan, 3, b"H123456789".to_vec(), &[]),
        (Upplan, 3, b"0123456789".to_vec(), &[]),
        (Upplan, 3, b"X123456789".to_vec(), &["E_FORMAT"]),
        (Upplan, 3, b"123456789".to_vec(), &["E_FORMAT"]),
        (Upplan, 8, b"-120".to_vec(), &[]),
        (Upplan, 8, b"12a".to_vec(), &["E_FORMAT"]),
        (Upsikyu, 23, b"10.21".to_vec(), &[]),
        (Upsikyu, 23, b"10.215".to_vec(), &["E_FORMAT"]),
        (Upsikyu, 23, b"100.2".to_vec(), &["E_FORMAT"]),
        (Upplan, 11, b"1111100000000000000000000000000".to_vec(), &[]),
        (
            Upplan,
            11,
            b"111110000000000000000000000000".to_vec(),
            &["E_FORMAT"],
        ),
        (
            Upplan,
            11,
            b"1111100000000000000000000000002".to_vec(),
            &["E_FORMAT"],
        ),
        (Upplan, 19, b"1".to_vec(), &[]),
        (Upplan, 19, b"0".to_vec(), &["E_FORMAT"]),
        (Upplan, 19, b"123".to_vec(), &["W_LENGTH"]),
        (Uphosoku, 4, b"00000000".to_vec(), &[]),
        (Uphosoku, 63, b"000000".to_vec(), &[]),
        (Upplan, 5, b"000000".to_vec(), &["E_FORMAT"]),
        // code tables
        (Uphosoku, 7, b"3".to_vec(), &["E_CODE"]),
        (Up1kyo, 21, b"06".to_vec(), &[]),
        (Up1kyo, 21, b"6".to_vec(), &["E_CODE"]),
        (Upkihon, 23, b"06".to_vec(), &["E_CODE"]),
        (Upkihon, 23, b"01".to_vec(), &[]),
        (Up2kyo, 15, b"Y".to_vec(), &[]),
        (Up2kyo, 15, b"y".to_vec(), &["E_CODE"]),
        (Dltjsk, 6, b"2A".to_vec(), &[]),
        (Dltjsk, 6, b"99".to_vec(), &["E_CODE"]),
        (Dltjsk, 6, b"33".to_vec(), &["W_OUT_OF_SCOPE"]),
        (Upplan, 15, b"111111".to_vec(), &[]),
        (Upplan, 15, b"A11234".to_vec(), &[]),
        (Upplan, 15, b"991111".to_vec(), &["E_CODE"]),
        (Upplan, 15, b"331111".to_vec(), &["W_OUT_OF_SCOPE"]),
        (Upplan, 15, b"11AAAA".to_vec(), &["E_FORMAT"]),
        (Upplan, 15, b"999999".to_vec(), &["E_CODE"]),
        (Upsikyu, 9, b"11AAAA".to_vec(), &[]),
        (Upsikyu, 9, b"17ZZZZ".to_vec(), &[]),
        (Upsikyu, 9, b"999999".to_vec(), &[]),
        (Upsikyu, 9, b"11BBBB".to_vec(), &["E_FORMAT"]),
        // encoding
        (Upplan, 21, vec![0x82, 0xA0, 0x82], &["E_ENCODING"]),
        (Upplan, 21, vec![0x82, 0xA0, 0xF0, 0x40], &["E_GAIJI"]),
        (Upplan, 21, sjis("ソ表能，\"引用\""), &[]),
        (Upplan, 4, vec![0x82], &["E_ENCODING"]),
    ];
    for (kind, no, value, want) in cases {
        assert_eq!(
            codes_for(kind, no, &value),
            want,
            "{kind} No.{no} {}",
            crate::sjis::shown(&value, 40)
        );
    }
}

#[test]
fn messages_are_bilingual_and_do_not_echo_free_text() {
    let spec = Spec::get().expect("spec");
    let item = spec
        .layout(Kind::Upplan, Generation::V4)
        .and_then(|l| l.by_v4_no(21))
        .expect("item");
    let mut out = Vec::new();
    let mut bad = crate::sjis::encode("山田太郎").expect("MS932");
    bad.extend_from_slice(&[0xF0, 0x40]);
    check(spec, item, &bad, &mut out);
    let (_, ja, en) = &out[0];
    assert!(ja.contains("外字") && en.contains("user-defined"));
    assert!(!ja.contains("山田") && !en.contains("山田"));
}

/// The first item of the v4 schedule layout that is a fixed number of digits (an office number).
fn ten_digits() -> &'static crate::spec::Item {
    Spec::get()
        .expect("spec")
        .layout(Kind::Upplan, Generation::V4)
        .and_then(|l| {
            l.items
                .iter()
                .find(|i| i.ty == crate::spec::ItemType::Digits && i.max_len == Some(10))
        })
        .expect("a 10-digit item")
}

#[test]
fn wrong_shapes_are_named_and_the_value_quoted() {
    let spec = Spec::get().expect("spec");
    let item = ten_digits();
    let cases: [(&[u8], &str, &str); 4] = [
        (b"1310000001 ", "末尾に空白", "ends with a space"),
        (b" 131000000", "先頭に空白", "starts with a space"),
        (b"1.31E+09", "指数表記", "exponent form"),
        (b"310000001", "先頭の 0", "leading zeros"),
    ];
    for (value, ja_hint, en_hint) in cases {
        let mut out = Vec::new();
        check(spec, item, value, &mut out);
        assert_eq!(out.len(), 1, "{}", crate::sjis::shown(value, 20));
        let (_, ja, en) = &out[0];
        assert!(ja.contains(ja_hint) && en.contains(en_hint), "{ja} / {en}");
        let quoted = crate::sjis::shown(value, 20);
        assert!(ja.contains(&quoted) && en.contains(&quoted), "{ja} / {en}");
    }
}
