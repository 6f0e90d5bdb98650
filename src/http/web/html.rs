//! The HTML toolkit of the admin page: escaping, the page layout, query strings, and small formatters.
//! Every value that did not come from this module's own literals goes through [`esc`].

use std::fmt::Write;

use crate::domain::rfc3339;

const LAYOUT: &str = include_str!("layout.html");
const CSS: &str = include_str!("style.css");

/// Escapes text for HTML element content and quoted attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fills the `{{key}}` markers of `template` in one pass: inserted values are never scanned again.
pub(super) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + values.iter().map(|v| v.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let value = after.find("}}").and_then(|end| {
            values
                .iter()
                .find(|(k, _)| *k == &after[..end])
                .map(|v| (end, v.1))
        });
        match value {
            Some((end, v)) => {
                out.push_str(v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The navigation of a signed-in admin.
const NAV: &str = "<nav><a href=\"/admin/\">ダッシュボード Dashboard</a> \
    <a href=\"/admin/deliveries\">配信ログ Delivery log</a> \
    <a href=\"/admin/audit/verify\">監査証跡の検証 Verify audit trail</a></nav>\n";

/// What the header shows: nothing (signed out), the navigation, or the navigation and the logout button
/// (which needs the session's CSRF token).
#[derive(Debug, Clone, Copy)]
pub(super) enum Nav<'a> {
    None,
    Links,
    Session(&'a str),
}

/// The hidden form field carrying a CSRF token.
pub(super) fn csrf_field(token: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(token))
}

/// A whole document: `title` is escaped here, `body` is HTML already built from escaped values.
pub(super) fn document(title: &str, nav: Nav<'_>, body: &str) -> String {
    let nav = match nav {
        Nav::None => String::new(),
        Nav::Links => NAV.to_string(),
        Nav::Session(csrf) => format!(
            "{NAV}<form method=\"post\" action=\"/admin/logout\">{}\
             <button type=\"submit\">ログアウト Log out</button></form>\n",
            csrf_field(csrf)
        ),
    };
    fill(
        LAYOUT,
        &[
            ("title", &esc(title)),
            ("css", CSS),
            ("nav", &nav),
            ("body", body),
        ],
    )
}

/// Percent-encodes a query-string component (everything but unreserved ASCII).
pub(super) fn url_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A query string (`?a=1&b=2`) of the pairs whose value is not empty; "" when none is.
pub(super) fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", url_component(v)))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// A time (Unix ms) as RFC 3339 UTC, or a dash.
pub(super) fn time(ms: Option<i64>) -> String {
    ms.map_or_else(
        || "<span class=\"muted\">—</span>".to_string(),
        |t| esc(&rfc3339(t)),
    )
}

/// An optional text, escaped, or a dash.
pub(super) fn opt(s: Option<&str>) -> String {
    s.map_or_else(|| "<span class=\"muted\">—</span>".to_string(), esc)
}

/// A status with its Japanese label.
pub(super) fn status(s: &str) -> String {
    let ja = match s {
        "queued" => "未取得",
        "downloaded" => "取得済",
        "acknowledged" => "受領確認済",
        "rejected" => "却下",
        _ => "",
    };
    format!("<span class=\"status {0}\">{ja} {0}</span>", esc(s))
}

/// A table with a header row; `rows` are `<tr>…</tr>` built from escaped values.
pub(super) fn table(id: &str, headers: &[&str], rows: &[String]) -> String {
    let mut out = format!("<table id=\"{}\">\n<thead><tr>", esc(id));
    for h in headers {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in rows {
        out.push_str(r);
        out.push('\n');
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// `<dl>` of (label, HTML value) pairs.
pub(super) fn facts(pairs: &[(&str, String)]) -> String {
    let mut out = String::from("<dl class=\"facts\">\n");
    for (k, v) in pairs {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{v}</dd>");
    }
    out.push_str("</dl>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_characters() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("事業所 Offices"), "事業所 Offices");
    }

    #[test]
    fn fills_once_without_rescanning_values() {
        let t = "<p>{{a}}|{{b}}|{{c}}</p>";
        assert_eq!(fill(t, &[("a", "{{b}}"), ("b", "x")]), "<p>{{b}}|x|{{c}}</p>");
        assert_eq!(fill("{{ open", &[]), "{{ open");
    }

    #[test]
    fn builds_query_strings() {
        assert_eq!(query(&[("a", Some("")), ("b", None)]), "");
        assert_eq!(
            query(&[
                ("office", Some("1310000001")),
                ("to", Some("2025-03-28")),
                ("x", Some("a b&c=ü"))
            ]),
            "?office=1310000001&to=2025-03-28&x=a%20b%26c%3D%C3%BC"
        );
    }

    #[test]
    fn documents_escape_the_title() {
        let d = document("<x>", Nav::None, "<p>body</p>");
        assert!(d.contains("<title>&lt;x&gt; | careplan-relay"));
        assert!(d.contains("<p>body</p>") && !d.contains("ログアウト"));
        let d = document("t", Nav::Session("a\"b"), "");
        assert!(d.contains("action=\"/admin/logout\""));
        assert!(d.contains("name=\"csrf\" value=\"a&quot;b\""));
    }
}
