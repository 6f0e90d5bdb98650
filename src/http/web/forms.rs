//! The admin page's action forms (the handlers are in `actions`): each carries the session's CSRF token.

use std::fmt::Write;

use super::html::{csrf_field, esc, table, time};
use crate::store::{CertificateRow, UserRow};

/// A one-button form posting to `action` with the CSRF token and `fields` as hidden inputs.
pub(super) fn button(csrf: &str, action: &str, fields: &[(&str, &str)], label: &str) -> String {
    let hidden: String = fields
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v)))
        .collect();
    format!(
        "<form class=\"inline\" method=\"post\" action=\"{}\">{}{hidden}<button type=\"submit\">{}</button></form>",
        esc(action),
        csrf_field(csrf),
        esc(label)
    )
}

/// The form that registers an office.
pub(super) fn register_form(csrf: &str) -> String {
    format!(
        "<h3>事業所を登録 Register an office</h3>\n\
         <form id=\"register\" method=\"post\" action=\"/admin/offices\">{}\n\
         <label>事業所番号 Number <input name=\"number\" required pattern=\"[0-9A-Za-z]{{10}}\" maxlength=\"10\"></label>\n\
         <label>名称 Name <input name=\"name\" required maxlength=\"200\"></label>\n\
         <label>種別 Kind <select name=\"kind\">\
         <option value=\"care_manager\">居宅介護支援 care_manager</option>\
         <option value=\"prevention_center\">地域包括支援センター prevention_center</option>\
         <option value=\"provider\">サービス事業所 provider</option></select></label>\n\
         <label>サービス種類 Service types <input name=\"service_types\" required placeholder=\"43, 11\"></label>\n\
         <button type=\"submit\">登録 Register</button></form>\n",
        csrf_field(csrf)
    )
}

/// The form that changes an office's name or service types (what is filled in changes).
pub(super) fn edit_form(csrf: &str, number: &str, name: &str, types: &str) -> String {
    format!(
        "<details><summary>変更 Edit</summary><form method=\"post\" action=\"/admin/offices/{}/edit\">{}\
         <label>名称 Name <input name=\"name\" maxlength=\"100\" value=\"{}\"></label> \
         <label>サービス種類 Service types <input name=\"service_types\" value=\"{}\"></label> \
         <button type=\"submit\">保存 Save</button></form></details>",
        esc(number),
        csrf_field(csrf),
        esc(name),
        esc(types)
    )
}

/// The form that creates a user for office `number`.
pub(super) fn user_form(csrf: &str, number: &str) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"/admin/offices/{}/users\">{}\
         <input name=\"login\" required maxlength=\"64\" placeholder=\"login ID\" aria-label=\"ログインID Login ID\">\
         <button type=\"submit\">利用者を作成 Add user</button></form>",
        esc(number),
        csrf_field(csrf)
    )
}

/// The users of one office, each with its state and its reset, unlock and disable buttons, and the form that
/// adds one.
pub(super) fn users_cell(csrf: &str, number: &str, users: &[UserRow]) -> String {
    let mut out = String::from("<ul class=\"users\">");
    for u in users {
        let state = if u.disabled_at.is_some() {
            "<span class=\"bad\">無効 disabled</span>".to_string()
        } else if u.locked_until.is_some_and(|t| t > crate::domain::now_ms()) {
            "<span class=\"bad\">ロック中 locked</span>".to_string()
        } else {
            "<span class=\"ok\">有効 active</span>".to_string()
        };
        let path = |a: &str| format!("/admin/users/{}/{a}", super::html::url_component(&u.login));
        let _ = write!(out, "<li><code>{}</code> {state} ", esc(&u.login));
        out.push_str(&button(csrf, &path("reset"), &[], "再設定 Reset password"));
        out.push_str(&button(csrf, &path("unlock"), &[], "ロック解除 Unlock"));
        if u.disabled_at.is_none() {
            out.push_str(&button(csrf, &path("disable"), &[], "無効化 Disable"));
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
    out.push_str(&user_form(csrf, number));
    out
}

/// The newest client certificates, a revoke button on each that is not revoked.
pub(super) fn certificates(csrf: &str, certs: &[CertificateRow]) -> String {
    if certs.is_empty() {
        return "<p class=\"muted\" id=\"certificates\">発行したクライアント証明書はありません。 No client certificates issued.</p>\n".into();
    }
    let rows: Vec<String> = certs
        .iter()
        .map(|c| {
            let state = match c.revoked_at {
                Some(r) => format!("<span class=\"bad\">失効 revoked</span> {}", time(Some(r))),
                None => button(
                    csrf,
                    &format!("/admin/certificates/{}/revoke", esc(&c.serial)),
                    &[],
                    "失効 Revoke",
                ),
            };
            format!(
                "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{state}</td></tr>",
                esc(&c.serial),
                esc(&c.office),
                time(Some(c.not_before)),
                time(Some(c.not_after))
            )
        })
        .collect();
    table(
        "certificates",
        &[
            "シリアル Serial",
            "事業所 Office",
            "有効期間の開始 Valid from",
            "有効期限 Valid until",
            "状態 State",
        ],
        &rows,
    )
}
