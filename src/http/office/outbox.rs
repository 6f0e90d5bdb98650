//! The outbox (each sent set newest first with its status and times) and receipts: the signed receipt of a set
//! the office sent or received, as JSON (what `GET /v1/receipts/{id}` answers) and as a printable page that
//! shows what was signed and how to verify it.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use maud::html;
use serde_json::Value;

use super::html::{jst, kind_name, month, service_type};
use super::inbox::{ListParams, table};
use super::{OfficeUser, Page, headers, page};
use crate::domain::parse_time;
use crate::http::AppState;
use crate::relay::portal::PAGE_SIZE;
use crate::store::{NewestQuery, Side};

/// `GET /office/outbox`: the sets this office sent, newest first.
pub(in crate::http) async fn list(
    State(s): State<AppState>,
    who: OfficeUser,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Page {
    let before = params.ok().and_then(|q| q.0.before);
    let rows = s
        .relay
        .newest(&NewestQuery {
            office: who.office().to_string(),
            side: Side::Sent,
            pending_only: false,
            before,
            limit: PAGE_SIZE,
        })
        .await?;
    let next = (rows.len() as i64 == PAGE_SIZE)
        .then(|| rows.last().map(|d| d.seq))
        .flatten();
    let list = table(&s, &rows, false).await?;
    let body = html! {
        @if rows.is_empty() { p #empty { "送信したセットはありません。 Nothing sent yet." } } @else { (list) }
        @if let Some(n) = next { p { a #older href={ "/office/outbox?before=" (n) } { "さらに古いもの Older" } } }
    };
    Ok(page(StatusCode::OK, "送信済み Outbox", Some(who.header()), &body))
}

/// A payload time (RFC 3339) in Japan time, or a dash.
fn payload_time(v: &Value) -> String {
    v.as_str()
        .and_then(parse_time)
        .map_or_else(|| "—".to_string(), jst)
}

/// `GET /office/receipts/{submission_id}`: the receipt as a printable page.
pub(in crate::http) async fn receipt_page(
    State(s): State<AppState>,
    who: OfficeUser,
    Path(id): Path<String>,
) -> Page {
    let receipt = s.relay.receipt(who.office(), &id).await?;
    let p: Value = serde_json::from_str(&receipt.payload).unwrap_or_default();
    let spec = s.relay.spec;
    let public = s
        .relay
        .keys
        .public_keys()
        .into_iter()
        .find(|(k, _)| *k == receipt.key_id)
        .map(|(_, key)| key)
        .unwrap_or_default();
    let str_of = |k: &str| p[k].as_str().unwrap_or("").to_string();
    let names = s
        .relay
        .office_names([str_of("sender"), str_of("recipient")].iter().map(String::as_str))
        .await?;
    let office = |k: &str| {
        let n = str_of(k);
        format!("{} ({n})", names.get(&n).map_or("（未登録）", String::as_str))
    };
    let empty = Vec::new();
    let files = p["files"].as_array().unwrap_or(&empty);
    let body = html! {
        p.muted { "この受領証は中継サーバーが電子署名したものです。内容を印刷または保存して記録にお使いください。" br;
            "This receipt is signed by the relay; print or save it for your records." }
        dl.facts #receipt-facts {
            dt { "送信元 From" } dd { (office("sender")) " " span.muted { (service_type(spec, p["sender_service_type"].as_str())) } }
            dt { "送信先 To" } dd { (office("recipient")) }
            dt { "連番 Sequence" } dd { code { (str_of("sequence")) } }
            dt { "対象年月 Month" } dd { (month(p["month"].as_str())) }
            dt { "受付 Accepted" } dd { (payload_time(&p["accepted_at"])) }
            dt { "取得 Downloaded" } dd { (payload_time(&p["downloaded_at"])) }
            dt { "受領確認 Acknowledged" } dd { (payload_time(&p["acknowledged_at"])) }
            dt { "状態 Status" } dd #receipt-status { (str_of("status")) }
            dt { "発行 Issued" } dd { (payload_time(&p["issued_at"])) }
            dt { "受付番号 Submission" } dd { code { (str_of("submission_id")) } }
        }
        h2 { "ファイル Files" }
        table #receipt-files {
            thead { tr { th { "ファイル名 Name" } th { "種類 Kind" } th { "バイト Bytes" } th { "SHA-256" } } }
            tbody { @for f in files {
                @let name = f["name"].as_str().unwrap_or("");
                tr { td { code { (name) } }
                     td { (kind_name(spec, name.split('_').next().unwrap_or(""))) }
                     td.num { (f["bytes"].as_i64().unwrap_or(0)) }
                     td { code.wrap { (f["sha256"].as_str().unwrap_or("")) } } }
            } }
        }
        h2 { "署名された内容 What was signed" }
        p { "署名の対象は次の JSON テキスト（UTF-8 のバイト列）そのものです。 The signature covers exactly this JSON text (its UTF-8 bytes)." }
        pre #payload { (receipt.payload) }
        dl.facts {
            dt { "署名 Signature (Ed25519, base64)" } dd { code.wrap #signature { (receipt.signature) } }
            dt { "鍵ID Key id" } dd { code #key-id { (receipt.key_id) } }
            dt { "公開鍵 Public key (base64)" } dd { code.wrap { (public) } }
        }
        h2 { "検証のしかた How to verify" }
        ol {
            li { "受領証を JSON で保存します。 Save the receipt as JSON: "
                a #receipt-json href={ "/office/receipts/" (id) "/json" } download { "receipt.json" } }
            li { "中継サーバーの公開鍵を取得します（" code { "GET /v1/keys" } "、認証不要）。 Fetch the relay's public keys (" code { "GET /v1/keys" } ", no credential needed) into keys.json." }
            li { code { "careplan-relay receipt verify receipt.json --keys keys.json" } " を実行します。 Run it; it prints the payload when the signature holds." }
            li { "または、上の公開鍵で Ed25519 署名を検証し、ファイルの SHA-256 を手元のファイルと照合してください。 "
                "Or verify the Ed25519 signature over the JSON text with the public key above, and compare the files' SHA-256 with your copies." }
        }
        p.actions { a href="/office/outbox" { "送信済みへ Back to the outbox" } " " a href="/office/" { "受信箱へ To the inbox" } }
    };
    Ok(page(
        StatusCode::OK,
        &format!("受領証 Receipt {}", str_of("sequence")),
        Some(who.header()),
        &body,
    ))
}

/// `GET /office/receipts/{submission_id}/json`: the signed receipt as JSON (`{payload, signature, key_id}`),
/// offered as `receipt-<sequence>.json`.
pub(in crate::http) async fn receipt_json(
    State(s): State<AppState>,
    who: OfficeUser,
    Path(id): Path<String>,
) -> Page {
    let receipt = s.relay.receipt(who.office(), &id).await?;
    let sequence: String = serde_json::from_str::<Value>(&receipt.payload)
        .ok()
        .and_then(|p| {
            p["sequence"]
                .as_str()
                .map(|s| s.chars().filter(char::is_ascii_digit).collect())
        })
        .unwrap_or_default();
    let mut r = Json(receipt).into_response();
    headers(r.headers_mut());
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"receipt-{sequence}.json\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
