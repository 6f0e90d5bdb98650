//! Record content that the layout does not see (spec/README.md, "Content of records"): dates that must lie in
//! the file's month, periods that end before they begin, dates of past events after the set was made, 実績
//! written before their month, and the start and end of a service.
//!
//! Judged per record on values that passed their format check; any other value is skipped, since its format
//! finding already says what is wrong with it.

use crate::csvread::Record;
use crate::name::FileName;
use crate::sjis::shown;
use crate::spec::{Kind, Layout};
use crate::text;

use super::field::Issue;
use super::report::Code;

mod times;

use times::times;

/// One check on items named by their v4 numbers.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// The date lies in the file-name month: 第6表/実績 hold one service month (spec §2.3). `E_DATE_MONTH`.
    InMonth(u32),
    /// Every `1` of 日割対象日 names a day of the file-name month (one character per day). `E_DATE_MONTH`.
    FlagsInMonth(u32),
    /// The date of a past event is not after the date of the set's sequence. `W_DATE_ORDER`.
    NotAfterSent(u32),
    /// The date is not before the first day of the file-name month (実績 are written once services ran).
    /// `W_DATE_ORDER`.
    NotBeforeMonth(u32),
    /// The first date is not after the second (a period's start and end, a first plan and its change).
    /// `W_DATE_ORDER`.
    Ordered(u32, u32),
    /// The period from the first date to the second covers the file-name month. `W_DATE_ORDER`.
    Covers(u32, u32),
    /// A service's start and end time: both `9999` or both times, and an end before the start only for a
    /// service that crosses midnight (at most 12 hours long). `W_TIME_ORDER`.
    Times(u32, u32),
}

/// The checks of each kind, by v4 item number (spec/layouts/).
fn checks(kind: Kind) -> &'static [Check] {
    use Check::*;
    match kind {
        Kind::Upplan => &[InMonth(10), FlagsInMonth(11), Times(12, 13), NotAfterSent(4)],
        Kind::Upjsk => &[
            InMonth(10),
            FlagsInMonth(11),
            Times(12, 13),
            NotAfterSent(4),
            NotBeforeMonth(4),
            NotAfterSent(10),
        ],
        Kind::Upsikyu => &[NotAfterSent(4)],
        Kind::Up1kyo => &[
            NotAfterSent(4),
            NotAfterSent(14),
            NotAfterSent(15),
            NotAfterSent(18),
            Ordered(15, 14),
            Ordered(19, 20),
        ],
        Kind::Up2kyo => &[NotAfterSent(4), NotAfterSent(5)],
        Kind::Up3kyo => &[NotAfterSent(4), NotAfterSent(5), Times(8, 9), Times(11, 12)],
        Kind::Uphosoku => &[
            NotAfterSent(4),
            NotAfterSent(8),
            NotAfterSent(13),
            Ordered(14, 15),
            Covers(14, 15),
        ],
        Kind::Upkihon => &[
            NotAfterSent(4),
            NotAfterSent(11),
            NotAfterSent(17),
            NotAfterSent(28),
            Ordered(11, 4),
            Ordered(24, 25),
        ],
        Kind::Upyobo => &[
            NotAfterSent(4),
            NotAfterSent(9),
            NotAfterSent(20),
            Ordered(20, 4),
            Ordered(10, 11),
        ],
        Kind::UpkihonSub1 | Kind::UpkihonSub2 | Kind::UpyoboSub => &[NotAfterSent(4)],
        Kind::Dlt1kyo | Kind::Dltkihon | Kind::Dltyobo => &[NotAfterSent(4)],
        _ => &[],
    }
}

/// An item of the layout in use: its index in the record, number and Japanese name.
#[derive(Debug, Clone, Copy)]
struct At<'l> {
    index: usize,
    no: u32,
    name: &'l str,
}

/// A finding of one record: the item it is on and what it says.
pub(super) type ContentIssue<'l> = ((u32, &'l str), Issue);

/// The content checks of one file, resolved against its layout and name once.
#[derive(Debug)]
pub(super) struct Content<'l> {
    checks: Vec<(Check, At<'l>, Option<At<'l>>)>,
    /// The file-name month `YYYYMM`, its first and last day (`YYYYMMDD`) and its number of days.
    month: Option<(String, String, String, u32)>,
    /// The date of the set's sequence, `YYYYMMDD`, when it is a real date.
    sent: Option<String>,
}

impl<'l> Content<'l> {
    /// The checks of `name`'s kind that `layout` has items for; `None` when there are none.
    pub(super) fn of(name: &FileName, layout: &'l Layout) -> Option<Content<'l>> {
        let at = |no: u32| {
            layout.by_v4_no(no).map(|i| At {
                index: i.no as usize - 1,
                no: i.no,
                name: &i.name_ja,
            })
        };
        let checks: Vec<_> = checks(name.kind)
            .iter()
            .filter_map(|c| match *c {
                Check::InMonth(a)
                | Check::FlagsInMonth(a)
                | Check::NotAfterSent(a)
                | Check::NotBeforeMonth(a) => Some((*c, at(a)?, None)),
                Check::Ordered(a, b) | Check::Covers(a, b) | Check::Times(a, b) => {
                    Some((*c, at(a)?, Some(at(b)?)))
                }
            })
            .collect();
        if checks.is_empty() {
            return None;
        }
        let month = name.month.as_deref().and_then(|m| {
            let days = text::month_days(m)?;
            Some((m.to_string(), format!("{m}01"), format!("{m}{days:02}"), days))
        });
        Some(Content {
            checks,
            month,
            sent: name
                .sequence
                .get(..8)
                .filter(|s| text::is_date(s.as_bytes()))
                .map(str::to_string),
        })
    }

    /// Every content finding of one record whose item count matches the layout.
    pub(super) fn issues(&self, rec: &Record, out: &mut Vec<ContentIssue<'l>>) {
        for (check, a, b) in &self.checks {
            let va = rec.get(a.index);
            let vb = b.map(|b| rec.get(b.index));
            if let Some(issue) = self.judge(*check, *a, va, b.zip(vb)) {
                out.push(issue);
            }
        }
    }

    fn judge(
        &self,
        check: Check,
        a: At<'l>,
        va: &[u8],
        b: Option<(At<'l>, &[u8])>,
    ) -> Option<ContentIssue<'l>> {
        let on_a = |issue: Issue| Some(((a.no, a.name), issue));
        match (check, b) {
            (Check::InMonth(_), _) => {
                let (m, first, last, _) = self.month.as_ref()?;
                let d = date(va)?;
                (d < first.as_bytes() || d > last.as_bytes()).then_some(())?;
                let d = ascii(d);
                on_a((
                    Code::DateMonth,
                    format!(
                        "{}「{d}」が対象年月 {m} の日付ではありません（{first}〜{last}）。",
                        a.name
                    ),
                    format!(
                        "{} `{d}` is not a day of the target month {m} ({first} to {last})",
                        a.name
                    ),
                ))
            }
            (Check::FlagsInMonth(_), _) => {
                let (m, _, _, days) = self.month.as_ref()?;
                let day = va.iter().skip(*days as usize).position(|b| *b == b'1')? + *days as usize + 1;
                on_a((
                    Code::DateMonth,
                    format!(
                        "{}「{}」の {day} 文字目が 1 ですが、{m} は {days} 日までです。",
                        a.name,
                        shown(va, 31)
                    ),
                    format!(
                        "{} `{}` flags day {day}, but {m} has {days} days",
                        a.name,
                        shown(va, 31)
                    ),
                ))
            }
            (Check::NotAfterSent(_), _) => {
                let d = date(va)?;
                let sent = self.sent.as_deref()?;
                (d > sent.as_bytes()).then_some(())?;
                let d = ascii(d);
                on_a((
                    Code::WarnDateOrder,
                    format!(
                        "{}「{d}」がセットの連番の日付 {sent} より後です（送信より後の日付）。",
                        a.name
                    ),
                    format!(
                        "{} `{d}` is after {sent}, the date of the set's sequence (the date it was sent)",
                        a.name
                    ),
                ))
            }
            (Check::NotBeforeMonth(_), _) => {
                let (m, first, _, _) = self.month.as_ref()?;
                let d = date(va)?;
                (d < first.as_bytes()).then_some(())?;
                let d = ascii(d);
                on_a((
                    Code::WarnDateOrder,
                    format!(
                        "{}「{d}」が対象年月 {m} より前です。実績は対象月のサービスの後に作成されます。",
                        a.name
                    ),
                    format!(
                        "{} `{d}` is before the target month {m}; actuals are written after the services",
                        a.name
                    ),
                ))
            }
            (Check::Ordered(..), Some((b, vb))) => {
                let (da, db) = (date(va)?, date(vb)?);
                (da > db).then_some(())?;
                let (da, db) = (ascii(da), ascii(db));
                Some((
                    (b.no, b.name),
                    (
                        Code::WarnDateOrder,
                        format!("{}「{db}」が{}「{da}」より前です。", b.name, a.name),
                        format!("{} `{db}` is before {} `{da}`", b.name, a.name),
                    ),
                ))
            }
            (Check::Covers(..), Some((b, vb))) => {
                let (m, first, last, _) = self.month.as_ref()?;
                let (da, db) = (date(va)?, date(vb)?);
                (da <= db && (da > last.as_bytes() || db < first.as_bytes())).then_some(())?;
                let (da, db) = (ascii(da), ascii(db));
                on_a((
                    Code::WarnDateOrder,
                    format!(
                        "{}〜{}（{da}〜{db}）が対象年月 {m} を含みません。",
                        a.name, b.name
                    ),
                    format!(
                        "the period {da} to {db} ({} to {}) does not cover the target month {m}",
                        a.name, b.name
                    ),
                ))
            }
            (Check::Times(..), Some((b, vb))) => times(a, va, b, vb),
            _ => None,
        }
    }
}

/// The value when it is a real `YYYYMMDD` date (ASCII digits, which compare as the dates they write).
fn date(v: &[u8]) -> Option<&[u8]> {
    text::is_date(v).then_some(v)
}

/// A value known to be ASCII (a date), as text for a message.
fn ascii(v: &[u8]) -> &str {
    std::str::from_utf8(v).unwrap_or_default()
}
