//! A service's start and end time (`Check::Times`): both `9999` or both times, and an end before the start only
//! for a service that crosses midnight.

use crate::sjis::shown;
use crate::text;

use super::{At, ContentIssue};
use crate::validate::report::Code;

/// Minutes since midnight of a valid `HHMM` (24:00 is 1440).
fn minutes(v: &[u8]) -> Option<u32> {
    let digit = |i: usize| u32::from(v[i] - b'0');
    text::is_time(v).then(|| (digit(0) * 10 + digit(1)) * 60 + digit(2) * 10 + digit(3))
}

/// The longest service that may cross midnight, in minutes: an end before the start means the next day only
/// up to this length.
const OVERNIGHT_MAX_MINUTES: u32 = 12 * 60;

/// The finding on a service's start `a` and end `b`, if any.
pub(super) fn times<'l>(a: At<'l>, va: &[u8], b: At<'l>, vb: &[u8]) -> Option<ContentIssue<'l>> {
    let no_time = |v: &[u8]| v == b"9999";
    if va.is_empty() || vb.is_empty() {
        return None;
    }
    let issue = |ja: String, en: String| Some(((b.no, b.name), (Code::WarnTimeOrder, ja, en)));
    let (sa, sb) = (|| shown(va, 4), || shown(vb, 4));
    if no_time(va) != no_time(vb) {
        let (sa, sb) = (sa(), sb());
        return issue(
            format!(
                "{}「{sa}」と{}「{sb}」: 時刻表示のないサービスは両方 9999 です。",
                a.name, b.name
            ),
            format!(
                "{} `{sa}` and {} `{sb}`: a service without times has 9999 in both",
                a.name, b.name
            ),
        );
    }
    let (start, end) = (minutes(va)?, minutes(vb)?);
    if start == end {
        let sa = sa();
        return issue(
            format!("{}と{}が同じ「{sa}」です。", a.name, b.name),
            format!("{} and {} are both `{sa}`", a.name, b.name),
        );
    }
    if end < start && end + 24 * 60 - start > OVERNIGHT_MAX_MINUTES {
        let (sa, sb) = (sa(), sb());
        return issue(
            format!(
                "{}「{sb}」が{}「{sa}」より前です（日をまたぐサービスなら {} 時間を超えます）。",
                b.name,
                a.name,
                OVERNIGHT_MAX_MINUTES / 60
            ),
            format!(
                "{} `{sb}` is before {} `{sa}` (as a service across midnight it would last over {} hours)",
                b.name,
                a.name,
                OVERNIGHT_MAX_MINUTES / 60
            ),
        );
    }
    None
}
