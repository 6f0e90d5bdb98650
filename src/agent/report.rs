//! The refusal report a clerk reads: `<sequence>.report.txt` in Japanese and English, from the JSON report
//! (the 422 body of `POST /v1/submissions` in docs/openapi.json, the local validator's report, or an error answer with `code` and messages).

use std::fmt::Write;

use serde_json::Value;

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// One line for the log and `--status`: the first finding's code and English message, and how many more.
pub fn summary(report: &Value) -> String {
    let mut findings: Vec<&Value> = report["set_errors"].as_array().into_iter().flatten().collect();
    for f in report["files"].as_array().into_iter().flatten() {
        findings.extend(f["errors"].as_array().into_iter().flatten());
    }
    match findings.first() {
        Some(first) if findings.len() > 1 => format!(
            "{} {} (+{} more / 他 {} 件)",
            s(first, "code"),
            s(first, "message_en"),
            findings.len() - 1,
            findings.len() - 1
        ),
        Some(first) => format!("{} {}", s(first, "code"), s(first, "message_en")),
        None => format!("{} {}", s(report, "code"), s(report, "message_en")),
    }
}

/// The whole report as text: who refused it, each finding located (file:record No.item name), with its code
/// and the message in Japanese and English.
pub fn text(sequence: &str, by_relay: bool, report: &Value) -> String {
    let mut out = String::new();
    let (ja, en) = if by_relay {
        ("中継サーバが受け付けませんでした", "the relay refused this set")
    } else {
        (
            "送信前の検査で誤りが見つかりました（送信していません）",
            "the local check found errors (not sent)",
        )
    };
    let _ = writeln!(out, "連番 / sequence {sequence}\n{ja}\n{en}\n");
    if report["files"].is_null() && report["set_errors"].is_null() {
        let _ = writeln!(
            out,
            "{}\n  {}\n  {}",
            s(report, "code"),
            s(report, "message_ja"),
            s(report, "message_en")
        );
        return out;
    }
    for f in report["set_errors"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{} (セット全体 / the set)\n  {}\n  {}",
            s(f, "code"),
            s(f, "message_ja"),
            s(f, "message_en")
        );
    }
    for file in report["files"].as_array().into_iter().flatten() {
        let name = s(file, "name");
        for f in file["errors"].as_array().into_iter().flatten() {
            let mut at = name.to_string();
            if let Some(line) = f["line"].as_u64() {
                let _ = write!(at, ":{line}");
            }
            if let Some(item) = f["item"].as_u64() {
                let _ = write!(at, " No.{item} {}", s(f, "item_name"));
            }
            let _ = writeln!(
                out,
                "{} {at}\n  {}\n  {}",
                s(f, "code"),
                s(f, "message_ja"),
                s(f, "message_en")
            );
        }
        if let Some(n) = file["omitted"].as_u64() {
            let _ = writeln!(out, "{name}: 他 {n} 件 / {n} more findings not listed");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn findings_are_located_and_bilingual() {
        let r = json!({"error": "invalid", "set_errors": [], "files": [{"name": "UPPLAN_X.CSV", "errors": [
            {"line": 1, "item": 14, "item_name": "サービス回数", "code": "E_LENGTH",
             "message_ja": "長さ 3 文字は項目長 2 を超えています。", "message_en": "length 3 exceeds the item length 2"}
        ]}]});
        let t = text("20250328101500", false, &r);
        assert!(t.contains("E_LENGTH UPPLAN_X.CSV:1 No.14 サービス回数"), "{t}");
        assert!(
            t.contains("項目長 2") && t.contains("exceeds the item length 2"),
            "{t}"
        );
        assert!(t.contains("not sent"), "{t}");
        assert_eq!(summary(&r), "E_LENGTH length 3 exceeds the item length 2");
    }

    #[test]
    fn an_error_answer_is_reported_by_its_code() {
        let r = json!({"code": "conflict", "message_ja": "別の内容です。", "message_en": "other bytes"});
        let t = text("20250328101500", true, &r);
        assert!(t.contains("conflict\n  別の内容です。\n  other bytes"), "{t}");
        assert_eq!(summary(&r), "conflict other bytes");
    }
}
