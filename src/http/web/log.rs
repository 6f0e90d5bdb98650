//! The delivery log with its filters, and the history of one set.

use std::fmt::Write;

use super::html::{esc, facts, opt, query, status, table, time, url_component};
use crate::http::log::LogParams;
use crate::relay::Receipt;
use crate::store::{DeliveryRow, EventRow, LogEntry};

const STATUSES: &[(&str, &str)] = &[
    ("", "すべて all"),
    ("queued", "未取得 queued"),
    ("downloaded", "取得済 downloaded"),
    ("acknowledged", "受領確認済 acknowledged"),
    ("rejected", "却下 rejected"),
];

fn input(label: &str, name: &str, kind: &str, value: Option<&str>) -> String {
    format!(
        "<label>{label}<input type=\"{kind}\" name=\"{name}\" value=\"{}\"></label>\n",
        esc(value.unwrap_or_default())
    )
}

fn filters(p: &LogParams) -> String {
    let mut out =
        String::from("<form class=\"filters\" id=\"filters\" method=\"get\" action=\"/admin/deliveries\">\n");
    out.push_str(&input("事業所 Office", "office", "text", p.office.as_deref()));
    out.push_str("<label>状態 Status<select name=\"status\">");
    for (value, label) in STATUSES {
        let selected = if p.status.as_deref().unwrap_or_default() == *value {
            " selected"
        } else {
            ""
        };
        let _ = write!(out, "<option value=\"{value}\"{selected}>{label}</option>");
    }
    out.push_str("</select></label>\n");
    out.push_str(&input("開始日 From", "from", "date", p.from.as_deref()));
    out.push_str(&input("終了日 To", "to", "date", p.to.as_deref()));
    out.push_str(&input("送信元 Sender", "sender", "text", p.sender.as_deref()));
    out.push_str(&input(
        "送信先 Recipient",
        "recipient",
        "text",
        p.recipient.as_deref(),
    ));
    out.push_str(
        "<button type=\"submit\">絞り込む Filter</button>\n\
         <a href=\"/admin/deliveries\">条件をクリア Clear</a>\n</form>\n",
    );
    out
}

fn row(e: &LogEntry) -> String {
    let delivery = e.entry == "delivery";
    let sequence = match (&e.sequence, delivery) {
        (Some(s), true) => format!(
            "<a href=\"/admin/deliveries/{}\">{}</a>",
            url_component(&e.id),
            esc(s)
        ),
        (Some(s), false) => esc(s),
        (None, true) => format!(
            "<a href=\"/admin/deliveries/{}\">履歴 history</a>",
            url_component(&e.id)
        ),
        (None, false) => opt(None),
    };
    let entry = if delivery {
        "配信 delivery"
    } else {
        "却下 rejection"
    };
    let files: Vec<String> = e
        .files
        .iter()
        .map(|f| format!("<code>{}</code>", esc(&f.name)))
        .collect();
    format!(
        "<tr class=\"{0}\"><td class=\"time\">{1}</td><td>{entry}</td><td class=\"num\">{2}</td><td class=\"num\">{3}</td>\
         <td class=\"num\">{sequence}</td><td>{4}</td><td>{5}</td><td>{6}</td></tr>",
        esc(&e.entry),
        time(Some(e.at)),
        esc(&e.sender),
        opt(e.recipient.as_deref()),
        status(&e.status),
        esc(&e.codes.join(", ")),
        files.join("<br>"),
    )
}

/// The log page: the filter form, an error about the filters if any, the entries and the next-page link.
pub(super) fn deliveries(
    p: &LogParams,
    items: &[LogEntry],
    next: Option<&str>,
    error: Option<&str>,
) -> String {
    let mut out = filters(p);
    if let Some(e) = error {
        let _ = writeln!(out, "<p class=\"error\" role=\"alert\">{}</p>", esc(e));
        return out;
    }
    if items.is_empty() {
        out.push_str("<p class=\"muted\" id=\"empty\">該当なし No entries.</p>\n");
        return out;
    }
    let rows: Vec<String> = items.iter().map(row).collect();
    out.push_str(&table(
        "log",
        &[
            "時刻 Time (UTC)",
            "種別 Entry",
            "送信元 Sender",
            "送信先 Recipient",
            "連番 Sequence",
            "状態 Status",
            "エラーコード Codes",
            "ファイル Files",
        ],
        &rows,
    ));
    if let Some(n) = next {
        let limit = p.limit.map(|l| l.to_string());
        let href = query(&[
            ("office", p.office.as_deref()),
            ("status", p.status.as_deref()),
            ("from", p.from.as_deref()),
            ("to", p.to.as_deref()),
            ("sender", p.sender.as_deref()),
            ("recipient", p.recipient.as_deref()),
            ("limit", limit.as_deref()),
            ("after", Some(n)),
        ]);
        let _ = writeln!(
            out,
            "<p><a id=\"next\" href=\"/admin/deliveries{}\">次のページ Next page →</a></p>",
            esc(&href)
        );
    }
    out
}

/// The file an event names (a download names the file it served), from its detail.
fn event_file(detail: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(detail).ok()?;
    v.get("name")?.as_str().map(str::to_string)
}

fn events(list: &[EventRow]) -> String {
    if list.is_empty() {
        return "<p class=\"muted\">なし None.</p>\n".into();
    }
    let rows: Vec<String> = list
        .iter()
        .map(|e| {
            format!(
                "<tr><td class=\"num\">{}</td><td><code>{}</code></td><td class=\"mono\">{}</td><td>{}</td>\
                 <td class=\"num\">{}</td><td class=\"mono\">{}</td></tr>",
                e.seq,
                esc(&e.kind),
                opt(event_file(&e.detail).as_deref()),
                time(Some(e.at)),
                opt(e.office.as_deref()),
                opt(e.request_id.as_deref()),
            )
        })
        .collect();
    table(
        "events",
        &[
            "# Seq",
            "種別 Kind",
            "ファイル File",
            "時刻 Time",
            "事業所 Office",
            "リクエストID Request id",
        ],
        &rows,
    )
}

/// The receipt's payload as indented JSON (the signed text itself is one line; this is for reading).
fn pretty(payload: &str) -> String {
    serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| payload.to_string())
}

/// The history of one set.
pub(super) fn delivery(
    d: &DeliveryRow,
    purged_at: Option<i64>,
    events_: &[EventRow],
    receipt: &Receipt,
) -> String {
    let sender = match &d.sender_type {
        Some(t) => format!("{} <span class=\"muted\">({})</span>", esc(&d.sender), esc(t)),
        None => esc(&d.sender),
    };
    let mut out = facts(&[
        ("配信ID Delivery id", format!("<code>{}</code>", esc(&d.id))),
        (
            "提出ID Submission id",
            format!("<code>{}</code>", esc(&d.submission_id)),
        ),
        ("送信元 Sender", sender),
        ("送信先 Recipient", esc(&d.recipient)),
        ("連番 Sequence", esc(&d.sequence)),
        ("対象年月 Month", opt(d.month.as_deref())),
        ("状態 Status", status(d.status.as_str())),
        ("受付 Accepted", time(Some(d.received_at))),
        ("取得 Downloaded", time(d.downloaded_at)),
        ("受領確認 Acknowledged", time(d.acknowledged_at)),
        ("削除 Purged", time(purged_at)),
    ]);
    out.push_str("<h2>ファイル Files</h2>\n");
    let files: Vec<String> = d
        .files
        .iter()
        .map(|f| {
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td><code class=\"wrap\">{}</code></td></tr>",
                esc(&f.name),
                esc(&f.kind),
                f.size,
                esc(&f.sha256)
            )
        })
        .collect();
    out.push_str(&table(
        "files",
        &["ファイル名 Name", "種別 Kind", "バイト数 Bytes", "SHA-256"],
        &files,
    ));
    out.push_str("<h2>監査イベント Audit events</h2>\n");
    out.push_str(&events(events_));
    out.push_str("<h2>受領証 Signed receipt</h2>\n");
    out.push_str(&facts(&[
        ("鍵ID Key id", format!("<code>{}</code>", esc(&receipt.key_id))),
        (
            "署名 Signature (Ed25519, base64)",
            format!(
                "<code class=\"wrap\" id=\"signature\">{}</code>",
                esc(&receipt.signature)
            ),
        ),
    ]));
    let _ = writeln!(
        out,
        "<pre id=\"receipt\">{}</pre>",
        esc(&pretty(&receipt.payload))
    );
    out
}
