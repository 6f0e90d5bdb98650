//! A set as the paper forms it replaces, rendered from its parsed records (`Relay::records`, the records JSON of
//! `GET /v1/inbox/{id}/records`; no second parser): the 第6表 サービス利用票 (and the 実績 of the same layout) as
//! the monthly grid, one grid per insured person: a line per service office, service code and time, a column per
//! day of the month with the planned (or actual) count, and each line's total; every other file as its records
//! with the spec's Japanese item names. On screen and printed on A4 landscape, where an office would have
//! faxed it. Reading a set this way is an audit event (`set.records_read`) like the JSON.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use serde_json::Value;

use super::html::kind_name;
use super::{OfficeUser, Page, page};
use crate::http::AppState;
use crate::records::{FileRecords, RecordJson, RecordsDocument};
use crate::spec::{Kind, Spec};
use crate::store::SetOf;

/// `GET /office/inbox/{delivery_id}/view`: a received set as forms.
pub(in crate::http) async fn received(
    State(s): State<AppState>,
    who: OfficeUser,
    Path(id): Path<String>,
) -> Page {
    let doc = s.relay.records(who.office(), SetOf::Delivery(&id), None).await?;
    let back = format!("/office/inbox/{id}");
    Ok(page(
        StatusCode::OK,
        "帳票 Forms",
        Some(who.header()),
        &forms(s.relay.spec, &doc, &back),
    ))
}

/// `GET /office/outbox/{submission_id}/view`: a sent set as forms.
pub(in crate::http) async fn sent(
    State(s): State<AppState>,
    who: OfficeUser,
    Path(id): Path<String>,
) -> Page {
    let doc = s
        .relay
        .records(who.office(), SetOf::Submission(&id), None)
        .await?;
    let back = "/office/outbox".to_string();
    Ok(page(
        StatusCode::OK,
        "帳票 Forms",
        Some(who.header()),
        &forms(s.relay.spec, &doc, &back),
    ))
}

fn forms(spec: &Spec, doc: &RecordsDocument, back: &str) -> Markup {
    html! {
        p.noprint { a href=(back) { "← 戻る Back" } " · " "印刷すると A4 横になります。 Prints on A4 landscape." }
        @for f in &doc.files {
            section.form {
                h2 { (kind_name(spec, &f.kind)) " " span.muted { (f.name) } }
                @if f.kind == "UPPLAN" || f.kind == "UPJSK" {
                    (grids(f))
                } @else if f.kind == "UPSIKYU" {
                    (annex(spec, f))
                } @else if f.records.is_empty() {
                    p.muted { "（画像またはレコードなし Image or no records）" }
                } @else {
                    (records(spec, f))
                }
            }
        }
    }
}

/// A value as a clerk reads it: codes with their meaning, days as a list, nothing as a dash.
fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => {
            let code = o.get("code").and_then(Value::as_str).unwrap_or_default();
            match o.get("meaning").and_then(Value::as_str) {
                Some(m) => format!("{code} {m}"),
                None => code.to_string(),
            }
        }
        Some(Value::Array(days)) => days.iter().map(Value::to_string).collect::<Vec<_>>().join(","),
        Some(other) => other.to_string(),
    }
}

/// A line of the 第6表 grid: the service office, the service (code and meaning), and the time.
type Line = (String, String, String);

/// One grid per insured person: per line, the count on each day (1–31).
fn grids(f: &FileRecords) -> Markup {
    let mut people: BTreeMap<String, BTreeMap<Line, [i64; 31]>> = BTreeMap::new();
    let mut month = String::new();
    for r in &f.records {
        let get = |n: &str| r.items.get(n);
        if month.is_empty() {
            month = shown(get("target_month"));
        }
        let person = shown(get("insured_number"));
        let time = format!(
            "{}–{}",
            shown(get("service_start_time")),
            shown(get("service_end_time"))
        );
        let line = (
            shown(get("service_office_code")),
            shown(get("service_code")),
            time,
        );
        let day = day_of(r);
        let count = get("service_count").and_then(Value::as_i64).unwrap_or(0);
        let days = people.entry(person).or_default().entry(line).or_insert([0; 31]);
        if let Some(d) = day {
            days[d - 1] += count;
        }
    }
    html! {
        @for (person, lines) in &people {
            h3 { "被保険者番号 Insured " (person) " · 対象年月 Month " (month) }
            table.grid {
                thead { tr {
                    th { "事業所 Office" } th { "サービス Service" } th { "時間 Time" }
                    @for d in 1..=31 { th.day { (d) } }
                    th { "合計 Total" }
                } }
                tbody { @for ((office, service, time), days) in lines {
                    tr {
                        td { (office) } td { (service) } td.time { (time) }
                        @for n in days { td.day { @if *n > 0 { (n) } } }
                        td.num { (days.iter().sum::<i64>()) }
                    }
                } }
            }
        }
    }
}

/// The day of the month of a record's サービス利用日 (`YYYY-MM-DD`).
fn day_of(r: &RecordJson) -> Option<usize> {
    let date = r.items.get("service_date")?.as_str()?;
    let day: usize = date.get(8..10)?.parse().ok()?;
    (1..=31).contains(&day).then_some(day)
}

/// The Japanese name of a file's item `en` (the English name when its layout is unknown).
fn name_ja(spec: &Spec, f: &FileRecords, en: &str) -> String {
    Kind::from_prefix(&f.kind)
        .and_then(|k| spec.layout(k, spec.version(f.csv_version.as_deref()?)?.generation))
        .and_then(|l| l.items.iter().find(|i| i.name_en == en))
        .map_or_else(|| en.to_string(), |i| i.name_ja.clone())
}

/// Items every 第7表 record repeats (the person and the month): shown once above the table.
const ANNEX_HEAD: [&str; 5] = [
    "csv_version",
    "insurer_number",
    "insured_number",
    "document_created_date",
    "target_month",
];

/// The 第7表 別表 as its table: a line per record (service office, service, units, counts, the unit calculation
/// and the amounts), the columns under the spec's Japanese names, with the person and month above it.
fn annex(spec: &Spec, f: &FileRecords) -> Markup {
    let Some(first) = f.records.first() else {
        return html! { p.muted { "（レコードなし No records）" } };
    };
    let columns: Vec<&String> = first
        .items
        .0
        .iter()
        .map(|(en, _)| en)
        .filter(|en| !ANNEX_HEAD.contains(&en.as_str()))
        .collect();
    html! {
        dl.facts { @for en in ANNEX_HEAD.iter().skip(1) {
            dt { (name_ja(spec, f, en)) } dd { (shown(first.items.get(en))) }
        } }
        table.annex {
            thead { tr { th { "#" } @for en in &columns { th { (name_ja(spec, f, en)) } } } }
            tbody { @for r in &f.records {
                tr { td.num { (r.line) } @for en in &columns { td { (shown(r.items.get(en))) } } }
            } }
        }
    }
}

/// Every record of a file, its items under the spec's Japanese names.
fn records(spec: &Spec, f: &FileRecords) -> Markup {
    html! {
        @for r in &f.records {
            table.record {
                caption { (r.line) " 件目 Record " (r.line) }
                tbody { @for (en, v) in &r.items.0 {
                    tr { th { (name_ja(spec, f, en)) } td { (shown(Some(v))) } }
                } }
            }
        }
    }
}
