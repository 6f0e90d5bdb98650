//! The inbox: pending and all deliveries newest first (the page reloads itself for new arrivals), one delivery
//! with its files, a file's original bytes or the whole set as one ZIP, and the acknowledgement once downloaded.

use axum::extract::rejection::FormRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::html::{csrf_field, jst, jst_opt, kind_name, kinds, month, service_type, status};
use super::session::login_form;
use super::{OfficeUser, Page, Refused, headers, page, page_refreshing, redirect};
use crate::domain::Status;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::message::Message;
use crate::relay::RelayError;
use crate::relay::portal::PAGE_SIZE;
use crate::store::{NewestQuery, Side};

/// Seconds after which the inbox reloads itself to show new arrivals.
const REFRESH_SECS: u32 = 30;

#[derive(Debug, Default, Deserialize)]
pub(in crate::http) struct ListParams {
    /// `1`: every delivery, not only those waiting for acknowledgement.
    #[serde(default)]
    all: Option<String>,
    /// The page after the one ending at this delivery (`seq`).
    #[serde(default)]
    pub(super) before: Option<i64>,
}

/// A list of deliveries as a table: `received` lists the sender, otherwise the recipient.
pub(super) async fn table(
    s: &AppState,
    rows: &[crate::store::DeliveryRow],
    received: bool,
) -> Result<Markup, Refused> {
    let spec = s.relay.spec;
    let names = s
        .relay
        .office_names(rows.iter().map(|d| {
            if received {
                d.sender.as_str()
            } else {
                d.recipient.as_str()
            }
        }))
        .await?;
    Ok(html! {
        table #(if received { "inbox" } else { "outbox" }) {
            thead { tr {
                th { @if received { "受信日時 Received" } @else { "送信日時 Sent" } }
                th { @if received { "送信元 From" } @else { "送信先 To" } }
                th { "種類 Kind" }
                th { "対象年月 Month" }
                th { "ファイル Files" }
                th { "状態 Status" }
                @if !received { th { "取得 Downloaded" } th { "受領確認 Acknowledged" } }
                th { "" }
            } }
            tbody {
                @for d in rows {
                    @let other = if received { &d.sender } else { &d.recipient };
                    tr data-sequence=(d.sequence) {
                        td.time { (jst(d.received_at)) }
                        td { (names.get(other.as_str()).map_or("（未登録）", String::as_str)) br;
                             span.muted { (other) " " (service_type(spec, if received { d.sender_type.as_deref() } else { None })) } }
                        td { (kinds(spec, d.files.iter().map(|f| f.kind.as_str()))) }
                        td { (month(d.month.as_deref())) }
                        td.num { (d.files.len()) }
                        td { (status(d.status)) }
                        @if !received { td.time { (jst_opt(d.downloaded_at)) } td.time { (jst_opt(d.acknowledged_at)) } }
                        td {
                            @if received {
                                a href={ "/office/inbox/" (d.id) } { "開く Open" span.muted { " " (d.sequence) } }
                            } @else {
                                a href={ "/office/receipts/" (d.submission_id) } { "受領証 Receipt" span.muted { " " (d.sequence) } }
                                " · "
                                a.view href={ "/office/outbox/" (d.submission_id) "/view" } { "帳票 Forms" }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// `GET /office/`: the inbox (pending, or `?all=1` everything), or the login form without a session.
pub(in crate::http) async fn home(
    State(s): State<AppState>,
    who: Result<OfficeUser, Refused>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Page {
    let who = match who {
        Ok(w) => w,
        Err(Refused::SignIn) => return Ok(login_form(StatusCode::OK, None)),
        Err(e) => return Err(e),
    };
    let p = params.map(|q| q.0).unwrap_or_default();
    let all = p.all.as_deref() == Some("1");
    let rows = s
        .relay
        .newest(&NewestQuery {
            office: who.office().to_string(),
            side: Side::Received,
            pending_only: !all,
            before: p.before,
            limit: PAGE_SIZE,
        })
        .await?;
    let next = (rows.len() as i64 == PAGE_SIZE)
        .then(|| rows.last().map(|d| d.seq))
        .flatten();
    let list = table(&s, &rows, true).await?;
    let body = html! {
        p.tabs {
            a href="/office/" aria-current=[(!all).then_some("page")] { "未受領 Pending" }
            a #all-link href="/office/?all=1" aria-current=[all.then_some("page")] { "すべて All" }
        }
        p.muted.noprint { "新着はこのページが " (REFRESH_SECS) " 秒ごとに自動で再読み込みされて表示されます。 "
            "New arrivals appear as this page reloads itself every " (REFRESH_SECS) " s." }
        @if rows.is_empty() {
            p #empty { @if all { "受信したセットはありません。 Nothing received yet." }
                @else { "未受領のセットはありません。 Nothing waiting." } }
        } @else {
            (list)
        }
        @if let Some(n) = next {
            p { a #older href={ "/office/?before=" (n) @if all { "&all=1" } } { "さらに古いもの Older" } }
        }
    };
    Ok(page_refreshing(
        StatusCode::OK,
        "受信箱 Inbox",
        Some(who.header()),
        Some(REFRESH_SECS),
        &body,
    ))
}

/// `GET /office/inbox/{delivery_id}`: one received set, its files, the ZIP link and the acknowledgement.
pub(in crate::http) async fn one(State(s): State<AppState>, who: OfficeUser, Path(id): Path<String>) -> Page {
    let spec = s.relay.spec;
    let d = s.relay.received(who.office(), &id).await?;
    let sender = s.relay.office_names(std::iter::once(d.sender.as_str())).await?;
    let body = html! {
        dl.facts #facts {
            dt { "送信元 From" } dd { (sender.get(&d.sender).map_or("（未登録）", String::as_str)) " (" (d.sender) ")" }
            dt { "サービス種類 Service type" } dd { (service_type(spec, d.sender_type.as_deref())) }
            dt { "連番 Sequence" } dd { code { (d.sequence) } }
            dt { "対象年月 Month" } dd { (month(d.month.as_deref())) }
            dt { "受信 Received" } dd { (jst(d.received_at)) }
            dt { "取得 Downloaded" } dd { (jst_opt(d.downloaded_at)) }
            dt { "受領確認 Acknowledged" } dd { (jst_opt(d.acknowledged_at)) }
            dt { "状態 Status" } dd #status { (status(d.status)) }
        }
        h2 { "ファイル Files" }
        table #files {
            thead { tr { th { "ファイル名 Name" } th { "種類 Kind" } th { "バイト Bytes" } th { "SHA-256" } } }
            tbody { @for f in &d.files {
                tr {
                    td { a href={ "/office/inbox/" (d.id) "/files/" (f.name) } download { (f.name) } }
                    td { (kind_name(spec, &f.kind)) }
                    td.num { (f.size) }
                    td { code.wrap { (f.sha256) } }
                }
            } }
        }
        div.actions {
            a #zip href={ "/office/inbox/" (d.id) "/zip" } download { "すべてZIPでダウンロード Download all as ZIP" }
            a #view href={ "/office/inbox/" (d.id) "/view" } { "帳票で見る・印刷 Read and print as forms" }
            @if d.status == Status::Downloaded {
                form.inline method="post" action={ "/office/inbox/" (d.id) "/ack" } {
                    (csrf_field(&who.0.session.csrf))
                    button #ack type="submit" { "受領を確認する Acknowledge" }
                }
            }
            @if d.status == Status::Queued {
                span.muted #ack-hint { "ダウンロードすると受領確認ができます。 Download the files to acknowledge them." }
            }
            a #receipt-link href={ "/office/receipts/" (d.submission_id) } { "受領証 Receipt" }
        }
    };
    Ok(page(
        StatusCode::OK,
        &format!("受信したセット Received set {}", d.sequence),
        Some(who.header()),
        &body,
    ))
}

/// A file name safe for `Content-Disposition`: spec names are ASCII letters, digits, `_` and `.`.
fn attachment(name: &str) -> Option<HeaderValue> {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")).ok()
}

fn bytes_response(name: &str, content_type: &'static str, bytes: Vec<u8>) -> Response {
    let mut r = bytes.into_response();
    headers(r.headers_mut());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(v) = attachment(name) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `GET /office/inbox/{delivery_id}/files/{name}`: one file's original bytes (marks the set downloaded).
pub(in crate::http) async fn file(
    State(s): State<AppState>,
    who: OfficeUser,
    Path((id, name)): Path<(String, String)>,
) -> Page {
    let file = s
        .relay
        .download(who.office(), &id, &name, who.request_id())
        .await?;
    Ok(bytes_response(&name, "application/octet-stream", file.body))
}

/// `GET /office/inbox/{delivery_id}/zip`: the whole set as one ZIP with the spec's file names.
pub(in crate::http) async fn zip(State(s): State<AppState>, who: OfficeUser, Path(id): Path<String>) -> Page {
    let (name, bytes) = s.relay.set_zip(who.office(), &id, who.request_id()).await?;
    tracing::info!(files = "zip", "office portal download");
    Ok(bytes_response(&name, "application/zip", bytes))
}

#[derive(Debug, Default, Deserialize)]
pub(in crate::http) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /office/inbox/{delivery_id}/ack`: acknowledges a downloaded set, then back to it; 409 before it was
/// downloaded.
pub(in crate::http) async fn ack(
    State(s): State<AppState>,
    who: OfficeUser,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Page {
    who.check_csrf(&form.map(|f| f.0).unwrap_or_default().csrf)?;
    let d = s.relay.received(who.office(), &id).await?;
    if d.status == Status::Queued {
        return Err(Refused::Error(ApiError(RelayError::Conflict(Message::new(
            "ファイルをダウンロードしてから受領を確認してください。",
            "download the files before acknowledging them",
        )))));
    }
    s.relay.acknowledge(who.office(), &id, who.request_id()).await?;
    Ok(redirect(&format!("/office/inbox/{id}"), None))
}
