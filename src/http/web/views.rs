//! The pages without the delivery log: login, errors, the dashboard and the audit verification.

use std::fmt::Write;

use super::forms::{button, certificates, edit_form, register_form, users_cell};
use super::html::{esc, facts, opt, table, time};
use crate::domain::OfficeKind;
use crate::relay::Overview;
use crate::relay::audit::Verification;
use crate::relay::retention::Policy;

/// A credential as the relay lists it.
pub(super) use crate::relay::TokenInfo as Token;

/// Everything the dashboard shows: the relay's overview and what this process and session add.
#[derive(Debug)]
pub(super) struct Dashboard {
    pub overview: Overview,
    pub policy: Policy,
    /// Authentication lockouts in force in this process.
    pub lockouts: Vec<crate::relay::throttle::Lockout>,
    /// The session's CSRF token, for the forms.
    pub csrf: String,
}

/// The login form; `csrf` is the value of its double-submit cookie.
pub(super) fn login(error: Option<&str>, csrf: &str) -> String {
    let mut out = String::new();
    if let Some(e) = error {
        let _ = writeln!(
            out,
            "<p class=\"error\" id=\"login-error\" role=\"alert\">{}</p>",
            esc(e)
        );
    }
    let _ = writeln!(
        out,
        "<form class=\"login\" method=\"post\" action=\"/admin/login\">{}",
        super::html::csrf_field(csrf)
    );
    out.push_str(
        "<label for=\"token\">管理者トークン Admin token\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required autofocus>\
         </label>\n\
         <button type=\"submit\">ログイン Log in</button>\n</form>\n\
         <p class=\"muted\">管理者トークンは <code>careplan-relay token issue --admin</code> で発行します。 \
         Issue an admin token with <code>careplan-relay token issue --admin</code>.</p>\n",
    );
    out
}

pub(super) fn error(message: &str) -> String {
    format!(
        "<p class=\"error\" role=\"alert\">{}</p>\n<p><a href=\"/admin/\">ダッシュボードへ戻る Back to the dashboard</a></p>\n",
        esc(message)
    )
}

fn kind(k: OfficeKind) -> String {
    let ja = match k {
        OfficeKind::CareManager => "居宅介護支援",
        OfficeKind::PreventionCenter => "地域包括支援センター",
        OfficeKind::Provider => "サービス事業所",
    };
    format!("{ja} <span class=\"muted\">{}</span>", k.as_str())
}

fn tokens(list: &[Token], csrf: &str) -> String {
    if list.is_empty() {
        return "<span class=\"muted\">なし none</span>".into();
    }
    let mut out = String::from("<ul class=\"tokens\">");
    for Token {
        id,
        created_at,
        revoked_at,
        ..
    } in list
    {
        let state = match revoked_at {
            Some(r) => format!("<span class=\"bad\">失効 revoked</span> {}", time(Some(*r))),
            None => format!(
                "<span class=\"ok\">有効 active</span> {}",
                button(
                    csrf,
                    &format!("/admin/tokens/{}/revoke", esc(id)),
                    &[],
                    "失効 Revoke"
                )
            ),
        };
        let _ = write!(
            out,
            "<li><code>{}</code> 発行 created {} · {state}</li>",
            esc(id),
            time(Some(*created_at))
        );
    }
    out.push_str("</ul>");
    out
}

fn offices(d: &Dashboard) -> String {
    if d.overview.offices.is_empty() {
        return "<p class=\"muted\">登録された事業所はありません。 No offices are registered.</p>\n".into();
    }
    let rows: Vec<String> = d
        .overview
        .offices
        .iter()
        .map(|(o, t, users)| {
            let number = esc(&o.number);
            let (state, flip, label) = if o.enabled {
                ("<span class=\"ok\">有効 enabled</span>", "false", "無効にする Disable")
            } else {
                ("<span class=\"bad\">無効 disabled</span>", "true", "有効にする Enable")
            };
            let enabled = format!(
                "{state} {}",
                button(&d.csrf, &format!("/admin/offices/{number}/enabled"), &[("enabled", flip)], label)
            );
            let issue = button(&d.csrf, &format!("/admin/offices/{number}/tokens"), &[], "トークン発行 Issue a token")
                + &button(&d.csrf, &format!("/admin/offices/{number}/certificates"), &[], "証明書発行 Issue a certificate");
            format!(
                "<tr><td class=\"num\">{number}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{enabled}</td><td>{}{issue}</td><td>{}</td></tr>",
                esc(&o.name),
                edit_form(&d.csrf, &o.number, &o.name, &o.service_types.join(", ")),
                kind(o.kind),
                esc(&o.service_types.join(", ")),
                tokens(t, &d.csrf),
                users_cell(&d.csrf, &o.number, users)
            )
        })
        .collect();
    table(
        "offices",
        &[
            "事業所番号 Number",
            "名称 Name",
            "種別 Kind",
            "サービス種類 Service types",
            "状態 Enabled",
            "認証情報 Credentials",
            "ポータル利用者 Portal users",
        ],
        &rows,
    )
}

fn audit(d: &Dashboard) -> String {
    let (position, sealed_at) = match &d.overview.head {
        Some(head) => (
            format!(
                "{} <code title=\"{1}\">{2}…</code>",
                head.position,
                esc(&head.hash),
                esc(&head.hash[..head.hash.len().min(16)])
            ),
            time(Some(head.sealed_at)),
        ),
        None => ("<span class=\"muted\">なし none</span>".into(), time(None)),
    };
    let export = match &d.overview.export {
        Some(e) => format!(
            "{}–{} ({} 件 events), {}",
            e.first_position,
            e.last_position,
            e.count,
            time(Some(e.created_at))
        ),
        None => "<span class=\"muted\">未実施 never</span>".into(),
    };
    let mut out = facts(&[
        ("封印済みの最終位置 Last sealed position", position),
        ("封印時刻 Sealed at", sealed_at),
        ("封印待ち Queued events", d.overview.queued.to_string()),
        ("最終エクスポート Last export", export),
    ]);
    out.push_str(
        "<p><a id=\"verify\" href=\"/admin/audit/verify\">監査証跡を検証する Verify the audit trail</a></p>\n",
    );
    out
}

fn retention(d: &Dashboard) -> String {
    let mut out = format!(
        "<p>受領確認から {} 日後にファイルを削除し、{} 日以上受領確認のないセットを表示します。 \
         Files are purged {0} days after acknowledgement; sets unacknowledged for {1} days or more are listed here.</p>\n",
        d.policy.acknowledged_days, d.policy.flag_unacknowledged_days
    );
    if d.overview.flagged.is_empty() {
        out.push_str("<p class=\"muted\" id=\"flagged\">該当なし None.</p>\n");
        return out;
    }
    let rows: Vec<String> = d
        .overview
        .flagged
        .iter()
        .map(|r| {
            let id = super::html::url_component(&r.id);
            let purge = button(
                &d.csrf,
                &format!("/admin/deliveries/{id}/purge"),
                &[],
                "消去 Purge",
            );
            format!(
                "<tr><td><a href=\"/admin/deliveries/{0}\">{1}</a></td><td class=\"num\">{2}</td>\
                 <td class=\"num\">{3}</td><td>{4}</td><td>{5}</td><td>{purge}</td></tr>",
                id,
                time(Some(r.received_at)),
                esc(&r.sender),
                esc(&r.recipient),
                esc(&r.sequence),
                super::html::status(r.status.as_str()),
            )
        })
        .collect();
    out.push_str(&table(
        "flagged",
        &[
            "受付 Accepted",
            "送信元 Sender",
            "送信先 Recipient",
            "連番 Sequence",
            "状態 Status",
            "",
        ],
        &rows,
    ));
    if d.overview.more_flagged {
        out.push_str("<p class=\"muted\">ほかにもあります。 More are not shown.</p>\n");
    }
    out
}

pub(super) fn dashboard(d: &Dashboard) -> String {
    let mut out = String::from("<h2>事業所 Offices</h2>\n");
    out.push_str(&offices(d));
    out.push_str(&register_form(&d.csrf));
    out.push_str("<h2>管理者トークン Admin tokens</h2>\n");
    out.push_str(&tokens(&d.overview.admin_tokens, &d.csrf));
    out.push_str("<h2>クライアント証明書 Client certificates</h2>\n");
    out.push_str(&certificates(&d.csrf, &d.overview.certificates));
    out.push_str("\n<h2>監査証跡 Audit trail</h2>\n");
    out.push_str(&audit(d));
    out.push_str("<h2>認証ロック Authentication lockouts</h2>\n");
    out.push_str(&super::session::lockouts(&d.lockouts, &d.csrf));
    out.push_str("<h2>保存期間 Retention</h2>\n");
    out.push_str(&retention(d));
    out.push_str(
        "<h2>配信ログ Delivery log</h2>\n<p><a id=\"log-link\" href=\"/admin/deliveries\">\
         すべての提出と却下を見る All submissions and rejections</a></p>\n",
    );
    out
}

pub(super) fn verify(v: &Verification) -> String {
    let verdict = if v.intact {
        format!(
            "<p class=\"ok\" id=\"verdict\">改ざんなし — intact ({} 件の封印済み位置を検証 sealed positions checked)</p>\n",
            v.positions
        )
    } else {
        format!(
            "<p class=\"bad\" id=\"verdict\">破損 — broken at position {}: {}</p>\n",
            opt(v.broken_at.map(|p| p.to_string()).as_deref()),
            opt(v.reason.as_deref())
        )
    };
    verdict
        + &facts(&[
            ("検証した位置 Positions checked", v.positions.to_string()),
            ("封印待ち Queued events", v.queued.to_string()),
            (
                "チェーンの先頭 Chain head",
                format!("<code class=\"wrap\">{}</code>", esc(&v.head)),
            ),
        ])
}
