use super::*;

fn spec() -> &'static Spec {
    Spec::get().expect("the embedded spec loads")
}

#[test]
fn every_kind_has_its_layout_with_the_spec_item_count() {
    let counts = [
        (Kind::Uphosoku, 63),
        (Kind::Up1kyo, 28),
        (Kind::Dlt1kyo, 4),
        (Kind::Up2kyo, 22),
        (Kind::Up3kyo, 13),
        (Kind::Upplan, 25),
        (Kind::Upjsk, 25),
        (Kind::Dltplan, 4),
        (Kind::Dltjsk, 6),
        (Kind::Upsikyu, 37),
        (Kind::Upkihon, 71),
        (Kind::UpkihonSub1, 7),
        (Kind::UpkihonSub2, 11),
        (Kind::Dltkihon, 4),
        (Kind::Upyobo, 57),
        (Kind::UpyoboSub, 17),
        (Kind::Dltyobo, 4),
    ];
    for (kind, n) in counts {
        let l = spec()
            .layout(kind, Generation::V4)
            .unwrap_or_else(|| panic!("{kind}"));
        assert_eq!(l.items.len(), n, "{kind}");
        assert_eq!(l.items[0].name_ja, "CSVバージョン");
    }
    assert_eq!(counts.len() + 1, Kind::ALL.len(), "every CSV kind plus the image");
}

#[test]
fn v3_layouts_drop_the_v4_items() {
    let plan = spec().layout(Kind::Upplan, Generation::V3).unwrap();
    assert_eq!(plan.items.len(), 22);
    assert!(
        plan.items
            .iter()
            .all(|i| !matches!(i.name_en.as_str(), "tais_code" | "equipment_model_name"))
    );
    assert_eq!(
        plan.items[15].name_ja, "明細判別コード",
        "renumbered: v4 No.19 is v3 No.16"
    );
    assert_eq!((plan.items[15].no, plan.items[15].v4_no), (16, 19));
    let annex = spec().layout(Kind::Upsikyu, Generation::V3).unwrap();
    assert_eq!(annex.items.len(), 34);
    let count = annex.items.iter().find(|i| i.name_en == "count_or_days").unwrap();
    assert_eq!(count.max_len, Some(2), "第7表 回数／日数 is 2 long before v4");
    let count4 = spec()
        .layout(Kind::Upsikyu, Generation::V4)
        .unwrap()
        .by_v4_no(16)
        .unwrap();
    assert_eq!(count4.max_len, Some(3));
    for k in [Kind::Up3kyo, Kind::Upkihon, Kind::UpyoboSub, Kind::Dltyobo] {
        assert!(spec().layout(k, Generation::V3).is_none(), "{k} is v4 only");
    }
}

#[test]
fn reconciled_decisions_are_in_the_data() {
    let s = spec();
    let item = |k, n| s.layout(k, Generation::V4).unwrap().by_v4_no(n).unwrap().clone();
    // Disputed required flags warn (RECONCILED.md).
    for (k, n) in [
        (Kind::Uphosoku, 5),
        (Kind::Uphosoku, 8),
        (Kind::Upplan, 6),
        (Kind::Upjsk, 7),
        (Kind::Upkihon, 6),
    ] {
        assert_eq!(item(k, n).required, Required::Warn, "{k} No.{n}");
    }
    assert_eq!(item(Kind::Upplan, 5).required, Required::Error);
    assert_eq!(
        item(Kind::Upsikyu, 30).max_len,
        Some(5),
        "前月までの利用日数: 5 (EVIDENCE Q5)"
    );
    assert_eq!(item(Kind::Upplan, 12).rule, Some(Rule::TimeOr9999));
    assert_eq!(item(Kind::Uphosoku, 4).rule, Some(Rule::DateOrZeros));
    assert_eq!(
        item(Kind::Upplan, 5).bind,
        Some(Bind {
            target: BindTarget::Month,
            is_error: true
        })
    );
    assert_eq!(
        item(Kind::Upjsk, 6).bind,
        Some(Bind {
            target: BindTarget::Recipient,
            is_error: false
        })
    );
}

#[test]
fn code_tables_and_versions() {
    let s = spec();
    assert_eq!(s.code_label("care_level", "06"), Some("事業対象者"));
    assert_eq!(s.code_label("care_level_kihon", "01"), Some("非該当"));
    assert_eq!(s.code_label("care_level", "01"), None);
    assert_eq!(s.service_type("2A").map(|t| t.scope.as_str()), Some("in"));
    assert_eq!(s.service_type("33").map(|t| t.scope.as_str()), Some("out"));
    assert_eq!(s.service_type("43").map(|t| t.scope.as_str()), Some("planner"));
    assert_eq!(
        s.version("202407").map(|v| (v.generation, v.legacy)),
        Some((Generation::V4, false))
    );
    assert_eq!(
        s.version("202504").map(|v| (v.generation, v.legacy)),
        Some((Generation::V4, true))
    );
    assert_eq!(s.version("202208").map(|v| v.generation), Some(Generation::V3));
    assert!(s.version("202404").is_none() && s.version("202410").is_none());
    for u in &s.units {
        assert!(!u.members.is_empty(), "{}", u.name);
    }
}

#[test]
fn every_send_unit_belongs_to_one_of_five_streams_with_its_deletion() {
    let streams: Vec<(&str, &str)> = spec()
        .units
        .iter()
        .map(|u| (u.name.as_str(), u.stream()))
        .collect();
    for (unit, stream) in &streams {
        assert!(
            ["plan", "schedule", "actual", "basic", "prevention_plan"].contains(stream),
            "{unit} → {stream}"
        );
    }
    let of = |name: &str| streams.iter().find(|(u, _)| *u == name).map(|(_, s)| *s);
    for (upload, deletion) in [
        ("plan", "plan_delete"),
        ("schedule", "schedule_delete"),
        ("actual", "actual_delete"),
        ("basic", "basic_delete"),
        ("prevention_plan", "prevention_plan_delete"),
    ] {
        assert_eq!(of(upload), Some(upload));
        assert_eq!(of(deletion), Some(upload), "{deletion}");
    }
    assert_eq!(of("prevention_plan_with_basic"), Some("prevention_plan"));
}
