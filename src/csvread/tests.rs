use super::*;
use proptest::prelude::*;

type Read = Result<(u64, Vec<Vec<u8>>), CsvError>;

fn read_all(data: &[u8]) -> Vec<Read> {
    let mut r = Reader::new(data);
    let mut rec = Record::default();
    let mut out = Vec::new();
    while let Some(res) = r.read(&mut rec) {
        out.push(res.map(|()| (rec.line, (0..rec.len()).map(|i| rec.get(i).to_vec()).collect())));
    }
    out
}

fn items(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

#[test]
fn quoted_items_keep_commas_quotes_and_line_breaks() {
    let data = b"a,\"x,y\",\"say \"\"hi\"\"\"\r\nb,\"line1\r\nline2\",\r\nc,,\n";
    let got = read_all(data);
    assert_eq!(got[0], Ok((1, items(&["a", "x,y", "say \"hi\""]))));
    assert_eq!(got[1], Ok((2, items(&["b", "line1\r\nline2", ""]))));
    assert_eq!(
        got[2],
        Ok((4, items(&["c", "", ""]))),
        "physical line counts the quoted break"
    );
    assert_eq!(got.len(), 3);
}

#[test]
fn trail_byte_5c_is_data() {
    // "ソ" = 83 5C: the 0x5C must not escape the closing quote or the comma.
    let data = [b'"', 0x83, 0x5C, b'"', b',', 0x95, 0x5C, b'\r', b'\n'];
    assert_eq!(
        read_all(&data),
        vec![Ok((1, vec![vec![0x83, 0x5C], vec![0x95, 0x5C]]))]
    );
}

#[test]
fn lf_crlf_and_trailing_blank_lines() {
    assert_eq!(read_all(b"a\nb\r\nc").len(), 3);
    assert_eq!(
        read_all(b"a\r\n\r\n\r\n").len(),
        1,
        "blank lines at the very end are ignored"
    );
    assert_eq!(
        read_all(b"a\r\n\r\nb\r\n")[1],
        Ok((2, items(&[""]))),
        "a blank line inside is a record"
    );
    assert!(read_all(b"").is_empty());
}

/// Many blank lines are read in linear time (fuzz/regressions/*/slow-blank-lines-40k took seconds before).
#[test]
fn blank_lines_are_linear() {
    let mut data = b"\r\n".repeat(400_000);
    data.extend_from_slice(b"x\r\n");
    let got = read_all(&data);
    assert_eq!(got.len(), 400_001);
    assert_eq!(got.last(), Some(&Ok((400_001, items(&["x"])))));
}

#[test]
fn syntax_errors_name_the_item_and_go_on() {
    let got = read_all(b"ab\"c,d\r\nok,1\r\n");
    assert_eq!(got[0], Err(CsvError::StrayQuote { item: 1 }));
    assert_eq!(got[1], Ok((2, items(&["ok", "1"]))));
    assert_eq!(
        read_all(b"a,\"x\"y\r\n")[0],
        Err(CsvError::AfterQuote { item: 2 })
    );
    assert_eq!(read_all(b"a\rb\r\n")[0], Err(CsvError::BareCr { item: 1 }));
    assert_eq!(
        read_all(b"a,\"open\r\nnever closed")[0],
        Err(CsvError::Unterminated { item: 2 })
    );
}

proptest! {
    /// Any items, written with quotes where they need them, read back as the same items.
    #[test]
    fn written_records_read_back(recs in prop::collection::vec(prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 1..6), 1..6)) {
        let mut data = Vec::new();
        for rec in &recs {
            for (i, item) in rec.iter().enumerate() {
                if i > 0 { data.push(b','); }
                let quote = item.iter().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) || item.is_empty() && rec.len() == 1;
                write_item(&mut data, item, quote);
            }
            data.extend_from_slice(b"\r\n");
        }
        let got: Vec<Vec<Vec<u8>>> = read_all(&data).into_iter().map(|r| r.map(|(_, v)| v).unwrap()).collect();
        prop_assert_eq!(got, recs);
    }

    /// No input panics the reader or makes it loop.
    #[test]
    fn never_panics(data in prop::collection::vec(any::<u8>(), 0..400)) {
        let n = read_all(&data).len();
        prop_assert!(n <= data.len() + 1);
    }
}
