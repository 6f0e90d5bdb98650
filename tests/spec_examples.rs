//! The spec's own examples as test material (shared/spec/examples): the data-placement examples of 2表, 3表 and
//! 利用者基本情報, written row by row as the spec prints them. They carry the spec's known mistakes (a 9-digit
//! 被保険者番号, CSV versions 201910 and 202404, times as 12:00, weekdays as 月, a 6-digit 相談日), and the validator
//! must name exactly those.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests panic on failure

use std::collections::BTreeSet;

use careplan_relay::spec::Spec;
use careplan_relay::validate::{InputFile, SetReport, validate_set};

fn sjis(rows: &[&str]) -> Vec<u8> {
    let text: String = rows.iter().map(|r| format!("{r}\r\n")).collect();
    careplan_relay::sjis::encode(&text).expect("MS932")
}

fn run(files: &[(&str, Vec<u8>)]) -> SetReport {
    let input: Vec<InputFile<'_>> = files
        .iter()
        .map(|(n, b)| InputFile { name: n, bytes: b })
        .collect();
    validate_set(Spec::get().expect("spec"), &input).report
}

/// (code, item) of every error in the set's files.
fn errors(r: &SetReport) -> BTreeSet<(&'static str, Option<u32>)> {
    r.files
        .iter()
        .flat_map(|f| &f.errors)
        .map(|e| (e.code.as_str(), e.item))
        .collect()
}

/// 居宅サービス計画2表（データ配置例）: five rows, CSV version 201910 (a v3 value, so a v3 file name).
#[test]
fn care_plan_2_placement_example() {
    let head = "201910,123456,123456789,20191010,20191010";
    let rows = [
        format!(
            "{head},1,\"課題１\",1,\"長期１\",\"短期１\",\"aaaa\",\"bbbb\",1,\"サービス１\",Y,\"訪問介護\",1234567890,\"ＸＸＸ事業所\",\"隔日\",\"cccc\",,"
        ),
        format!("{head},1,,1,,,,,2,\"サービス２\",,\"家政婦\",,\"YYY家政婦協会\",\"毎日\",\"dddd\",,"),
        format!(
            "{head},1,,1,,\"短期２\",,\"eeee\",3,\"サービス３\",Y,\"福祉用具\",1234567891,\"ZZZZ事業所\",,\"ffff\",,"
        ),
        format!(
            "{head},1,,2,\"長期２\",\"短期３\",\"gggg\",\"hhhh\",1,\"サービス４\",,\"医療\",,\"ｘｘｘ病院\",\"1ヶ月に１回\",\"iiii\",,"
        ),
        format!(
            "{head},2,\"課題２\",1,\"長期３\",\"短期４\",\"jjjj\",\"kkkk\",1,\"サービス５\",Y,\"訪問看護\",1234567892,\"ｙｙｙ看護ステーション\",\"隔週\",\"llll\",,"
        ),
    ];
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let r = run(&[("UP2KYO_0300000100_0300000005_20191025200201.CSV", sjis(&rows))]);
    assert!(!r.valid);
    // Only the spec's mistake: 被保険者番号 has 9 digits (No.3), on every row.
    assert_eq!(errors(&r), BTreeSet::from([("E_FORMAT", Some(3))]));
    assert_eq!(r.files[0].errors.len(), 5);
    assert_eq!(r.files[0].records, 5);
    // And a 2表 alone is not a send unit: 1表 and 利用者補足情報 must travel with it.
    let set: Vec<&str> = r.set_errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(set, ["E_SET_COMPOSITION"]);
    assert!(
        r.set_errors[0].message_en.contains("missing UP1KYO, UPHOSOKU"),
        "{}",
        r.set_errors[0].message_en
    );
}

/// 居宅サービス計画3表（データ配置例）: the spec notes that it shows the printed image ("12:00", "月"), not the
/// coded values real data uses. With the v4.1 version value, the validator names each such item.
#[test]
fn care_plan_3_placement_example() {
    let head = "202407,123456,1234567890,20191010,20191010";
    let rows = [
        format!("{head},\"訪問介護\",月,12:00,16:00,,,,"),
        format!("{head},\"通所介護\",木,10:00,12:00,,,,"),
        format!("{head},,,,,\"起床\",6:00,6:00,"),
        format!("{head},,,,,\"就寝\",21:00,21:00,"),
        format!("{head},,,,,,,,\"通院\""),
        format!("{head},,,,,,,,\"福祉用具貸与\""),
    ];
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let r = run(&[(
        "UP3KYO_0300000100_43_0300000005_11_20191025200201.CSV",
        sjis(&rows),
    )]);
    let want = BTreeSet::from([
        ("E_FORMAT", Some(7)),  // 曜日 月 instead of 1..7
        ("E_LENGTH", Some(8)),  // 開始時間 12:00 instead of 1200
        ("E_LENGTH", Some(9)),  // 終了時間
        ("E_FORMAT", Some(11)), // 6:00 is 4 long but not HHMM
        ("E_FORMAT", Some(12)),
        ("E_LENGTH", Some(11)), // 21:00
        ("E_LENGTH", Some(12)),
    ]);
    assert_eq!(errors(&r), want);
    // As printed, with the example's own CSV version 201910 (a v3 value) in a v4 name: refused for that alone.
    let old: Vec<String> = rows.iter().map(|r| r.replacen("202407", "201910", 1)).collect();
    let old: Vec<&str> = old.iter().map(String::as_str).collect();
    let r = run(&[(
        "UP3KYO_0300000100_43_0300000005_11_20191025200201.CSV",
        sjis(&old),
    )]);
    assert_eq!(errors(&r), BTreeSet::from([("E_CSV_VERSION", Some(1))]));
}

/// (補足)別表の構成: 利用者基本情報 and 別表1 with CSV version 202404 and 相談日 202401 (six digits).
#[test]
fn kihon_annex_example() {
    let mut kihon = vec!["202404", "123456", "1234567890", "202401", "1", "1"];
    kihon.resize(71, "");
    let image = "UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201_0001.JPG";
    kihon[13] = "\"ヤマダ\"";
    kihon[14] = "\"山田\"";
    kihon[15] = "1";
    kihon[16] = "19400101";
    kihon[61] = image;
    let kihon = kihon.join(",");
    let sub1 = [
        "202404,123456,1234567890,202401,\"6:00\",\"起床\",",
        "202404,123456,1234567890,202401,\"7:30\",\"朝食\",",
        "202404,123456,1234567890,202401,\"9:00\",\"掃除\",\"妻も実施\"",
    ];
    let sub2 = ["202404,123456,1234567890,202401,\"H12年10月\",\"AAA\",\"XXXX\",1,03-0000-0000,01,\"aaa\""];
    let jpeg = careplan_relay::generate::tiny_jpeg();
    let r = run(&[
        (
            "UPKIHON_0300000100_43_0300000005_11_20191025200201.CSV",
            sjis(&[&kihon]),
        ),
        (
            "UPKIHON_SUB1_0300000100_43_0300000005_11_20191025200201.CSV",
            sjis(&sub1),
        ),
        (
            "UPKIHON_SUB2_0300000100_43_0300000005_11_20191025200201.CSV",
            sjis(&sub2),
        ),
        (image, jpeg),
    ]);
    // 202404 is not a CSV version of the standard, and 相談日 needs eight digits.
    assert_eq!(
        errors(&r),
        BTreeSet::from([("E_CSV_VERSION", Some(1)), ("E_FORMAT", Some(4))])
    );
    assert!(
        r.set_errors.is_empty(),
        "the set itself is a send unit: {:?}",
        r.set_errors
    );
}
