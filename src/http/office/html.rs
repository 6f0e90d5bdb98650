//! The portal's page layout (maud, which escapes every interpolated value) and the formatters of its pages:
//! Japan time, months, kinds and service types by their Japanese names, statuses.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::domain::Status;
use crate::spec::{Kind, Spec};

const CSS: &str = include_str!("style.css");

/// A time (Unix ms) in Japan time: `2025-03-28 19:15:00 JST`.
pub(super) fn jst(ms: i64) -> String {
    crate::domain::japan_time(ms)
}

/// An optional time in Japan time, or a dash.
pub(super) fn jst_opt(ms: Option<i64>) -> Markup {
    match ms {
        Some(t) => html! { time { (jst(t)) } },
        None => html! { span.muted { "—" } },
    }
}

/// A month `YYYYMM` as `2025年04月`; anything else as it is; none as a dash.
pub(super) fn month(m: Option<&str>) -> String {
    match m {
        Some(m) if m.len() == 6 && m.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}年{}月", &m[..4], &m[4..])
        }
        Some(m) => m.to_string(),
        None => "—".to_string(),
    }
}

/// The Japanese name of a kind given by its file-name prefix (`UPPLAN` → its name in `spec/kinds.csv`).
pub(super) fn kind_name(spec: &Spec, prefix: &str) -> String {
    Kind::from_prefix(prefix).map_or_else(|| prefix.to_string(), |k| spec.kind(k).name_ja.clone())
}

/// The Japanese names of the kinds of a set's files, each once, in file order.
pub(super) fn kinds<'a>(spec: &Spec, prefixes: impl Iterator<Item = &'a str>) -> String {
    let mut names: Vec<String> = Vec::new();
    for p in prefixes {
        let n = kind_name(spec, p);
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names.join("、")
}

/// A service type with its Japanese name (`11 訪問介護`), from `spec/service_types.csv`.
pub(super) fn service_type(spec: &Spec, code: Option<&str>) -> String {
    match code {
        Some(c) => match spec.service_type(c) {
            Some(t) => format!("{c} {}", t.name_ja),
            None => c.to_string(),
        },
        None => "—".to_string(),
    }
}

/// A status with its Japanese label first.
pub(super) fn status(s: Status) -> Markup {
    let ja = match s {
        Status::Queued => "未取得",
        Status::Downloaded => "取得済",
        Status::Acknowledged => "受領確認済",
    };
    html! { span class={ "status " (s.as_str()) } { (ja) " " span.muted { (s.as_str()) } } }
}

/// The hidden form field carrying a CSRF token.
pub(super) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// Who is signed in, for the header: (login ID, office number, office name, CSRF token).
#[derive(Debug, Clone, Copy)]
pub(super) struct Header<'a> {
    pub login: &'a str,
    pub office: &'a str,
    pub office_name: &'a str,
    pub csrf: &'a str,
    /// Only the password form and logout are offered (the password must be changed first).
    pub password_only: bool,
}

/// A whole document. `refresh`: seconds after which the page reloads itself (the inbox, for new arrivals).
pub(super) fn document(
    title: &str,
    header: Option<Header<'_>>,
    refresh: Option<u32>,
    body: &Markup,
) -> String {
    html! {
        (DOCTYPE)
        html lang="ja" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                @if let Some(secs) = refresh {
                    meta http-equiv="refresh" content=(secs);
                }
                title { (title) " | careplan-relay 事業所ポータル" }
                style { (PreEscaped(CSS)) }
            }
            body {
                a.skip href="#main" { "本文へ移動 Skip to content" }
                header {
                    a.brand href="/office/" { "ケアプラン連携 事業所ポータル" span.muted { " Office portal" } }
                    @if let Some(h) = header {
                        @if !h.password_only {
                            nav aria-label="メニュー" {
                                a #nav-inbox href="/office/" { "受信箱 Inbox" }
                                a #nav-send href="/office/send" { "送信 Send" }
                                a #nav-outbox href="/office/outbox" { "送信済み Outbox" }
                                a #nav-password href="/office/password" { "パスワード変更 Password" }
                            }
                        }
                        span.who #who { (h.office_name) " (" (h.office) ") " span.muted { (h.login) } }
                        form method="post" action="/office/logout" {
                            (csrf_field(h.csrf))
                            button #logout type="submit" { "ログアウト Log out" }
                        }
                    }
                }
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
    .into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_japan_time() {
        // 2025-03-28T10:15:00Z is 19:15 in Tokyo; 15:00Z is past midnight there.
        assert_eq!(jst(1_743_156_900_000), "2025-03-28 19:15:00 JST");
        assert_eq!(jst(1_743_174_000_000), "2025-03-29 00:00:00 JST");
    }

    #[test]
    fn months_kinds_and_service_types_have_japanese_names() {
        let spec = Spec::get().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(month(Some("202504")), "2025年04月");
        assert_eq!(month(None), "—");
        assert_eq!(kind_name(spec, "UPHOSOKU"), "利用者補足情報");
        assert_eq!(
            kinds(spec, ["UPHOSOKU", "UPHOSOKU", "UP1KYO"].into_iter()),
            "利用者補足情報、居宅サービス計画1表"
        );
        assert_eq!(service_type(spec, Some("11")), "11 訪問介護");
    }

    #[test]
    fn documents_escape_what_they_show() {
        let h = Header {
            login: "kato",
            office: "1310000002",
            office_name: "<b>\"&",
            csrf: "a\"b",
            password_only: false,
        };
        let d = document("<x>", Some(h), Some(60), &html! { p { "body" } });
        assert!(d.contains("<title>&lt;x&gt; | "));
        assert!(d.contains("&lt;b&gt;&quot;&amp;") && !d.contains("<b>\""));
        assert!(d.contains("name=\"csrf\" value=\"a&quot;b\""));
        assert!(d.contains("http-equiv=\"refresh\" content=\"60\""));
    }
}
