//! Vocabulary shared by the store, the use cases and the HTTP layer: offices, principals, statuses, times.

use serde::{Deserialize, Serialize};

/// The kind of office: `care_manager` (居宅介護支援事業所), `prevention_center` (地域包括支援センター /
/// 介護予防支援), `provider` (サービス事業所).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum OfficeKind {
    /// 居宅介護支援事業所
    CareManager,
    /// 地域包括支援センター / 介護予防支援
    PreventionCenter,
    /// サービス事業所
    Provider,
}

impl OfficeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OfficeKind::CareManager => "care_manager",
            OfficeKind::PreventionCenter => "prevention_center",
            OfficeKind::Provider => "provider",
        }
    }

    pub fn parse(s: &str) -> Option<OfficeKind> {
        match s {
            "care_manager" => Some(OfficeKind::CareManager),
            "prevention_center" => Some(OfficeKind::PreventionCenter),
            "provider" => Some(OfficeKind::Provider),
            _ => None,
        }
    }
}

/// A registered office (事業所).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Office {
    /// The 10-digit office number (事業所番号).
    #[schema(pattern = r"^[0-9]{10}$", example = "1310000001")]
    pub number: String,
    /// The office's name (事業所名).
    #[schema(example = "通所介護D")]
    pub name: String,
    pub kind: OfficeKind,
    /// The 2-character service-type codes (サービス種類コード) the office offers, e.g. `43` (居宅介護支援), `11`
    /// (訪問介護), `15` (通所介護); a set is routed to it only under one of them.
    #[schema(value_type = Vec<ServiceType>)]
    pub service_types: Vec<String>,
    /// A disabled office cannot authenticate (403) and receives nothing (`E_UNKNOWN_RECIPIENT`).
    pub enabled: bool,
}

/// A 2-character service-type code (サービス種類コード): digits and capital letters, e.g. `43`, `11`, `A1`.
#[derive(Debug, utoipa::ToSchema)]
#[schema(pattern = r"^[0-9A-Z]{2}$", example = "43")]
pub struct ServiceType(pub String);

impl Office {
    /// A 10-digit office number.
    pub fn valid_number(n: &str) -> bool {
        n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit())
    }
}

/// Who is calling: an office (by token or client certificate) or an admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Office(String),
    Admin { token_id: String },
}

/// A verified client certificate of a connection: the office number in its subject and its serial number
/// (lower-case hex without leading zero octets), by which a certificate issued here can be revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    pub office: String,
    pub serial: String,
}

/// Where a delivered set stands: `queued` (未受信), `downloaded` (a file was downloaded), `acknowledged`
/// (受領確認済).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Downloaded,
    Acknowledged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Downloaded => "downloaded",
            Status::Acknowledged => "acknowledged",
        }
    }

    pub fn parse(s: &str) -> Status {
        match s {
            "downloaded" => Status::Downloaded,
            "acknowledged" => Status::Acknowledged,
            _ => Status::Queued,
        }
    }
}

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// RFC 3339 in UTC with milliseconds, e.g. `2025-03-28T10:15:00.123Z`.
pub fn rfc3339(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// A time (Unix ms) in Japan Standard Time (UTC+9, no daylight saving), as offices read it:
/// `2025-03-28 19:15:00 JST`.
pub fn japan_time(ms: i64) -> String {
    let offset = time::UtcOffset::from_hms(9, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} JST",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses an RFC 3339 time (any offset, `T` or `t`) or a bare `YYYY-MM-DD` (midnight UTC) into Unix
/// milliseconds (negative before 1970). `None` for anything else, including a date that does not exist.
pub fn parse_time(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if s.len() == 10 {
        let (y, rest) = s.split_once('-')?;
        let (m, d) = rest.split_once('-')?;
        let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if y.len() != 4 || m.len() != 2 || d.len() != 2 || ![y, m, d].into_iter().all(all_digits) {
            return None;
        }
        let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
        let date = time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
        return Some(date.midnight().assume_utc().unix_timestamp() * 1000);
    }
    let t = time::OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japan_time_is_utc_plus_nine() {
        assert_eq!(japan_time(0), "1970-01-01 09:00:00 JST");
        let ms = parse_time("2025-03-28T10:15:00Z").expect("parses");
        assert_eq!(japan_time(ms), "2025-03-28 19:15:00 JST");
    }

    #[test]
    fn times_round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        let ms = parse_time("2025-03-28T10:15:00.123Z").expect("parses");
        assert_eq!(rfc3339(ms), "2025-03-28T10:15:00.123Z");
        assert_eq!(parse_time("2025-03-28"), parse_time("2025-03-28T00:00:00Z"));
        assert_eq!(
            parse_time("2025-03-28T19:15:00+09:00"),
            parse_time("2025-03-28T10:15:00Z")
        );
        assert_eq!(parse_time("1969-12-31T23:59:59Z"), Some(-1000));
        for bad in [
            "2025-02-30",
            "2025-13-01",
            "2025-3-28x",
            "\u{7f}B",
            "",
            "2025-03-28T25:00:00Z",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
