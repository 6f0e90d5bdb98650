//! The checks of one answer: its status against the expectation, the shape of an error body, the bounds of a
//! 422 report; and the memory of the test process.

use super::Expect;
use crate::raw::Exchange;

/// The resident memory of this process (`VmRSS` of /proc/self/status), in kB; 0 where unknown.
pub fn vm_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The status against the expectation, and the shape of an error body.
pub fn check_answer(expect: Expect, a: &Exchange) -> Result<(), String> {
    let got = || match a.status {
        Some(s) => format!(
            "{s} {}",
            String::from_utf8_lossy(&a.body[..a.body.len().min(300)])
        ),
        None if a.timed_out => "no answer, connection still open".to_string(),
        None => "closed without an answer".to_string(),
    };
    let ok = match (expect, a.status) {
        (Expect::Status(s), Some(g)) => s == g,
        (Expect::OneOf(s, _), Some(g)) => s.contains(&g),
        (Expect::ClosedOr4xx, Some(g)) => (400..500).contains(&g),
        (Expect::ClosedOr4xx, None) => a.closed,
        (_, None) => false,
    };
    if !ok {
        let expected = match expect {
            Expect::Status(s) => s.to_string(),
            Expect::OneOf(s, why) => format!("one of {s:?} ({why})"),
            Expect::ClosedOr4xx => "closed or 4xx".to_string(),
        };
        return Err(format!("expected {expected}, got {}", got()));
    }
    let Some(status) = a.status.filter(|s| *s >= 400) else {
        return Ok(());
    };
    if status == 429 && a.header("retry-after").is_none() {
        return Err("429 without Retry-After".into());
    }
    if a.body.is_empty() {
        return Ok(());
    }
    let json: serde_json::Value = serde_json::from_slice(&a.body)
        .map_err(|_| format!("a {status} body that is not JSON: {}", got()))?;
    for field in ["code", "message_ja", "message_en"] {
        if !json[field].is_string() {
            return Err(format!("the {status} body lacks `{field}`: {}", got()));
        }
    }
    if status == 422 {
        let findings: usize = json["files"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                f["errors"].as_array().map_or(0, Vec::len) + f["warnings"].as_array().map_or(0, Vec::len)
            })
            .sum();
        if findings > 1000 || a.body.len() > 1024 * 1024 {
            return Err(format!("a 422 of {findings} findings in {} bytes", a.body.len()));
        }
    }
    Ok(())
}
