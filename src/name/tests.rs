use super::*;

fn spec() -> &'static Spec {
    Spec::get().expect("spec loads")
}

fn parse(name: &str) -> Result<FileName, NameError> {
    FileName::parse(spec(), name)
}

/// Every file-name example printed in the v4.1 layout document (underscores restored), and the v3 ones.
#[test]
fn spec_examples_parse() {
    let v4 = [
        (
            "UPHOSOKU_000000_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Uphosoku,
            Some("000000"),
        ),
        (
            "UPHOSOKU_201909_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Uphosoku,
            Some("201909"),
        ),
        (
            "UP1KYO_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Up1kyo,
            None,
        ),
        (
            "DLT1KYO_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Dlt1kyo,
            None,
        ),
        (
            "UP2KYO_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Up2kyo,
            None,
        ),
        (
            "UP3KYO_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Up3kyo,
            None,
        ),
        (
            "UPPLAN_201912_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Upplan,
            Some("201912"),
        ),
        (
            "UPJSK_201912_0300000005_43_0300000100_11_20191025200201.CSV",
            Kind::Upjsk,
            Some("201912"),
        ),
        (
            "DLTPLAN_201912_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Dltplan,
            Some("201912"),
        ),
        (
            "DLTJSK_201912_0300000005_43_0300000100_11_20191025200201.CSV",
            Kind::Dltjsk,
            Some("201912"),
        ),
        (
            "UPSIKYU_201912_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Upsikyu,
            Some("201912"),
        ),
        (
            "UPKIHON_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Upkihon,
            None,
        ),
        (
            "DLTKIHON_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Dltkihon,
            None,
        ),
        (
            "UPKIHON_SUB1_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::UpkihonSub1,
            None,
        ),
        (
            "UPKIHON_SUB2_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::UpkihonSub2,
            None,
        ),
        (
            "UPYOBO_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Upyobo,
            None,
        ),
        (
            "DLTYOBO_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::Dltyobo,
            None,
        ),
        (
            "UPYOBO_SUB_0300000100_43_0300000005_11_20191025200201.CSV",
            Kind::UpyoboSub,
            None,
        ),
        (
            "UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201_0001.JPG",
            Kind::UpkihonImage,
            None,
        ),
        (
            "UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201_0002.jpg",
            Kind::UpkihonImage,
            None,
        ),
    ];
    for (name, kind, month) in v4 {
        let n = parse(name).unwrap_or_else(|e| panic!("{name}: {}", e.message_en));
        assert_eq!(
            (n.kind, n.month.as_deref(), n.generation),
            (kind, month, Generation::V4),
            "{name}"
        );
        assert_eq!(n.sequence, "20191025200201");
    }
    let n = parse("UPPLAN_201912_0300000100_0300000005_20191025200201.CSV").unwrap();
    assert_eq!(
        (n.kind, n.generation, n.sender.service_type.clone()),
        (Kind::Upplan, Generation::V3, None)
    );
    assert_eq!(n.sender.office, "0300000100");
    assert_eq!(n.recipient.office, "0300000005");
    let n = parse("UPJSK_201912_0300000005_0300000100_20191025200201.CSV").unwrap();
    assert_eq!(n.generation, Generation::V3);
}

#[test]
fn parts_of_a_v4_name() {
    let n = parse("UPKIHON_IMAGE_0300000100_46_0300000005_A1_20191025200201_0003.jpeg").unwrap();
    assert_eq!(
        n.sender,
        Party {
            office: "0300000100".into(),
            service_type: Some("46".into())
        }
    );
    assert_eq!(
        n.recipient,
        Party {
            office: "0300000005".into(),
            service_type: Some("A1".into())
        }
    );
    assert_eq!(n.branch.as_deref(), Some("0003"));
    // The extension is case-insensitive; the prefix is not.
    assert!(parse("UP1KYO_0300000100_43_0300000005_11_20191025200201.csv").is_ok());
    assert!(parse("up1kyo_0300000100_43_0300000005_11_20191025200201.CSV").is_err());
}

/// The spec's own mistakes (shared/spec/examples) and other wrong shapes are E_FILENAME, with the shape.
#[test]
fn wrong_names_are_refused_with_the_expected_shape() {
    let cases = [
        (
            "UP1KYO_123456789_43_2468135790_11_20191110102233.CSV",
            "office number",
        ),
        (
            "UPHOSOKU_000000_123456789_43_2468135790_11_20191110102233.CSV",
            "office number",
        ),
        (
            "UP1KYO_0123456789_43_2468135790_11_201911110102233.CSV",
            "sequence",
        ),
        (
            "UPKIHON_000000_0123456789_43_2468135790_11_20191110102233.CSV",
            "segments",
        ),
        (
            "UPPLAN_0300000100_43_0300000005_11_20191025200201.CSV",
            "segments",
        ),
        (
            "UPPLAN_201913_0300000100_43_0300000005_11_20191025200201.CSV",
            "month",
        ),
        (
            "UPPLAN_000000_0300000100_43_0300000005_11_20191025200201.CSV",
            "month",
        ),
        (
            "UPPLAN_201912_0300000100_99_0300000005_11_20191025200201.CSV",
            "service type",
        ),
        (
            "UPPLAN_201912_0300000100_43_0300000005_11_20191325200201.CSV",
            "sequence",
        ),
        (
            "UPPLAN_201912_0300000100_43_0300000005_11_20191025200201.TXT",
            "extension",
        ),
        (
            "UPPLAN_201912_0300000100_43_0300000005_11_20191025200201",
            "extension",
        ),
        ("UP3KYO_0300000100_0300000005_20191025200201.CSV", "segments"),
        (
            "UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201.jpg",
            "segments",
        ),
        (
            "UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201_01.jpg",
            "branch",
        ),
        (
            "UPKIHON_IMAGE_0300000100_43_0300000005_11_20191025200201_0001.CSV",
            "extension",
        ),
        (
            "UPPLAN\u{0332}201912\u{0332}0300000100\u{0332}43\u{0332}0300000005\u{0332}11\u{0332}20191025200201.CSV",
            "known kind",
        ),
        (
            "PLAN_201912_0300000100_43_0300000005_11_20191025200201.CSV",
            "known kind",
        ),
        ("", "extension"),
    ];
    for (name, what) in cases {
        let e = parse(name).expect_err(name);
        assert!(e.message_en.contains(what), "{name}: {}", e.message_en);
        assert!(!e.message_ja.is_empty());
    }
    let e = parse("UPPLAN_201912_0300000100_43_0300000005_20191025200201.CSV").unwrap_err();
    assert!(
        e.message_en.contains("UPPLAN_YYYYMM_"),
        "shows the shape: {}",
        e.message_en
    );
}
