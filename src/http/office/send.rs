//! Sending: a plain file form (several files at once). The files are grouped into sets by their sequence
//! number; each set is judged first (`Relay::check`, the findings of `POST /v1/validate`), and only a valid set
//! is then sent through `Relay::submit`, exactly as the API sends it. The page shows every set's report and, for
//! each set sent, its result and receipt link.
//!
//! The form is `multipart/form-data` with parts named `file` only (the upload reader of the API); its CSRF token
//! travels in the form's action URL (`/office/send?csrf=…`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::html::{kind_name, month};
use super::{OfficeUser, Page, page};
use crate::http::AppState;
use crate::http::submissions::SetUpload;
use crate::message::Message;
use crate::relay::{RelayError, UploadedFile};
use crate::spec::Spec;
use crate::validate::{Finding, SetReport, group_by_sequence};

fn file_form(csrf: &str, error: Option<&Message>) -> Markup {
    html! {
        @if let Some(m) = error { p.error #form-error role="alert" { (m.ja) br; span.muted { (m.en) } } }
        form.box #send-form method="post" enctype="multipart/form-data" action={ "/office/send?csrf=" (csrf) } {
            label for="files" { "送るファイル（複数選択できます） Files to send (choose several)"
                input #files type="file" name="file" multiple required; }
            button type="submit" { "検査して送信 Check and send" }
        }
        p.muted { "ファイルは連番ごとのセットにまとめられ、セットごとに標準仕様に照らして検査されます。"
            "適合したセットだけが送信され、適合しないセットは何も保存されずに検査結果だけが表示されます。" br;
            "Files are grouped into sets by sequence number and each set is checked against the standard; only a "
            "valid set is sent, an invalid one is only reported and nothing of it is stored." }
    }
}

/// `GET /office/send`: the file form.
pub(in crate::http) async fn form(who: OfficeUser) -> Page {
    Ok(page(
        StatusCode::OK,
        "送信 Send",
        Some(who.header()),
        &file_form(&who.0.session.csrf, None),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub(in crate::http) struct CsrfQuery {
    #[serde(default)]
    csrf: String,
}

/// What became of one set of the upload.
enum Outcome {
    /// Valid and sent: the report and the 201 body (`submission_id`, `delivery_id`, …).
    Sent(Box<SetReport>, Value),
    /// Invalid: not sent, nothing stored.
    Invalid(Box<SetReport>),
    /// Refused before judging (not the caller's names, a set sent before with other bytes, …).
    Refused(Vec<String>, Message),
}

fn findings(id: &str, list: &[Finding]) -> Markup {
    html! {
        table.findings id=(id) {
            thead { tr { th { "行 Record" } th { "項目 Item" } th { "コード Code" } th { "内容 Message" } } }
            tbody { @for f in list {
                tr {
                    td.num { @if let Some(l) = f.line { (l) } @else { "—" } }
                    td { @if let Some(n) = f.item { "No." (n) " " } (f.item_name.as_deref().unwrap_or("")) }
                    td { code { (f.code.as_str()) } }
                    td { (f.message_ja) br; span.muted { (f.message_en) } }
                }
            } }
        }
    }
}

/// The validation report of one set: each file with its errors and warnings, then the set's own findings.
pub(super) fn report(spec: &Spec, r: &SetReport) -> Markup {
    html! {
        @for f in &r.files {
            h3 { code { (f.name) } " "
                @if f.is_valid() { span.ok { "適合 valid" } } @else { span.bad { "不適合 invalid" } } }
            p.muted { (f.kind.map_or_else(String::new, |k| kind_name(spec, k.prefix()))) " · "
                (f.records) " 件 records · " (f.bytes) " バイト bytes"
                @if let Some(v) = &f.csv_version { " · CSV " (v) } }
            @if !f.errors.is_empty() { (findings("errors", &f.errors)) }
            @if f.omitted > 0 { p.muted { "ほか " (f.omitted) " 件の指摘は省略しました。 " (f.omitted) " more findings omitted." } }
            @if !f.warnings.is_empty() {
                details { summary { "警告 " (f.warnings.len()) " 件 Warnings (the set is still valid)" }
                    (findings("warnings", &f.warnings)) }
            }
        }
        @if !r.set_errors.is_empty() || !r.set_warnings.is_empty() {
            h3 { "セット全体 The set" }
            ul.set-findings { @for e in r.set_errors.iter().chain(&r.set_warnings) {
                li { code { (e.code.as_str()) } " " (e.message_ja) br; span.muted { (e.message_en) } }
            } }
        }
        @if let Some(o) = &r.omitted { p.muted { (o.message_ja) br; (o.message_en) } }
    }
}

fn outcome(spec: &Spec, n: usize, o: &Outcome) -> Markup {
    html! {
        section.set id={ "set-" (n) } {
            @match o {
                Outcome::Sent(r, body) => {
                    h2 { "セット " (r.sequence.as_deref().unwrap_or("")) " " span.ok.result { "送信しました Sent" } }
                    dl.facts {
                        dt { "送信先 To" } dd { (body["recipient"].as_str().unwrap_or("")) }
                        dt { "対象年月 Month" } dd { (month(r.month.as_deref())) }
                        dt { "受付番号 Submission" } dd { code.submission-id { (body["submission_id"].as_str().unwrap_or("")) } }
                    }
                    p { a.receipt href={ "/office/receipts/" (body["submission_id"].as_str().unwrap_or("")) } { "受領証を見る View the receipt" } }
                    (report(spec, r))
                }
                Outcome::Invalid(r) => {
                    h2 { "セット " (r.sequence.as_deref().unwrap_or("")) " " span.bad.result { "送信していません（不適合） Not sent: invalid" } }
                    p { "標準仕様に適合しないため送信していません。何も保存されていません。修正してからもう一度送ってください。" br;
                        span.muted { "Not sent because the set does not conform to the standard; nothing was stored. Correct it and send it again." } }
                    (report(spec, r))
                }
                Outcome::Refused(names, m) => {
                    h2 { "セット " span.bad.result { "送信していません Not sent" } }
                    p.error { (m.ja) br; span.muted { (m.en) } }
                    ul { @for name in names { li { code { (name) } } } }
                }
            }
        }
    }
}

/// `POST /office/send?csrf=…`: judges each set of the chosen files and sends the valid ones.
pub(in crate::http) async fn send(
    State(s): State<AppState>,
    who: OfficeUser,
    Query(q): Query<CsrfQuery>,
    SetUpload(files): SetUpload,
) -> Page {
    who.check_csrf(&q.csrf)?;
    let spec = s.relay.spec;
    // A file input left empty still sends one part without a name or bytes.
    let files: Vec<UploadedFile> = files
        .into_iter()
        .filter(|f| !(f.name.is_empty() && f.bytes.is_empty()))
        .collect();
    if files.is_empty() {
        let m = Message::new("送るファイルを選んでください。", "choose the files to send");
        let body = file_form(&who.0.session.csrf, Some(&m));
        return Ok(page(
            StatusCode::BAD_REQUEST,
            "送信 Send",
            Some(who.header()),
            &body,
        ));
    }
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let groups = group_by_sequence(spec, &names);
    let mut outcomes = Vec::with_capacity(groups.len());
    for group in groups {
        let set: Vec<UploadedFile> = group.iter().map(|i| files[*i].clone()).collect();
        let set_names: Vec<String> = set.iter().map(|f| f.name.clone()).collect();
        let o = match s.relay.check(who.office(), set.clone()).await {
            Ok(r) if r.valid => match s.relay.submit(who.office(), set, who.request_id()).await {
                Ok(sent) => {
                    tracing::info!(
                        files = set_names.len(),
                        replayed = sent.replayed,
                        "office portal sent a set"
                    );
                    Outcome::Sent(Box::new(r), sent.body)
                }
                Err(RelayError::Invalid(r)) => Outcome::Invalid(r),
                Err(RelayError::Conflict(m) | RelayError::Forbidden(m) | RelayError::BadRequest(m)) => {
                    Outcome::Refused(set_names, m)
                }
                Err(e) => return Err(e.into()),
            },
            Ok(r) => Outcome::Invalid(Box::new(r)),
            Err(RelayError::Forbidden(m) | RelayError::BadRequest(m) | RelayError::TooLarge(m)) => {
                Outcome::Refused(set_names, m)
            }
            Err(e) => return Err(e.into()),
        };
        outcomes.push(o);
    }
    let sent = outcomes.iter().filter(|o| matches!(o, Outcome::Sent(..))).count();
    let body = html! {
        p #summary role="status" { (outcomes.len()) " セット中 " (sent) " セットを送信しました。 "
            span.muted { (sent) " of " (outcomes.len()) " sets sent." } }
        @for (n, o) in outcomes.iter().enumerate() { (outcome(spec, n + 1, o)) }
        h2.noprint { "続けて送る Send more" }
        (file_form(&who.0.session.csrf, None))
    };
    let status = if sent == outcomes.len() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(page(status, "送信結果 Sending result", Some(who.header()), &body))
}
